"""Checks for chapter 6, *Representing words* (``exercises/06_representing_words.ipynb``).

=====  ==============================  ===================================
 no.   exercise                        check
=====  ==============================  ===================================
 6.1   ``encode_words``                :func:`check_encode_words`
 6.2   ``embedding_lookup``            :func:`check_embedding_lookup`
 6.3   ``embedding_backward``          :func:`check_embedding_backward`
 6.4   ``nearest_neighbours``          :func:`check_nearest_neighbours`
 6.5   ``pca_2d``                      :func:`check_pca_2d`
=====  ==============================  ===================================

The layout is the library's: one row per word. A sentence of ``T`` words encodes to ``(T, n_x)``,
and an embedding matrix ``W`` is ``(|V|, n_e)``, the transpose of the notes' ``E``, so that the
vector of word ``j`` is the row ``W[j]``. The lookup and its gradient are compared with
:class:`minigrad.nn.Embedding` (its output, and the ``.grad`` that autograd leaves on its
weight); the neighbours and the principal components with direct numpy computations, on cases
built so that the usual mistakes (a dot product instead of the cosine, the word among its own
neighbours, data left uncentred) give a different answer, which the hints then name.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .framework import Case, call, describe, exercise, expect_array, fail

__all__ = [
    "check_encode_words",
    "check_embedding_lookup",
    "check_embedding_backward",
    "check_nearest_neighbours",
    "check_pca_2d",
]

UNK = "<UNK>"


def _unchanged(before: dict[str, np.ndarray], after: dict[str, np.ndarray], what: str) -> None:
    for k, v in before.items():
        if not np.array_equal(v, after[k]):
            fail(f"{what} changed its argument {k}",
                 "compute a new array instead of changing the one you are given in place")


def _as_array(name: str, got: Any) -> np.ndarray:
    """Accept a numpy array (or a minigrad tensor, whose numbers are what count here)."""
    if got is None:
        fail(f"{name}: expected an array, got None", "did you forget to return it?")
    if hasattr(got, "numpy") and not isinstance(got, np.ndarray):
        got = got.numpy()
    if isinstance(got, (list, tuple)):
        fail(f"{name}: expected a numpy array, got {describe(got)}",
             "return a numpy array (np.asarray) rather than a Python list")
    if not isinstance(got, np.ndarray):
        fail(f"{name}: expected a numpy array, got {describe(got)}")
    return got


# --------------------------------------------------------------------------------------------------
# 6.1  encode_words
# --------------------------------------------------------------------------------------------------


def _ids(words: list[str], stoi: dict[str, int]) -> np.ndarray:
    return np.array([stoi.get(w, stoi[UNK]) for w in words], dtype=np.int64)


def _one_hot(ids: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros(ids.shape + (n,))
    np.put_along_axis(out, ids[..., None], 1.0, axis=-1)
    return out


@exercise("6.1", "encode_words")
def check_encode_words(fn: Any) -> list[Case]:
    """Check ``encode_words(words, stoi, encoding)``: ``"integer"`` gives ``(T, 1)`` holding
    ``j / len(stoi)``, ``"one-hot"`` gives ``(T, len(stoi))`` with a 1 at ``j``; a word ``stoi``
    lacks is ``<UNK>``."""
    base = {"<PAD>": 0, UNK: 1, "the": 2, "king": 3, "and": 4, "queen": 5, "of": 6, "love": 7}
    moved = {"the": 0, "king": 1, "queen": 2, UNK: 3, "crown": 4}

    def case(words: list[str], stoi: dict[str, int], encoding: str, what: str) -> Case:
        def run() -> None:
            n, T = len(stoi), len(words)
            ids = _ids(words, stoi)
            label = f"encode_words({what}, {encoding!r})"
            got = _as_array(label, call(fn, list(words), dict(stoi), encoding))
            if got.dtype.kind not in "fiub":
                fail(f"{label}: expected numbers, got an array of dtype {got.dtype}")
            known = np.array([w in stoi for w in words])
            if encoding == "integer":
                expected = (ids / n)[:, None]
                shape_hints = [((T,), "keep a feature axis: one number per word is a (T, 1) "
                                      "array, the input size n_x being 1"),
                               ((1, T), "one row per word: (T, 1), not (1, T)")]
                value_hints = [(ids[:, None].astype(float),
                                "scale the index: divide it by the size of the vocabulary, "
                                "len(stoi), so that the inputs lie between 0 and 1"),
                               ((ids / (n - 1))[:, None], "divide by len(stoi), not len(stoi) - 1"),
                               ((ids / T)[:, None], "divide by the size of the vocabulary, "
                                                    "len(stoi), not by the number of words")]
                if not known.all():
                    wrong = np.where(known, ids, 0) / n
                    value_hints.append((wrong[:, None], "an unknown word is encoded as the index "
                                                        "of '<UNK>', stoi['<UNK>'], not as 0"))
            else:
                expected = _one_hot(ids, n)
                shape_hints = [((n, T), "one row per word: (T, len(stoi)); the notes' columns "
                                        "are this matrix transposed"),
                               ((T, n - 1), "one entry per vocabulary entry, specials included: "
                                            "len(stoi) columns")]
                if not known.all():
                    zeros = expected.copy()
                    zeros[~known] = 0.0
                    value_hints = [(zeros, "an unknown word gets the one-hot vector of '<UNK>', "
                                           "not a row of zeros")]
                else:
                    value_hints = []
            expect_array(label, expected, got, check_dtype=False, shape_hints=shape_hints,
                         value_hints=value_hints)

        return Case(f"{what}, {encoding}", run)

    sentence = "the king and the queen".split()
    unknown = "the king of elsinore".split()
    return [
        case(sentence, base, "integer", "'the king and the queen'"),
        case(unknown, base, "integer", "'the king of elsinore' (an unknown word)"),
        case(["love"], base, "integer", "a single word"),
        case(sentence, base, "one-hot", "'the king and the queen'"),
        case(unknown, base, "one-hot", "'the king of elsinore' (an unknown word)"),
        case(["love"], base, "one-hot", "a single word"),
        case("the crown of the queen".split(), moved, "integer",
             "'<UNK>' at index 3 of a 5-entry vocabulary"),
        case("the crown of the queen".split(), moved, "one-hot",
             "'<UNK>' at index 3 of a 5-entry vocabulary"),
    ]


# --------------------------------------------------------------------------------------------------
# 6.2  embedding_lookup
# --------------------------------------------------------------------------------------------------


def _embedding_forward(W: np.ndarray, ids: np.ndarray) -> np.ndarray:
    import minigrad
    from minigrad import nn

    emb = nn.Embedding.from_pretrained(W.copy())
    with minigrad.no_grad():
        return emb(minigrad.tensor(ids)).numpy()


@exercise("6.2", "embedding_lookup")
def check_embedding_lookup(fn: Any) -> list[Case]:
    """Check ``embedding_lookup(W, ids)``: the one-hot rows of ``ids`` times ``W``, ``(|V|, n_e)``,
    shape ``ids.shape + (n_e,)``, against ``nn.Embedding.from_pretrained(W)``."""

    def case(V: int, n_e: int, ids: np.ndarray, what: str, seed: int) -> Case:
        def run() -> None:
            rng = np.random.default_rng(seed)
            W = rng.normal(size=(V, n_e))
            Wc, idc = W.copy(), ids.copy()
            got = _as_array("embedding_lookup", call(fn, Wc, idc))
            _unchanged({"W": W, "ids": ids}, {"W": Wc, "ids": idc}, "embedding_lookup")
            expected = _embedding_forward(W, ids)
            shape_hints = [((n_e,) + ids.shape, "the vector of each id goes along a new last "
                                                "axis: the result is ids.shape + (n_e,)"),
                           (ids.shape + (V,), "multiply the one-hot rows by W: the result has "
                                              "n_e numbers per id, not |V|")]
            value_hints = []
            if V == n_e:
                value_hints.append((W.T[ids], "W is (|V|, n_e) with one row per word: the vector "
                                              "of word j is the row W[j] (one_hot @ W), not "
                                              "column j"))
            expect_array(f"embedding_lookup(W of shape {W.shape}, ids of shape {ids.shape})",
                         expected, got, check_dtype=False, shape_hints=shape_hints,
                         value_hints=value_hints)

        return Case(what, run, hint="W is (|V|, n_e), one row per word: the one-hot rows "
                                    "(len(ids), |V|) times W give one row of n_e numbers per id")

    return [
        case(6, 3, np.array([4, 0, 2]), "three different ids, |V| = 6, n_e = 3", 61),
        case(5, 2, np.array([1, 3, 1, 1]), "a repeated id gives the same row each time", 62),
        case(7, 4, np.array([[0, 6], [3, 3], [5, 1]]), "a (T, B) batch of ids, T = 3, B = 2", 63),
        case(4, 4, np.array([2, 0, 3]), "a square W (|V| = n_e = 4)", 64),
        case(9, 5, np.array([8]), "a single id", 65),
    ]


# --------------------------------------------------------------------------------------------------
# 6.3  embedding_backward
# --------------------------------------------------------------------------------------------------


def _embedding_grad(W: np.ndarray, ids: np.ndarray, grad_out: np.ndarray) -> np.ndarray:
    import minigrad
    from minigrad import nn

    emb = nn.Embedding.from_pretrained(W.copy(), freeze=False)
    out = emb(minigrad.tensor(ids))
    (out * minigrad.tensor(grad_out)).sum().backward()
    return emb.weight.grad.numpy()


@exercise("6.3", "embedding_backward")
def check_embedding_backward(fn: Any) -> list[Case]:
    """Check ``embedding_backward(grad_out, ids, vocab_size)``: the gradient of the lookup's
    weight, ``(|V|, n_e)``, against the ``.grad`` that autograd leaves on ``nn.Embedding``."""

    def case(V: int, n_e: int, ids: np.ndarray, what: str, seed: int) -> Case:
        def run() -> None:
            rng = np.random.default_rng(seed)
            W = rng.normal(size=(V, n_e))
            grad_out = rng.normal(size=ids.shape + (n_e,))
            gc, idc = grad_out.copy(), ids.copy()
            got = _as_array("embedding_backward", call(fn, gc, idc, V))
            _unchanged({"grad_out": grad_out, "ids": ids}, {"grad_out": gc, "ids": idc},
                       "embedding_backward")
            expected = _embedding_grad(W, ids, grad_out)
            flat_ids, flat_g = ids.reshape(-1), grad_out.reshape(-1, n_e)
            overwritten = np.zeros((V, n_e))
            overwritten[flat_ids] = flat_g
            shape_hints = [((n_e, V), "transposed: the gradient has the shape of W, (|V|, n_e), "
                                      "one row per word"),
                           (ids.shape + (n_e,), "return the gradient of W, (|V|, n_e): each row "
                                                "of grad_out goes to the row of its word")]
            value_hints = []
            if len(set(flat_ids.tolist())) < flat_ids.size:
                value_hints.append((overwritten, "a word looked up twice gets both gradients, "
                                                 "added: W[ids] = ... keeps only the last one; "
                                                 "use one_hot.T @ grad_out, or np.add.at"))
            expect_array(f"the gradient of W for ids {ids.tolist()}", expected, got,
                         check_dtype=False, shape_hints=shape_hints, value_hints=value_hints)
            untouched = np.setdiff1d(np.arange(V), flat_ids)
            if untouched.size and np.any(got[untouched] != 0):
                fail("rows of words that were not looked up must have a gradient of exactly 0")

        return Case(what, run)

    return [
        case(6, 3, np.array([4, 0, 2]), "three different ids: only their rows change", 71),
        case(5, 2, np.array([1, 3, 1, 1]), "id 1 looked up three times: its gradients add up",
             72),
        case(7, 4, np.array([[0, 6], [3, 3], [5, 0]]), "a (T, B) batch of ids with repeats", 73),
        case(8, 3, np.array([5]), "a single id: one row, the rest zeros", 74),
        case(4, 2, np.array([2, 2, 2, 2, 2]), "the same id five times", 75),
    ]


# --------------------------------------------------------------------------------------------------
# 6.4  nearest_neighbours
# --------------------------------------------------------------------------------------------------


def _cosine_rank(W: np.ndarray, j: int) -> np.ndarray:
    unit = W / np.linalg.norm(W, axis=1, keepdims=True)
    sims = unit @ unit[j]
    sims[j] = -np.inf
    return np.argsort(-sims, kind="stable")


@exercise("6.4", "nearest_neighbours")
def check_nearest_neighbours(fn: Any) -> list[Case]:
    """Check ``nearest_neighbours(W, j, k)``: the ``k`` rows of ``W`` with the highest cosine
    similarity to row ``j``, most similar first, ``j`` itself left out."""

    def compare(W: np.ndarray, j: int, k: int, what: str) -> None:
        Wc = W.copy()
        got = call(fn, Wc, j, k)
        _unchanged({"W": W}, {"W": Wc}, "nearest_neighbours")
        label = f"nearest_neighbours({what}, j={j}, k={k})"
        if got is None:
            fail(f"{label}: expected {k} indices, got None", "did you forget to return them?")
        if hasattr(got, "numpy") and not isinstance(got, np.ndarray):
            got = got.numpy()
        try:
            got_list = [int(i) for i in np.asarray(got).reshape(-1)]
        except (TypeError, ValueError):
            fail(f"{label}: expected {k} integer indices, got {describe(got)}")
        if np.asarray(got).dtype.kind == "f":
            fail(f"{label}: expected integer indices, got floats {np.asarray(got).tolist()}",
                 "return the indices of the rows (np.argsort gives them), not the similarities")
        expected = _cosine_rank(W, j)[:k].tolist()
        if got_list == expected:
            return
        hint = None
        sims = W @ W[j]
        with_self = np.argsort(-(W / np.linalg.norm(W, axis=1, keepdims=True))
                               @ (W[j] / np.linalg.norm(W[j])), kind="stable")[:k].tolist()
        dots = sims.copy()
        dots[j] = -np.inf
        by_dot = np.argsort(-dots, kind="stable")[:k].tolist()
        dist = np.linalg.norm(W - W[j], axis=1)
        dist[j] = np.inf
        by_dist = np.argsort(dist, kind="stable")[:k].tolist()
        ranked = _cosine_rank(W, j)
        least = ranked[: len(ranked) - 1][::-1][:k].tolist()  # j itself is ranked last
        if len(got_list) != k:
            hint = f"return exactly k = {k} indices"
        elif j in got_list:
            hint = "leave out the word itself: its cosine similarity with itself is 1, the highest"
        elif got_list == with_self[:k]:
            hint = "leave out the word itself"
        elif got_list == by_dot:
            hint = ("that is the ranking by dot product: divide by the lengths of both vectors "
                    "(the cosine), or long vectors win whatever their direction")
        elif got_list == by_dist:
            hint = "that is the ranking by Euclidean distance: use the cosine similarity"
        elif got_list == least:
            hint = "most similar first: sort by decreasing similarity"
        elif sorted(got_list) == sorted(expected):
            hint = "the right neighbours in the wrong order: most similar first"
        fail(f"{label}: expected {expected}, got {got_list}", hint)

    def case(what: str, W: np.ndarray, j: int, k: int) -> Case:
        return Case(what, lambda: compare(W, j, k, what))

    # row 0's direction is (1, 0); row 1 points the same way but is short, row 2 is long but at
    # 45 degrees, row 3 is at 90 degrees: the cosine ranks 1, 2, 3; the dot product ranks 2 first
    lengths = np.array([[1.0, 0.0], [0.2, 0.01], [5.0, 5.0], [0.0, 3.0], [-1.0, 0.2]])
    rng = np.random.default_rng(81)
    random_rows = rng.normal(size=(30, 6)) * rng.uniform(0.2, 3.0, size=(30, 1))
    near_far = np.array([[2.0, 2.0, 0.0], [0.1, 0.1, 0.0], [1.5, 2.5, 0.3], [-2.0, -2.0, 0.0],
                         [0.0, 0.0, 1.0]])
    return [
        case("5 vectors in 2-D of very different lengths", lengths, 0, 3),
        case("a short vector in the same direction beats a close one", near_far, 0, 2),
        case("30 random vectors in 6-D", random_rows, 7, 5),
        case("30 random vectors in 6-D, the last row", random_rows, 29, 4),
        case("k = 1", random_rows, 3, 1),
    ]


# --------------------------------------------------------------------------------------------------
# 6.5  pca_2d
# --------------------------------------------------------------------------------------------------


def _pca(X: np.ndarray, center: bool = True) -> np.ndarray:
    Xc = X - X.mean(axis=0) if center else X
    _, _, Vt = np.linalg.svd(Xc, full_matrices=False)
    return Xc @ Vt[:2].T


def _align_signs(got: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """Flip each column of ``got`` whose direction is opposite to ``expected``'s: a principal
    direction is defined only up to its sign."""
    out = got.astype(np.float64).copy()
    for c in range(out.shape[1]):
        if float(out[:, c] @ expected[:, c]) < 0:
            out[:, c] *= -1
    return out


@exercise("6.5", "pca_2d")
def check_pca_2d(fn: Any) -> list[Case]:
    """Check ``pca_2d(X)``: the coordinates (n, 2) of the rows of ``X`` on its first two principal
    directions (data centred, directions from the SVD), each column up to its sign."""

    def compare(X: np.ndarray, what: str) -> None:
        Xc = X.copy()
        got = _as_array("pca_2d", call(fn, Xc))
        _unchanged({"X": X}, {"X": Xc}, "pca_2d")
        n, d = X.shape
        expected = _pca(X)
        label = f"pca_2d({what})"
        shape_hints = [((2, n), "one row per point: (n, 2)"),
                       ((n, d), "keep only the first two coordinates"),
                       ((d, 2), "project the points (rows of X), not the directions: "
                                "(X - mean) @ Vt[:2].T")]
        if got.shape == expected.shape and got.dtype.kind in "fiub":
            got = _align_signs(got, expected)
        Xm = X - X.mean(axis=0)
        U, S, Vt = np.linalg.svd(Xm, full_matrices=False)
        value_hints = [
            (_align_signs(_pca(X, center=False), expected),
             "subtract the mean of each column first: without centring, the first direction "
             "points at the mean of the data instead of along its spread"),
            (_align_signs(U[:, :2], expected), "U[:, :2] is the projection divided by the "
                                               "singular values: multiply by S[:2], or compute "
                                               "(X - mean) @ Vt[:2].T"),
            (_align_signs(Xm @ Vt[-2:][::-1].T, expected),
             "the first principal directions go with the largest singular values, which "
             "np.linalg.svd returns first"),
        ]
        if d == n:
            value_hints.append((_align_signs(Xm @ Vt[:, :2], expected),
                                "the directions are the rows of Vt (columns of V), not the "
                                "columns of Vt"))
        expect_array(label + " (each column compared up to its sign)", expected, got,
                     check_dtype=False, rtol=1e-6, atol=1e-8, shape_hints=shape_hints,
                     value_hints=value_hints)

    def case(what: str, X: np.ndarray) -> Case:
        return Case(what, lambda: compare(X, what))

    rng = np.random.default_rng(91)
    angle = 0.6
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    ellipse = (rng.normal(size=(40, 2)) * [3.0, 0.5]) @ rot.T + [10.0, -4.0]
    tilted = np.hstack([ellipse, 0.1 * rng.normal(size=(40, 1))])
    cloud = rng.normal(size=(25, 6)) * [4.0, 2.5, 1.0, 0.5, 0.3, 0.1] + 3.0
    square = rng.normal(size=(5, 5)) * [3.0, 2.0, 1.0, 0.5, 0.2]
    return [
        case("an ellipse in 2-D, tilted and far from the origin", ellipse),
        case("the same ellipse with a small third coordinate", tilted),
        case("25 points in 6-D with a non-zero mean", cloud),
        case("5 points in 5-D", square),
        case("3 points in 4-D", rng.normal(size=(3, 4)) + 1.0),
    ]
