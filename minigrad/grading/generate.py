"""Write ``exercises/`` from ``solutions/``: the one source of every exercise.

``python -m minigrad.grading.generate`` reads every ``solutions/NN_name.ipynb`` and writes
``exercises/NN_name.ipynb``: the same notebook with each solution replaced by a stub and every
output cleared. A solution is the code between two marker lines (the nbgrader convention)::

    def unbroadcast(grad, shape):
        ### BEGIN SOLUTION
        ...
        ### END SOLUTION

which becomes ::

    def unbroadcast(grad, shape):
        raise NotImplementedError("Exercise 2.4: write unbroadcast")

Every code cell that holds solutions is one exercise, numbered ``N.k`` in order (``N`` the chapter,
``k`` from 1): keep one exercise per cell, and number the checks in ``minigrad/checks/chNN.py`` the
same way. ``--check`` writes nothing and exits 1 when a file in ``exercises/`` differs from what
would be written (the test suite runs the same comparison).
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from pathlib import Path
from typing import Any

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"

_DEF = re.compile(r"^(\s*)(?:async\s+)?(?:def|class)\s+([A-Za-z_]\w*)")


class GenerateError(ValueError):
    """A solutions notebook whose markers do not pair up."""


def _nbformat() -> Any:
    try:
        import nbformat
    except ImportError as e:  # pragma: no cover - nbformat comes with the book and dev extras
        raise ImportError(
            "generating exercises needs nbformat: pip install -e '.[dev]' (or pip install nbformat)"
        ) from e
    return nbformat


def _enclosing_name(lines: list[str], index: int, indent: int) -> str | None:
    """The function (or class) whose body holds line ``index``, if any."""
    for line in reversed(lines[:index]):
        m = _DEF.match(line)
        if m and len(m.group(1)) < indent:
            return m.group(2)
    return None


def strip_solutions(source: str, exercise: str, where: str = "cell") -> tuple[str, int]:
    """Replace every marked solution in ``source`` by a stub raising ``NotImplementedError``.

    Returns the new source and the number of solutions replaced. The stub sits at the indentation
    of the ``BEGIN`` marker and names the exercise and, when the solution is a function's body, the
    function.
    """
    lines = source.split("\n")
    out: list[str] = []
    count = 0
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if stripped == END:
            raise GenerateError(f"{where}, line {i + 1}: {END} without {BEGIN}")
        if stripped != BEGIN:
            out.append(line)
            i += 1
            continue
        indent = len(line) - len(line.lstrip())
        j = i + 1
        while j < len(lines) and lines[j].strip() != END:
            if lines[j].strip() == BEGIN:
                raise GenerateError(f"{where}, line {j + 1}: {BEGIN} inside another solution")
            j += 1
        if j == len(lines):
            raise GenerateError(f"{where}, line {i + 1}: {BEGIN} without {END}")
        name = _enclosing_name(lines, i, indent)
        what = f"write {name}" if name else "complete this cell"
        out.append(" " * indent + f'raise NotImplementedError("Exercise {exercise}: {what}")')
        count += 1
        i = j + 1
    return "\n".join(out), count


def chapter_number(path: Path) -> int:
    """The chapter number of ``NN_name.ipynb``."""
    m = re.match(r"(\d\d)_", path.name)
    if not m:
        raise GenerateError(f"{path.name}: a chapter notebook is named NN_name.ipynb")
    return int(m.group(1))


def exercise_notebook(nb: Any, chapter: int, name: str = "notebook") -> Any:
    """The exercises twin of a solutions notebook (a new notebook object; ``nb`` is untouched)."""
    nb = copy.deepcopy(nb)
    k = 0
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if BEGIN in cell.source or END in cell.source:
            source, n = strip_solutions(cell.source, f"{chapter}.{k + 1}", f"{name}, cell {index}")
            if n:
                k += 1
                cell.source = source
        cell.outputs = []
        cell.execution_count = None
        cell.metadata.pop("execution", None)
    nb.metadata["minigrad"] = {"chapter": f"{chapter:02d}",
                               "checks": f"minigrad.checks.ch{chapter:02d}"}
    return nb


def render(solution: Path) -> str:
    """The text that ``exercises/<solution's name>`` must hold."""
    nbformat = _nbformat()
    nb = nbformat.read(str(solution), as_version=4)
    twin = exercise_notebook(nb, chapter_number(solution), solution.name)
    text = nbformat.writes(twin)
    return text if text.endswith("\n") else text + "\n"


def generate(solutions: Path, exercises: Path, check: bool = False) -> list[Path]:
    """Write (or with ``check``, compare) every exercise notebook; return those that differ.

    An exercise notebook whose solution is gone also counts as differing (and is not deleted).
    """
    differ: list[Path] = []
    sources = sorted(solutions.glob("[0-9][0-9]_*.ipynb"))
    for solution in sources:
        target = exercises / solution.name
        text = render(solution)
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if current != text:
            differ.append(target)
            if not check:
                exercises.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
    names = {s.name for s in sources}
    differ += [p for p in sorted(exercises.glob("*.ipynb")) if p.name not in names]
    return differ


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m minigrad.grading.generate",
        description="Write exercises/NN_name.ipynb from solutions/NN_name.ipynb.",
    )
    parser.add_argument("--solutions", type=Path, default=Path("solutions"))
    parser.add_argument("--exercises", type=Path, default=Path("exercises"))
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if exercises/ is out of date")
    args = parser.parse_args(argv)
    if not args.solutions.is_dir():
        print(f"no folder {args.solutions} (run this from the repository's root)", file=sys.stderr)
        return 2
    try:
        differ = generate(args.solutions, args.exercises, check=args.check)
    except GenerateError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for path in differ:
        orphan = not (args.solutions / path.name).exists()
        state = "has no solutions notebook" if orphan else (
            "is out of date" if args.check else "written")
        print(f"{path}: {state}")
    if args.check and differ:
        print("run: python -m minigrad.grading.generate", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
