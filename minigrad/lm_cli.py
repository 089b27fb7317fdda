"""``minigrad train-lm`` and ``minigrad sample``: train a language model into a checkpoint, and
write text with one.

::

    minigrad train-lm --corpus shakespeare --model lstm --steps 3000 --out shakespeare-lstm.npz
    minigrad sample shakespeare-lstm.npz --temperature 0.8 --prompt "ROMEO:"

A run with ``--steps`` (and no ``--minutes``) is reproducible: the same command and seed give the
same checkpoint on the same machine. The checkpoint records the command's settings, the loss
curves and the validation loss; ``minigrad sample CHECKPOINT --info`` prints them.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from typing import Any

from .cli import CLIError

DEFAULT_OUT = "checkpoints/{corpus}-{level}-{model}.npz"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``train-lm`` and ``sample`` to the ``minigrad`` command."""
    t = subparsers.add_parser(
        "train-lm",
        help="train a recurrent language model and save a checkpoint",
        description="Train an RNN, GRU or LSTM language model on a corpus by truncated "
        "backpropagation through time (Adam, gradient clipping, cosine learning-rate decay), "
        "report the validation loss, and save a checkpoint that `minigrad sample` can use.",
    )
    t.add_argument(
        "--corpus",
        default="shakespeare",
        help="'shakespeare', 'names', or the path of a UTF-8 text file (default shakespeare)",
    )
    t.add_argument(
        "--model",
        default="lstm",
        choices=["rnn", "gru", "lstm"],
        help="recurrent cell (default lstm)",
    )
    t.add_argument(
        "--level", default="char", choices=["char", "word"], help="tokens (default char)"
    )
    t.add_argument("--lower", action="store_true", help="lower-case the text first")
    t.add_argument(
        "--max-vocab",
        type=int,
        default=None,
        metavar="N",
        help="keep the N most frequent tokens (default: all characters; 10000 words)",
    )
    t.add_argument(
        "--min-freq", type=int, default=1, metavar="N", help="drop tokens seen fewer times"
    )
    t.add_argument("--hidden-size", type=int, default=256, metavar="H", help="default 256")
    t.add_argument("--embedding-dim", type=int, default=64, metavar="E", help="default 64")
    t.add_argument("--num-layers", type=int, default=1, metavar="L", help="default 1")
    t.add_argument("--dropout", type=float, default=0.0, metavar="P", help="default 0")
    t.add_argument(
        "--tie-weights",
        action="store_true",
        help="share the embedding matrix with the read-out (needs --embedding-dim equal to"
        " --hidden-size; saves vocabulary x hidden-size parameters on word-level models)",
    )
    t.add_argument(
        "--batch-size",
        type=int,
        default=None,
        metavar="B",
        help="default 64 for characters, 32 for words",
    )
    t.add_argument(
        "--seq-len",
        type=int,
        default=None,
        metavar="T",
        help="BPTT length (default 100 for characters, 35 for words)",
    )
    t.add_argument("--lr", type=float, default=3e-3, help="Adam learning rate (default 3e-3)")
    t.add_argument("--weight-decay", type=float, default=0.0, help="AdamW weight decay (default 0)")
    t.add_argument(
        "--clip",
        type=float,
        default=5.0,
        metavar="NORM",
        help="clip the gradient norm (default 5; 0 turns clipping off)",
    )
    t.add_argument(
        "--steps", type=int, default=None, help="optimisation steps (reproducible budget)"
    )
    t.add_argument("--minutes", type=float, default=None, help="wall-clock budget in minutes")
    t.add_argument("--epochs", type=int, default=None, help="passes over the training text")
    t.add_argument("--eval-every", type=int, default=200, metavar="STEPS", help="default 200")
    t.add_argument(
        "--val-tokens",
        type=int,
        default=100_000,
        metavar="N",
        help="validate on the first N validation tokens (0: all; default 100000)",
    )
    t.add_argument("--seed", type=int, default=0, help="default 0")
    t.add_argument(
        "--save-dtype",
        default="float32",
        choices=["float32", "float16"],
        help="precision of the weights in the checkpoint: float16 halves the file (default"
        " float32)",
    )
    t.add_argument(
        "-o", "--out", default=None, metavar="PATH", help=f"checkpoint file (default {DEFAULT_OUT})"
    )
    t.add_argument(
        "--sample-every-eval", action="store_true", help="print a short sample at each validation"
    )
    t.add_argument("--no-progress", action="store_true", help="no progress bar")
    t.add_argument("-q", "--quiet", action="store_true", help="print only the final summary")
    t.set_defaults(func=run_train)

    s = subparsers.add_parser(
        "sample",
        help="generate text from a language-model checkpoint",
        description="Write text with a checkpoint made by `minigrad train-lm` (or "
        "minigrad.checkpoint.save_checkpoint with a vocabulary).",
    )
    s.add_argument("checkpoint", help="a .npz checkpoint")
    s.add_argument(
        "--prompt", default=None, help="text to start from (default: a new line, or a new name)"
    )
    s.add_argument(
        "--length",
        type=int,
        default=500,
        metavar="N",
        help="tokens to generate at most (default 500)",
    )
    s.add_argument("--temperature", type=float, default=1.0, help="0 is greedy (default 1)")
    s.add_argument(
        "--top-k", type=int, default=None, metavar="K", help="sample among the K most likely"
    )
    s.add_argument("--top-p", type=float, default=None, metavar="P", help="nucleus sampling")
    s.add_argument("-n", "--num-samples", type=int, default=1, metavar="N", help="default 1")
    s.add_argument("--seed", type=int, default=None, help="seed for a repeatable sample")
    s.add_argument(
        "--info", action="store_true", help="print what the checkpoint holds and how it was trained"
    )
    s.set_defaults(func=run_sample)


# ----------------------------------------------------------------------------- train-lm


def _check_args(a: argparse.Namespace) -> None:
    words = a.level == "word"  # a softmax over 10,000 words: smaller batches
    if a.batch_size is None:
        a.batch_size = 32 if words else 64
    if a.seq_len is None:
        a.seq_len = 35 if words else 100
    positive = {
        "--hidden-size": a.hidden_size,
        "--embedding-dim": a.embedding_dim,
        "--num-layers": a.num_layers,
        "--batch-size": a.batch_size,
        "--seq-len": a.seq_len,
        "--eval-every": a.eval_every,
        "--min-freq": a.min_freq,
    }
    for flag, v in positive.items():
        if v < 1:
            raise CLIError(f"{flag} must be a positive integer, got {v}")
    for flag, v in {"--steps": a.steps, "--epochs": a.epochs, "--max-vocab": a.max_vocab}.items():
        if v is not None and v < 1:
            raise CLIError(f"{flag} must be a positive integer, got {v}")
    if a.minutes is not None and not a.minutes > 0:
        raise CLIError(f"--minutes must be positive, got {a.minutes}")
    if not (a.lr > 0 and math.isfinite(a.lr)):
        raise CLIError(f"--lr must be a positive number, got {a.lr}")
    if not 0 <= a.dropout < 1:
        raise CLIError(f"--dropout must be in [0, 1), got {a.dropout}")
    if a.clip < 0 or a.weight_decay < 0:
        raise CLIError("--clip and --weight-decay must be >= 0")
    if a.val_tokens < 0:
        raise CLIError(f"--val-tokens must be >= 0, got {a.val_tokens}")
    if a.steps is None and a.minutes is None and a.epochs is None:
        raise CLIError("give a budget: --steps N (reproducible), --minutes M, or --epochs E")
    if a.tie_weights and a.embedding_dim != a.hidden_size:
        raise CLIError(
            f"--tie-weights needs --embedding-dim equal to --hidden-size, got {a.embedding_dim}"
            f" and {a.hidden_size}"
        )
    if a.corpus == "names" and a.level != "char":
        raise CLIError("the names corpus is character-level only: drop --level word")


def run_train(a: argparse.Namespace) -> int:
    _check_args(a)
    import minigrad

    from .checkpoint import save_checkpoint
    from .data import MissingPackageError
    from .lm import generate, load_corpus, train_language_model
    from .models import RNNLanguageModel

    out = a.out or DEFAULT_OUT.format(
        corpus=os.path.splitext(os.path.basename(a.corpus))[0], level=a.level, model=a.model
    )
    out_dir = os.path.dirname(out) or "."
    if os.path.isdir(out):
        raise CLIError(f"--out {out} is a directory; give a file name such as {out}/model.npz")
    if os.path.exists(out_dir) and not os.access(out_dir, os.W_OK):
        raise CLIError(f"cannot write the checkpoint into {out_dir}")
    say = (lambda *x: None) if a.quiet else (lambda *x: print(*x, file=sys.stderr))
    try:
        corpus = load_corpus(
            a.corpus,
            level=a.level,
            max_size=a.max_vocab,
            min_freq=a.min_freq,
            lower=a.lower,
            seed=a.seed,
        )
    except UnicodeDecodeError as e:
        raise CLIError(f"{a.corpus} is not UTF-8 text ({e.reason} at byte {e.start})") from None
    except (MissingPackageError, FileNotFoundError, ValueError) as e:
        raise CLIError(str(e).splitlines()[0]) from None
    except OSError as e:
        raise CLIError(f"cannot read {a.corpus}: {e.strerror or e}") from None
    minigrad.manual_seed(a.seed)
    model = RNNLanguageModel(
        len(corpus.vocab),
        embedding_dim=a.embedding_dim,
        hidden_size=a.hidden_size,
        num_layers=a.num_layers,
        cell=a.model,
        dropout=a.dropout,
        tie_weights=a.tie_weights,
    )
    n_params = sum(p.numel() for p in model.parameters())
    say(f"{corpus!r}")
    say(
        f"model: {a.model.upper()} with {a.num_layers} layer(s) of {a.hidden_size},"
        f" {n_params:,} parameters"
    )

    def on_eval(trainer: Any) -> None:
        if a.sample_every_eval and not a.quiet:
            if corpus.sequence_mode:
                text = ", ".join(
                    generate(
                        model,
                        corpus.vocab,
                        None,
                        max_new_tokens=30,
                        temperature=0.8,
                        num_samples=6,
                        seed=a.seed,
                    )
                )
            else:
                text = generate(
                    model,
                    corpus.vocab,
                    None,
                    max_new_tokens=120,
                    temperature=0.8,
                    seed=a.seed,
                    stop_at_eos=False,
                )
            line = "  sample: " + text.strip().replace("\n", " / ")[:160]
            if trainer._bar is not None:
                trainer._bar.write(line, file=sys.stderr)
            else:
                print(line, file=sys.stderr)

    history = train_language_model(
        model,
        corpus,
        steps=a.steps,
        max_time=a.minutes * 60 if a.minutes else None,
        epochs=a.epochs or 10**9,
        batch_size=a.batch_size,
        seq_len=a.seq_len,
        lr=a.lr,
        clip_grad_norm=a.clip or None,
        eval_every=a.eval_every,
        val_tokens=a.val_tokens or None,
        weight_decay=a.weight_decay,
        seed=a.seed,
        progress=False if a.no_progress or a.quiet else None,
        verbose=not a.quiet,
        on_eval=on_eval,
    )
    val = history.val_loss[-1] if history.val_loss else float("nan")
    unit = "char" if a.level == "char" else "token"
    meta = {
        "command": "minigrad train-lm " + " ".join(sys.argv[2:])
        if sys.argv[1:2] == ["train-lm"]
        else None,
        "settings": {k: v for k, v in vars(a).items() if k != "func"},
        "corpus": corpus.name,
        "level": corpus.level,
        "lower": corpus.lower,
        "sequence_mode": corpus.sequence_mode,
        "steps": history.steps,
        "seconds": round(history.seconds, 1),
        "val_loss": val,
        "val_tokens": a.val_tokens or int(len(corpus.validation)),
        "history": history.to_dict(),
        "minigrad_version": minigrad.__version__,
        "saved": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    try:
        save_checkpoint(
            out,
            model,
            corpus.vocab,
            meta=meta,
            dtype=None if a.save_dtype == "float32" else a.save_dtype,
        )
    except OSError as e:
        raise CLIError(f"cannot write the checkpoint {out}: {e.strerror or e}") from None
    print(
        f"{history.steps} steps in {history.seconds:.0f} s; validation loss {val:.4f} nats/{unit}"
        f" ({val / math.log(2):.3f} bits/{unit}); checkpoint written to {out}"
        + (" (interrupted)" if history.interrupted else "")
    )
    return 0


# ----------------------------------------------------------------------------- sample


def run_sample(a: argparse.Namespace) -> int:
    if a.length < 0:
        raise CLIError(f"--length must be >= 0, got {a.length}")
    if a.temperature < 0 or not math.isfinite(a.temperature):
        raise CLIError(f"--temperature must be >= 0, got {a.temperature}")
    if a.top_k is not None and a.top_k < 1:
        raise CLIError(f"--top-k must be >= 1, got {a.top_k}")
    if a.top_p is not None and not 0 < a.top_p <= 1:
        raise CLIError(f"--top-p must be in (0, 1], got {a.top_p}")
    if a.num_samples < 1:
        raise CLIError(f"--num-samples must be >= 1, got {a.num_samples}")
    from .checkpoint import load_checkpoint
    from .lm import generate

    if not os.path.exists(a.checkpoint):
        raise CLIError(f"no such checkpoint: {a.checkpoint}")
    if os.path.isdir(a.checkpoint):
        raise CLIError(f"{a.checkpoint} is a directory, not a checkpoint file")
    try:
        ckpt = load_checkpoint(a.checkpoint)
    except (ValueError, KeyError, TypeError) as e:
        raise CLIError(
            f"cannot read {a.checkpoint} as a checkpoint: {str(e).splitlines()[0]}"
        ) from None
    except OSError as e:
        raise CLIError(f"cannot read {a.checkpoint}: {e.strerror or e}") from None
    meta = ckpt.meta
    if a.info:
        n_params = sum(p.numel() for p in ckpt.model.parameters())
        print(f"model: {type(ckpt.model).__name__} {ckpt.config} ({n_params:,} parameters)")
        if ckpt.vocab is not None:
            print(f"vocabulary: {len(ckpt.vocab)} tokens, level {ckpt.vocab.level}")
        for key in (
            "command",
            "corpus",
            "steps",
            "seconds",
            "val_loss",
            "minigrad_version",
            "saved",
        ):
            if meta.get(key) is not None:
                print(f"{key}: {meta[key]}")
        return 0
    if ckpt.vocab is None or ckpt.vocab.level is None:
        raise CLIError(
            f"{a.checkpoint} has no vocabulary with a tokenizer level, so it cannot write text"
        )
    sequence_mode = bool(meta.get("sequence_mode"))
    if meta.get("lower") and a.prompt:
        a.prompt = a.prompt.lower()
    if a.prompt and ckpt.vocab.unk_index is not None:
        unknown = sorted({t for t in ckpt.vocab.tokenize(a.prompt) if t not in ckpt.vocab})
        if unknown:
            print(
                "minigrad: note: not in the vocabulary, read as <UNK>: "
                + " ".join(map(repr, unknown)),
                file=sys.stderr,
            )
    texts = generate(
        ckpt.model,
        ckpt.vocab,
        a.prompt,
        max_new_tokens=a.length,
        temperature=a.temperature,
        top_k=a.top_k,
        top_p=a.top_p,
        num_samples=a.num_samples,
        seed=a.seed,
        stop_at_eos=sequence_mode or None,
    )
    if isinstance(texts, str):
        texts = [texts]
    sep = "\n" if sequence_mode else "\n\n"
    print(sep.join(t.rstrip("\n") for t in texts))
    return 0
