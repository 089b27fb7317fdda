"""Deliberately broken submissions to chapter 2's exercises, each graded with the right message.

Kernels are slow to start (a second or two), so the submissions are batched: each notebook built
below breaks at most one submission per exercise and is graded once (a module-level cache); every
submission is still its own test. Batching also tests that one broken exercise does not disturb the
grading of the others. Submissions are edits of solutions/02_building_minigrad.ipynb.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbclient")

from minigrad.grading.runner import grade_notebook  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CH02 = ROOT / "solutions" / "02_building_minigrad.ipynb"

pytestmark = pytest.mark.timeout(300)


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
            extra = grad.ndim - len(shape)
            axes = tuple(range(extra)) + tuple(
                extra + i for i, s in enumerate(shape) if s == 1 and grad.shape[extra + i] != 1)
            return grad.sum(axis=axes, keepdims=True) if axes else grad
        """), ["shape: expected (3, 4), got (1, 3, 4)", "sum them without keepdims"]),
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
    """2.1 kills the kernel; the grader restarts it, replays what ran, and grades the rest."""
    dead = next(s for s in SUBMISSIONS if s[0] == "dead-kernel")
    grade = grade_notebook(_build([dead], tmp_path, "02_building_minigrad.ipynb"), timeout=30)
    verdict = {e.number: e for e in grade.exercises}
    assert not verdict["2.1"].passed and "killed the Python kernel" in verdict["2.1"].message
    for number in ("2.2", "2.3", "2.4"):
        assert verdict[number].passed, verdict[number].message
