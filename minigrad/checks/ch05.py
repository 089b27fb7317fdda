"""Checks for chapter 5, *Types of RNNs* (``exercises/05_types_of_rnns.ipynb``).

=====  ==================  ================================
 no.   exercise            check
=====  ==================  ================================
 5.1   ``last_states``     :func:`check_last_states`
 5.2   ``tagging_loss``    :func:`check_tagging_loss`
 5.3   ``token_prf``       :func:`check_token_prf`
 5.4   ``greedy_decode``   :func:`check_greedy_decode`
=====  ==================  ================================

Layouts are the library's (PyTorch's): time first, a padded batch is ``(T, B, ...)`` and
``lengths`` holds the ``B`` real lengths. The checks compare with :mod:`minigrad`'s own layers
(the packed ``h_n`` of a GRU, ``cross_entropy`` with ``ignore_index``,
:func:`minigrad.sampling.sample` with ``temperature=0``) and recognise the usual mistakes:
reading the last padded row,
an off-by-one, averaging over the padding, precision and recall swapped, ``<EOS>`` kept, a
decoder fed the wrong token.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .framework import Case, call, describe, exercise, expect, expect_array, expect_close, fail

__all__ = ["check_last_states", "check_tagging_loss", "check_token_prf", "check_greedy_decode"]


def _padded(lengths: list[int], width: int, seed: int) -> np.ndarray:
    """A (T, B, width) batch of random rows, zeros past each length."""
    rng = np.random.default_rng(seed)
    out = rng.normal(size=(max(lengths), len(lengths), width))
    for b, n in enumerate(lengths):
        out[n:, b] = 0.0
    return out


# --------------------------------------------------------------------------------------------------
# 5.1  last_states
# --------------------------------------------------------------------------------------------------


@exercise("5.1", "last_states")
def check_last_states(fn: Any) -> list[Case]:
    """Check ``last_states(output, lengths) -> (B, H)``: row ``lengths[b] - 1`` of column ``b``
    of a padded ``(T, B, H)`` output, and against a GRU's packed ``h_n``."""

    def run(output: np.ndarray, lengths: np.ndarray) -> Any:
        o, n = output.copy(), lengths.copy()
        got = call(fn, o, n)
        if not (np.array_equal(o, output) and np.array_equal(n, lengths)):
            fail("last_states changed its arguments", "index into them; do not assign to them")
        return got

    def compare(output: np.ndarray, lengths: np.ndarray, what: str) -> None:
        got = run(output, lengths)
        b = np.arange(len(lengths))
        expected = output[lengths - 1, b]
        hints = [(output[-1], "that is the last row of the padded output: a shorter sequence's "
                              "last row is padding. Use each sequence's own length"),
                 (output[0], "that is the first row: take row lengths[b] - 1 of column b")]
        if (lengths < output.shape[0]).all():
            hints.append((output[lengths, b], "off by one: a sequence of length n ends at row "
                                              "n - 1 (Python counts from 0)"))
        expect_array(what, expected, got, check_dtype=False,
                     shape_hints=[((output.shape[2], len(lengths)), "transposed: one row per "
                                   "sequence, (B, H)"),
                                  ((len(lengths), len(lengths), output.shape[2]),
                                   "output[lengths - 1] picks a (B, H) row for every length: "
                                   "pair each length with its own column, "
                                   "output[lengths - 1, np.arange(B)]")],
                     value_hints=hints)

    def different():
        lengths = np.array([5, 2, 4])
        compare(_padded([5, 2, 4], 3, 1), lengths, "three sequences of lengths 5, 2, 4")

    def equal():
        lengths = np.array([4, 4])
        compare(_padded([4, 4], 5, 2), lengths, "two sequences of the full length 4")

    def one():
        compare(_padded([3], 2, 3), np.array([3]), "a batch of one")

    def length_one():
        lengths = np.array([1, 6, 1, 3])
        compare(_padded([1, 6, 1, 3], 2, 4), lengths, "lengths 1, 6, 1, 3")

    def against_gru():
        import minigrad
        from minigrad import nn
        from minigrad.nn.utils.rnn import pack_padded_sequence

        minigrad.manual_seed(5)
        gru = nn.GRU(3, 4, dtype=minigrad.float64)
        lengths = np.array([2, 6, 4])
        x = minigrad.tensor(_padded([2, 6, 4], 3, 5))
        with minigrad.no_grad():
            out, _ = gru(x)
            _, h_n = gru(pack_padded_sequence(x, lengths, enforce_sorted=False))
        got = run(out.numpy(), lengths)
        expect_array("the states of nn.GRU's padded output at each sequence's end",
                     h_n.numpy()[0], got, check_dtype=False,
                     value_hints=[(out.numpy()[-1], "the last padded row is the state after "
                                                    "reading the padding too")])

    return [
        Case("lengths 5, 2, 4", different),
        Case("every sequence full length", equal),
        Case("a batch of one", one),
        Case("sequences of length 1", length_one),
        Case("the same rows as the h_n of a GRU over the packed batch", against_gru),
    ]


# --------------------------------------------------------------------------------------------------
# 5.2  tagging_loss
# --------------------------------------------------------------------------------------------------


def _log_softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def _nll(logits: np.ndarray, tags: np.ndarray) -> np.ndarray:
    """-log p of each tag, (T, B)."""
    lp = _log_softmax(logits)
    return -np.take_along_axis(lp, np.clip(tags, 0, None)[..., None], axis=-1)[..., 0]


@exercise("5.2", "tagging_loss")
def check_tagging_loss(fn: Any) -> list[Case]:
    """Check ``tagging_loss(logits, tags, lengths) -> float``: the mean cross-entropy over the
    real tokens of a padded batch (logits ``(T, B, C)``, tags ``(T, B)``), and that it agrees
    with ``cross_entropy(..., ignore_index=-100)``."""

    def case(lengths: list[int], classes: int, seed: int, junk: int | None) -> None:
        rng = np.random.default_rng(seed)
        t, b = max(lengths), len(lengths)
        logits = rng.normal(size=(t, b, classes)) * 2
        tags = rng.integers(0, classes, size=(t, b))
        mask = np.arange(t)[:, None] < np.array(lengths)[None, :]
        if junk is not None:
            tags = np.where(mask, tags, junk)
        args = [logits.copy(), tags.copy(), np.array(lengths)]
        got = call(fn, *args)
        nll = _nll(logits, tags)
        expected = float(nll[mask].mean())
        hints = [(float(nll.mean()), "the padding was averaged in: only the positions t < "
                                     "lengths[b] count"),
                 (float(nll[mask].sum()), "that is the sum: divide by the number of real tokens"),
                 (float(np.mean([nll[:n, j].mean() for j, n in enumerate(lengths)])),
                  "that is the mean of each sequence's mean: every real token weighs the same, "
                  "so divide the total by the number of real tokens"),
                 (float(nll[:, :].sum() / mask.sum()), "the padded positions' losses were added "
                                                       "to the total")]
        lp = _log_softmax(logits)
        hints.append((float(-(lp.max(axis=-1)[mask]).mean()),
                      "use the log probability of the true tag, not of the most likely one"))
        expect_close("the loss", expected, got, rtol=1e-6, atol=1e-9, hints=hints)

    def library():
        import minigrad
        import minigrad.nn.functional as F

        rng = np.random.default_rng(25)
        lengths = [3, 5, 1]
        logits = rng.normal(size=(5, 3, 4))
        tags = rng.integers(0, 4, size=(5, 3))
        mask = np.arange(5)[:, None] < np.array(lengths)[None, :]
        padded = np.where(mask, tags, -100)
        lib = F.cross_entropy(minigrad.tensor(logits.reshape(-1, 4)),
                              minigrad.tensor(padded.reshape(-1)), ignore_index=-100)
        got = call(fn, logits.copy(), padded.copy(), np.array(lengths))
        expect_close("the loss (tags padded with -100)", float(lib.item()), got, rtol=1e-6,
                     atol=1e-9)

    return [
        Case("lengths 4, 2, 3, two classes", lambda: case([4, 2, 3], 2, 21, junk=0)),
        Case("the padded tags hold junk class ids", lambda: case([5, 1, 3], 3, 22, junk=2)),
        Case("every sequence full length", lambda: case([3, 3], 2, 23, junk=None)),
        Case("a batch of one", lambda: case([4], 5, 24, junk=None)),
        Case("equal to cross_entropy with ignore_index=-100", library,
             hint="padded tags may be -100: do not index with them (np.clip, or use the mask)"),
    ]


# --------------------------------------------------------------------------------------------------
# 5.3  token_prf
# --------------------------------------------------------------------------------------------------


def _prf(pred: np.ndarray, gold: np.ndarray) -> tuple[float, float, float]:
    tp = float(((pred == 1) & (gold == 1)).sum())
    fp = float(((pred == 1) & (gold == 0)).sum())
    fn = float(((pred == 0) & (gold == 1)).sum())
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


@exercise("5.3", "token_prf")
def check_token_prf(fn: Any) -> list[Case]:
    """Check ``token_prf(pred, gold, lengths) -> (precision, recall, f1)`` on padded ``(T, B)``
    0/1 tags: counts over the real tokens only, 0 where a ratio is 0/0."""

    def run(pred: np.ndarray, gold: np.ndarray, lengths: list[int]) -> tuple[Any, Any, Any]:
        got = call(fn, pred.copy(), gold.copy(), np.array(lengths))
        if not isinstance(got, (tuple, list)) or len(got) != 3:
            fail(f"token_prf: expected three numbers (precision, recall, f1), got {describe(got)}",
                 "return precision, recall, f1")
        return got[0], got[1], got[2]

    def case(lengths: list[int], seed: int, padding: int) -> None:
        rng = np.random.default_rng(seed)
        t, b = max(lengths), len(lengths)
        gold = (rng.random((t, b)) < 0.3).astype(int)
        pred = np.where(rng.random((t, b)) < 0.75, gold, 1 - gold)
        mask = np.arange(t)[:, None] < np.array(lengths)[None, :]
        gold = np.where(mask, gold, padding)
        pred = np.where(mask, pred, padding)
        p, r, f = run(pred, gold, lengths)
        ep, er, ef = _prf(pred[mask], gold[mask])
        allp, allr, allf = _prf(pred, gold)
        expect_close("precision", ep, p, hints=[(er, "that is the recall: precision divides by "
                                                     "the words *tagged* as names, tp + fp"),
                                                (allp, "the padding was counted: only positions "
                                                       "t < lengths[b] are words")])
        expect_close("recall", er, r, hints=[(ep, "that is the precision: recall divides by the "
                                                  "words that *are* names, tp + fn"),
                                             (allr, "the padding was counted: only positions "
                                                    "t < lengths[b] are words")])
        expect_close("F1", ef, f, hints=[((ep + er) / 2, "F1 is the harmonic mean, "
                                                         "2 p r / (p + r), not the average"),
                                         (allf, "the padding was counted")])

    def nothing_tagged():
        gold = np.array([[1, 0], [0, 0], [0, 1]])
        pred = np.zeros_like(gold)
        p, r, f = run(pred, gold, [3, 3])
        expect_close("precision when nothing is tagged (0/0 counts as 0)", 0.0, p,
                     hints=[(1.0, "with no word tagged, tp + fp = 0: return 0, not 1")])
        expect_close("recall", 0.0, r)
        expect_close("F1", 0.0, f)

    def perfect():
        gold = np.array([[1, 0, 0], [0, 1, 0]])
        p, r, f = run(gold.copy(), gold, [2, 2, 1])
        for name, v in (("precision", p), ("recall", r), ("F1", f)):
            expect_close(f"{name} of a perfect tagger", 1.0, v)

    return [
        Case("lengths 6, 3, 5, padding tagged 0", lambda: case([6, 3, 5], 31, 0)),
        Case("padding tagged 1 in both (it must not count as a found name)",
             lambda: case([7, 2, 4, 5], 32, 1)),
        Case("a batch of one", lambda: case([12], 33, 0)),
        Case("no word tagged as a name", nothing_tagged),
        Case("a perfect tagger", perfect),
    ]


# --------------------------------------------------------------------------------------------------
# 5.4  greedy_decode
# --------------------------------------------------------------------------------------------------


class _CountingDecoder:
    """A step model whose next token is (previous token + 1) mod V, except that the state counts
    steps and forces ``eos`` after ``stop[b]`` steps; logits are one-hot times 5."""

    def __init__(self, vocab: int, eos: int, stop: list[int]) -> None:
        self.vocab, self.eos, self.stop = vocab, eos, np.array(stop)
        self.calls: list[tuple[int, ...]] = []

    def __call__(self, y_prev: Any, state: Any) -> tuple[Any, Any]:
        import minigrad

        prev = np.asarray(y_prev.numpy() if hasattr(y_prev, "numpy") else y_prev)
        self.calls.append(prev.shape)
        if prev.ndim != 2:
            fail(f"the decoder was called with ids of shape {prev.shape}",
                 "call decode with (1, B) ids: one step, the batch on the second axis")
        steps = np.asarray(state.numpy() if hasattr(state, "numpy") else state)
        t, b = prev.shape
        logits = np.zeros((t, b, self.vocab))
        count = steps[0, :, 0].copy()
        for i in range(t):
            count = count + 1
            nxt = (prev[i] + 1) % self.vocab
            nxt = np.where(nxt == self.eos, (nxt + 1) % self.vocab, nxt)
            nxt = np.where(count >= self.stop, self.eos, nxt)
            logits[i, np.arange(b), nxt] = 5.0
        new_state = minigrad.tensor(np.broadcast_to(count[None, :, None], (1, b, 1)).copy())
        return minigrad.tensor(logits), new_state


@exercise("5.4", "greedy_decode")
def check_greedy_decode(fn: Any) -> list[Case]:
    """Check ``greedy_decode(decode, state, bos, eos, max_len) -> list of B lists of ids``: feed
    ``bos``, then each step's most likely token, stop each sequence at its ``eos`` (left out) or
    after ``max_len`` tokens; against :func:`minigrad.sampling.sample` on a random
    :class:`minigrad.models.Seq2Seq`."""
    import minigrad

    def run(decode: Any, state: Any, bos: int, eos: int, max_len: int, b: int) -> list[list[int]]:
        got = call(fn, decode, state, bos, eos, max_len)
        if not isinstance(got, (list, tuple)) or len(got) != b:
            fail(f"greedy_decode: expected a list of {b} lists of ids, got {describe(got)}",
                 "return one list of token ids per sequence of the batch")
        out = []
        for i, seq in enumerate(got):
            try:
                out.append([int(t) for t in seq])
            except (TypeError, ValueError):
                fail(f"sequence {i}: expected a list of ints, got {describe(seq)}")
        return out

    def counting(stop: list[int], max_len: int, bos: int = 2) -> None:
        vocab, eos = 9, 3
        dec = _CountingDecoder(vocab, eos, stop)
        state = minigrad.zeros(1, len(stop), 1, dtype=minigrad.float64)
        got = run(dec, state, bos, eos, max_len, len(stop))
        expected = []
        for s in stop:
            seq, tok = [], bos
            for step in range(1, max_len + 1):
                tok = (tok + 1) % vocab
                if tok == eos:
                    tok = (tok + 1) % vocab
                if step >= s:
                    break
                seq.append(tok)
            expected.append(seq)
        for i, (e, g) in enumerate(zip(expected, got)):
            if g == e:
                continue
            hint = None
            if g == e + [eos]:
                hint = "leave <EOS> out of the output: it marks the end, it is not a token"
            elif len(g) == max_len and len(e) < max_len:
                hint = "stop each sequence at its first <EOS> (the decoder keeps going after it)"
            elif len(g) == len(e) + 1 and g[1:] == e:
                hint = "do not output the <BOS> you start from"
            elif g and g[0] != (e[:1] or [None])[0]:
                hint = "start by feeding bos, shaped (1, B), with the state you are given"
            elif len(g) > 1 and g[1] == g[0]:
                hint = "feed each step's chosen token back as the next input"
            fail(f"sequence {i}: expected {e}, got {g}", hint)

    def seq2seq() -> None:
        from minigrad.models import Seq2Seq
        from minigrad.sampling import sample
        from minigrad.text import pad_batch

        minigrad.manual_seed(7)
        model = Seq2Seq(10, 8, embedding_dim=6, hidden_size=12)
        model.eval()
        x, lengths = pad_batch([[4, 5, 6, 7], [8, 9], [5, 5, 5]])
        with minigrad.no_grad():
            state = model.encode(x, lengths)
        expected = sample(model.decode, [2], max_new_tokens=7, temperature=0, eos=3,
                          num_samples=3, state=state)
        with minigrad.no_grad():  # the decoder's parameters need no gradient here
            got = run(model.decode, state, 2, 3, 7, 3)
        expect(got == expected, f"expected {expected}, got {got}",
               "take the argmax of the last step's logits, for each sequence")

    return [
        Case("a batch of 3 stopping after 3, 5 and 1 steps", lambda: counting([3, 5, 1], 10)),
        Case("max_len reached before <EOS>", lambda: counting([9, 4], 5)),
        Case("a batch of one", lambda: counting([4], 8, bos=6)),
        Case("the greedy output of a random Seq2Seq, as minigrad.sampling.sample gives it",
             seq2seq),
    ]
