"""Benchmark: the report suite's render time against bare papermill + nbconvert.

    python benchmarks/render.py [--jobs 2] [--kernel liqnb] [--data-dir DIR]

1. **Suite.** ``python -m helpers report --params params/article.yaml`` on the SIMULATED
   demo store (``helpers demo --scenario article --seed 7``, generated into a temporary
   folder unless ``--data-dir`` names one), wall time of the whole command: parameter
   checks, every notebook of ``notebooks/`` run by papermill, the HTML pages, the index.
2. **Bare.** The same number of trivial notebooks (one code cell, ``1 + 1``), each run by
   ``papermill.execute_notebook`` and exported by nbconvert's ``HTMLExporter``, on the
   same kernel and ``--jobs`` at once: what starting kernels and writing HTML cost with
   no analysis at all.

The ratio says how much of the render time is the analyses themselves. Wall time (a
report's cost is its wait); on a shared machine run it twice.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def bare_one(args: tuple[Path, int, str]) -> None:
    """Run trivial notebook number ``i`` with papermill and export it to HTML."""
    import nbformat
    import papermill
    from nbconvert import HTMLExporter

    work, i, kernel = args
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")])
    src, out = work / f"trivial{i}.ipynb", work / f"trivial{i}.out.ipynb"
    nbformat.write(nb, src)
    papermill.execute_notebook(str(src), str(out), kernel_name=kernel, progress_bar=False)
    html, _ = HTMLExporter().from_filename(str(out))
    (work / f"trivial{i}.html").write_text(html)


def bare(n: int, jobs: int, kernel: str) -> float:
    """Seconds to run and export ``n`` trivial notebooks, ``jobs`` at once."""
    with tempfile.TemporaryDirectory(prefix="liqnb-bare-") as d:
        t0 = time.perf_counter()
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            list(pool.map(bare_one, [(Path(d), i, kernel) for i in range(n)]))
        return time.perf_counter() - t0


def helpers_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "helpers", *args]


def suite(data_dir: Path, jobs: int, kernel: str) -> float:
    """Seconds of one ``helpers report`` run of the article parameters on ``data_dir``."""
    with tempfile.TemporaryDirectory(prefix="liqnb-reports-") as out:
        cmd = helpers_cmd(
            "report",
            "--params",
            str(ROOT / "params" / "article.yaml"),
            "--data-dir",
            str(data_dir),
            "--notebooks",
            str(ROOT / "notebooks"),
            "--out",
            out,
            "--jobs",
            str(jobs),
            "--kernel",
            kernel,
        )
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
        return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--jobs", type=int, default=2, help="notebooks at once (both runs)")
    p.add_argument("--kernel", default="liqnb", help="Jupyter kernel (both runs)")
    p.add_argument("--data-dir", type=Path, help="a demo store (default: a fresh one)")
    a = p.parse_args(argv)
    n = len(sorted((ROOT / "notebooks").glob("*.ipynb")))
    with tempfile.TemporaryDirectory(prefix="liqnb-demo-") as tmp:
        data_dir = a.data_dir or Path(tmp)
        if a.data_dir is None:
            demo = ("demo", "--scenario", "article", "--seed", "7", "--data-dir", str(data_dir))
            subprocess.run(helpers_cmd(*demo), check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
        t_suite = suite(data_dir, a.jobs, a.kernel)
    t_bare = bare(n, a.jobs, a.kernel)
    print(f"report suite: {n} notebooks on the SIMULATED demo store, {a.jobs} at once")
    print(f"  helpers report                       {t_suite:7.1f} s")
    print(f"  bare papermill + nbconvert, trivial  {t_bare:7.1f} s")
    print(f"  ratio suite / bare                   {t_suite / t_bare:7.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
