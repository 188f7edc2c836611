"""Analysis defaults have one home (helpers.metrics.parameters): notebook parameter cells and
analysis signatures must agree with it."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path
from typing import Any

import nbformat
import pytest

from helpers.metrics import parameters

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def parameter_cell(path: Path) -> dict[str, Any]:
    """Name -> literal value of each assignment in the notebook's ``parameters`` cell."""
    nb = nbformat.read(path, as_version=4)
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1, f"{path.name}: expected one cell tagged parameters"
    values: dict[str, Any] = {}
    for node in ast.parse(cells[0].source).body:
        assert isinstance(node, ast.Assign), f"{path.name}: only assignments belong in parameters"
        (target,) = node.targets
        assert isinstance(target, ast.Name)
        values[target.id] = ast.literal_eval(node.value)
    return values


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_parameter_cell_matches_the_one_home(path: Path) -> None:
    cell = parameter_cell(path)
    known = parameters.defaults()
    assert set(cell) - set(known) == set(), "declared but without a default in parameters.py"
    assert {k: known[k] for k in cell} == cell
    assert set(parameters.defaults("window")) <= set(cell), "every notebook takes the window"


def test_defaults_merge_the_groups_and_refuse_a_clash(monkeypatch: pytest.MonkeyPatch) -> None:
    assert parameters.defaults("spikes") == {"spike_k": 5.0, "spike_window": 24}
    assert parameters.defaults("clusters", "outlook")["base"] == "BTC"

    from dataclasses import dataclass

    @dataclass(frozen=True)
    class Other:
        base: str = "ETH"

    monkeypatch.setattr(parameters, "GROUPS", {**parameters.GROUPS, "other": Other})
    with pytest.raises(ValueError, match="'base' has two defaults"):
        parameters.defaults("clusters", "other")


ANALYSES = [
    ("helpers.metrics.imbalance_analysis", "imbalance_analysis", "spikes"),
    ("helpers.metrics.marketmap_analysis", "market_analysis", "market_map"),
    ("helpers.metrics.clusters_analysis", "cluster_analysis", "clusters"),
    ("helpers.metrics.outlook_analysis", "outlook_analysis", "outlook"),
]


@pytest.mark.parametrize(("module", "name", "group"), ANALYSES, ids=[a[1] for a in ANALYSES])
def test_analysis_signature_defaults_come_from_the_one_home(
    module: str, name: str, group: str
) -> None:
    import importlib

    fn = getattr(importlib.import_module(module), name)
    params = {
        k: p.default
        for k, p in inspect.signature(fn).parameters.items()
        if p.default is not inspect.Parameter.empty
    }
    expected = parameters.defaults(group)
    assert set(params) == set(expected)
    # leverage_weights defaults to None in the signature and to the table inside the function
    assert {k: v for k, v in params.items() if v is not None} == {
        k: v for k, v in expected.items() if k in params and params[k] is not None
    }
