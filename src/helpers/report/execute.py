"""Run notebooks with papermill in a process pool, then export their HTML pages on the same pool.

Two phases, so every page of a report carries what is only known once all notebooks ran
(whether any of them showed simulated data). Jobs return plain data, safe to pass between
processes, and never raise for a notebook error: the failing cell's error becomes one line.
A worker whose report process is gone (killed) exits within a second, and its kernel with it,
so nothing keeps writing into the dead run's staging folder.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helpers.report.params import one_line

log = logging.getLogger(__name__)


KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=ERROR"]
"""Arguments of every kernel the report starts: its own log only for errors. ipykernel 7
warns on every start that its loopback TCP traffic is not encrypted (6 lines per report in
a scheduled job's log); a cell's warnings still reach its outputs."""


@dataclass(frozen=True)
class NotebookJob:
    """Execute ``source`` into ``staging/<stem>.ipynb`` with cwd = the notebook's folder;
    ``env`` is set in the environment the kernel starts with (the report's sources config)."""

    source: Path
    staging: Path
    parameters: dict[str, Any]
    kernel: str
    log_output: bool = False
    env: dict[str, str] = field(default_factory=dict)

    @property
    def stem(self) -> str:
        return self.source.stem

    @property
    def executed(self) -> Path:
        return self.staging / f"{self.stem}.ipynb"

    @property
    def page(self) -> Path:
        return self.staging / f"{self.stem}.html"


@dataclass(frozen=True)
class NotebookResult:
    """What one notebook produced; ``error`` is a one-line description when it failed."""

    stem: str
    seconds: float
    error: str | None = None
    title: str = ""
    figures: dict[str, dict[str, Any]] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)
    external: list[str] = field(default_factory=list)
    claims: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None


def describe_failure(exc: BaseException) -> str:
    """One line: the failing cell and its error for papermill errors, else the exception."""
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        return one_line(
            f"cell {exc.cell_index} (In [{exc.exec_count}]) raised {exc.ename}: {exc.evalue}"
        )
    return one_line(f"{type(exc).__name__}: {exc}")


def execute(job: NotebookJob) -> NotebookResult:
    """Run one notebook; read back its title, key figures and data sources."""
    import nbformat
    import papermill

    from helpers.report import html, summary

    t0 = time.perf_counter()
    try:
        with environment(job.env):
            nb = papermill.execute_notebook(
                str(job.source),
                str(job.executed),
                parameters=job.parameters,
                kernel_name=job.kernel,
                cwd=str(job.source.parent),
                progress_bar=False,
                log_output=job.log_output,
                extra_arguments=KERNEL_ARGUMENTS,
            )
        nb = nbformat.from_dict(nb)
        return NotebookResult(
            job.stem,
            time.perf_counter() - t0,
            title=html.notebook_title(nb, job.stem),
            figures=summary.key_figures(nb),
            sources=summary.sources(nb),
            claims=summary.claims(nb),
        )
    except Exception as exc:  # any failure is reported for this notebook, never raised
        return NotebookResult(job.stem, time.perf_counter() - t0, error=describe_failure(exc))


@contextlib.contextmanager
def environment(values: Mapping[str, str]) -> Iterator[None]:
    """``values`` set in ``os.environ`` for the block (a kernel started in it inherits them),
    the previous values restored after."""
    before = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in before.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def export(
    job: NotebookJob, result: NotebookResult, show_code: bool, page: dict[str, Any]
) -> NotebookResult:
    """Write the HTML page of an executed notebook; ``page`` fills the template's header."""
    import nbformat

    from helpers.report import html

    t0 = time.perf_counter()
    try:
        nb = nbformat.read(job.executed, as_version=4)
        context = {**page, "notebook": job.source.name, "title": result.title}
        body = html.render_html(nb, show_code=show_code, page=context, source_dir=job.source.parent)
        job.page.write_text(body, encoding="utf-8")
    except Exception as exc:
        error = one_line(f"HTML export failed: {describe_failure(exc)}")
        return NotebookResult(result.stem, result.seconds, error=error)
    return NotebookResult(
        result.stem,
        result.seconds + time.perf_counter() - t0,
        title=result.title,
        figures=result.figures,
        sources=result.sources,
        external=html.external_references(body),
        claims=result.claims,
    )


PARENT_POLL_S = 0.5


def exit_with_parent(parent: int, every_s: float = PARENT_POLL_S) -> None:
    """Block until this process's parent is no longer ``parent`` (it died and the process
    was re-parented), then exit at once; the kernel a worker started exits when the worker
    does (ipykernel's parent poller)."""
    while os.getppid() == parent:
        time.sleep(every_s)
    os._exit(1)


def _init_worker(verbose: bool) -> None:
    threading.Thread(
        target=exit_with_parent, args=(os.getppid(),), name="exit-with-parent", daemon=True
    ).start()
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not verbose:
        for name in ("papermill", "traitlets", "nbconvert"):
            logging.getLogger(name).setLevel(logging.ERROR)


def pool(workers: int, verbose: bool = False) -> ProcessPoolExecutor:
    """A pool of ``workers`` fresh (spawned) processes; kernels are started from them."""
    return ProcessPoolExecutor(
        max(1, workers),
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_init_worker,
        initargs=(verbose,),
    )


def gather(
    executor: Executor,
    jobs: Sequence[NotebookJob],
    call: Callable[..., NotebookResult],
    extra: Sequence[tuple[Any, ...]],
) -> list[NotebookResult]:
    """``call(job, *extra[i])`` for every job on ``executor``; results in the order of jobs."""
    futures = [executor.submit(call, job, *args) for job, args in zip(jobs, extra, strict=True)]
    results = []
    for job, fut in zip(jobs, futures, strict=True):
        try:
            result = fut.result()
        except Exception as exc:  # the worker process itself died
            result = NotebookResult(job.stem, 0.0, error=describe_failure(exc))
        results.append(result)
    return results


def execute_all(executor: Executor, jobs: Sequence[NotebookJob]) -> list[NotebookResult]:
    """Run every notebook; log one line per notebook."""
    results = gather(executor, jobs, execute, [()] * len(jobs))
    for job, r in zip(jobs, results, strict=True):
        log.info("%s %s (%.1f s)", "ok" if r.ok else "FAILED", job.source.name, r.seconds)
    return results


def export_all(
    executor: Executor,
    jobs: Sequence[NotebookJob],
    results: Sequence[NotebookResult],
    show_code: bool,
    page: dict[str, Any],
) -> list[NotebookResult]:
    """Write every executed notebook's HTML page."""
    return gather(executor, jobs, export, [(r, show_code, page) for r in results])
