"""``minigrad grade PATH``: score an exercise notebook (or a folder of them).

Registered in :mod:`minigrad.cli`. Exit code 0 when every exercise passed, 1 when any did not, 2 for
a usage error (no such file, a notebook without checks, nbclient missing).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..cli import CLIError


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "grade",
        help="grade an exercise notebook (or a folder of them)",
        description="Run a copy of each notebook in a fresh kernel, collect what its checks "
        "found, and print a scorecard. The notebook itself is never written.",
    )
    p.add_argument("path",
                   help="a notebook, e.g. exercises/02_building_minigrad.ipynb, or a folder")
    p.add_argument("--timeout", type=int, default=None, metavar="SECONDS",
                   help="time limit for each cell (default 60)")
    p.add_argument("--json", dest="json_path", metavar="FILE",
                   help="also write the grades to FILE as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from .runner import DEFAULT_TIMEOUT, GradingError, find_notebooks, format_grade, grade_notebook

    timeout = DEFAULT_TIMEOUT if args.timeout is None else args.timeout
    if timeout <= 0:
        raise CLIError(f"--timeout must be a positive number of seconds, got {timeout}")
    path = Path(args.path)
    if not path.exists():
        raise CLIError(f"no such file or folder: {path}")
    notebooks = find_notebooks(path)
    if not notebooks:
        raise CLIError(f"no chapter notebooks (NN_name.ipynb) in {path}")
    if path.is_file() and path.suffix != ".ipynb":
        raise CLIError(f"{path} is not a notebook (.ipynb)")
    grades = []
    for nb in notebooks:
        try:
            grade = grade_notebook(nb, timeout=timeout)
        except GradingError as e:
            if path.is_file():
                raise CLIError(str(e)) from None
            print(f"{nb}: skipped: {e}")
            continue
        print(format_grade(grade), flush=True)
        grades.append(grade)
    if not grades:
        raise CLIError(f"nothing to grade in {path}")
    score = sum(g.score for g in grades)
    total = sum(g.total for g in grades)
    if len(grades) > 1:
        print(f"total: {score} / {total} exercises passed")
    if args.json_path:
        data = {"score": score, "total": total, "notebooks": [g.to_dict() for g in grades]}
        try:
            Path(args.json_path).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        except OSError as e:
            raise CLIError(f"cannot write {args.json_path}: {e}") from None
    return 0 if score == total else 1
