"""``minigrad grade`` end to end: solutions score full marks, untouched exercises score zero with
"not implemented yet", and the command's scorecard, JSON and exit codes (broken submissions are in
test_grading_broken.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbclient")

from minigrad.cli import main  # noqa: E402
from minigrad.grading.runner import grade_notebook  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
EXERCISES = sorted((ROOT / "exercises").glob("[0-9][0-9]_*.ipynb"))
CH02 = ROOT / "solutions" / "02_building_minigrad.ipynb"

pytestmark = pytest.mark.timeout(300)


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_solutions_score_full_marks(path: Path) -> None:
    grade = grade_notebook(path)
    assert grade.total >= 3, "every chapter has at least three graded exercises"
    messages = "\n".join(f"{e.number}: {e.message}" for e in grade.exercises)
    assert grade.score == grade.total, messages
    assert not grade.problems, [p.describe() for p in grade.problems]


@pytest.mark.parametrize("path", EXERCISES, ids=lambda p: p.name)
def test_untouched_exercises_score_zero_without_crashing(path: Path) -> None:
    grade = grade_notebook(path)
    assert grade.total >= 3
    assert grade.score == 0
    for e in grade.exercises:
        assert e.status == "not implemented", (e.number, e.message)
        assert e.message == "not implemented yet"
    # the notebook runs to its end: no cell raised, so Run All works for a student
    assert not grade.problems, [p.describe() for p in grade.problems]


def test_every_exercise_notebook_runs_to_the_end(tmp_path: Path) -> None:
    """Executed straight through (as Run All would), no cell of an exercise notebook raises."""
    from nbclient import NotebookClient

    for path in EXERCISES:
        nb = nbformat.read(str(path), as_version=4)
        NotebookClient(nb, timeout=120, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
        text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                       for o in c.outputs)
        assert "not implemented yet" in text


# --------------------------------------------------------------------------------------------------
# The command
# --------------------------------------------------------------------------------------------------


def test_grade_command_scorecard_json_and_exit_codes(tmp_path: Path, capsys) -> None:
    out = tmp_path / "grade.json"
    before = CH02.read_bytes()
    assert main(["grade", str(CH02), "--json", str(out), "--timeout", "30"]) == 0
    assert CH02.read_bytes() == before, "the graded notebook is never written"
    text = capsys.readouterr().out
    assert "score: 4 / 4" in text
    data = json.loads(out.read_text())
    assert data["score"] == data["total"] == 4
    assert [e["number"] for e in data["notebooks"][0]["exercises"]] == ["2.1", "2.2", "2.3", "2.4"]

    exercises = ROOT / "exercises"
    assert main(["grade", str(exercises)]) == 1
    assert "not implemented yet" in capsys.readouterr().out


@pytest.mark.parametrize("args, message", [
    (["grade", "no/such/notebook.ipynb"], "no such file or folder"),
    (["grade", "README.md"], "is not a notebook"),
    (["grade", "--timeout", "0", "solutions"], "--timeout must be a positive"),
])
def test_grade_command_user_errors(args: list[str], message: str, capsys, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    assert main(args) == 2
    assert message in capsys.readouterr().err


def test_a_notebook_without_checks_is_a_user_error(tmp_path: Path, capsys) -> None:
    path = tmp_path / "99_nothing.ipynb"
    nbformat.write(nbformat.v4.new_notebook(), str(path))
    assert main(["grade", str(path)]) == 2
    assert "no checks for this notebook" in capsys.readouterr().err
    bad = tmp_path / "02_broken.ipynb"
    bad.write_text("{ not json")
    assert main(["grade", str(bad)]) == 2
    assert "not a readable notebook" in capsys.readouterr().err
