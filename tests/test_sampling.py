"""minigrad.sampling: chain-rule scores, perplexity, sampling distributions, beam search."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minigrad
from minigrad import sampling
from minigrad.models import NGramLanguageModel, RNNLanguageModel
from minigrad.text import Vocab

V = 6


class TableLM:
    """A step model whose logits depend on the last token only: row ``table[last]``."""

    def __init__(self, table: np.ndarray) -> None:
        self.table = np.asarray(table, dtype=np.float32)
        self.calls = 0

    def __call__(self, x, state=None):
        self.calls += 1
        ids = x.numpy()
        return minigrad.tensor(self.table[ids]), ids[-1:].copy()


@pytest.fixture
def lstm():
    minigrad.manual_seed(0)
    return RNNLanguageModel(V, embedding_dim=5, hidden_size=7, cell="lstm")


def test_sentence_probability_is_the_product_of_step_probabilities(lstm):
    ids = [0, 3, 1, 4, 4, 2]
    steps = []
    state = None
    with minigrad.no_grad():
        for prev, nxt in zip(ids[:-1], ids[1:]):  # one token at a time, the state carried
            logits, state = lstm(minigrad.tensor([[prev]]), state)
            p = np.exp(logits.numpy()[0, 0] - logits.numpy()[0, 0].max())
            steps.append(p[nxt] / p.sum())
    assert sampling.sentence_prob(lstm, ids) == pytest.approx(float(np.prod(steps)), rel=1e-5)
    assert sampling.sentence_log_prob(lstm, ids) == pytest.approx(
        float(np.sum(np.log(steps))), rel=1e-5
    )
    assert np.allclose(np.exp(sampling.token_log_probs(lstm, ids)), steps, rtol=1e-5)
    assert sampling.perplexity(lstm, ids) == pytest.approx(
        float(np.prod(steps)) ** (-1 / 5), rel=1e-5
    )
    assert lstm.training  # scoring puts a module in eval mode and back


def test_mean_nll_with_one_column_is_the_exact_chain_rule_value(lstm):
    ids = np.random.default_rng(0).integers(0, V, 300)
    exact = -sampling.token_log_probs(lstm, ids).mean()
    assert sampling.mean_nll(lstm, ids, batch_size=1, seq_len=37) == pytest.approx(exact, rel=1e-5)
    assert sampling.perplexity(lstm, ids, batch_size=4) == pytest.approx(
        math.exp(sampling.mean_nll(lstm, ids, batch_size=4)), rel=1e-9
    )


def test_uniform_model_has_perplexity_equal_to_the_vocabulary():
    lm = TableLM(np.zeros((V, V)))
    assert sampling.perplexity(lm, [0, 1, 2, 3, 4, 5]) == pytest.approx(V)


def test_top_k_next_tokens():
    table = np.log(np.array([[0.1, 0.5, 0.2, 0.1, 0.05, 0.05]] * V))
    vocab = Vocab(list("abcdef"), specials=[])
    top = sampling.top_k_next(TableLM(table), [0], k=3, vocab=vocab)
    assert [t for t, _ in top] == ["b", "c", "a"]
    assert [round(p, 3) for _, p in top] == [0.5, 0.2, 0.1]


def test_temperature_zero_is_greedy(lstm):
    greedy = sampling.sample(lstm, [1], max_new_tokens=12, temperature=0, num_samples=3, seed=0)
    assert greedy[0] == greedy[1] == greedy[2]
    # the greedy path, one argmax at a time
    ids, state = [1], None
    with minigrad.no_grad():
        for _ in range(12):
            logits, state = lstm(minigrad.tensor([[ids[-1]]]), state)
            ids.append(int(logits.numpy()[0, 0].argmax()))
    assert greedy[0] == ids[1:]
    assert sampling.greedy(lstm, [1], max_new_tokens=12) == ids[1:]


def test_sampling_follows_softmax_of_logits_over_temperature():
    logits = np.log(np.array([0.5, 0.3, 0.15, 0.05]))
    draws = sampling.choose_next(np.tile(logits, (20000, 1)), temperature=1.0, seed=0)
    freq = np.bincount(draws, minlength=4) / len(draws)
    assert np.allclose(freq, [0.5, 0.3, 0.15, 0.05], atol=0.015)
    hot = sampling.next_token_probs(logits, temperature=2.0)
    expected = np.exp(logits / 2) / np.exp(logits / 2).sum()
    assert np.allclose(hot, expected)
    cold = sampling.next_token_probs(logits, temperature=0.25)
    assert cold[0] > 0.85


def test_top_k_and_top_p_never_leave_their_set():
    rng = np.random.default_rng(1)
    table = rng.normal(size=(V, V)) * 2
    lm = TableLM(table)
    outs = sampling.sample(lm, [0], max_new_tokens=40, top_k=2, num_samples=50, seed=0)
    for seq in outs:
        prev = 0
        for tok in seq:
            assert tok in np.argsort(-table[prev])[:2]
            prev = tok
    p = sampling.next_token_probs(table, top_p=0.6)
    for row, full in zip(p, sampling.next_token_probs(table)):
        kept = np.flatnonzero(row)
        order = np.argsort(-full)
        k = len(kept)
        assert set(kept) == set(order[:k])  # the most likely ones
        assert full[order[: k - 1]].sum() < 0.6 <= full[order[:k]].sum() + 1e-12  # and no more
    assert np.allclose(p.sum(-1), 1)


def test_seeded_sampling_repeats_and_stops_at_eos(lstm):
    a = sampling.sample(lstm, [0, 2], max_new_tokens=30, num_samples=4, seed=7)
    b = sampling.sample(lstm, [0, 2], max_new_tokens=30, num_samples=4, seed=7)
    c = sampling.sample(lstm, [0, 2], max_new_tokens=30, num_samples=4, seed=8)
    assert a == b and a != c
    minigrad.manual_seed(3)
    d = sampling.sample(lstm, [0], max_new_tokens=10)
    minigrad.manual_seed(3)
    assert sampling.sample(lstm, [0], max_new_tokens=10) == d
    table = np.full((V, V), -10.0)
    table[0, 1] = table[1, 2] = table[2, 5] = 10.0  # 0 -> 1 -> 2 -> EOS(5)
    lm = TableLM(table)
    assert sampling.sample(lm, [0], max_new_tokens=10, eos=5, temperature=0) == [[1, 2]]
    assert sampling.sample(lm, [0], max_new_tokens=10, eos=5, temperature=0, include_eos=True) == [
        [1, 2, 5]
    ]
    assert sampling.sample(lm, [0], max_new_tokens=2, temperature=0) == [[1, 2]]


def test_sample_continues_from_a_given_state(lstm):
    with minigrad.no_grad():
        _, state = lstm(minigrad.tensor([[3], [4]]))  # batch 1, as an encoder would give
    out = sampling.sample(lstm, [1], max_new_tokens=5, temperature=0, state=state, num_samples=2)
    ref = sampling.greedy(lstm, [3, 4, 1], max_new_tokens=5)
    assert out == [ref, ref]


def test_beam_search_finds_what_greedy_misses():
    # from 0: greedy takes 1 (0.6) but then must spread; 2 (0.4) leads to EOS for sure
    p = np.full((V, V), 1e-9)
    p[0, 1], p[0, 2] = 0.6, 0.4
    p[1, 3], p[1, 4] = 0.5, 0.5
    p[3, 5] = p[4, 5] = p[2, 5] = 1.0
    lm = TableLM(np.log(p))
    assert sampling.greedy(lm, [0], eos=5, max_new_tokens=5) == [1, 3]
    best = sampling.beam_search(lm, None, start=0, eos=5, beam_width=2)
    assert best[0].ids == [2] and best[0].log_prob == pytest.approx(math.log(0.4), abs=1e-6)
    assert [h.ids for h in best] == [[2], [1, 3]]
    one = sampling.beam_search(lm, None, start=0, eos=5, beam_width=1)
    assert one[0].ids == [1, 3]  # width 1 is greedy


def test_beam_search_reorders_an_rnn_state(lstm):
    with minigrad.no_grad():
        _, state = lstm(minigrad.tensor([[2], [3]]))
    hyps = sampling.beam_search(lstm, state, start=1, eos=0, beam_width=3, max_length=6)
    assert 1 <= len(hyps) <= 3
    # each hypothesis's score is its true log probability under the model
    for h in hyps:
        ids = [1] + h.ids + ([0] if len(h.ids) < 6 else [])
        ids_full = [2, 3] + ids
        lp = sampling.token_log_probs(lstm, ids_full)[2:].sum()
        assert h.log_prob == pytest.approx(lp, abs=1e-4)
    assert hyps == sorted(hyps, key=lambda h: -h.score)


def test_ngram_model_follows_the_protocol_one_call_or_step_by_step():
    ids = np.random.default_rng(0).integers(0, V, 500)
    lm = NGramLanguageModel(n=3, vocab_size=V).fit(ids)
    seq = minigrad.tensor(ids[:20, None])
    whole, _ = lm(seq)
    state, steps = None, []
    for t in range(20):
        logits, state = lm(seq[t : t + 1], state)
        steps.append(logits.numpy()[0, 0])
    assert np.allclose(whole.numpy()[:, 0], np.array(steps))
    assert np.allclose(np.exp(whole.numpy()).sum(-1), 1, atol=1e-5)


def test_argument_errors():
    lm = TableLM(np.zeros((V, V)))
    with pytest.raises(ValueError, match="temperature"):
        sampling.next_token_probs(np.zeros(3), temperature=-1)
    with pytest.raises(ValueError, match="top_p"):
        sampling.next_token_probs(np.zeros(3), top_p=0)
    with pytest.raises(ValueError, match="at least one id"):
        sampling.sample(lm, [], max_new_tokens=3)
    with pytest.raises(ValueError, match="at least two ids"):
        sampling.token_log_probs(lm, [1])
    with pytest.raises(TypeError, match=r"\(logits, state\)"):
        sampling.token_log_probs(lambda x, s=None: x, [1, 2])


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_ngram_token_log_probs_from_counts_equal_the_step_model(n):
    gen = np.random.default_rng(n)
    train = [gen.integers(0, V, 300), gen.integers(0, V // 2, 40)]  # two sequences
    lm = NGramLanguageModel(n=n, vocab_size=V).fit(train)
    ids = gen.integers(0, V, 120)  # contexts seen and unseen
    fast = lm.token_log_probs(ids)
    assert fast.shape == (119,) and fast.dtype == np.float64
    assert np.allclose(fast, sampling.token_log_probs(lm, ids), atol=1e-5)
    short = ids[:2]
    assert np.allclose(lm.token_log_probs(short), sampling.token_log_probs(lm, short), atol=1e-5)
    with pytest.raises(ValueError, match="at least two"):
        lm.token_log_probs([1])
    with pytest.raises(ValueError, match="must lie in"):
        lm.token_log_probs([0, V])
