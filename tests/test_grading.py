"""``minigrad grade`` end to end: solutions score full marks, untouched exercises score zero with
"not implemented yet", and deliberately broken submissions each get the right message.

Kernels are slow to start (a second or two), so the broken submissions are batched: each notebook
below breaks up to one submission per exercise, and is graded once (a module-level cache); every
submission is still its own test. Batching also tests that one broken exercise does not disturb
the grading of the others.
"""

from __future__ import annotations

import json
import textwrap
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
    assert grade.score == grade.total, "\n".join(f"{e.number}: {e.message}" for e in grade.exercises)
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
# Broken submissions
# --------------------------------------------------------------------------------------------------

CELL = {  # how to find each exercise's code cell, and its check cell
    "2.1": ("def value_mul(", "check_value_mul(Value)"),
    "2.2": ("def value_tanh(", "check_value_tanh(Value)"),
    "2.3": ("def topological_order(", "check_topological_order(topological_order)"),
    "2.4": ("def unbroadcast(", "check_unbroadcast(unbroadcast)"),
}


def code(text: str) -> str:
    return textwrap.dedent(text).strip("\n")


# (id, exercise, replacement of its code cell, or None to delete its check cell, expected phrases)
SUBMISSIONS = [
    # failures of any kind
    ("syntax-error", "2.1", code("""
        def value_mul(self, other)
            return Value(self.data * other.data, (self, other), "*")
        Value.__mul__ = value_mul
        """), ["raised SyntaxError", "Value has no __mul__"]),
    ("infinite-loop", "2.2", code("""
        def value_tanh(self):
            while True:
                pass
        Value.tanh = value_tanh
        """), ["was still running after 3 s", "interrupted during case 1"]),
    ("exception", "2.3", code("""
        def topological_order(root):
            return [root] + [1 / 0]
        """), ["your code raised ZeroDivisionError: division by zero", "topological_order"]),
    ("wrong-shape", "2.4", code("""
        def unbroadcast(grad, shape):
            extra = grad.ndim - len(shape)
            if extra:
                grad = grad.sum(axis=tuple(range(extra)))
            axes = tuple(i for i, s in enumerate(shape) if s == 1 and grad.shape[i] != 1)
            return grad.sum(axis=axes) if axes else grad
        """), ["shape: expected (3, 1), got (3,)", "keepdims=True"]),
    ("dead-kernel", "2.1", code("""
        import os
        def value_mul(self, other):
            os._exit(1)
        Value.__mul__ = value_mul
        """), ["killed the Python kernel"]),
    ("nan", "2.2", code("""
        def value_tanh(self):
            e = np.exp(2 * self.data)
            t = (e - 1) / (e + 1)
            out = Value(t, (self,), "tanh")
            def _backward():
                self.grad += (1 - t * t) * out.grad
            out._backward = _backward
            return out
        Value.tanh = value_tanh
        """), ["got nan", "overflow"]),
    ("missing-function", "2.3", code("""
        def topo_order(root):
            return [root]
        """), ["the check did not run", "NameError: name 'topological_order' is not defined"]),
    ("10MB-of-printing", "2.4", code("""
        def unbroadcast(grad, shape):
            print("debug " * 150_000)
            extra = grad.ndim - len(shape)
            if extra:
                grad = grad.sum(axis=tuple(range(extra)))
            axes = tuple(i for i, s in enumerate(shape) if s == 1 and grad.shape[i] != 1)
            return grad.sum(axis=axes, keepdims=True) if axes else grad
        """), ["printed 10.8 MB of output", "the check passed, but"]),
    ("sys-exit", "2.1", code("""
        import sys
        def value_mul(self, other):
            sys.exit("giving up")
        Value.__mul__ = value_mul
        """), ["SystemExit", "called sys.exit()"]),
    ("deleted-variable", "2.2", code("""
        del math
        def value_tanh(self):
            t = math.tanh(self.data)
            out = Value(t, (self,), "tanh")
            def _backward():
                self.grad += (1 - t * t) * out.grad
            out._backward = _backward
            return out
        Value.tanh = value_tanh
        """), ["NameError: name 'math' is not defined"]),
    ("wrong-type", "2.3", code("""
        def topological_order(root):
            return len([root])
        """), ["expected a list of nodes, got int"]),
    ("averaged", "2.4", code("""
        def unbroadcast(grad, shape):
            extra = grad.ndim - len(shape)
            if extra:
                grad = grad.mean(axis=tuple(range(extra)))
            axes = tuple(i for i, s in enumerate(shape) if s == 1 and grad.shape[i] != 1)
            return grad.mean(axis=axes, keepdims=True) if axes else grad
        """), ["you averaged", "largest error"]),
    # the usual mistakes
    ("assigns-instead-of-adding", "2.1", code("""
        def value_mul(self, other):
            out = Value(self.data * other.data, (self, other), "*")
            def _backward():
                self.grad = other.data * out.grad
                other.grad = self.data * out.grad
            out._backward = _backward
            return out
        Value.__mul__ = value_mul
        """), ["gradients accumulate", "+="]),
    ("derivative-of-the-input", "2.2", code("""
        def value_tanh(self):
            out = Value(math.tanh(self.data), (self,), "tanh")
            def _backward():
                self.grad += (1 - self.data ** 2) * out.grad
            out._backward = _backward
            return out
        Value.tanh = value_tanh
        """), ["you squared the input", "1 - t**2"]),
    ("recursive", "2.3", code("""
        def topological_order(root):
            order, seen = [], set()
            def visit(node):
                if id(node) in seen:
                    return
                seen.add(id(node))
                for parent in node._prev:
                    visit(parent)
                order.append(node)
            visit(root)
            return order
        """), ["RecursionError", "keep your own stack"]),
    ("leading-dims-kept", "2.4", code("""
        def unbroadcast(grad, shape):
            axes = tuple(i for i, s in enumerate(shape) if s == 1 and grad.shape[-len(shape) + i] != 1)
            if not shape:
                return grad.sum()
            lead = grad.ndim - len(shape)
            return grad.sum(axis=tuple(a + lead for a in axes), keepdims=True) if axes else grad
        """), ["also sum the leading dimensions"]),
    ("forgets-out-grad", "2.1", code("""
        def value_mul(self, other):
            out = Value(self.data * other.data, (self, other), "*")
            def _backward():
                self.grad += other.data
                other.grad += self.data
            out._backward = _backward
            return out
        Value.__mul__ = value_mul
        """), ["out.grad = 0.5", "chain rule"]),
    ("sign-flipped", "2.2", code("""
        def value_tanh(self):
            t = math.tanh(self.data)
            out = Value(t, (self,), "tanh")
            def _backward():
                self.grad += (t * t - 1) * out.grad
            out._backward = _backward
            return out
        Value.tanh = value_tanh
        """), ["the sign is reversed"]),
    ("pre-order", "2.3", code("""
        def topological_order(root):
            order, seen, stack = [], set(), [root]
            while stack:
                node = stack.pop()
                if id(node) in seen:
                    continue
                seen.add(id(node))
                order.append(node)
                stack.extend(node._prev)
            return order[::-1]
        """), ["comes before its input", "post-order"]),
    ("returns-grad-unchanged", "2.4", code("""
        def unbroadcast(grad, shape):
            return grad
        """), ["you returned grad unchanged"]),
    ("check-cell-deleted", "2.1", None, ["the cell that calls check_value_mul(...) is missing"]),
    ("forgot-return", "2.3", code("""
        def topological_order(root):
            order = [root]
        """), ["returned None", "return the list of nodes"]),
    ("value-deleted", "2.4", code("""
        del Value
        def unbroadcast(grad, shape):
            extra = grad.ndim - len(shape)
            if extra:
                grad = grad.sum(axis=tuple(range(extra)))
            axes = tuple(i for i, s in enumerate(shape) if s == 1 and grad.shape[i] != 1)
            return grad.sum(axis=axes, keepdims=True) if axes else grad
        """), []),  # unbroadcast itself still passes; the NameError shows in the next check below
]


def _batches() -> list[list[tuple]]:
    """Group the submissions so that no notebook breaks the same exercise twice."""
    batches: list[list[tuple]] = []
    for sub in SUBMISSIONS:
        for batch in batches:
            if all(other[1] != sub[1] for other in batch):
                batch.append(sub)
                break
        else:
            batches.append([sub])
    return batches


def _build(batch: list[tuple], folder: Path, name: str) -> Path:
    nb = nbformat.read(str(CH02), as_version=4)
    for _, number, source, _ in batch:
        code_marker, check_marker = CELL[number]
        if source is None:
            nb.cells = [c for c in nb.cells if c.source.strip() != check_marker]
            continue
        cell = next(c for c in nb.cells if c.cell_type == "code" and code_marker in c.source)
        cell.source = source
    path = folder / name
    nbformat.write(nb, str(path))
    return path


_GRADES: dict[int, object] = {}


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("broken")
    batches = _batches()

    def get(sub_id: str):
        index = next(i for i, b in enumerate(batches) if any(s[0] == sub_id for s in b))
        if index not in _GRADES:
            path = _build(batches[index], folder, f"02_building_minigrad_broken{index}.ipynb")
            _GRADES[index] = grade_notebook(path, timeout=3)
        return _GRADES[index]

    return get


def test_there_are_at_least_fifteen_broken_submissions() -> None:
    assert len(SUBMISSIONS) >= 15


@pytest.mark.parametrize("sub", SUBMISSIONS, ids=[s[0] for s in SUBMISSIONS])
def test_broken_submission_gets_the_right_message(sub: tuple, graded) -> None:
    sub_id, number, _, phrases = sub
    grade = graded(sub_id)
    verdict = {e.number: e for e in grade.exercises}
    assert grade.total == 4, "grading completed with every exercise"
    if sub_id == "value-deleted":  # `del Value` in 2.4's cell: 2.4 passes, the later cell fails
        assert verdict["2.4"].passed
        assert any("NameError: name 'Value' is not defined" in p.message for p in grade.problems)
        return
    e = verdict[number]
    assert not e.passed, e.message
    for phrase in phrases:
        assert phrase in e.message, f"{phrase!r} not in: {e.message}"


def test_a_dead_kernel_leaves_the_other_exercises_graded(tmp_path: Path) -> None:
    """2.1 kills the kernel; the grader restarts it, replays the cells that ran, and grades the rest."""
    dead = next(s for s in SUBMISSIONS if s[0] == "dead-kernel")
    grade = grade_notebook(_build([dead], tmp_path, "02_building_minigrad.ipynb"), timeout=30)
    verdict = {e.number: e for e in grade.exercises}
    assert not verdict["2.1"].passed and "killed the Python kernel" in verdict["2.1"].message
    for number in ("2.2", "2.3", "2.4"):
        assert verdict[number].passed, verdict[number].message


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
