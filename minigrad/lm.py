"""Language modelling end to end: a corpus as ids, training with truncated BPTT, text from a model.

The short path a chapter (and ``minigrad train-lm``) takes::

    corpus = load_corpus("shakespeare", level="char")          # vocab + train/validation/test ids
    model = RNNLanguageModel(len(corpus.vocab), cell="lstm")
    history = train_language_model(model, corpus, steps=2000)  # Adam, clipping, validation
    print(generate(model, corpus.vocab, "ROMEO:", temperature=0.8, seed=0))

Corpora: ``"shakespeare"`` (the plays of :func:`minigrad.data.shakespeare`, split by play),
``"names"`` (the census first names of :func:`minigrad.data.names_corpus`, one per sequence), or
the path of a UTF-8 text file (its last 10% is the validation text, the 5% before that the test
text). Words are tokenized line by line with ``<EOS>`` closing every line; characters keep the
text exactly, newlines included. Names, at either level, are separated by ``<EOS>``.
"""

from __future__ import annotations

import math
import os
import time
from typing import Any, NamedTuple

import numpy as np

from .sampling import sample
from .text import EOS, BPTTBatches, Vocab, detokenize, tokenize
from .train import History, Trainer

__all__ = ["Corpus", "generate", "load_corpus", "train_language_model"]


class _BudgetCosine:
    """Cosine decay of the learning rate to a tenth, over a budget of steps and/or seconds: the
    schedule follows whichever fraction of the budget is further along."""

    def __init__(
        self, optimizer: Any, steps: int | None, seconds: float | None, floor: float = 0.1
    ) -> None:
        self.optimizer, self.steps, self.seconds, self.floor = optimizer, steps, seconds, floor
        self.base = [g["lr"] for g in optimizer.param_groups]
        self.count, self.t0 = 0, time.perf_counter()

    def step(self) -> None:
        self.count += 1
        frac = 0.0
        if self.steps:
            frac = max(frac, self.count / self.steps)
        if self.seconds:
            frac = max(frac, (time.perf_counter() - self.t0) / self.seconds)
        factor = self.floor + (1 - self.floor) * 0.5 * (1 + math.cos(math.pi * min(frac, 1.0)))
        for g, base in zip(self.optimizer.param_groups, self.base):
            g["lr"] = base * factor


BUILTIN_CORPORA = ("shakespeare", "names")


class Corpus(NamedTuple):
    """A corpus ready for a language model: its vocabulary and three streams of ids."""

    name: str
    level: str
    vocab: Vocab
    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray
    lower: bool = False

    @property
    def sequence_mode(self) -> bool:
        """True for corpora of separate short sequences (names), False for running text."""
        return self.name == "names"

    def __repr__(self) -> str:
        return (
            f"Corpus({self.name!r}, level={self.level!r}, vocab={len(self.vocab)}, train="
            f"{len(self.train)}, validation={len(self.validation)}, test={len(self.test)} tokens)"
        )


def _encode_chars(text: str, vocab: Vocab) -> np.ndarray:
    """``vocab.encode(text)`` for a character vocabulary, vectorised through code points."""
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    if not len(codes):
        return np.zeros(0, dtype=np.int64)
    singles = {t: i for t, i in vocab.stoi.items() if len(t) == 1}
    size = int(max(codes.max(), max((ord(t) for t in singles), default=0))) + 1
    unk = vocab.unk_index
    table = np.full(size, -1 if unk is None else unk, dtype=np.int64)
    for t, i in singles.items():
        table[ord(t)] = i
    ids = table[codes]
    if unk is None and (ids < 0).any():
        bad = text[int(np.flatnonzero(ids < 0)[0])]
        raise KeyError(f"{bad!r} is not in the vocabulary, which has no <UNK> token")
    return ids


def _lines_to_ids(text: str, vocab: Vocab, lower: bool) -> np.ndarray:
    ids: list[int] = []
    for line in text.splitlines():
        toks = tokenize(line, "word", lower=lower)
        if toks:
            ids += vocab.encode(toks, add_eos=True)
    return np.asarray(ids, dtype=np.int64)


def _word_lines(text: str, lower: bool) -> list[list[str]]:
    return [t for t in (tokenize(line, "word", lower=lower) for line in text.splitlines()) if t]


def load_corpus(
    name: str,
    level: str = "char",
    max_size: int | None = None,
    min_freq: int = 1,
    lower: bool = False,
    seed: int = 0,
) -> Corpus:
    """Load ``"shakespeare"``, ``"names"`` or a text file as id streams with a vocabulary built on
    the training text (``max_size`` most frequent tokens, at least ``min_freq`` times; a word-level
    corpus defaults to 10,000 words). ``seed`` only matters for the names, which are shuffled.

    >>> corpus = load_corpus("names")
    >>> corpus
    Corpus('names', level='char', vocab=30, train=28791, validation=3665, test=3669 tokens)
    """
    if level not in ("char", "word"):
        raise ValueError(f"level must be 'char' or 'word', got {level!r}")
    if level == "word" and max_size is None:
        max_size = 10_000
    if name == "names":
        from .data import names_corpus

        parts = names_corpus(seed=seed, lower=True)
        if level != "char":
            raise ValueError("the names corpus is character-level only (level='char')")
        vocab = Vocab.build(parts.train, max_size=max_size, min_freq=min_freq, level="char")

        def stream(names: list[str]) -> np.ndarray:
            ids = [vocab.eos_index]
            for n in names:
                ids += vocab.encode(list(n), add_eos=True)
            return np.asarray(ids, dtype=np.int64)

        return Corpus(name, level, vocab, *(stream(p) for p in parts), lower=True)
    if name == "shakespeare":
        from .data import shakespeare

        texts = [shakespeare(s) for s in ("train", "validation", "test")]
    else:
        if not os.path.isfile(name):
            raise FileNotFoundError(
                f"no corpus {name!r}: use one of {BUILTIN_CORPORA} or the path of a text file"
            )
        with open(name, encoding="utf-8") as f:
            full = f.read()
        n = len(full)
        if n < 100:
            raise ValueError(f"{name} holds only {n} characters; a corpus needs more text")
        a, b = int(n * 0.85), int(n * 0.90)
        texts = [full[:a], full[b:], full[a:b]]
        name = os.path.basename(name)
    if lower:
        texts = [t.lower() for t in texts]
    if level == "char":
        vocab = Vocab.build(texts[0], max_size=max_size, min_freq=min_freq, level="char")
        ids = [_encode_chars(t, vocab) for t in texts]
    else:
        vocab = Vocab.build(
            _word_lines(texts[0], lower), max_size=max_size, min_freq=min_freq, level="word"
        )
        ids = [_lines_to_ids(t, vocab, lower) for t in texts]
    return Corpus(name, level, vocab, *ids, lower=lower)


def train_language_model(
    model: Any,
    corpus: Corpus,
    steps: int | None = None,
    max_time: float | None = None,
    epochs: int = 1000,
    batch_size: int = 64,
    seq_len: int = 100,
    lr: float = 3e-3,
    clip_grad_norm: float | None = 5.0,
    eval_every: int | None = 200,
    val_tokens: int | None = 100_000,
    weight_decay: float = 0.0,
    seed: int = 0,
    progress: bool | None = None,
    verbose: bool = False,
    on_eval: Any = None,
) -> History:
    """Train a step model on ``corpus.train`` by truncated BPTT with Adam; return the history.

    Batches are (``seq_len``, ``batch_size``) cuts of the training stream, in order, the hidden
    state carried across them, with a random start offset each epoch (drawn from ``seed``).
    Training stops after ``steps`` steps, ``max_time`` seconds, or ``epochs`` epochs, whichever
    comes first. Every ``eval_every`` steps (and at the end) the validation loss, in nats per
    token, is measured on the first ``val_tokens`` tokens of ``corpus.validation`` (all of it
    with ``val_tokens=None``). The learning rate follows a cosine from ``lr`` down to ``lr / 10``
    over the budget (steps or time, whichever runs out first).

    >>> import minigrad
    >>> from minigrad.models import RNNLanguageModel
    >>> corpus = load_corpus("names")
    >>> _ = minigrad.manual_seed(0)
    >>> model = RNNLanguageModel(len(corpus.vocab), embedding_dim=16, hidden_size=32, cell="gru")
    >>> history = train_language_model(model, corpus, steps=20, batch_size=16, seq_len=32,
    ...                                eval_every=10, progress=False)
    >>> history.steps, history.val_step, history.val_loss[-1] < history.val_loss[0]
    (20, [10, 20], True)
    """
    from .optim import Adam, AdamW

    params = list(model.parameters())
    opt = AdamW(params, lr=lr, weight_decay=weight_decay) if weight_decay else Adam(params, lr=lr)
    scheduler = _BudgetCosine(opt, steps, max_time) if (steps or max_time) else None
    train = BPTTBatches(corpus.train, batch_size, seq_len, random_offset=True, seed=seed)
    val_ids = corpus.validation if val_tokens is None else corpus.validation[: val_tokens + 1]
    val = BPTTBatches(val_ids, min(batch_size, max(1, len(val_ids) // (2 * seq_len))), seq_len)
    trainer = Trainer(
        model,
        opt,
        stateful=True,
        clip_grad_norm=clip_grad_norm,
        eval_every=eval_every,
        max_steps=steps,
        max_time=max_time,
        scheduler=scheduler,
        progress=progress,
        verbose=verbose,
        on_eval=on_eval,
        desc=f"{corpus.name} ({corpus.level})",
    )
    return trainer.fit(train, epochs=epochs, val_data=val)


def generate(
    model: Any,
    vocab: Vocab,
    prompt: str | None = None,
    max_new_tokens: int = 300,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    num_samples: int = 1,
    seed: int | None = None,
    stop_at_eos: bool | None = None,
) -> list[str] | str:
    """Text from a language model: the prompt followed by what the model writes.

    ``prompt`` is text at the vocabulary's level (what the vocabulary lacks becomes ``<UNK>``).
    The model first reads the start of a line: a newline for character-level running text, or
    ``<EOS>`` (the end of the previous line or name) otherwise; then the prompt. A word-level
    ``<EOS>`` is shown as a line break. Generation stops at ``<EOS>`` when ``stop_at_eos`` (the
    default when there is no prompt: one name, one line) or after ``max_new_tokens``. Returns
    one string, or a list of ``num_samples`` strings.

    >>> import minigrad
    >>> from minigrad.models import RNNLanguageModel
    >>> vocab = Vocab.build("to be or not to be", level="char")
    >>> _ = minigrad.manual_seed(0)
    >>> model = RNNLanguageModel(len(vocab), embedding_dim=4, hidden_size=8)   # untrained
    >>> text = generate(model, vocab, "to ", max_new_tokens=10, seed=0)
    >>> text.startswith("to "), text == generate(model, vocab, "to ", max_new_tokens=10, seed=0)
    (True, True)
    """
    if vocab.level is None:
        raise ValueError("generate needs a vocabulary built with level='char' or level='word'")
    eos = vocab.eos_index
    if vocab.level == "char" and "\n" in vocab:
        context = [vocab["\n"]]
    elif eos is not None:
        context = [eos]
    else:
        context = []
    if prompt:
        context += vocab.encode(prompt)
    if not context:
        raise ValueError(
            "give a prompt: this vocabulary has neither a newline nor <EOS> to start from"
        )
    if stop_at_eos is None:
        stop_at_eos = not prompt
    outs = sample(
        model,
        context,
        max_new_tokens,
        temperature=temperature,
        top_k=top_k,
        top_p=top_p,
        eos=eos if stop_at_eos else None,
        num_samples=num_samples,
        seed=seed,
    )
    texts = []
    for ids in outs:
        body = detokenize([("\n" if t == EOS else t) for t in vocab.decode(ids)], vocab.level)
        if (
            prompt
            and vocab.level == "word"
            and body
            and not body.startswith(("\n", ",", ".", ";", ":", "!", "?"))
        ):
            body = " " + body
        texts.append((prompt or "") + body)
    return texts if num_samples > 1 else texts[0]
