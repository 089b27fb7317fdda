"""Scoring and generating sequences with a language model, whatever the model is.

The protocol
------------
Every function here works with any *step model*: a callable ::

    logits, state = model(x, state)

where ``x`` is a (T, B) tensor of token ids (time first, like PyTorch's recurrent layers),
``logits`` is (T, B, V), row ``[t, b]`` scoring the token that comes *after* ``x[t, b]``, and
``state`` is whatever the model carries from one call to the next: ``None`` on the first call,
then what it returned (an RNN's hidden state, the last ``n-1`` tokens of an n-gram model, or the
encoder's summary for the decoder of an encoder-decoder). Feeding a sequence in one call or one
token at a time, passing the state along, must give the same logits.

Tensors inside a state keep the batch on dimension 1, as ``h_n`` does ((layers, B, H)); that is
what lets :func:`sample` copy a state for several samples and :func:`beam_search` reorder it. A
state of another shape can still be used by passing ``reorder_state=`` to those two functions.

:class:`minigrad.models.RNNLanguageModel` and :class:`minigrad.models.NGramLanguageModel`
follow the protocol; so does a hand-written ``forward(self, x, state=None)`` in a chapter.

What is here
------------
* Scoring: :func:`token_log_probs` (one number per token), :func:`sentence_log_prob` and
  :func:`sentence_prob` (the chain rule: a sum of logs, a product of probabilities),
  :func:`mean_nll` and :func:`perplexity` over long text, :func:`top_k_next`.
* Choosing a token: :func:`next_token_probs` (softmax with temperature, top-k and top-p
  filtering) and :func:`choose_next`.
* Generating: :func:`sample` (greedy when ``temperature=0``, temperature, top-k, top-p, stop at
  ``<EOS>`` or a length, seeded) and :func:`beam_search` for the decoder of an encoder-decoder.

Everything runs without building a graph (under :class:`minigrad.no_grad`) and in eval mode.

>>> from minigrad.models import NGramLanguageModel
>>> lm = NGramLanguageModel(n=2, vocab_size=3).fit([0, 1, 2, 0, 1, 2, 0, 1])
>>> round(sentence_prob(lm, [0, 1, 2]), 4)         # P(1 | 0) * P(2 | 1)
0.6371
>>> sample(lm, [0], max_new_tokens=5, temperature=0)
[[1, 2, 0, 1, 2]]
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple, Protocol

import numpy as np

from .tensor import Tensor, _wrap, no_grad
from .text import Vocab, make_rng

__all__ = [
    "Hypothesis",
    "StepModel",
    "beam_search",
    "choose_next",
    "greedy",
    "mean_nll",
    "next_token_probs",
    "perplexity",
    "sample",
    "sentence_log_prob",
    "sentence_prob",
    "token_log_probs",
    "top_k_next",
]

Seed = int | np.random.Generator | None


class StepModel(Protocol):
    """``logits (T, B, V), state = model(ids (T, B), state)``; see the module documentation."""

    def __call__(self, x: Tensor, state: Any = None) -> tuple[Tensor, Any]: ...


# ----------------------------------------------------------------------------- helpers


@contextlib.contextmanager
def _inference(model: Any) -> Iterator[None]:
    """No graph, and eval mode for a Module (restored afterwards)."""
    was_training = getattr(model, "training", None)
    if was_training and hasattr(model, "eval"):
        model.eval()
    try:
        with no_grad():
            yield
    finally:
        if was_training and hasattr(model, "train"):
            model.train(True)


def _ids(ids: Any, name: str = "ids") -> np.ndarray:
    arr = np.asarray(ids.data if isinstance(ids, Tensor) else ids)
    if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu"):
        raise ValueError(
            f"{name} must be a 1-D sequence of integer token ids, got {arr.shape} {arr.dtype}"
        )
    return arr.astype(np.int64)


def _call(model: StepModel, x: np.ndarray, state: Any) -> tuple[np.ndarray, Any]:
    out = model(_wrap(np.ascontiguousarray(x, dtype=np.int64)), state)
    if not (isinstance(out, tuple) and len(out) == 2):
        raise TypeError(
            "a step model must return (logits, state); see minigrad.sampling's documentation"
        )
    logits, state = out
    arr = np.asarray(logits.data if isinstance(logits, Tensor) else logits, dtype=np.float64)
    if arr.ndim != 3 or arr.shape[:2] != x.shape:
        raise ValueError(
            f"a step model given ids of shape {x.shape} must return logits of shape"
            f" (T, B, V) = ({x.shape[0]}, {x.shape[1]}, V), got {arr.shape}"
        )
    return arr, state


def _log_softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def _map_state(state: Any, fn: Callable[[np.ndarray], np.ndarray]) -> Any:
    if state is None:
        return None
    if isinstance(state, Tensor):
        return _wrap(fn(state.data))
    if isinstance(state, np.ndarray):
        return fn(state)
    if isinstance(state, tuple) and hasattr(state, "_fields"):  # a named tuple
        return type(state)(*(_map_state(s, fn) for s in state))
    if isinstance(state, (tuple, list)):
        return type(state)(_map_state(s, fn) for s in state)
    if isinstance(state, dict):
        return {k: _map_state(v, fn) for k, v in state.items()}
    raise TypeError(
        f"cannot reorder a state of type {type(state).__name__}; pass reorder_state=fn(state,"
        " index) that picks batch entries of your model's state"
    )


def _reorder(state: Any, index: np.ndarray, dim: int = 1) -> Any:
    def pick(a: np.ndarray) -> np.ndarray:
        if a.ndim <= dim:
            raise ValueError(
                f"a state tensor of shape {a.shape} has no batch dimension {dim}; pass"
                " reorder_state= for a state of another layout"
            )
        return np.take(a, index, axis=dim)

    return _map_state(state, pick)


def _token(vocab: Vocab | None, i: int) -> Any:
    return vocab.lookup_token(i) if vocab is not None else i


# ----------------------------------------------------------------------------- scoring


def token_log_probs(
    model: StepModel, ids: Sequence[int] | np.ndarray | Tensor, state: Any = None
) -> np.ndarray:
    """``log P(ids[t] | ids[:t])`` for t = 1 .. n-1: one natural-log probability per token.

    The first id is the context the model starts from (``<BOS>``, or the first character of a
    text) and is not scored itself; frame a sentence with ``vocab.encode(s, add_bos=True,
    add_eos=True)`` to score its words and its end. Computed in one call of the model.

    >>> from minigrad.models import NGramLanguageModel
    >>> lm = NGramLanguageModel(n=2, vocab_size=3).fit([0, 1, 2, 0, 1, 2, 0, 1])
    >>> token_log_probs(lm, [0, 1, 2]).round(3)
    array([-0.173, -0.278])
    """
    arr = _ids(ids)
    if len(arr) < 2:
        raise ValueError("token_log_probs needs at least two ids: a context and a token to score")
    with _inference(model):
        logits, _ = _call(model, arr[:-1, None], state)
    logp = _log_softmax(logits[:, 0, :])
    return logp[np.arange(len(arr) - 1), arr[1:]]


def sentence_log_prob(
    model: StepModel, ids: Sequence[int] | np.ndarray | Tensor, state: Any = None
) -> float:
    """``log P(ids[1:] | ids[0])`` by the chain rule: the sum of :func:`token_log_probs`.

    >>> from minigrad.models import NGramLanguageModel
    >>> lm = NGramLanguageModel(n=2, vocab_size=3).fit([0, 1, 2, 0, 1, 2, 0, 1])
    >>> round(sentence_log_prob(lm, [0, 1, 2]), 4)
    -0.4509
    """
    return float(token_log_probs(model, ids, state).sum())


def sentence_prob(
    model: StepModel, ids: Sequence[int] | np.ndarray | Tensor, state: Any = None
) -> float:
    """``P(ids[1:] | ids[0])``, the product of the step probabilities (may underflow to 0 for long
    sequences; compare :func:`sentence_log_prob` values instead)."""
    return math.exp(sentence_log_prob(model, ids, state))


def mean_nll(
    model: StepModel,
    ids: Sequence[int] | np.ndarray | Tensor,
    batch_size: int = 32,
    seq_len: int = 256,
) -> float:
    """The mean negative log-likelihood per token (nats) of a long stream of ids.

    The stream is cut into ``batch_size`` columns read in parallel (:func:`minigrad.text.batchify`),
    ``seq_len`` steps per call, the state carried across calls: each column starts from a fresh
    state, so the figure is a hair above the one-column value, and much faster to compute.
    ``batch_size=1`` gives the exact chain-rule value. Divide by ``ln 2`` for bits per token.
    """
    from .text import batchify

    table = batchify(_ids(ids), batch_size)
    total, count, state = 0.0, 0, None
    with _inference(model):
        for i in range(0, table.shape[0] - 1, seq_len):
            t = min(seq_len, table.shape[0] - 1 - i)
            logits, state = _call(model, table[i : i + t], state)
            logp = _log_softmax(logits)
            target = table[i + 1 : i + 1 + t]
            total -= float(np.take_along_axis(logp, target[..., None], axis=-1).sum())
            count += target.size
    return total / count


def perplexity(
    model: StepModel,
    ids: Sequence[int] | np.ndarray | Tensor,
    batch_size: int = 1,
    seq_len: int = 256,
) -> float:
    """``exp`` of the mean negative log-likelihood per token: the number of equally likely tokens
    the model is, on average, choosing among. For one sentence (``batch_size=1``) this is
    ``P(ids[1:] | ids[0]) ** (-1 / (len(ids) - 1))``.

    >>> from minigrad.models import NGramLanguageModel
    >>> lm = NGramLanguageModel(n=1, vocab_size=4, alpha=1.0).fit([])   # uniform
    >>> perplexity(lm, [0, 1, 2, 3, 1])
    4.0
    """
    arr = _ids(ids)
    if batch_size == 1:
        return math.exp(-float(token_log_probs(model, arr).mean()))
    return math.exp(mean_nll(model, arr, batch_size, seq_len))


class NextToken(NamedTuple):
    """One candidate next token and its probability."""

    token: Any
    prob: float


def top_k_next(
    model: StepModel,
    ids: Sequence[int] | np.ndarray | Tensor,
    k: int = 5,
    vocab: Vocab | None = None,
    state: Any = None,
) -> list[NextToken]:
    """The ``k`` most likely tokens to follow ``ids``, most likely first (tokens if a ``vocab``
    is given, ids otherwise).

    >>> from minigrad.models import NGramLanguageModel
    >>> lm = NGramLanguageModel(n=2, vocab_size=3).fit([0, 1, 2, 0, 1, 2, 0, 1])
    >>> [(t, round(p, 2)) for t, p in top_k_next(lm, [2, 0], k=2)]
    [(1, 0.84), (0, 0.09)]
    """
    arr = _ids(ids)
    if len(arr) == 0:
        raise ValueError("top_k_next needs at least one id of context")
    with _inference(model):
        logits, _ = _call(model, arr[:, None], state)
    p = np.exp(_log_softmax(logits[-1, 0]))
    order = np.argsort(-p, kind="stable")[:k]
    return [NextToken(_token(vocab, int(i)), float(p[i])) for i in order]


# ----------------------------------------------------------------------------- choosing a token


def next_token_probs(
    logits: np.ndarray | Tensor,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
) -> np.ndarray:
    """The distribution a sampler draws from, from logits of shape (..., V).

    ``softmax(logits / temperature)``, then (if asked) only the ``top_k`` most likely tokens kept,
    then only the smallest set of most likely tokens whose probabilities add up to ``top_p``
    (nucleus sampling), and renormalised. ``temperature=0`` puts all the mass on the most likely
    token (ties go to the lowest id): greedy decoding.

    >>> next_token_probs(np.log([0.5, 0.3, 0.2]), top_k=2).round(3)
    array([0.625, 0.375, 0.   ])
    >>> next_token_probs(np.log([0.5, 0.3, 0.2]), top_p=0.7).round(3)
    array([0.625, 0.375, 0.   ])
    >>> next_token_probs(np.log([0.5, 0.3, 0.2]), temperature=0)
    array([1., 0., 0.])
    """
    z = np.asarray(logits.data if isinstance(logits, Tensor) else logits, dtype=np.float64)
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    if top_k is not None and top_k < 1:
        raise ValueError(f"top_k must be >= 1, got {top_k}")
    if top_p is not None and not 0 < top_p <= 1:
        raise ValueError(f"top_p must be in (0, 1], got {top_p}")
    if temperature == 0:
        p = np.zeros_like(z)
        np.put_along_axis(p, z.argmax(axis=-1)[..., None], 1.0, axis=-1)
        return p
    p = np.exp(_log_softmax(z / temperature))
    if top_k is not None and top_k < p.shape[-1]:
        # keep exactly k: among ties at the threshold, the lowest ids
        order = np.argsort(-p, axis=-1, kind="stable")
        keep = np.zeros_like(p, dtype=bool)
        np.put_along_axis(keep, order[..., :top_k], True, axis=-1)
        p = np.where(keep, p, 0.0)
    if top_p is not None and top_p < 1:
        order = np.argsort(-p, axis=-1, kind="stable")
        sorted_p = np.take_along_axis(p, order, axis=-1)
        total = sorted_p.sum(axis=-1, keepdims=True)
        before = np.cumsum(sorted_p, axis=-1) - sorted_p  # mass of the more likely tokens
        keep_sorted = before < top_p * total - 1e-12
        keep_sorted[..., 0] = True
        keep = np.zeros_like(keep_sorted)
        np.put_along_axis(keep, order, keep_sorted, axis=-1)
        p = np.where(keep, p, 0.0)
    return p / p.sum(axis=-1, keepdims=True)


def choose_next(
    logits: np.ndarray | Tensor,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    seed: Seed = None,
) -> np.ndarray:
    """Draw one token id per row of ``logits`` (shape (V,) or (B, V)) from :func:`next_token_probs`.

    >>> int(choose_next(np.array([0.0, 5.0, 1.0]), temperature=0))
    1
    """
    p = next_token_probs(logits, temperature, top_k, top_p)
    if temperature == 0:
        return p.argmax(axis=-1)
    rng = make_rng(seed)
    flat = p.reshape(-1, p.shape[-1])
    u = rng.random(flat.shape[0])[:, None]
    idx = (np.cumsum(flat, axis=-1) < u).sum(axis=-1)
    # never land on a zeroed token through rounding at the top of the cumulative sum
    idx = np.minimum(idx, flat.shape[-1] - 1)
    bad = flat[np.arange(len(idx)), idx] == 0
    if bad.any():
        idx[bad] = flat[bad].argmax(axis=-1)
    return idx.reshape(p.shape[:-1])


# ----------------------------------------------------------------------------- generating


def sample(
    model: StepModel,
    prompt: Sequence[int] | np.ndarray | Tensor,
    max_new_tokens: int = 100,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    eos: int | None = None,
    num_samples: int = 1,
    seed: Seed = None,
    state: Any = None,
    include_eos: bool = False,
    reorder_state: Callable[[Any, np.ndarray], Any] | None = None,
) -> list[list[int]]:
    """Generate ``num_samples`` continuations of ``prompt``, token by token.

    The prompt (at least one id: ``<BOS>``, a first character, or a whole line) is fed in one
    call; then each step draws the next token from :func:`next_token_probs` and feeds it back.
    A sample stops at ``eos`` (left out of the result unless ``include_eos``) or after
    ``max_new_tokens``. Only the new tokens are returned, one list per sample.

    ``temperature=0`` is greedy decoding (every sample the same); ``seed`` makes a run repeat
    (``None`` follows :func:`minigrad.manual_seed`). ``state`` starts the model from a given
    state (batch 1, or ``num_samples``): the encoder's output, for a decoder.

    >>> from minigrad.models import NGramLanguageModel
    >>> lm = NGramLanguageModel(n=2, vocab_size=4).fit([0, 1, 2, 3, 0, 1, 3, 0, 2, 3])
    >>> sample(lm, [0], max_new_tokens=10, eos=3, num_samples=3, seed=0)
    [[2, 0, 2], [1], [0]]
    """
    if max_new_tokens < 0:
        raise ValueError(f"max_new_tokens must be >= 0, got {max_new_tokens}")
    if num_samples < 1:
        raise ValueError(f"num_samples must be >= 1, got {num_samples}")
    arr = _ids(prompt, "prompt")
    if len(arr) == 0:
        raise ValueError("sample needs a prompt of at least one id (for example <BOS>)")
    rng = make_rng(seed)
    reorder = reorder_state or (lambda s, idx: _reorder(s, idx))
    b = num_samples
    out: list[list[int]] = [[] for _ in range(b)]
    if max_new_tokens == 0:
        return out
    with _inference(model):
        if state is not None and b > 1:
            state = reorder(state, np.zeros(b, dtype=np.int64)) if _batch_of(state) == 1 else state
        logits, state = _call(model, np.repeat(arr[:, None], b, axis=1), state)
        last = logits[-1]
        done = np.zeros(b, dtype=bool)
        for step in range(max_new_tokens):
            nxt = choose_next(last, temperature, top_k, top_p, rng)
            for i in np.flatnonzero(~done):
                tok = int(nxt[i])
                if eos is not None and tok == eos:
                    done[i] = True
                    if include_eos:
                        out[i].append(tok)
                else:
                    out[i].append(tok)
            if done.all() or step == max_new_tokens - 1:
                break
            logits, state = _call(model, nxt[None, :].astype(np.int64), state)
            last = logits[-1]
    return out


def _batch_of(state: Any) -> int | None:
    """The batch size of the first tensor found in ``state`` (dimension 1), if any."""
    if isinstance(state, (Tensor, np.ndarray)):
        return state.shape[1] if state.ndim > 1 else None
    if isinstance(state, (tuple, list)):
        for s in state:
            n = _batch_of(s)
            if n is not None:
                return n
    if isinstance(state, dict):
        return _batch_of(list(state.values()))
    return None


def greedy(
    model: StepModel,
    prompt: Sequence[int] | np.ndarray | Tensor,
    max_new_tokens: int = 100,
    eos: int | None = None,
    state: Any = None,
) -> list[int]:
    """The greedy continuation of ``prompt``: the most likely token at every step (one list)."""
    return sample(model, prompt, max_new_tokens, temperature=0, eos=eos, state=state)[0]


class Hypothesis(NamedTuple):
    """A finished beam: its tokens (without the start token and ``<EOS>``), its total log
    probability, and the score it was ranked by (the log probability divided by
    ``length ** length_penalty``)."""

    ids: list[int]
    log_prob: float
    score: float


def beam_search(
    decoder: StepModel,
    state: Any,
    start: int,
    eos: int,
    beam_width: int = 3,
    max_length: int = 50,
    length_penalty: float = 0.0,
    num_return: int | None = None,
    reorder_state: Callable[[Any, np.ndarray], Any] | None = None,
) -> list[Hypothesis]:
    """The most likely outputs of a decoder, by beam search (best first).

    ``decoder`` follows the step-model protocol and ``state`` is where it starts (the encoder's
    summary of one source sequence: batch 1). From the ``start`` token, each step extends each of
    the ``beam_width`` best partial outputs by every token, and keeps the ``beam_width`` best of
    those by total log probability; an output is finished when it emits ``eos``. The search
    stops when ``beam_width`` outputs are finished and none of the live ones can beat the worst
    of them, or after ``max_length`` tokens. ``beam_width=1`` is greedy decoding.

    ``length_penalty`` (often 0.6 to 1.0) divides each finished output's log probability by its
    length to that power before ranking, countering the bias toward short outputs; 0 ranks by
    the raw probability.

    >>> from minigrad.models import NGramLanguageModel
    >>> lm = NGramLanguageModel(n=2, vocab_size=4).fit([0, 1, 2, 3, 0, 1, 3, 0, 2, 3])
    >>> [(h.ids, round(h.log_prob, 3)) for h in beam_search(lm, None, start=0, eos=3, beam_width=2)]
    [([2], -1.525), ([1], -1.656)]
    """
    if beam_width < 1:
        raise ValueError(f"beam_width must be >= 1, got {beam_width}")
    reorder = reorder_state or (lambda s, idx: _reorder(s, idx))
    num_return = beam_width if num_return is None else num_return
    beams: list[tuple[list[int], float]] = [([], 0.0)]
    finished: list[Hypothesis] = []

    def score(lp: float, n: int) -> float:
        return lp / (max(n, 1) ** length_penalty) if length_penalty else lp

    with _inference(decoder):
        logits, state = _call(decoder, np.array([[start]], dtype=np.int64), state)
        for step in range(max_length):
            logp = _log_softmax(logits[-1])  # (beams, V)
            totals = np.array([lp for _, lp in beams])[:, None] + logp
            flat = np.argsort(-totals, axis=None, kind="stable")[: 2 * beam_width]
            new_beams: list[tuple[list[int], float]] = []
            parents: list[int] = []
            for f in flat:
                bi, tok = divmod(int(f), logp.shape[-1])
                ids, lp = beams[bi][0], float(totals[bi, tok])
                if tok == eos:
                    finished.append(Hypothesis(ids, lp, score(lp, len(ids) + 1)))
                elif len(new_beams) < beam_width:
                    new_beams.append((ids + [tok], lp))
                    parents.append(bi)
            finished.sort(key=lambda h: -h.score)
            finished = finished[: max(num_return, beam_width)]
            if not new_beams:
                break
            if len(finished) >= beam_width:
                # log probabilities only fall as outputs grow, so the best a live beam can still
                # score is its log probability now, divided by the longest length's penalty
                best_live = max(lp for _, lp in new_beams)
                bound = (
                    best_live / (max_length + 1) ** length_penalty
                    if length_penalty > 0
                    else best_live
                )
                if bound < finished[beam_width - 1].score:
                    break
            beams = new_beams
            if step == max_length - 1:
                break
            state = (
                reorder(state, np.asarray(parents, dtype=np.int64)) if state is not None else None
            )
            x = np.array([[ids[-1] for ids, _ in beams]], dtype=np.int64)
            logits, state = _call(decoder, x, state)
    if len(finished) < num_return:  # out of length: rank the unfinished beams too
        finished += [Hypothesis(ids, lp, score(lp, len(ids))) for ids, lp in beams]
        finished.sort(key=lambda h: -h.score)
    return finished[:num_return]
