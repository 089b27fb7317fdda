"""Checks for chapter 7, *Language models* (``exercises/07_language_models.ipynb``).

=====  ==============================  ===================================
 no.   exercise                        check
=====  ==============================  ===================================
 7.1   ``sentence_log_prob``           :func:`check_sentence_log_prob`
 7.2   ``corpus_perplexity``           :func:`check_corpus_perplexity`
 7.3   ``lm_loss``                     :func:`check_lm_loss`
 7.4   ``first_step_distribution``     :func:`check_first_step_distribution`
=====  ==============================  ===================================

7.1 and 7.2 take plain numpy arrays: the model's step distributions and the sentence, then the
per-token losses of a corpus. 7.3 runs the student's loss on a small
:class:`minigrad.models.RNNLanguageModel` and compares its value and its gradients with a reference.
7.4 uses the notes' layout (columns; ``parameters`` a dict with ``"Wax"``, ``"Waa"``, ``"Wya"``,
``"ba"``, ``"by"``), testing each term alone by zeroing the others. The values the usual mistakes
give (a product instead of a sum of logs, an off-by-one between distributions and tokens, the mean
of the sentences' perplexities, targets not shifted, a missing tanh or bias) are recognised and
named.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .framework import Case, call, describe, exercise, expect_array, expect_close, fail

__all__ = [
    "check_sentence_log_prob",
    "check_corpus_perplexity",
    "check_lm_loss",
    "check_first_step_distribution",
]


def _distributions(rng: np.random.Generator, T: int, V: int, sharp: float = 1.0) -> np.ndarray:
    z = rng.normal(0, sharp, size=(T, V))
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


# --------------------------------------------------------------------------------------------------
# 7.1  the log-probability of a sentence by the chain rule
# --------------------------------------------------------------------------------------------------


@exercise("7.1", "the log-probability of a sentence by the chain rule")
def check_sentence_log_prob(fn: Callable[..., Any]) -> list[Case]:
    """Check ``sentence_log_prob(step_probs, ids) -> float``: ``step_probs[t]`` is the model's
    distribution for token ``t`` given the tokens before it, and the answer is
    ``sum_t log step_probs[t, ids[t]]``. Cases: one token, a short sentence, a uniform model
    (``-T log V``), a step the model is sure of, and a sentence long enough for the product of its
    probabilities to underflow."""

    def reference(p: np.ndarray, ids: np.ndarray) -> float:
        return float(np.log(p[np.arange(len(ids)), ids]).sum())

    def hints(p: np.ndarray, ids: np.ndarray) -> list[tuple[float, str]]:
        with np.errstate(divide="ignore"):  # a zero probability in a wrong entry: -inf, no hint
            return _hints(p, ids)

    def _hints(p: np.ndarray, ids: np.ndarray) -> list[tuple[float, str]]:
        T = len(ids)
        right = reference(p, ids)
        out = [
            (math.exp(right), "that is P(sentence), the product of the probabilities: return its "
             "logarithm, the sum of the logs"),
            (-right, "the sign: a log-probability is negative (or zero); -log P is the loss"),
            (right / T, "the sum over the tokens, not the mean: log P = sum_t log P(y<t> | ...)"),
            (right / math.log(10), "natural logarithms (np.log), not log10"),
            (right / math.log(2), "natural logarithms (np.log), not log2"),
            (float(np.log(p[np.arange(T), ids].sum())), "add the logs of the probabilities; "
             "the log of their sum is not the log of their product"),
        ]
        if T > 1:
            shifted = float(np.log(p[np.arange(T - 1), ids[1:]]).sum())
            out.append((shifted, "row t of step_probs is the distribution of token t itself "
                        "(ids[t]), not of the token after it: do not shift"))
            out.append((float(np.log(p[:, ids]).sum()), "take one entry per row: "
                        "step_probs[t, ids[t]], not every row's entries for every token"))
        return out

    def run(p: np.ndarray, ids: np.ndarray, label: str, rtol: float = 1e-9) -> None:
        got = call(fn, p.copy(), list(int(i) for i in ids))
        if isinstance(got, (np.ndarray, list, tuple)) and np.size(got) != 1:
            fail(f"{label}: expected one number, got {describe(got)}",
                 "add up the logs of the T probabilities into one number")
        expect_close(label, reference(p, ids), got, rtol=rtol, hints=hints(p, ids))

    def one_token():
        rng = np.random.default_rng(1)
        p = _distributions(rng, 1, 6)
        run(p, np.array([4]), "log P of a one-token sentence")

    def short():
        rng = np.random.default_rng(2)
        p = _distributions(rng, 5, 8)
        run(p, rng.integers(0, 8, 5), "log P of a sentence of 5 tokens")

    def uniform():
        p = np.full((4, 10), 0.1)
        ids = np.array([3, 1, 4, 1])
        run(p, ids, "a uniform model over 10 tokens, 4 tokens (expected -4 log 10)")

    def certain():
        rng = np.random.default_rng(3)
        p = _distributions(rng, 3, 5)
        p[1] = 0.0
        p[1, 2] = 1.0  # step 2 is certain: it adds log 1 = 0
        run(p, np.array([0, 2, 4]), "a step with probability 1 adds nothing")

    def long():
        rng = np.random.default_rng(4)
        p = _distributions(rng, 400, 50, sharp=0.5)
        ids = rng.integers(0, 50, 400)
        got = call(fn, p.copy(), list(int(i) for i in ids))
        if isinstance(got, (int, float, np.floating)) and not math.isfinite(float(got)):
            fail(f"400 tokens: got {got}", "the product of 400 probabilities underflows to 0 and "
                 "log(0) = -inf: add the logs instead of multiplying the probabilities")
        run(p, ids, "log P of a sentence of 400 tokens", rtol=1e-7)

    return [
        Case("a one-token sentence", one_token),
        Case("a sentence of 5 tokens", short),
        Case("a uniform model: -T log V", uniform),
        Case("a step the model is sure of", certain),
        Case("a long sentence (the product underflows)", long),
    ]


# --------------------------------------------------------------------------------------------------
# 7.2  the perplexity of a corpus
# --------------------------------------------------------------------------------------------------


@exercise("7.2", "the perplexity of a corpus from the losses of its tokens")
def check_corpus_perplexity(fn: Callable[..., Any]) -> list[Case]:
    """Check ``corpus_perplexity(sentence_losses) -> float``: ``sentence_losses`` is a list of 1-D
    arrays, the losses ``-log P`` (nats) of each sentence's tokens, and the answer is
    ``exp(total loss / number of tokens)``. Cases: one sentence, equal losses ``log k`` (perplexity
    ``k``), sentences of different lengths (where averaging per sentence is wrong), and a sentence
    of one token."""

    def reference(losses: list[np.ndarray]) -> float:
        flat = np.concatenate(losses)
        return float(np.exp(flat.mean()))

    def hints(losses: list[np.ndarray]) -> list[tuple[float, str]]:
        flat = np.concatenate(losses)
        means = np.array([s.mean() for s in losses])
        return [
            (float(np.mean(np.exp(means))), "that is the mean of the sentences' perplexities: "
             "pool every token of the corpus, exp(total loss / total number of tokens)"),
            (float(np.exp(means.mean())), "that averages the sentences' mean losses, so a short "
             "sentence weighs as much as a long one: divide the total loss by the number of "
             "tokens"),
            (float(flat.mean()), "that is the mean loss; the perplexity is its exponential"),
            (float(2 ** flat.mean()), "the losses are in nats (natural logarithms): use exp, "
             "not 2 **"),
            (float(np.exp(flat.sum())), "divide the total loss by the number of tokens before "
             "taking the exponential"),
            (float(np.mean(np.exp(flat))), "exponentiate the mean loss, not each loss"),
            (float(np.exp(-flat.mean())), "the sign: perplexity = exp(+ mean loss), at least 1"),
        ]

    def run(losses: list[np.ndarray], label: str) -> None:
        got = call(fn, [s.copy() for s in losses])
        expect_close(label, reference(losses), got, rtol=1e-9, hints=hints(losses))

    def one_sentence():
        rng = np.random.default_rng(5)
        run([rng.uniform(0.1, 4.0, 7)], "one sentence of 7 tokens")

    def equal_losses():
        run([np.full(5, math.log(20)), np.full(3, math.log(20))],
            "every token's loss log 20 (expected perplexity 20)")

    def uneven():
        rng = np.random.default_rng(6)
        run([rng.uniform(0.1, 1.0, 30), rng.uniform(4.0, 6.0, 2), rng.uniform(1.0, 3.0, 9)],
            "sentences of 30, 2 and 9 tokens")

    def single_token():
        run([np.array([2.5]), np.array([0.5, 1.0, 1.5])], "a sentence of one token among others")

    return [
        Case("one sentence", one_sentence),
        Case("equal losses log k give perplexity k", equal_losses),
        Case("sentences of different lengths", uneven),
        Case("a sentence of a single token", single_token),
    ]


# --------------------------------------------------------------------------------------------------
# 7.3  the per-step loss of a language model, targets shifted by one
# --------------------------------------------------------------------------------------------------


def _tiny_lm(seed: int, V: int = 7) -> Any:
    import minigrad
    from minigrad.models import RNNLanguageModel

    minigrad.manual_seed(seed)
    return RNNLanguageModel(V, embedding_dim=4, hidden_size=5, cell="gru")


def _lm_reference(model: Any, ids: np.ndarray, mistake: str | None = None) -> Any:
    import minigrad
    import minigrad.nn.functional as F

    x, y = ids[:-1], ids[1:]
    if mistake == "not shifted":
        x, y = ids[:-1], ids[:-1]
    elif mistake == "backwards":
        x, y = ids[1:], ids[:-1]
    logits, _ = model(minigrad.tensor(x))
    V = logits.shape[-1]
    flat, target = logits.reshape(-1, V), minigrad.tensor(y.reshape(-1))
    if mistake == "sum":
        return F.cross_entropy(flat, target, reduction="sum")
    if mistake == "softmax twice":
        return F.cross_entropy(F.softmax(flat, dim=-1), target)
    return F.cross_entropy(flat, target)


_LM_MISTAKES = {
    "not shifted": "the targets must be the inputs shifted by one: the model reads ids[:-1] and "
    "is scored against ids[1:], the token that comes next",
    "backwards": "shifted the wrong way: the model reads ids[:-1] and predicts ids[1:]",
    "sum": "the mean over every step and sequence (F.cross_entropy's default), not the sum",
    "softmax twice": "F.cross_entropy takes the logits and applies the softmax itself: do not "
    "apply a softmax first",
}


@exercise("7.3", "the per-step loss of a language model")
def check_lm_loss(fn: Callable[..., Any]) -> list[Case]:
    """Check ``lm_loss(model, ids) -> Tensor``: ``ids`` is a (T + 1, B) tensor of token ids, the
    model reads ``ids[:-1]`` and is scored against ``ids[1:]``, and the answer is the mean
    cross-entropy over the T x B predictions, as a ``minigrad`` scalar that ``backward`` can
    differentiate. The value, then the gradient of every parameter, are compared with a reference
    on a small GRU language model."""
    import minigrad
    from minigrad import Tensor

    def data(seed: int, T: int, B: int, V: int = 7) -> np.ndarray:
        return np.random.default_rng(seed).integers(0, V, size=(T + 1, B))

    def value(seed: int, T: int, B: int, label: str) -> None:
        ids = data(seed + 100, T, B)
        model = _tiny_lm(seed)
        got = call(fn, model, minigrad.tensor(ids))
        if not isinstance(got, Tensor):
            fail(f"{label}: expected a minigrad Tensor, got {describe(got)}",
                 "return the loss tensor itself (not .item()), so that backward() can follow it")
        if got.numel() != 1:
            fail(f"{label}: expected one number, got a tensor of shape {tuple(got.shape)}",
                 "average over every step and sequence: F.cross_entropy over the flattened "
                 "(T * B, V) logits and (T * B,) targets")
        with minigrad.no_grad():
            ref = float(_lm_reference(model, ids).item())
            hints = [(float(_lm_reference(model, ids, m).item()), text)
                     for m, text in _LM_MISTAKES.items()]
        expect_close(label, ref, float(got.item()), rtol=1e-5, atol=1e-6, hints=hints)

    def one_step():
        value(1, T=1, B=1, label="one step of one sequence")

    def batch():
        value(2, T=6, B=3, label="6 steps, 3 sequences")

    def one_sequence():
        value(3, T=9, B=1, label="a batch of one, 9 steps")

    def gradients():
        ids = data(104, 5, 2)
        model = _tiny_lm(4)
        got = call(fn, model, minigrad.tensor(ids))
        if not isinstance(got, Tensor) or not got.requires_grad:
            fail("the loss does not require a gradient", "compute it from the model's output "
                 "without detaching it or leaving the graph (no numpy in between)")
        call(got.backward)
        ref_model = _tiny_lm(4)
        _lm_reference(ref_model, ids).backward()
        for (name, p), (_, q) in zip(model.named_parameters(), ref_model.named_parameters()):
            if p.grad is None:
                fail(f"{name}.grad is None after backward()", "the loss must depend on every "
                     "parameter through the model's forward pass")
            expect_array(f"{name}.grad", q.grad.numpy(), p.grad.numpy(), rtol=1e-4, atol=1e-6,
                         check_dtype=False)

    return [
        Case("one step of one sequence", one_step),
        Case("6 steps, 3 sequences", batch),
        Case("a batch of one", one_sequence),
        Case("every parameter's gradient after backward()", gradients),
    ]


# --------------------------------------------------------------------------------------------------
# 7.4  the first step, from zeros
# --------------------------------------------------------------------------------------------------


def _first_step(p: dict[str, np.ndarray], mistake: str | None = None) -> np.ndarray:
    a1 = p["ba"] if mistake == "no tanh" else np.tanh(p["ba"])
    z = p["Wya"] @ a1 + (0 if mistake == "no by" else p["by"])
    if mistake == "no softmax":
        return z
    if mistake == "with x":
        a1 = np.tanh(p["Wax"][:, :1] + p["ba"])
        z = p["Wya"] @ a1 + p["by"]
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


_FIRST_MISTAKES = {
    "no tanh": "a<1> = tanh(W_aa a<0> + W_ax x<1> + b_a) = tanh(b_a): keep the tanh",
    "no by": "the output layer adds b_y: softmax(W_ya a<1> + b_y)",
    "no softmax": "y_hat<1> is a probability distribution: apply the softmax to W_ya a<1> + b_y",
    "with x": "x<1> is the zero vector, so W_ax x<1> = 0: nothing of W_ax enters the first step",
}


@exercise("7.4", "what the first step predicts from zeros")
def check_first_step_distribution(fn: Callable[..., Any]) -> list[Case]:
    """Check ``first_step_distribution(parameters) -> (n_y, 1)``: with ``x<1> = 0`` and
    ``a<0> = 0``, ``y_hat<1> = softmax(W_ya tanh(b_a) + b_y)``. Each term alone (only ``b_y``,
    only ``b_a``), then all of them, and the distribution sums to 1."""

    def params(seed: int, n_x: int = 5, n_a: int = 4, n_y: int = 6) -> dict[str, np.ndarray]:
        rng = np.random.default_rng(seed)
        return {"Wax": rng.normal(0, 1, (n_a, n_x)), "Waa": rng.normal(0, 1, (n_a, n_a)),
                "Wya": rng.normal(0, 1, (n_y, n_a)), "ba": rng.normal(0, 1, (n_a, 1)),
                "by": rng.normal(0, 1, (n_y, 1))}

    def run(p: dict[str, np.ndarray], label: str) -> None:
        got = call(fn, {k: v.copy() for k, v in p.items()})
        n_y = p["Wya"].shape[0]
        hints = [(_first_step(p, m), text) for m, text in _FIRST_MISTAKES.items()]
        expect_array(label, _first_step(p), got, check_dtype=False, value_hints=hints,
                     shape_hints=[((n_y,), "return a column, shape (n_y, 1), as the notes' "
                                   "vectors are")])

    def only_by():
        p = params(11)
        p["ba"][:] = 0.0  # a<1> = tanh(0) = 0: only b_y is left
        run(p, "b_a = 0: y_hat<1> = softmax(b_y)")

    def only_ba():
        p = params(12)
        p["by"][:] = 0.0
        run(p, "b_y = 0: y_hat<1> = softmax(W_ya tanh(b_a))")

    def everything():
        run(params(13), "every parameter random")

    def bigger():
        p = params(14, n_x=30, n_a=8, n_y=30)
        got = call(fn, {k: v.copy() for k, v in p.items()})
        got_arr = np.asarray(got, dtype=float)
        if got_arr.size == 30 and not np.isclose(got_arr.sum(), 1.0):
            fail(f"the 30 probabilities add up to {got_arr.sum():.4f}, not 1",
                 "apply the softmax over the n_y entries")
        run(p, "n_x = 30, n_a = 8, n_y = 30")

    return [
        Case("only b_y (b_a = 0)", only_by),
        Case("only b_a and W_ya (b_y = 0)", only_ba),
        Case("every parameter", everything),
        Case("a larger model; probabilities add up to 1", bigger),
    ]
