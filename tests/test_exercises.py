"""One source for exercises: exercises/ is exactly what the generator writes from solutions/, and
every chapter's notebooks, checks module and exercise numbers agree. Also the check framework's
promises (it never raises, it says what differs), tested in this process without a kernel."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from minigrad.checks import RESULTS, exercises_of, load_chapter, module_name_for
from minigrad.checks.framework import Case, call, exercise, expect_array
from minigrad.grading.generate import GenerateError, generate, render, strip_solutions

nbformat = pytest.importorskip("nbformat")

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))


def test_exercises_are_generated_from_solutions_and_up_to_date() -> None:
    stale = generate(ROOT / "solutions", ROOT / "exercises", check=True)
    assert not stale, (
        f"{[str(p.relative_to(ROOT)) for p in stale]} differ from what the generator writes: run "
        "`python -m minigrad.grading.generate` (never edit exercises/ by hand)"
    )


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_chapter_notebooks_and_checks_agree(path: Path) -> None:
    _, exercises = load_chapter(module_name_for(path.name))
    assert len(exercises) >= 3, "at least three graded exercises per chapter"
    twin = (ROOT / "exercises" / path.name).read_text()
    stubs = re.findall(r'NotImplementedError\(\\"Exercise (\d+\.\d+):', twin)
    assert stubs == [e.number for e in exercises], "stub numbers follow the checks module's order"
    solution = nbformat.read(str(path), as_version=4)
    sources = [c.source for c in solution.cells if c.cell_type == "code"]
    for e in exercises:
        assert any(re.search(rf"\b{e.check_name}\(", s) for s in sources), e.check_name
    # the book's chapter of the same name exists and links to the exercise notebook
    chapter = ROOT / "book" / path.name
    assert chapter.exists(), f"book/{path.name} is missing"
    assert f"exercises/{path.name}" in chapter.read_text()


def test_strip_solutions_keeps_the_indentation_and_names_the_function() -> None:
    source = ("def f(x):\n    y = 1\n    ### BEGIN SOLUTION\n    return x + y\n"
              "    ### END SOLUTION\n")
    out, n = strip_solutions(source, "3.2")
    assert n == 1
    assert out == 'def f(x):\n    y = 1\n    raise NotImplementedError("Exercise 3.2: write f")\n'
    top, _ = strip_solutions("### BEGIN SOLUTION\nz = 2\n### END SOLUTION", "1.1")
    assert top == 'raise NotImplementedError("Exercise 1.1: complete this cell")'


@pytest.mark.parametrize("source, message", [
    ("### BEGIN SOLUTION\nx = 1\n", "without ### END SOLUTION"),
    ("x = 1\n### END SOLUTION\n", "without ### BEGIN SOLUTION"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n", "inside another solution"),
])
def test_strip_solutions_rejects_unpaired_markers(source: str, message: str) -> None:
    with pytest.raises(GenerateError, match=message):
        strip_solutions(source, "1.1")


def test_generated_notebook_has_no_outputs_and_no_solutions(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Title"),
        nbformat.v4.new_code_cell(
            "def g():\n    ### BEGIN SOLUTION\n    return 42\n    ### END SOLUTION"),
        nbformat.v4.new_code_cell("print(1)"),
    ]
    nb.cells[2].outputs = [nbformat.v4.new_output("stream", text="1\n")]
    nb.cells[2].execution_count = 3
    (tmp_path / "solutions").mkdir()
    nbformat.write(nb, str(tmp_path / "solutions" / "07_demo.ipynb"))
    assert generate(tmp_path / "solutions", tmp_path / "exercises") == [
        tmp_path / "exercises" / "07_demo.ipynb"]
    out = nbformat.read(str(tmp_path / "exercises" / "07_demo.ipynb"), as_version=4)
    assert "return 42" not in out.cells[1].source
    assert 'Exercise 7.1: write g' in out.cells[1].source
    assert out.cells[2].outputs == [] and out.cells[2].execution_count is None
    assert out.cells[0].source == "# Title"
    assert out.metadata["minigrad"]["checks"] == "minigrad.checks.ch07"
    assert generate(tmp_path / "solutions", tmp_path / "exercises", check=True) == []
    assert render(tmp_path / "solutions" / "07_demo.ipynb") == \
        (tmp_path / "exercises" / "07_demo.ipynb").read_text()


def test_module_name_for() -> None:
    assert module_name_for("02_building_minigrad.ipynb") == "minigrad.checks.ch02"
    assert module_name_for("exercises/12_x.ipynb") == "minigrad.checks.ch12"
    with pytest.raises(ValueError):
        module_name_for("building.ipynb")


# --------------------------------------------------------------------------------------------------
# The framework, in process
# --------------------------------------------------------------------------------------------------


@exercise("0.1", "demo: double")
def check_double(fn):
    def case(x):
        return lambda: expect_array("double(x)", 2 * x, call(fn, x.copy()))

    return [
        Case("three numbers", case(np.array([1.0, 2.0, 3.0]))),
        Case("a matrix", case(np.arange(6.0).reshape(2, 3))),
        Case("zeros", case(np.zeros(4))),
    ]


def test_a_check_passes_fails_and_records(capsys) -> None:
    assert check_double(lambda x: x * 2).ok
    assert "all 3 cases passed" in capsys.readouterr().out
    r = check_double(lambda x: x + x if x.ndim == 1 else x)
    out = capsys.readouterr().out
    assert r.status == "failed" and r.passed == 2 and RESULTS["0.1"] is r
    assert ("FAILED  case 2, a matrix: double(x): first difference at index (0, 1): "
            "expected 2, got 1") in out
    assert "largest error 5" in out
    assert [e.number for e in exercises_of(__name__)] == ["0.1"]


@pytest.mark.parametrize("fn, phrase", [
    (lambda x: (_ for _ in ()).throw(NotImplementedError("Exercise 0.1: write double")),
     "not implemented yet"),
    (lambda x: 1 / 0, "your code raised ZeroDivisionError"),
    (lambda x: None, "got None"),
    (lambda x: list(2 * x), "return a numpy array"),
    (lambda x: (2 * x)[None], "shape: expected (3,), got (1, 3)"),
    (lambda x: (2 * x).astype(np.float32), "dtype: expected float64, got float32"),
    (lambda x: x * np.nan, "got nan at index (0,)"),
    (lambda x: __import__("sys").exit(3), "sys.exit()"),
    (None, "got None instead of your function"),
    (42, "expected your function or class, got int 42"),
])
def test_a_check_never_raises(fn, phrase: str, capsys) -> None:
    r = check_double(fn)
    assert not r.ok
    assert phrase in capsys.readouterr().out + r.message


def test_a_check_records_for_the_grader(tmp_path: Path, monkeypatch) -> None:
    results = tmp_path / "results.jsonl"
    monkeypatch.setenv("MINIGRAD_GRADE_RESULTS", str(results))
    check_double(lambda x: 2 * x)
    check_double(lambda x: x)
    lines = results.read_text().splitlines()
    assert len(lines) == 2 and '"status": "passed"' in lines[0] and '"status": "failed"' in lines[1]
