"""minigrad.train (fit, Trainer, History, plots), minigrad.lm and checkpoints."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minigrad
import minigrad.nn as nn
from minigrad import lm
from minigrad.checkpoint import load_checkpoint, register_model, save_checkpoint
from minigrad.models import RNNLanguageModel
from minigrad.text import Batches, BPTTBatches, Vocab
from minigrad.train import History, Trainer, fit, plot_histories


def _blobs(n=128, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = rng.normal(size=(n, 2)).astype(np.float32) + 2.0 * y[:, None]
    return minigrad.tensor(x), minigrad.tensor(y)


def test_fit_learns_and_records_its_history(capsys):
    minigrad.manual_seed(0)
    x, y = _blobs()
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 2))
    batches = [(x[i : i + 32], y[i : i + 32]) for i in range(0, 128, 32)]
    h = fit(
        model,
        batches,
        epochs=10,
        optimizer=minigrad.optim.Adam(model.parameters(), lr=0.05),
        val_data=[(x, y)],
        eval_every=10,
        progress=False,
    )
    assert h.steps == 40 and len(h.grad_norm) == 40 and len(h.lr) == 40
    assert h.val_step == [10, 20, 30, 40] and h.epoch_end == list(range(4, 41, 4))
    assert h.val_loss[-1] < 0.3 < h.val_loss[0] + 0.5 and h.loss[-1] < h.loss[0]
    assert h.best_val_loss == min(h.val_loss)
    assert capsys.readouterr().err == ""  # progress=False: nothing on stderr
    assert "40 steps, 10 epochs" in repr(h) and "s)" not in repr(h).split("step")[-1]


def test_validation_at_epoch_ends_verbose_lines_and_budgets(capsys):
    x, y = _blobs(64)
    model = nn.Linear(2, 2)
    trainer = Trainer(
        model, minigrad.optim.SGD(model.parameters(), lr=0.1), progress=False, verbose=True
    )
    h = trainer.fit([(x, y)] * 3, epochs=2, val_data=[(x, y)])
    assert h.val_step == [3, 6]
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("step      3  loss ")
    h = Trainer(model, progress=False, max_steps=5).fit([(x, y)] * 3, epochs=10)
    assert h.steps == 5
    h = Trainer(model, progress=False, max_time=0.0).fit([(x, y)] * 3, epochs=10)
    assert h.steps == 1


def test_gradient_norm_is_logged_before_clipping():
    w = nn.Linear(1, 1, bias=False)
    w.weight.data[...] = 0.0
    x, y = minigrad.tensor([[10.0]]), minigrad.tensor([[0.0]])
    loss = lambda m, b: ((m(b[0]) - 5.0) ** 2).sum()  # noqa: E731 - gradient -100 at w = 0
    trainer = Trainer(
        w, minigrad.optim.SGD(w.parameters(), lr=1.0), loss, clip_grad_norm=1.0, progress=False
    )
    h = trainer.fit([(x, y)])
    assert h.grad_norm[0] == pytest.approx(100.0)
    assert w.weight.item() == pytest.approx(1.0, rel=1e-4)  # the step used the clipped gradient


def test_a_diverging_loss_is_reported_clearly():
    model = nn.Linear(1, 1)
    bad = lambda m, b: m(b) * float("nan")  # noqa: E731
    with pytest.raises(FloatingPointError, match="became nan at step 1"):
        fit(model, [minigrad.ones(1, 1)], loss_fn=lambda m, b: bad(m, b).sum(), progress=False)


def test_interrupt_returns_the_history_so_far():
    model = nn.Linear(2, 2)
    x, y = _blobs(8)

    def batches():
        yield (x, y)
        yield (x, y)
        raise KeyboardInterrupt

    class Again:
        def __iter__(self):
            return batches()

    h = fit(model, Again(), epochs=3, progress=False)
    assert h.steps == 2 and h.interrupted and "interrupted" in repr(h)


def test_stateful_language_model_training_and_evaluation():
    minigrad.manual_seed(0)
    ids = np.tile(np.arange(5), 200)  # 0 1 2 3 4 0 1 ...: perfectly predictable
    model = RNNLanguageModel(5, embedding_dim=4, hidden_size=16, cell="gru")
    trainer = Trainer(
        model,
        minigrad.optim.Adam(model.parameters(), lr=0.02),
        stateful=True,
        clip_grad_norm=5.0,
        progress=False,
    )
    h = trainer.fit(BPTTBatches(ids, 4, 10), epochs=6, val_data=BPTTBatches(ids[:200], 2, 10))
    assert h.val_loss[-1] < 0.1 and h.loss[0] > 1.0 and len(h.val_loss) == 6


def test_progress_bar_can_be_shown(capsys):
    pytest.importorskip("tqdm")
    x, y = _blobs(8)
    fit(nn.Linear(2, 2), [(x, y)] * 3, progress=True, desc="demo")
    assert "demo" in capsys.readouterr().err


def test_history_round_trip_and_plots():
    mpl = pytest.importorskip("matplotlib")
    mpl.use("Agg")
    h = History(
        loss=[3.0, 2.0, 1.5, 1.2],
        grad_norm=[5.0, 4.0, 2.0, 1.0],
        lr=[0.1] * 4,
        val_step=[2, 4],
        val_loss=[2.2, 1.4],
        epoch_end=[4],
        seconds=1.0,
    )
    back = History.from_dict(h.to_dict())
    assert back == h
    assert np.allclose(h.smoothed_loss(2), [3.0, 2.5, 1.75, 1.35])
    ax, gax = h.plot(grad_norm=True, title="demo")
    assert ax.get_title() == "demo" and gax.get_yscale() == "log"
    assert len(h.plot().lines) == 3  # raw, smoothed, validation
    assert len(plot_histories({"a": h, "b": back}).lines) == 2
    import matplotlib.pyplot as plt

    plt.close("all")


# ----------------------------------------------------------------------------- checkpoints


def test_checkpoint_round_trip(tmp_path):
    minigrad.manual_seed(0)
    vocab = Vocab.build("to be or not to be", level="char")
    model = RNNLanguageModel(len(vocab), embedding_dim=6, hidden_size=10, num_layers=2, cell="lstm")
    path = tmp_path / "sub" / "lm.npz"
    save_checkpoint(path, model, vocab, meta={"val_loss": 1.5, "history": {"loss": [2.0, 1.0]}})
    ckpt = load_checkpoint(path)
    assert ckpt.vocab == vocab and ckpt.config == model.config
    assert ckpt.meta == {"val_loss": 1.5, "history": {"loss": [2.0, 1.0]}}
    assert not ckpt.model.training
    x = minigrad.tensor(np.array([vocab.encode("to be")]).T)
    model.eval()
    a, _ = model(x)
    b, _ = ckpt.model(x)
    assert np.array_equal(a.detach().numpy(), b.detach().numpy())


def test_checkpoint_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_checkpoint(tmp_path / "missing.npz")
    minigrad.save({"a": 1}, tmp_path / "plain.npz")
    with pytest.raises(ValueError, match="not a checkpoint"):
        load_checkpoint(tmp_path / "plain.npz")

    class Unregistered(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(1, 1)

    with pytest.raises(ValueError, match="config"):
        save_checkpoint(tmp_path / "u.npz", Unregistered())
    save_checkpoint(tmp_path / "u.npz", Unregistered(), config={})
    with pytest.raises(ValueError, match="not a registered model class"):
        load_checkpoint(tmp_path / "u.npz")
    assert isinstance(load_checkpoint(tmp_path / "u.npz", model=Unregistered()).model, Unregistered)
    register_model(Unregistered)
    assert isinstance(load_checkpoint(tmp_path / "u.npz").model, Unregistered)


# ----------------------------------------------------------------------------- minigrad.lm


def test_language_model_end_to_end_on_a_text_file(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("the cat sat on the mat.\nthe dog sat on the log.\n" * 60)
    corpus = lm.load_corpus(str(path), level="char")
    assert len(corpus.train) > len(corpus.validation) > 0 and corpus.vocab.level == "char"
    minigrad.manual_seed(0)
    model = RNNLanguageModel(len(corpus.vocab), embedding_dim=8, hidden_size=32, cell="lstm")
    h = lm.train_language_model(
        model, corpus, steps=120, batch_size=8, seq_len=20, lr=1e-2, eval_every=60, progress=False
    )
    assert h.steps == 120 and h.val_loss[-1] < 1.0 < h.val_loss[0] + 2
    assert h.lr[-1] == pytest.approx(1e-3, rel=0.05)  # cosine down to a tenth
    text = lm.generate(model, corpus.vocab, "the ", max_new_tokens=40, temperature=0.5, seed=0)
    assert text.startswith("the ") and len(text) == 44
    assert (
        lm.generate(model, corpus.vocab, "the ", max_new_tokens=40, temperature=0.5, seed=0) == text
    )
    greedy = lm.generate(model, corpus.vocab, "the cat ", max_new_tokens=7, temperature=0)
    assert greedy == "the cat sat on "
    words = lm.load_corpus(str(path), level="word")
    assert words.vocab.eos_index in words.train and words.vocab.level == "word"


def test_names_corpus_for_language_models():
    pytest.importorskip("names")
    corpus = lm.load_corpus("names")
    assert corpus.sequence_mode and corpus.train[0] == corpus.vocab.eos_index
    assert len(corpus.vocab) == 4 + 26
    minigrad.manual_seed(0)
    model = RNNLanguageModel(len(corpus.vocab), embedding_dim=4, hidden_size=8, cell="rnn")
    names = lm.generate(model, corpus.vocab, num_samples=3, max_new_tokens=15, seed=0)
    assert len(names) == 3 and all(isinstance(n, str) and n for n in names)
    with pytest.raises(ValueError, match="character-level only"):
        lm.load_corpus("names", level="word")
    with pytest.raises(FileNotFoundError, match="no corpus"):
        lm.load_corpus("no-such-corpus")


def test_batches_feed_the_default_classification_loss():
    minigrad.manual_seed(0)

    class BagOfEmbeddings(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(10, 4, padding_idx=0)
            self.out = nn.Linear(4, 2)

        def forward(self, x, lengths):
            return self.out(self.emb(x).sum(0) / lengths.float().unsqueeze(1))

    rng = np.random.default_rng(0)
    data = []
    for _ in range(64):
        label = int(rng.integers(2))
        seq = rng.integers(1, 5, rng.integers(2, 6)) + 5 * label  # ids 1-4 or 6-9
        data.append((seq.tolist(), label))
    model = BagOfEmbeddings()
    h = fit(
        model,
        Batches(data, 16, seed=0),
        epochs=15,
        val_data=Batches(data, 64, shuffle=False),
        optimizer=minigrad.optim.Adam(model.parameters(), lr=0.05),
        progress=False,
    )
    assert h.val_loss[-1] < 0.1
    assert math.isfinite(h.best_val_loss)
