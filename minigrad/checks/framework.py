"""The machinery shared by every chapter's checks: cases, comparisons, messages, recorded results.

A check is a function such as ``check_unbroadcast(fn)`` that a student calls right below the cell in
which they wrote ``fn``. It runs ``fn`` on several small cases, compares each answer with the right
one, and prints one line per case: ``passed``, or ``FAILED`` with what was expected, what came back
and, where the mistake is a common one, a hint. It never raises: a function that still raises
``NotImplementedError`` gets "not implemented yet", and an exception inside the student's code is
shown with its last lines. Every check records its :class:`CheckResult` in :data:`RESULTS` and, when
the environment variable ``MINIGRAD_GRADE_RESULTS`` names a file (``minigrad grade`` sets it),
appends it there as one line of JSON.

A chapter's checks module declares its checks with :func:`exercise` and a list of :class:`Case`::

    @exercise("2.4", "unbroadcast")
    def check_unbroadcast(fn):
        def same_shape():
            grad = np.ones((3, 4))
            expect_array("the result", grad, call(fn, grad, (3, 4)))
        return [Case("same shape: nothing to sum", same_shape), ...]

Inside a case, :func:`call` runs the student's code (turning its exceptions into a failure that
shows where they happened), and :func:`expect_array`, :func:`expect_close` and :func:`fail` stop the
case with a message.
"""

from __future__ import annotations

import json
import math
import os
import traceback
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "RESULTS_ENV",
    "RESULTS",
    "Case",
    "CaseFailure",
    "CheckResult",
    "Exercise",
    "call",
    "describe",
    "exercise",
    "exercises_of",
    "expect",
    "expect_array",
    "expect_close",
    "fail",
    "numerical_derivative",
]

#: The environment variable naming the file to which every check appends its result (JSON lines).
RESULTS_ENV = "MINIGRAD_GRADE_RESULTS"

#: The last result of every check run in this process, by exercise number (``"2.1"``).
RESULTS: dict[str, CheckResult] = {}

_MAX_LINE = 400  # characters of any one value shown in a message


@dataclass
class CheckResult:
    """What one run of a check found.

    ``status`` is ``"passed"``, ``"failed"`` or ``"not implemented"``; ``message`` is the one-line
    verdict the grader shows; ``lines`` are the per-case lines the check printed.
    """

    exercise: str
    title: str
    status: str
    passed: int
    total: int
    message: str
    lines: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "passed"

    def __repr__(self) -> str:
        return f"<CheckResult {self.exercise} {self.status}: {self.passed} of {self.total} cases>"

    def _ipython_display_(self) -> None:
        """Show nothing in a notebook: the check has already printed its verdict."""


@dataclass(frozen=True)
class Exercise:
    """One graded exercise of a chapter: its number, a short title and the check that grades it."""

    number: str
    title: str
    check: Callable[..., CheckResult]

    @property
    def check_name(self) -> str:
        return self.check.__name__


@dataclass
class Case:
    """One case of a check: a short description and a function that runs it.

    ``run`` returns nothing when the case passes and raises :class:`CaseFailure` (through
    :func:`fail`, :func:`expect_array` ...) when it does not.
    """

    description: str
    run: Callable[[], None]
    hint: str | None = None  #: shown when the student's code raises during this case


class CaseFailure(Exception):
    """A case's answer was wrong: ``message`` says how, ``hint`` what the usual cause is."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class _StudentRaised(Exception):
    """The student's code raised ``exc`` (not a check failure)."""

    def __init__(self, exc: BaseException, where: str) -> None:
        super().__init__(str(exc))
        self.exc = exc
        self.where = where


class _NotImplementedYet(Exception):
    pass


# --------------------------------------------------------------------------------------------------
# Running the student's code
# --------------------------------------------------------------------------------------------------

_HERE = os.path.dirname(os.path.abspath(__file__))


def _student_frames(tb: Any) -> list[traceback.FrameSummary]:
    """The frames of a traceback that are not in minigrad's checks package."""
    frames = traceback.extract_tb(tb)
    return [f for f in frames if not os.path.abspath(f.filename).startswith(_HERE)]


def _where(exc: BaseException, limit: int = 3) -> str:
    lines: list[str] = []
    for f in _student_frames(exc.__traceback__):
        code = f"  {f.line.strip()}" if f.line else ""
        line = f"in {f.name}, line {f.lineno}:{code}"
        if lines and lines[-1].endswith(line):  # a recursion: say so once
            if not lines[-1].startswith("(repeated) "):
                lines[-1] = "(repeated) " + lines[-1]
            continue
        lines.append(line)
    return "\n".join(lines[-limit:])


def call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call the student's ``fn``; an exception inside it fails the case and shows where it happened.

    ``NotImplementedError`` marks the exercise as not implemented yet. ``KeyboardInterrupt`` (the
    grader's timeout, or the stop button) is let through.
    """
    try:
        return fn(*args, **kwargs)
    except NotImplementedError as e:
        raise _NotImplementedYet(str(e)) from None
    except KeyboardInterrupt:
        raise
    except BaseException as e:  # noqa: BLE001 - SystemExit too: sys.exit() in student code
        raise _StudentRaised(e, _where(e)) from None


# --------------------------------------------------------------------------------------------------
# Describing and comparing values
# --------------------------------------------------------------------------------------------------


def _short(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= _MAX_LINE else text[: _MAX_LINE - 3] + "..."


def describe(x: Any) -> str:
    """A short description of any value: its type, and the shape and dtype of an array."""
    if x is None:
        return "None"
    if isinstance(x, np.ndarray):
        return f"an array of shape {x.shape} and dtype {x.dtype}"
    if isinstance(x, np.generic):
        return f"a numpy {type(x).__name__} ({x!r})"
    if isinstance(x, (bool, int, float)):
        return f"{type(x).__name__} {x!r}"
    if isinstance(x, (list, tuple)):
        return f"a {type(x).__name__} of length {len(x)}"
    mod = type(x).__module__
    name = type(x).__name__ if mod in ("builtins", "__main__") else f"{mod}.{type(x).__name__}"
    return f"an object of type {name}"


def _fmt(v: Any) -> str:
    if isinstance(v, (float, np.floating)):
        return f"{float(v):.6g}"
    return repr(v)


def fail(message: str, hint: str | None = None) -> None:
    """Stop the current case as failed."""
    raise CaseFailure(message, hint)


def expect(condition: bool, message: str, hint: str | None = None) -> None:
    """Fail the case with ``message`` unless ``condition`` holds."""
    if not condition:
        fail(message, hint)


def _as_number(name: str, got: Any) -> float:
    if got is None:
        fail(f"{name}: expected a number, got None", "did you forget to return (or to set) it?")
    if isinstance(got, np.ndarray) and got.size == 1:
        got = got.reshape(())[()]
    numeric = (int, float, np.integer, np.floating)
    if isinstance(got, (bool, np.bool_)) or not isinstance(got, numeric):
        fail(f"{name}: expected a number, got {describe(got)}")
    return float(got)


def expect_close(
    name: str,
    expected: float,
    got: Any,
    *,
    rtol: float = 1e-6,
    atol: float = 1e-9,
    hints: Sequence[tuple[float, str]] = (),
) -> None:
    """Fail unless ``got`` is a number close to ``expected``.

    ``hints`` pairs values that a usual mistake produces with the hint for that mistake: when
    ``got`` is close to one of them, its hint is shown.
    """
    value = _as_number(name, got)
    if math.isnan(value):
        fail(f"{name}: expected {_fmt(expected)}, got nan", "a nan usually comes from inf - inf, "
             "0 * inf or inf / inf: look for an overflow (exp of a large number)")
    if abs(value - expected) <= atol + rtol * abs(expected):
        return
    hint = None
    for wrong, text in hints:
        if abs(value - wrong) <= atol + rtol * abs(wrong) and abs(wrong - expected) > atol:
            hint = text
            break
    error = abs(value - expected)
    fail(f"{name}: expected {_fmt(expected)}, got {_fmt(value)} (error {error:.3g})", hint)


def expect_array(
    name: str,
    expected: np.ndarray,
    got: Any,
    *,
    rtol: float = 1e-6,
    atol: float = 1e-9,
    check_dtype: bool = True,
    shape_hints: Sequence[tuple[tuple[int, ...], str]] = (),
    value_hints: Sequence[tuple[np.ndarray, str]] = (),
) -> None:
    """Fail unless ``got`` is an array with ``expected``'s shape (and dtype) and close values.

    The message names the first entry that differs and the largest error. ``shape_hints`` pairs a
    wrong shape with its usual cause; ``value_hints`` pairs the values that a usual mistake produces
    with its hint. A 0-d ``expected`` also accepts a numpy scalar (what ``np.sum`` returns).
    """
    expected = np.asarray(expected)
    if got is None:
        fail(f"{name}: expected {describe(expected)}, got None", "did you forget to return it?")
    if isinstance(got, np.generic) and expected.ndim == 0:
        got = np.asarray(got)
    if not isinstance(got, np.ndarray):
        hint = None
        if hasattr(got, "data") and isinstance(getattr(got, "data", None), np.ndarray):
            hint = "return the numpy array (.data), not the object around it"
        elif isinstance(got, (list, tuple)):
            hint = "return a numpy array (np.asarray) rather than a Python list"
        fail(f"{name}: expected {describe(expected)}, got {describe(got)}", hint)
    if got.shape != expected.shape:
        hint = None
        for shape, text in shape_hints:
            if tuple(shape) == got.shape:
                hint = text
                break
        fail(f"{name}: shape: expected {expected.shape}, got {got.shape}", hint)
    if check_dtype and got.dtype != expected.dtype:
        fail(f"{name}: dtype: expected {expected.dtype}, got {got.dtype}",
             "the gradient keeps the dtype of the array it is the gradient of: avoid mixing in "
             "float64 (np.zeros without dtype) or integers")
    if got.dtype.kind not in "fiub":
        fail(f"{name}: expected numbers, got an array of dtype {got.dtype}")
    e = expected.astype(np.float64)
    g = got.astype(np.float64)
    nan = np.isnan(g) & ~np.isnan(e)
    if nan.any():
        idx = tuple(int(i) for i in np.argwhere(nan)[0])
        fail(f"{name}: got nan at index {idx} where {_fmt(e[idx])} was expected "
             f"({int(nan.sum())} nan entries in all)",
             "a nan usually comes from inf - inf, 0 * inf or inf / inf: look for an overflow")
    bad = ~np.isclose(g, e, rtol=rtol, atol=atol, equal_nan=True)
    if not bad.any():
        return
    idx = tuple(int(i) for i in np.argwhere(bad)[0])
    err = float(np.max(np.abs(np.where(np.isnan(e), 0.0, g - e))))
    where = f" at index {idx}" if idx else ""
    hint = None
    for values, text in value_hints:
        values = np.asarray(values, dtype=np.float64)
        if values.shape == g.shape and np.allclose(g, values, rtol=rtol, atol=atol):
            hint = text
            break
    fail(f"{name}: first difference{where}: expected {_fmt(e[idx])}, got {_fmt(g[idx])}; "
         f"largest error {err:.3g} ({int(bad.sum())} of {bad.size} entries differ)", hint)


def numerical_derivative(f: Callable[[float], float], x: float, h: float = 1e-6) -> float:
    """The central difference ``(f(x + h) - f(x - h)) / 2h``: the slope of ``f`` at ``x``."""
    return (f(x + h) - f(x - h)) / (2 * h)


# --------------------------------------------------------------------------------------------------
# Declaring and running checks
# --------------------------------------------------------------------------------------------------

_REGISTRY: dict[str, list[Exercise]] = {}


def exercises_of(module_name: str) -> list[Exercise]:
    """The exercises declared with :func:`exercise` in a checks module, in declaration order."""
    return list(_REGISTRY.get(module_name, []))


def _record(result: CheckResult) -> None:
    RESULTS[result.exercise] = result
    path = os.environ.get(RESULTS_ENV)
    if path:
        try:
            with open(path, "a", encoding="utf-8") as f:
                f.write(json.dumps(asdict(result)) + "\n")
        except OSError as e:  # pragma: no cover - the grader's file vanished
            print(f"(could not record the result for the grader: {e})")


def _emit(line: str, lines: list[str]) -> None:
    lines.append(line)
    print(line)


def _run(number: str, title: str, cases_of: Callable[..., list[Case]], args: tuple,
         kwargs: dict) -> CheckResult:
    head = f"Exercise {number} ({title})"
    lines: list[str] = []
    def early(msg: str) -> CheckResult:
        _emit(f"{head}: {msg}", lines)
        return CheckResult(number, title, "failed", 0, 0, msg, lines)

    if args and args[0] is None:
        return early("got None instead of your function or class: pass it to the check")
    if args and not callable(args[0]):
        return early(f"expected your function or class, got {describe(args[0])}")
    try:
        cases = cases_of(*args, **kwargs)
    except _StudentRaised as e:  # a check that inspects the student's object up front
        return early(f"your code raised {type(e.exc).__name__}: {_short(str(e.exc))}")
    except CaseFailure as e:
        return early(e.message + (f" (hint: {e.hint})" if e.hint else ""))
    passed = 0
    first_failure = None
    for i, case in enumerate(cases):
        label = f"case {i + 1}, {case.description}"
        try:
            case.run()
        except _NotImplementedYet as e:
            if passed == 0 and first_failure is None:
                msg = "not implemented yet"
                detail = f" ({_short(str(e))})" if str(e) else ""
                _emit(f"{head}: {msg}{detail}", lines)
                return CheckResult(number, title, "not implemented", 0, len(cases), msg, lines)
            first_failure = first_failure or f"{label}: raised NotImplementedError"
            _emit(f"  FAILED  {label}: your code raised NotImplementedError", lines)
        except CaseFailure as e:
            first_failure = first_failure or f"{label}: {e.message}" + (
                f" (hint: {e.hint})" if e.hint else "")
            _emit(f"  FAILED  {label}: {_short(e.message)}", lines)
            if e.hint:
                _emit(f"          hint: {e.hint}", lines)
        except _StudentRaised as e:
            exc = e.exc
            what = f"{type(exc).__name__}: {_short(str(exc))}"
            if isinstance(exc, SystemExit):
                what = f"SystemExit({exc.code!r}): your code called sys.exit() or exit()"
            last = e.where.splitlines()[-1].split(":", 1)[0] if e.where else ""
            first_failure = first_failure or f"{label}: your code raised {what}" + (
                f" ({last})" if last else "") + (
                f" (hint: {case.hint})" if case.hint else
                " (hint: keep your own stack instead of recursing)"
                if isinstance(exc, RecursionError) else "")
            _emit(f"  FAILED  {label}: your code raised {what}", lines)
            for where in e.where.splitlines():
                _emit(f"          {where}", lines)
            if case.hint:
                _emit(f"          hint: {case.hint}", lines)
            elif isinstance(exc, RecursionError):
                _emit("          hint: each recursive call goes one level deeper; a long chain of "
                      "nodes exceeds Python's recursion limit: keep your own stack (a list) "
                      "instead",
                      lines)
        except KeyboardInterrupt:
            msg = f"interrupted during {label} (still running when stopped: an endless loop?)"
            _emit(f"{head}: {msg}", lines)
            _record(CheckResult(number, title, "failed", passed, len(cases), msg, lines))
            raise
        except Exception as e:  # noqa: BLE001 - a bug in the check itself must not reach the student
            first_failure = first_failure or f"{label}: the check itself failed"
            _emit(f"  FAILED  {label}: the check itself failed ({type(e).__name__}: {e}); "
                  "please report this", lines)
        else:
            passed += 1
            _emit(f"  passed  {label}", lines)
    total = len(cases)
    if passed == total:
        status, summary = "passed", f"all {total} cases passed"
        msg = summary
    else:
        status, summary = "failed", f"{passed} of {total} cases passed"
        msg = f"{summary}; first failure: {_short(first_failure or '')}"
    _emit(f"{head}: {summary}", lines)
    return CheckResult(number, title, status, passed, total, msg, lines)


def exercise(
    number: str, title: str
) -> Callable[[Callable[..., list[Case]]], Callable[..., CheckResult]]:
    """Declare a check: the decorated function takes the student's code and returns its cases.

    The result is the check students call. It prints the verdict, records and returns a
    :class:`CheckResult`, and never raises (except ``KeyboardInterrupt``, after recording).
    """

    def wrap(cases_of: Callable[..., list[Case]]) -> Callable[..., CheckResult]:
        def check(*args: Any, **kwargs: Any) -> CheckResult:
            try:
                result = _run(number, title, cases_of, args, kwargs)
            except KeyboardInterrupt:
                raise
            except BaseException as e:  # noqa: BLE001 - never raise at the student
                msg = f"the check itself failed ({type(e).__name__}: {e}); please report this"
                print(f"Exercise {number} ({title}): {msg}")
                result = CheckResult(number, title, "failed", 0, 0, msg, [msg])
            _record(result)
            return result

        check.__name__ = cases_of.__name__
        check.__qualname__ = cases_of.__qualname__
        check.__module__ = cases_of.__module__
        check.__doc__ = cases_of.__doc__
        check.exercise = number  # type: ignore[attr-defined]
        _REGISTRY.setdefault(cases_of.__module__, []).append(Exercise(number, title, check))
        return check

    return wrap


