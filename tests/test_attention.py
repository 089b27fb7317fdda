"""Chapter 14's library pieces: F.scaled_dot_product_attention (against numpy and PyTorch),
AttentionSeq2Seq (padding never read, teacher forcing = step by step, generation, checkpoints,
learning) and the date_sentences task."""

from __future__ import annotations

import calendar

import numpy as np
import pytest

import minigrad
import minigrad.nn.functional as F
from minigrad.checkpoint import load_checkpoint, save_checkpoint
from minigrad.data import FILLER_WORDS, date_formats, date_sentences
from minigrad.models import AttentionSeq2Seq, AttentionState
from minigrad.sampling import beam_search, sample
from minigrad.text import pad_batch

SEQS = [[3, 4, 5, 6, 7], [8, 9], [5, 5, 4]]


def _numpy_attention(q, k, v, mask=None):
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    w = np.exp(scores - scores.max(-1, keepdims=True))
    return (w / w.sum(-1, keepdims=True)) @ v


@pytest.mark.parametrize("kind", ["none", "causal", "bool", "float"])
def test_sdpa_against_numpy_and_gradcheck(kind: str) -> None:
    rng = np.random.default_rng(0)
    q, k, v = rng.normal(size=(2, 4, 3)), rng.normal(size=(2, 5, 3)), rng.normal(size=(2, 5, 2))
    mask = rng.random((4, 5)) > 0.4
    mask[:, 0] = True
    kwargs: dict = {}
    expected_mask = None
    if kind == "causal":
        q = q[:, :, :]
        k, v = k[:, :4], v[:, :4]
        kwargs, expected_mask = {"is_causal": True}, np.tril(np.ones((4, 4), dtype=bool))
    elif kind == "bool":
        kwargs, expected_mask = {"attn_mask": mask}, mask
    elif kind == "float":
        kwargs = {"attn_mask": np.where(mask, 0.0, -np.inf)}
        expected_mask = mask
    out = F.scaled_dot_product_attention(*(minigrad.tensor(a) for a in (q, k, v)), **kwargs)
    np.testing.assert_allclose(out.numpy(), _numpy_attention(q, k, v, expected_mask), atol=1e-12)
    ts = [minigrad.tensor(a, requires_grad=True) for a in (q, k, v)]
    assert minigrad.gradcheck(lambda *t: F.scaled_dot_product_attention(*t, **kwargs), ts)


def test_sdpa_matches_pytorch(torch) -> None:
    rng = np.random.default_rng(1)
    q, k, v = rng.normal(size=(2, 3, 5, 4)), rng.normal(size=(2, 3, 6, 4)), rng.normal(
        size=(2, 3, 6, 7))
    mask = rng.random((5, 6)) > 0.3
    mask[:, 0] = True
    for kwargs in ({}, {"attn_mask": mask}, {"scale": 0.3}, {"attn_mask": rng.normal(size=(5, 6))}):
        ours = [minigrad.tensor(a, requires_grad=True) for a in (q, k, v)]
        theirs = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]
        o = F.scaled_dot_product_attention(*ours, **kwargs)
        t = torch.nn.functional.scaled_dot_product_attention(
            *theirs, **{n: torch.tensor(a) if isinstance(a, np.ndarray) else a
                        for n, a in kwargs.items()})
        (o * o).sum().backward()
        (t * t).sum().backward()
        np.testing.assert_allclose(o.detach().numpy(), t.detach().numpy(), atol=1e-10)
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), atol=1e-10)


@pytest.mark.parametrize("bidirectional", [True, False])
def test_attention_seq2seq_reads_no_padding_and_steps_agree(bidirectional: bool) -> None:
    minigrad.manual_seed(0)
    model = AttentionSeq2Seq(12, 9, embedding_dim=4, hidden_size=6,
                             bidirectional=bidirectional)
    src, lengths = pad_batch(SEQS)
    y_prev = minigrad.tensor(np.array([[2, 2, 2], [4, 5, 6], [7, 8, 4]]))
    with minigrad.no_grad():
        full = model(src, lengths, y_prev).numpy()
        weights = model.last_attention
        state = model.encode(src, lengths)
        assert isinstance(state, AttentionState)
        steps = []
        for t in range(3):
            logits, state = model.decode(y_prev[t : t + 1], state)
            steps.append(logits.numpy())
        alone = model(minigrad.tensor(np.array(SEQS[1])[:, None]), [2], y_prev[:, 1:2]).numpy()
    np.testing.assert_allclose(np.concatenate(steps), full, atol=1e-5)
    np.testing.assert_allclose(alone[:, 0], full[:, 1], atol=1e-5)
    assert weights.shape == (3, 3, 5)
    np.testing.assert_allclose(weights.sum(-1), 1.0, atol=1e-6)
    assert weights[:, 1, 2:].max() == 0.0 and weights[:, 2, 3:].max() == 0.0


def test_attention_seq2seq_generates_and_round_trips(tmp_path) -> None:
    minigrad.manual_seed(1)
    model = AttentionSeq2Seq(12, 9, embedding_dim=4, hidden_size=6)
    model.eval()
    src, lengths = pad_batch(SEQS)
    with minigrad.no_grad():
        state = model.encode(src, lengths)
    greedy = sample(model.decode, [2], max_new_tokens=5, temperature=0, eos=3, num_samples=3,
                    state=state)
    with minigrad.no_grad():
        one = model.encode(minigrad.tensor(np.array(SEQS[2])[:, None]), [3])
    beams = beam_search(model.decode, one, start=2, eos=3, beam_width=2, max_length=5)
    assert len(greedy) == 3 and beams
    save_checkpoint(tmp_path / "m.npz", model)
    again = load_checkpoint(tmp_path / "m.npz").model
    assert isinstance(again, AttentionSeq2Seq) and again.config == model.config
    for (k, v), (k2, v2) in zip(model.state_dict().items(), again.state_dict().items()):
        assert k == k2 and np.array_equal(v.numpy(), v2.numpy())


def test_attention_seq2seq_learns_to_reverse() -> None:
    minigrad.manual_seed(0)
    rng = np.random.default_rng(0)
    model = AttentionSeq2Seq(8, 8, embedding_dim=8, hidden_size=16)
    opt = minigrad.optim.Adam(model.parameters(), lr=0.02)
    for _ in range(120):
        seqs = [list(rng.integers(4, 8, size=4)) for _ in range(32)]
        src, lengths = pad_batch(seqs)
        tgt = np.array([s[::-1] + [3] for s in seqs]).T
        y_prev = np.concatenate([np.full((1, 32), 2), tgt[:-1]])
        loss = F.cross_entropy(model(src, lengths, minigrad.tensor(y_prev)).reshape(-1, 8),
                               minigrad.tensor(tgt.reshape(-1)))
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.2
    # output step t (of 4) looks mostly at source position 3 - t
    peaks = model.last_attention[:4].mean(1).argmax(-1)
    assert peaks.tolist() == [3, 2, 1, 0]


def test_date_sentences_wrap_the_same_dates() -> None:
    plain = date_formats(n_train=200, n_validation=20, n_test=20, seed=3)
    long = date_sentences(n_train=200, n_validation=20, n_test=20, seed=3, max_words=10)
    again = date_sentences(n_train=200, n_validation=20, n_test=20, seed=3, max_words=10)
    assert long == again
    for a, b in zip(plain.train + plain.test, long.train + long.test):
        assert b.target == a.target and b.format == a.format
        assert b.source[b.start : b.end] == a.source
        filler = (b.source[: b.start] + b.source[b.end :]).split()
        assert len(filler) <= 10 and all(w in FILLER_WORDS for w in filler)
    assert max(len(b.source) - len(a.source) for a, b in zip(plain.train, long.train)) > 30
    dates = {w.lower() for w in calendar.month_name[1:] + calendar.month_abbr[1:]
             + calendar.day_name[:] + calendar.day_abbr[:]}
    assert not dates & set(FILLER_WORDS)
    assert not any(ch.isdigit() for w in FILLER_WORDS for ch in w)
    assert date_sentences(n_train=5, n_validation=0, n_test=0, max_words=0).train == [
        type(long.train[0])(ex.source, ex.target, ex.format, 0, len(ex.source))
        for ex in date_formats(n_train=5, n_validation=0, n_test=0).train]
