"""The number-agreement sweep: a recurrent classifier's accuracy against the subject-verb distance.

One command trains one kind of recurrent layer at every distance and seed, with the same data,
model size and training budget for every kind, and writes the results and the trained weights to
``book/checkpoints/agreement_<cell>.npz``::

    python -m minigrad.recipes.agreement --cell rnn
    python -m minigrad.recipes.agreement --cell gru
    python -m minigrad.recipes.agreement --cell lstm

The task is :func:`minigrad.data.number_agreement`: read "the cats that the dog chased near the
old barn ..." word by word and say whether the verb that follows is *was* (0) or *were* (1); only
the subject, the second word, decides, ``distance`` words before the verb. The model
(:class:`AgreementClassifier`) is an embedding, one recurrent layer and a linear read-out of the
last state, trained with Adam on the binary cross-entropy for 1,500 steps of 32 sentences, the
gradient clipped at norm 5, at each of two learning rates (0.01 and 0.001; :func:`best_lr` picks
one per distance on the validation sentences). The data of a run depend only on its distance and
seed, and so do the initialisation of the embedding and of the read-out and the order of the
batches: two kinds of cell trained with the same seed see the same sentences in the same order.

The kinds (``--cell``), all with ``hidden`` units:

* ``rnn``: ``nn.RNN``, tanh, PyTorch's initialisation U(-1/sqrt(H), 1/sqrt(H));
* ``gru``: ``nn.GRU``;  ``lstm``: ``nn.LSTM``;
* ``irnn``: ``nn.RNN`` with relu, the recurrent weights the identity and the biases zero, the
  input weights from N(0, 0.001^2) (Le, Jaitly and Hinton, 2015);
* ``residual``: a tanh RNN with a skip connection from each state to the next,
  ``a<t> = a<t-1> + tanh(W_aa a<t-1> + W_ax x<t> + b_a)`` (:class:`ResidualRNN`).

Read a sweep back with :func:`load_sweep`, and rebuild one of its models with
:func:`load_model`; :func:`evaluate` measures a model's accuracy on sentences of the sweep's
vocabulary. Run ``python -m minigrad.recipes.agreement --help`` for the options (distances,
seeds, steps ...); the defaults are what the book's checkpoints were made with.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import nn, no_grad, optim, tensor
from ..data import number_agreement
from ..nn import functional as F
from ..random import manual_seed
from ..serialization import load, save
from ..tensor import Tensor, stack
from ..text import Vocab

__all__ = [
    "CELLS",
    "DEFAULTS",
    "AgreementClassifier",
    "ResidualRNN",
    "agreement_data",
    "best_lr",
    "encode",
    "evaluate",
    "load_model",
    "load_sweep",
    "main",
    "make_vocab",
    "run_key",
    "subject_gradient_ratio",
    "sweep",
    "train_one",
]

#: The kinds of recurrent layer the sweep can train (``--cell``).
CELLS = ("rnn", "gru", "lstm", "irnn", "residual")

#: The settings of the book's checkpoints.
DEFAULTS: dict[str, Any] = {
    "distances": [2, 5, 10, 15, 20, 25, 30, 40, 50],
    "seeds": [0, 1, 2],
    "lrs": [0.01, 0.001],
    "steps": 1500,
    "batch_size": 32,
    "clip": 5.0,
    "embedding_dim": 16,
    "hidden_size": 32,
    "eval_every": 100,
    "n_train": 10000,
    "n_validation": 500,
    "n_test": 1000,
}


def make_vocab() -> Vocab:
    """The sweep's vocabulary: every word the task generator produces, plus ``<UNK>``.

    Built from 2,000 sentences at distances 0 to 60 drawn with a seed of their own, so that it is
    the same for every run and every kind of cell.
    """
    train, _, _ = number_agreement(
        distance=(0, 60), n_train=2000, n_validation=0, n_test=0, seed=12345
    )
    return Vocab.build([ex.words for ex in train], specials=["<UNK>"])


def encode(examples: Sequence[Any], vocab: Vocab) -> tuple[Tensor, Tensor]:
    """Word ids ``(T, N)`` (all examples have one length) and labels ``(N,)`` as float32."""
    ids = np.array([vocab.encode(ex.words) for ex in examples], dtype=np.int64).T
    labels = np.array([ex.label for ex in examples], dtype=np.float32)
    return tensor(ids), tensor(labels)


class ResidualRNN(nn.Module):
    """A tanh RNN with a skip connection in time: ``a<t> = a<t-1> + tanh(W_aa a<t-1> + W_ax x<t>
    + b_a)``, from ``a<0> = 0``.

    The Jacobian of a step is ``I + diag(1 - tanh^2) W_aa``: the identity term carries a gradient
    back unchanged, whatever the weights. Its parameters are those of ``nn.RNNCell``
    (``cell.weight_ih`` is ``W_ax``, ``cell.weight_hh`` is ``W_aa``). ``forward(x)`` takes
    ``(T, B, input_size)`` and returns the states ``(T, B, H)`` and the last one ``(1, B, H)``, like
    ``nn.RNN``.
    """

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.cell = nn.RNNCell(input_size, hidden_size)
        self.hidden_size = hidden_size

    def forward(self, x: Tensor, hx: Any = None) -> tuple[Tensor, Tensor]:
        a = hx[0] if hx is not None else None
        states = []
        for t in range(x.shape[0]):
            step = self.cell(x[t], a)
            a = step if a is None else a + step
            states.append(a)
        out = stack(states)
        return out, out[-1:]


def _recurrent(cell: str, input_size: int, hidden_size: int) -> nn.Module:
    if cell == "rnn":
        return nn.RNN(input_size, hidden_size)
    if cell == "gru":
        return nn.GRU(input_size, hidden_size)
    if cell == "lstm":
        return nn.LSTM(input_size, hidden_size)
    if cell == "irnn":
        rnn = nn.RNN(input_size, hidden_size, nonlinearity="relu")
        nn.init.eye_(rnn.weight_hh_l0)
        nn.init.zeros_(rnn.bias_hh_l0)
        nn.init.zeros_(rnn.bias_ih_l0)
        nn.init.normal_(rnn.weight_ih_l0, 0.0, 0.001)
        return rnn
    if cell == "residual":
        return ResidualRNN(input_size, hidden_size)
    raise ValueError(f"unknown cell {cell!r}; choose one of {', '.join(CELLS)}")


class AgreementClassifier(nn.Module):
    """Embedding, one recurrent layer, and a linear read-out of the last state: one logit per
    sentence (positive: *were*).

    ``forward(ids)`` takes word ids ``(T, B)`` and returns the logits ``(B,)``.
    """

    def __init__(
        self, vocab_size: int, cell: str = "rnn", embedding_dim: int = 16, hidden_size: int = 32
    ) -> None:
        super().__init__()
        self.config = {
            "vocab_size": vocab_size,
            "cell": cell,
            "embedding_dim": embedding_dim,
            "hidden_size": hidden_size,
        }
        self.embedding = nn.Embedding(vocab_size, embedding_dim)
        self.head = nn.Linear(hidden_size, 1)
        self.rnn = _recurrent(cell, embedding_dim, hidden_size)  # created last: see train_one

    def forward(self, ids: Tensor) -> Tensor:
        out, _ = self.rnn(self.embedding(ids))
        return self.head(out[-1]).squeeze(-1)


def evaluate(model: nn.Module, ids: Tensor, labels: Tensor, batch_size: int = 500) -> float:
    """The fraction of sentences whose label the model gets right (logit > 0 means 1)."""
    right = 0
    with no_grad():
        for i in range(0, ids.shape[1], batch_size):
            pred = model(ids[:, i : i + batch_size]).numpy() > 0
            right += int((pred == (labels[i : i + batch_size].numpy() > 0.5)).sum())
    return right / ids.shape[1]


def agreement_data(
    distance: int,
    seed: int,
    n_train: int = DEFAULTS["n_train"],
    n_validation: int = DEFAULTS["n_validation"],
    n_test: int = DEFAULTS["n_test"],
) -> tuple[list[Any], list[Any], list[Any]]:
    """The sentences of one run: ``number_agreement(distance, ...)`` with the seed
    ``1000 * distance + seed``, so that every distance has sentences of its own."""
    return number_agreement(
        distance=distance,
        n_train=n_train,
        n_validation=n_validation,
        n_test=n_test,
        seed=1000 * distance + seed,
    )


def subject_gradient_ratio(model: AgreementClassifier, ids: Tensor, labels: Tensor) -> float:
    """How much of the loss's gradient reaches the subject: the norm of the gradient with respect
    to the subject's embedding (the second word) over that of the last word's embedding."""
    x = model.embedding(ids)
    x.retain_grad()
    out, _ = model.rnn(x)
    loss = F.binary_cross_entropy_with_logits(model.head(out[-1]).squeeze(-1), labels)
    loss.backward()
    g = x.grad.numpy()
    model.zero_grad()
    return float(np.linalg.norm(g[1]) / max(np.linalg.norm(g[-1]), 1e-30))


def train_one(
    cell: str,
    distance: int,
    seed: int,
    vocab: Vocab,
    *,
    lr: float,
    steps: int,
    batch_size: int,
    clip: float,
    embedding_dim: int,
    hidden_size: int,
    eval_every: int,
    n_train: int,
    n_validation: int,
    n_test: int,
) -> tuple[AgreementClassifier, dict[str, Any]]:
    """Train one model; return it and its record (curves, test accuracy, seconds).

    The sentences come from :func:`agreement_data`; training runs ``steps`` batches of
    ``batch_size``, drawn in a new random order at every pass over the ``n_train`` sentences. The
    record holds, after every ``eval_every`` steps, the training loss averaged over them, the
    validation accuracy and :func:`subject_gradient_ratio` on the first 100 validation sentences;
    the gradient norm (before clipping) of every step; and the accuracy on the ``n_test`` test
    sentences at the end.
    """
    train, val, test = agreement_data(distance, seed, n_train, n_validation, n_test)
    x_train, y_train = encode(train, vocab)
    x_val, y_val = encode(val, vocab)
    x_test, y_test = encode(test, vocab)
    manual_seed(seed)
    model = AgreementClassifier(len(vocab), cell, embedding_dim, hidden_size)
    opt = optim.Adam(model.parameters(), lr=lr)
    order_rng = np.random.default_rng(seed)
    order, pos = order_rng.permutation(n_train), 0
    start = time.perf_counter()
    losses, grad_norms = [], []
    curve: dict[str, list[float]] = {
        "steps": [],
        "loss": [],
        "val_accuracy": [],
        "subject_gradient": [],
    }
    for step in range(1, steps + 1):
        if pos + batch_size > n_train:
            order, pos = order_rng.permutation(n_train), 0
        idx = tensor(order[pos : pos + batch_size])
        pos += batch_size
        loss = F.binary_cross_entropy_with_logits(model(x_train[:, idx]), y_train[idx])
        opt.zero_grad()
        loss.backward()
        grad_norms.append(float(nn.utils.clip_grad_norm_(model.parameters(), clip)))
        opt.step()
        losses.append(float(loss))
        if step % eval_every == 0 or step == steps:
            curve["steps"].append(step)
            curve["loss"].append(float(np.mean(losses[-eval_every:])))
            curve["val_accuracy"].append(evaluate(model, x_val, y_val))
            curve["subject_gradient"].append(
                subject_gradient_ratio(model, x_val[:, :100], y_val[:100])
            )
    record = {
        "cell": cell,
        "distance": distance,
        "seed": seed,
        "lr": lr,
        "test_accuracy": evaluate(model, x_test, y_test),
        "curve": curve,
        "grad_norm": np.array(grad_norms, dtype=np.float32),
        "seconds": time.perf_counter() - start,
    }
    return model, record


def sweep(
    cell: str,
    distances: Sequence[int] = DEFAULTS["distances"],
    seeds: Sequence[int] = DEFAULTS["seeds"],
    lrs: Sequence[float] = DEFAULTS["lrs"],
    verbose: bool = True,
    **settings: Any,
) -> dict[str, Any]:
    """Train ``cell`` at every learning rate, distance and seed; return what :func:`main` saves.

    ``settings`` override the other :data:`DEFAULTS` (``steps``, ``hidden_size`` ...). The result
    holds the settings, the vocabulary, ``(len(lrs), len(distances), len(seeds))`` arrays of the
    test accuracy and of the last validation accuracy, every run's record and every model's state
    dict, keyed as :func:`run_key` says.
    """
    config = {k: v for k, v in DEFAULTS.items() if k not in ("distances", "seeds", "lrs")}
    unknown = set(settings) - set(config)
    if unknown:
        raise TypeError(f"unknown settings: {sorted(unknown)}")
    config.update(settings)
    vocab = make_vocab()
    shape = (len(lrs), len(distances), len(seeds))
    test_accuracy, val_accuracy = np.zeros(shape), np.zeros(shape)
    runs, states = {}, {}
    for i, lr in enumerate(lrs):
        for j, d in enumerate(distances):
            for k, s in enumerate(seeds):
                model, record = train_one(cell, int(d), int(s), vocab, lr=float(lr), **config)
                key = run_key(lr, d, s)
                runs[key] = record
                test_accuracy[i, j, k] = record["test_accuracy"]
                val_accuracy[i, j, k] = record["curve"]["val_accuracy"][-1]
                states[key] = {n: v.data.astype(np.float32) for n, v in model.state_dict().items()}
                if verbose:
                    print(
                        f"{cell:>8}  lr {lr:g}  distance {d:>3}  seed {s}  test accuracy "
                        f"{record['test_accuracy']:.3f}  ({record['seconds']:.0f} s)",
                        flush=True,
                    )
    return {
        "cell": cell,
        "lrs": [float(x) for x in lrs],
        "distances": [int(d) for d in distances],
        "seeds": [int(s) for s in seeds],
        "config": config,
        "vocab": vocab.to_dict(),
        "test_accuracy": test_accuracy,
        "val_accuracy": val_accuracy,
        "runs": runs,
        "states": states,
    }


def run_key(lr: float, distance: int, seed: int) -> str:
    """How a sweep names one run: ``"lr0.01_d30_s2"``."""
    return f"lr{float(lr):g}_d{int(distance)}_s{int(seed)}"


def best_lr(result: dict[str, Any]) -> list[float]:
    """For every distance of a sweep, the learning rate whose runs end with the highest mean
    validation accuracy over the seeds (the first of equals): the model selection the book uses,
    which never looks at the test sentences."""
    mean = result["val_accuracy"].mean(axis=2)  # (lrs, distances)
    return [result["lrs"][int(np.argmax(mean[:, j]))] for j in range(mean.shape[1])]


def load_sweep(path: str | os.PathLike) -> dict[str, Any]:
    """Read a file written by :func:`main`: a dict with ``cell``, ``distances``, ``seeds``,
    ``config``, ``vocab`` (a :class:`~minigrad.text.Vocab`), ``test_accuracy`` (distances x seeds),
    ``runs`` and ``states``."""
    result = load(path)
    result["vocab"] = Vocab.from_dict(result["vocab"])
    return result


def load_model(result: dict[str, Any], lr: float, distance: int, seed: int) -> AgreementClassifier:
    """The trained model of one run of a sweep read by :func:`load_sweep`, in eval mode."""
    cfg = result["config"]
    model = AgreementClassifier(
        len(result["vocab"]), result["cell"], cfg["embedding_dim"], cfg["hidden_size"]
    )
    model.load_state_dict(result["states"][run_key(lr, distance, seed)])
    return model.eval()


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m minigrad.recipes.agreement --cell {rnn,gru,lstm,irnn,residual}``."""
    parser = argparse.ArgumentParser(
        prog="python -m minigrad.recipes.agreement",
        description="Train a recurrent classifier on number agreement at every distance and seed.",
    )
    parser.add_argument("--cell", choices=CELLS, required=True)
    parser.add_argument("--distances", type=int, nargs="+", default=DEFAULTS["distances"])
    parser.add_argument("--seeds", type=int, nargs="+", default=DEFAULTS["seeds"])
    for name in (
        "steps",
        "batch_size",
        "embedding_dim",
        "hidden_size",
        "eval_every",
        "n_train",
        "n_validation",
        "n_test",
    ):
        parser.add_argument(f"--{name.replace('_', '-')}", type=int, default=DEFAULTS[name])
    parser.add_argument(
        "--lr",
        type=float,
        nargs="+",
        default=DEFAULTS["lrs"],
        help="one or more learning rates (default 0.01 0.001)",
    )
    parser.add_argument("--clip", type=float, default=DEFAULTS["clip"])
    parser.add_argument(
        "--out",
        default=None,
        help="the file to write (default book/checkpoints/agreement_<cell>.npz)",
    )
    args = parser.parse_args(argv)
    settings = {k: getattr(args, k) for k in DEFAULTS if k not in ("distances", "seeds", "lrs")}
    result = sweep(args.cell, args.distances, args.seeds, args.lr, **settings)
    out = args.out or os.path.join("book", "checkpoints", f"agreement_{args.cell}.npz")
    if os.path.dirname(out):
        os.makedirs(os.path.dirname(out), exist_ok=True)
    save(result, out)
    print(f"wrote {out} ({os.path.getsize(out) / 2**20:.2f} MiB)")


if __name__ == "__main__":
    main()
