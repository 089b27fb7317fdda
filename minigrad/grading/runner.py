"""Grade a notebook: run a copy of it in a fresh kernel, collect what its checks recorded, score it.

The notebook is read, never written: its cells run one by one in a new Python kernel (the
interpreter running the grader), each with a time limit. A cell that raises, runs too long, prints
too much or kills the kernel does not stop the grade: it is noted, the kernel is interrupted or
restarted (replaying the cells that had run well), and the next cell runs. Each check appends its
result to a file named by ``MINIGRAD_GRADE_RESULTS`` (see :mod:`minigrad.checks.framework`).

An exercise passes when its check ran and passed and no cell between the previous exercise's check
and its own (its code, its check) failed. An exercise whose check never ran gets the reason: the
first failing cell in that stretch, or a missing check cell.

nbformat and nbclient come with ``pip install -e '.[book]'`` (or ``.[dev]``); they are imported only
here, so that ``import minigrad`` needs numpy alone.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..checks import load_chapter, module_name_for
from ..checks.framework import RESULTS_ENV, Exercise

DEFAULT_TIMEOUT = 60
DEFAULT_MAX_OUTPUT = 1_000_000  # characters of output kept per cell; more fails the exercise

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class GradingError(Exception):
    """A notebook that cannot be graded at all (no checks for it, a missing dependency)."""


@dataclass
class ExerciseGrade:
    """The verdict on one exercise."""

    number: str
    title: str
    status: str  # passed, failed, not implemented, not run
    message: str

    @property
    def passed(self) -> bool:
        return self.status == "passed"


@dataclass
class CellProblem:
    """A cell that did not run cleanly, and what happened."""

    cell: int  # 1-based position among all cells, as a reader counts them
    first_line: str
    kind: str  # error, timeout, dead kernel, output
    message: str

    def describe(self) -> str:
        return f"cell {self.cell} ({self.first_line}) {self.message}"


@dataclass
class NotebookGrade:
    """The grade of one notebook: a verdict per exercise and the cells that had problems."""

    path: str
    checks: str
    exercises: list[ExerciseGrade] = field(default_factory=list)
    problems: list[CellProblem] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def score(self) -> int:
        return sum(e.passed for e in self.exercises)

    @property
    def total(self) -> int:
        return len(self.exercises)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "checks": self.checks,
            "score": self.score,
            "total": self.total,
            "seconds": round(self.seconds, 2),
            "exercises": [asdict(e) | {"passed": e.passed} for e in self.exercises],
            "problems": [asdict(p) for p in self.problems],
        }


def _jupyter() -> tuple[Any, Any, Any]:
    try:
        import ipykernel  # noqa: F401 - the kernel that runs the notebook
        import nbformat
        from jupyter_client.kernelspec import KernelSpecManager
        from nbclient import NotebookClient
    except ImportError as e:
        raise GradingError(
            f"grading needs nbformat and nbclient ({e.name} is missing): "
            "pip install -e '.[book]'  (or: pip install nbclient nbformat ipykernel)"
        ) from None
    return nbformat, NotebookClient, KernelSpecManager


def _first_line(source: str) -> str:
    for line in source.splitlines():
        if line.strip():
            line = line.strip()
            return "`" + (line if len(line) <= 50 else line[:47] + "...") + "`"
    return "empty"


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 100_000 else f"{n / 1e3:.0f} kB"


def _error_message(ename: str, evalue: str, traceback: str) -> str:
    evalue = " ".join(_ANSI.sub("", evalue or "").split())
    if len(evalue) > 200:
        evalue = evalue[:197] + "..."
    text = _ANSI.sub("", traceback or "")
    where = ""
    m = re.findall(r"^(?:Cell In\[\d+\]|File [^\n]*?), line (\d+)", text, flags=re.M)
    if m and ename != "SyntaxError":
        where = f" (line {m[-1]})"
    if ename == "SyntaxError" or ename == "IndentationError":
        evalue = re.sub(r"\(\S+\.py, (line \d+)\)", r"(\1)", evalue)
    if ename == "SystemExit":
        return f"called sys.exit(){where}: SystemExit {evalue}".rstrip()
    return f"raised {ename}: {evalue}{where}"


def _make_client_class(NotebookClient: Any) -> Any:  # noqa: N803 - a class
    class Client(NotebookClient):
        """Keeps at most ``max_output`` characters of output per cell and counts the rest."""

        def output(self, outs: Any, msg: dict, display_id: Any, cell_index: int) -> Any:
            content = msg.get("content", {})
            size = len(content.get("text", "")) if "text" in content else len(str(content))
            used = self.output_sizes.get(cell_index, 0) + size
            self.output_sizes[cell_index] = used
            if used > self.max_output:
                return None
            return super().output(outs, msg, display_id, cell_index)

    return Client


def _kernel_spec_manager(KernelSpecManager: Any) -> Any:  # noqa: N803
    import ipykernel.kernelspec

    class CurrentEnvironment(KernelSpecManager):
        """Every kernel name means: ipykernel in the grader's own interpreter."""

        def get_kernel_spec(self, kernel_name: str) -> Any:
            return self.kernel_spec_class(resource_dir=ipykernel.kernelspec.RESOURCES,
                                          **ipykernel.kernelspec.get_kernel_dict())

    return CurrentEnvironment()


class _Run:
    """One execution of a notebook, with restarts after a dead or stuck kernel."""

    def __init__(self, nb: Any, path: Path, timeout: int, max_output: int, results: Path) -> None:
        nbformat, NotebookClient, KernelSpecManager = _jupyter()
        Client = _make_client_class(NotebookClient)  # noqa: N806
        self.timeout = timeout
        self.client = Client(
            nb,
            timeout=timeout,
            kernel_name="python3",
            allow_errors=False,
            interrupt_on_timeout=True,
            error_on_timeout={"ename": "CellTimeoutError",
                              "evalue": f"still running after {timeout} s", "traceback": []},
            record_timing=False,
            shutdown_kernel="immediate",
            iopub_timeout=10,
            resources={"metadata": {"path": str(path.parent)}},
        )
        self.client.output_sizes = {}
        self.client.max_output = max_output
        self.client.kernel_spec_manager = _kernel_spec_manager(KernelSpecManager)
        self.stderr = tempfile.TemporaryFile()
        self.env = {**os.environ, RESULTS_ENV: str(results), "MPLBACKEND": "Agg",
                    "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
        self.ok: list[int] = []

    # kernel lifecycle ----------------------------------------------------------------------------
    def start(self) -> None:
        c = self.client
        c.km = c.create_kernel_manager()
        c.km.kernel_spec_manager = c.kernel_spec_manager
        c.start_new_kernel(env=self.env, cwd=c.resources["metadata"]["path"], stderr=self.stderr)
        c.start_new_kernel_client()

    def stop(self) -> None:
        c = self.client
        if getattr(c, "km", None) is not None:
            try:
                c._cleanup_kernel()
            except Exception:  # noqa: BLE001 - a kernel already gone
                pass

    def restart(self) -> None:
        """A new kernel in the state the cells that ran well had built."""
        self.stop()
        self.start()
        for index in self.ok:
            cell = self.client.nb.cells[index]
            try:
                self.client.execute_cell(cell, index)
            except Exception:  # noqa: BLE001 - best effort: the first run of it went well
                pass

    def responsive(self) -> bool:
        """Whether the kernel answers a trivial request within a few seconds (after a timeout)."""
        from jupyter_core.utils import run_sync

        c = self.client
        get_msg = run_sync(c.kc.shell_channel.get_msg)
        try:
            msg_id = c.kc.execute("pass", silent=True, store_history=False)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                msg = get_msg(timeout=max(0.1, deadline - time.monotonic()))
                if msg["parent_header"].get("msg_id") == msg_id:
                    return True
        except Exception:  # noqa: BLE001 - Empty, or a dead kernel
            return False
        return False

    def kernel_stderr(self) -> str:
        self.stderr.seek(0)
        text = self.stderr.read().decode("utf-8", "replace")
        noise = "WARNING | Kernel is running"
        lines = [ln for ln in text.splitlines() if ln.strip() and noise not in ln]
        return " | ".join(lines[-2:])

    # running -------------------------------------------------------------------------------------
    def run_cell(self, index: int) -> CellProblem | None:
        from nbclient.exceptions import CellExecutionError, DeadKernelError

        cell = self.client.nb.cells[index]
        first = _first_line(cell.source)
        problem = None
        try:
            self.client.execute_cell(cell, index)
        except CellExecutionError as e:
            if e.ename == "CellTimeoutError":
                problem = CellProblem(index + 1, first, "timeout",
                                      f"was still running after {self.timeout} s and was stopped "
                                      "(an endless loop?)")
                if not self.responsive():
                    problem.message += "; the kernel did not respond and was restarted"
                    self.restart()
            else:
                problem = CellProblem(index + 1, first, "error",
                                      _error_message(e.ename, e.evalue, e.traceback))
        except DeadKernelError:
            detail = self.kernel_stderr()
            problem = CellProblem(index + 1, first, "dead kernel",
                                  "killed the Python kernel (os._exit, exit(), a crash or memory "
                                  "exhausted)" + (f": {detail}" if detail else "")
                                  + "; the grader restarted it")
            self.restart()
        except Exception as e:  # noqa: BLE001 - anything else from the kernel machinery
            problem = CellProblem(index + 1, first, "error",
                                  f"could not be run: {type(e).__name__}: {e}")
            self.restart()
        size = self.client.output_sizes.get(index, 0)
        if size > self.client.max_output:
            msg = (f"printed {_mb(size)} of output (at most {_mb(self.client.max_output)} per cell "
                   "is kept): remove the print calls that flood it")
            if problem is None:
                problem = CellProblem(index + 1, first, "output", msg)
            else:
                problem.message += "; it also " + msg
        if problem is None:
            self.ok.append(index)
        return problem


def _read_results(path: Path) -> dict[str, dict[str, Any]]:
    results: dict[str, dict[str, Any]] = {}
    if not path.exists():
        return results
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            r = json.loads(line)
            results[str(r["exercise"])] = r
        except (ValueError, KeyError, TypeError):
            continue
    return results


def _verdicts(nb: Any, exercises: list[Exercise], problems: dict[int, CellProblem],
              results: dict[str, dict[str, Any]]) -> list[ExerciseGrade]:
    grades = []
    previous = -1
    for ex in exercises:
        pattern = re.compile(r"\b" + re.escape(ex.check_name) + r"\s*\(")
        check_cell = next((i for i, c in enumerate(nb.cells) if i > previous
                           and c.cell_type == "code" and pattern.search(c.source)), None)
        if check_cell is None:
            region: list[int] = []
        else:
            region = list(range(previous + 1, check_cell + 1))
            previous = check_cell
        trouble = [problems[i] for i in region if i in problems]
        r = results.get(ex.number)
        if r is None:
            if check_cell is None:
                msg = f"the cell that calls {ex.check_name}(...) is missing: put it back"
            elif trouble:
                msg = "the check did not run: " + "; ".join(p.describe() for p in trouble[:2])
            else:
                msg = f"the check did not run (no result from {ex.check_name})"
            grades.append(ExerciseGrade(ex.number, ex.title, "not run", msg))
        elif r.get("status") == "passed" and not trouble:
            grades.append(ExerciseGrade(ex.number, ex.title, "passed", r.get("message", "passed")))
        else:
            status = r.get("status", "failed")
            message = str(r.get("message", ""))
            if status == "passed":
                status, message = "failed", "the check passed, but " + trouble[0].describe()
            elif trouble:
                message = trouble[0].describe() + "; the check: " + message
            grades.append(ExerciseGrade(ex.number, ex.title, status, message))
    return grades


def checks_for(path: Path, nb: Any | None = None) -> str:
    """The checks module of a notebook: from its metadata, else from its file name."""
    meta = (nb.metadata.get("minigrad", {}) if nb is not None else {}) or {}
    name = meta.get("checks") if isinstance(meta, dict) else None
    if isinstance(name, str) and re.fullmatch(r"minigrad\.checks\.ch\d\d", name):
        return name
    return module_name_for(path.name)


def grade_notebook(path: str | os.PathLike[str], timeout: int = DEFAULT_TIMEOUT,
                   max_output: int = DEFAULT_MAX_OUTPUT) -> NotebookGrade:
    """Run a copy of the notebook at ``path`` and grade every exercise of its chapter.

    Raises :class:`GradingError` when the notebook has no checks module or cannot be read.
    """
    nbformat, _, _ = _jupyter()
    path = Path(path)
    start = time.monotonic()
    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception as e:  # noqa: BLE001 - JSON or schema errors
        raise GradingError(f"{path}: not a readable notebook ({type(e).__name__}: {e})") from None
    try:
        module_name = checks_for(path, nb)
        _, exercises = load_chapter(module_name)
    except (ValueError, ModuleNotFoundError) as e:
        raise GradingError(f"{path}: no checks for this notebook ({e})") from None
    if not exercises:
        raise GradingError(f"{path}: {module_name} declares no exercises")

    grade = NotebookGrade(str(path), module_name)
    with tempfile.TemporaryDirectory(prefix="minigrad-grade-") as tmp:
        results = Path(tmp) / "results.jsonl"
        run = _Run(nb, path, timeout, max_output, results)
        problems: dict[int, CellProblem] = {}
        try:
            run.start()
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code" or not cell.source.strip():
                    continue
                problem = run.run_cell(index)
                if problem is not None:
                    problems[index] = problem
        finally:
            run.stop()
            run.stderr.close()
        grade.problems = [problems[i] for i in sorted(problems)]
        grade.exercises = _verdicts(nb, exercises, problems, _read_results(results))
    grade.seconds = time.monotonic() - start
    return grade


def find_notebooks(path: str | os.PathLike[str]) -> list[Path]:
    """The chapter notebooks (``NN_name.ipynb``) at ``path``: the file, or those in a folder."""
    path = Path(path)
    if path.is_dir():
        return sorted(p for p in path.rglob("[0-9][0-9]_*.ipynb")
                      if ".ipynb_checkpoints" not in p.parts)
    return [path]


def format_grade(grade: NotebookGrade) -> str:
    """The scorecard of one notebook, as printed by ``minigrad grade``."""
    lines = [f"{grade.path}  ({grade.seconds:.1f} s)"]
    width = max((len(e.title) for e in grade.exercises), default=10)
    for e in grade.exercises:
        mark = "passed" if e.passed else "FAILED"
        lines.append(f"  {e.number:<5} {e.title:<{width}}  {mark}  {e.message}")
    counted = set()
    for e in grade.exercises:
        counted.add(e.message)
    others = [p for p in grade.problems if not any(p.describe() in m for m in counted)]
    if others:
        lines.append("  other cells that did not run cleanly:")
        lines += [f"    {p.describe()}" for p in others[:10]]
    lines.append(f"  score: {grade.score} / {grade.total}")
    return "\n".join(lines)


