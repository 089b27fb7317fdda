"""The sequence models of Chapter 5 in minigrad.models: RNNTagger, RNNClassifier,
ConditionedLanguageModel, Seq2Seq (shapes, padding never read, step protocol, checkpoints)."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad
import minigrad.nn.functional as F
from minigrad.checkpoint import load_checkpoint, save_checkpoint
from minigrad.models import ConditionedLanguageModel, RNNClassifier, RNNTagger, Seq2Seq
from minigrad.sampling import beam_search, sample
from minigrad.text import pad_batch

SEQS = [[3, 4, 5, 6, 7], [8, 9], [5, 5, 4]]


def _alone_and_batched(model, seqs):
    x, lengths = pad_batch(seqs)
    with minigrad.no_grad():
        batched = model(x, lengths)
        alone = [model(minigrad.tensor(np.array(s)[:, None]), [len(s)]) for s in seqs]
    return batched, alone


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_tagger_reads_no_padding(cell: str, bidirectional: bool) -> None:
    model = RNNTagger(12, 3, embedding_dim=4, hidden_size=5, cell=cell,
                      bidirectional=bidirectional)
    batched, alone = _alone_and_batched(model, SEQS)
    assert batched.shape == (5, 3, 3)
    for b, (s, one) in enumerate(zip(SEQS, alone)):
        np.testing.assert_allclose(batched.numpy()[: len(s), b], one.numpy()[:, 0], atol=1e-5)


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_classifier_reads_each_sequence_own_last_state(cell: str, bidirectional: bool) -> None:
    model = RNNClassifier(12, 4, embedding_dim=4, hidden_size=5, cell=cell, num_layers=2,
                          bidirectional=bidirectional)
    batched, alone = _alone_and_batched(model, SEQS)
    assert batched.shape == (3, 4)
    for b, one in enumerate(alone):
        np.testing.assert_allclose(batched.numpy()[b], one.numpy()[0], atol=1e-5)


def test_classifier_final_state_is_the_outputs_last_row() -> None:
    model = RNNClassifier(12, 2, embedding_dim=4, hidden_size=5, bidirectional=True)
    x = minigrad.tensor(np.array(SEQS[0])[:, None])
    with minigrad.no_grad():
        out, _ = model.rnn(model.embedding(x))
        feats = minigrad.cat([out[-1, :, :5], out[0, :, 5:]], dim=1)
        np.testing.assert_allclose(model(x).numpy(), model.out(feats).numpy(), atol=1e-6)


def test_conditioned_language_model_label_sets_the_first_state() -> None:
    minigrad.manual_seed(0)
    lm = ConditionedLanguageModel(10, 2, embedding_dim=4, hidden_size=6)
    x = minigrad.tensor([[2], [5], [6]])
    with minigrad.no_grad():
        a, _ = lm(x, lm.initial_state([0]))
        b, _ = lm(x, lm.initial_state([1]))
        step, state = [], lm.initial_state([0])
        for t in range(3):
            logits, state = lm(x[t : t + 1], state)
            step.append(logits.numpy())
    assert not np.allclose(a.numpy(), b.numpy())
    np.testing.assert_allclose(np.concatenate(step), a.numpy(), atol=1e-5)
    out = sample(lm, [2], max_new_tokens=4, state=lm.initial_state([1]), num_samples=3, seed=0)
    assert len(out) == 3 and all(len(o) <= 4 for o in out)
    h, c = ConditionedLanguageModel(10, 2, hidden_size=6, cell="lstm").initial_state([0, 1])
    assert h.shape == c.shape == (1, 2, 6) and not c.numpy().any()


def test_seq2seq_teacher_forcing_equals_stepwise_decoding_and_generates() -> None:
    minigrad.manual_seed(1)
    model = Seq2Seq(12, 9, embedding_dim=4, hidden_size=6)
    src, lengths = pad_batch(SEQS)
    y_prev = minigrad.tensor(np.array([[2, 2, 2], [4, 5, 6], [7, 8, 4]]))
    with minigrad.no_grad():
        full = model(src, lengths, y_prev).numpy()
        state = model.encode(src, lengths)
        steps = []
        for t in range(3):
            logits, state = model.decode(y_prev[t : t + 1], state)
            steps.append(logits.numpy())
        alone = model.encode(minigrad.tensor(np.array(SEQS[1])[:, None]), [2])
        batched = model.encode(src, lengths)
    np.testing.assert_allclose(np.concatenate(steps), full, atol=1e-5)
    np.testing.assert_allclose(alone.numpy()[:, 0], batched.numpy()[:, 1], atol=1e-5)
    model.eval()
    with minigrad.no_grad():
        state = model.encode(src, lengths)
    greedy = sample(model.decode, [2], max_new_tokens=5, temperature=0, eos=3, num_samples=3,
                    state=state)
    assert len(greedy) == 3
    with minigrad.no_grad():
        one = model.encode(minigrad.tensor(np.array(SEQS[2])[:, None]), [3])
    beams = beam_search(model.decode, one, start=2, eos=3, beam_width=1, max_length=5)
    assert beams[0].ids[: len(greedy[2])] == greedy[2][: len(beams[0].ids)]


def test_seq2seq_learns_to_reverse() -> None:
    minigrad.manual_seed(0)
    rng = np.random.default_rng(0)
    model = Seq2Seq(8, 8, embedding_dim=8, hidden_size=32)
    opt = minigrad.optim.Adam(model.parameters(), lr=0.02)
    for _ in range(150):
        seqs = [list(rng.integers(4, 8, size=3)) for _ in range(32)]
        src, lengths = pad_batch(seqs)
        tgt = np.array([s[::-1] + [3] for s in seqs]).T
        y_prev = np.concatenate([np.full((1, 32), 2), tgt[:-1]])
        loss = F.cross_entropy(model(src, lengths, minigrad.tensor(y_prev)).reshape(-1, 8),
                               minigrad.tensor(tgt.reshape(-1)))
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.2


@pytest.mark.parametrize("make", [
    lambda: RNNTagger(12, 3, embedding_dim=4, hidden_size=5, bidirectional=True),
    lambda: RNNClassifier(12, 3, embedding_dim=4, hidden_size=5, cell="lstm"),
    lambda: ConditionedLanguageModel(12, 2, embedding_dim=4, hidden_size=5),
    lambda: Seq2Seq(12, 7, embedding_dim=4, hidden_size=5),
])
def test_checkpoints_rebuild_them(make, tmp_path) -> None:
    model = make()
    save_checkpoint(tmp_path / "m.npz", model)
    again = load_checkpoint(tmp_path / "m.npz").model
    assert type(again) is type(model)
    for (k, v), (k2, v2) in zip(model.state_dict().items(), again.state_dict().items()):
        assert k == k2 and np.array_equal(v.numpy(), v2.numpy())


def test_bad_cell() -> None:
    with pytest.raises(ValueError, match="cell must be one of"):
        RNNTagger(5, 2, cell="transformer")
