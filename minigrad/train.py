"""A small training loop: :func:`fit` / :class:`Trainer`, its :class:`History`, and plots.

What every chapter that trains something would otherwise write out again: the loop over
batches and epochs, ``zero_grad``/``backward``/``step``, gradient clipping, the gradient norm of
every step, a validation loss every so often, a progress bar, a time or step budget, and a
figure of the curves.

>>> import minigrad, minigrad.nn as nn
>>> from minigrad.train import fit
>>> _ = minigrad.manual_seed(0)
>>> x = minigrad.randn(64, 2); y = (x[:, 0] > 0).long()
>>> model = nn.Linear(2, 2)
>>> opt = minigrad.optim.Adam(model.parameters(), lr=0.1)
>>> history = fit(model, [(x, y)], epochs=50, optimizer=opt, val_data=[(x, y)], progress=False)
>>> history
History(50 steps, 50 epochs; loss 0.1277, validation 0.1212 (best 0.1212 at step 50))

The loss function receives the model and one batch and returns a scalar loss. The default,
:func:`classification_loss`, fits batches ``(x, y)`` (and :class:`~minigrad.text.PaddedBatch`):
cross-entropy of ``model(x)`` against ``y``, over every position for sequence outputs, skipping
targets of ``-100``. For a language model trained by truncated backpropagation through time,
pass ``stateful=True`` and a loss of the form ``loss, state = loss_fn(model, batch, state)``
(:func:`language_model_loss` is one): the trainer carries the state from batch to batch,
detached, and starts afresh every epoch and every validation.

Progress bars use ``tqdm`` (``tqdm.auto``: a widget in notebooks that have ipywidgets, text
otherwise). ``progress=None`` shows one when tqdm is installed; ``progress=False`` never does,
which is what notebooks checked by nbval want, together with ``verbose=True`` for a line of
numbers at each validation.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from . import nn
from .nn import functional as F
from .nn.utils import clip_grad_norm_, clip_grad_value_
from .tensor import Tensor, no_grad

__all__ = [
    "History",
    "Trainer",
    "classification_loss",
    "detach_state",
    "fit",
    "language_model_loss",
    "plot_histories",
    "progress_bar",
]


# ----------------------------------------------------------------------------- progress bars


def progress_bar(
    total: int | None = None, desc: str | None = None, enabled: bool | None = None, **kwargs: Any
) -> Any:
    """A ``tqdm.auto`` bar, or None when ``enabled`` is False (or None and tqdm is missing).

    In a notebook without ipywidgets, tqdm.auto falls back to a text bar; the warning it gives
    about that is silenced. ``enabled=True`` without tqdm raises an ImportError naming the fix.
    """
    if enabled is False:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from tqdm.auto import tqdm
    except ImportError:
        if enabled:
            raise ImportError(
                "progress bars need the package 'tqdm': pip install tqdm (or pass progress=False)"
            ) from None
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return tqdm(total=total, desc=desc, dynamic_ncols=True, **kwargs)


# ----------------------------------------------------------------------------- losses


def _logits(out: Any) -> Tensor:
    return out[0] if isinstance(out, tuple) else out


def _cross_entropy(logits: Tensor, y: Any) -> Tensor:
    ydata = np.asarray(y.data if isinstance(y, Tensor) else y)
    if logits.ndim == ydata.ndim + 1 and logits.ndim > 2:
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), ydata.reshape(-1))
    return F.cross_entropy(logits, ydata)


def classification_loss(model: Any, batch: Any) -> Tensor:
    """Cross-entropy of the model's logits against the batch's targets (the default loss).

    ``batch`` is ``(x, y)``, calling ``model(x)``, or a :class:`~minigrad.text.PaddedBatch`,
    calling ``model(x, lengths)``. The model may return logits or ``(logits, state)``. Logits
    of shape (..., C) with targets of shape (...) are compared position by position (a
    sequence of labels, as in tagging or language modelling); targets of ``-100`` are skipped.
    """
    from .text import PaddedBatch

    if isinstance(batch, PaddedBatch):
        if batch.y is None:
            raise ValueError("classification_loss: this PaddedBatch has no targets")
        return _cross_entropy(_logits(model(batch.x, batch.lengths)), batch.y)
    try:
        x, y = batch
    except (TypeError, ValueError):
        raise TypeError(
            "the default loss expects batches (x, y); pass loss_fn=... for other batches"
        ) from None
    return _cross_entropy(_logits(model(x)), y)


def language_model_loss(
    model: Any, batch: tuple[Tensor, Tensor], state: Any = None
) -> tuple[Tensor, Any]:
    """Mean cross-entropy (nats per token) of a step model on one (T, B) batch ``(x, y)``,
    continuing from ``state``; returns ``(loss, new_state)``. Use with ``stateful=True``."""
    x, y = batch
    logits, state = model(x, state)
    return _cross_entropy(logits, y), state


def detach_state(state: Any) -> Any:
    """A copy of a recurrent state cut from the graph (tensors detached, structure kept)."""
    if isinstance(state, Tensor):
        return state.detach()
    if isinstance(state, tuple) and hasattr(state, "_fields"):
        return type(state)(*(detach_state(s) for s in state))
    if isinstance(state, (tuple, list)):
        return type(state)(detach_state(s) for s in state)
    if isinstance(state, dict):
        return {k: detach_state(v) for k, v in state.items()}
    return state


def _batch_weight(batch: Any) -> int:
    """How many targets a batch holds (targets of -100 not counted), to average losses fairly."""
    from .text import PaddedBatch

    y = (
        batch.y
        if isinstance(batch, PaddedBatch)
        else (batch[1] if isinstance(batch, (tuple, list)) and len(batch) >= 2 else None)
    )
    if y is None:
        return 1
    arr = np.asarray(y.data if isinstance(y, Tensor) else y)
    if arr.dtype.kind in "iu":
        return max(int((arr != -100).sum()), 1)
    return max(int(arr.shape[0]) if arr.ndim else 1, 1)


# ----------------------------------------------------------------------------- history


@dataclass
class History:
    """What a run recorded: per step the training loss, gradient norm (before clipping) and
    learning rate; per validation its step and loss; the steps where epochs ended; wall time.

    ``history.plot()`` draws the curves; ``History.from_dict(h.to_dict())`` round-trips (JSON).
    """

    loss: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    val_step: list[int] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    epoch_end: list[int] = field(default_factory=list)
    seconds: float = 0.0
    interrupted: bool = False

    @property
    def steps(self) -> int:
        """How many optimisation steps were taken."""
        return len(self.loss)

    @property
    def best_val_loss(self) -> float | None:
        return min(self.val_loss) if self.val_loss else None

    @property
    def best_val_step(self) -> int | None:
        return self.val_step[int(np.argmin(self.val_loss))] if self.val_loss else None

    def smoothed_loss(self, window: int | None = None) -> np.ndarray:
        """The training loss averaged over the last ``window`` steps (default: 2% of the run)."""
        loss = np.asarray(self.loss, dtype=np.float64)
        if not len(loss):
            return loss
        window = window or max(1, len(loss) // 50)
        c = np.cumsum(np.insert(loss, 0, 0.0))
        idx = np.arange(1, len(loss) + 1)
        lo = np.maximum(idx - window, 0)
        return (c[idx] - c[lo]) / (idx - lo)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> History:
        return cls(**{k: (list(v) if isinstance(v, (list, tuple)) else v) for k, v in d.items()})

    def __repr__(self) -> str:
        parts = [f"{self.steps} steps, {len(self.epoch_end)} epochs"]
        if self.loss:
            window = max(1, min(len(self.loss), 10))
            parts.append(f"loss {float(np.mean(self.loss[-window:])):.4f}")
        if self.val_loss:
            parts.append(
                f"validation {self.val_loss[-1]:.4f} (best {self.best_val_loss:.4f} at step"
                f" {self.best_val_step})"
            )
        rest = "; " + ", ".join(parts[1:]) if len(parts) > 1 else ""
        return f"History({parts[0]}{rest}{', interrupted' if self.interrupted else ''})"

    def plot(
        self,
        ax: Any = None,
        grad_norm: bool = False,
        smooth: int | None = None,
        title: str | None = None,
        label: str | None = None,
    ) -> Any:
        """Training loss (raw, faint, and smoothed) and validation loss against step; with
        ``grad_norm=True`` a second panel of the gradient norm (log scale).

        Returns the axes (a tuple of two with ``grad_norm``), as pandas and seaborn do: returning
        the figure would make Jupyter draw it twice. Needs matplotlib (imported only here)."""
        plt = _pyplot()
        if ax is None:
            ncols = 2 if grad_norm else 1
            fig, axes = plt.subplots(1, ncols, figsize=(5.5 * ncols, 3.6), squeeze=False)
            ax, gax = axes[0, 0], (axes[0, 1] if grad_norm else None)
        else:
            fig, gax = ax.figure, None
        steps = np.arange(1, self.steps + 1)
        prefix = f"{label}: " if label else ""
        if self.steps:
            ax.plot(steps, self.loss, alpha=0.25, linewidth=0.8, color="C0")
            ax.plot(steps, self.smoothed_loss(smooth), color="C0", label=f"{prefix}training")
        if self.val_loss:
            ax.plot(
                self.val_step,
                self.val_loss,
                "o-",
                color="C1",
                markersize=3,
                label=f"{prefix}validation",
            )
        ax.set_xlabel("step")
        ax.set_ylabel("loss")
        ax.legend()
        if title:
            ax.set_title(title)
        if gax is not None and self.grad_norm:
            gax.plot(steps, self.grad_norm, linewidth=0.8, color="C2")
            gax.set_yscale("log")
            gax.set_xlabel("step")
            gax.set_ylabel("gradient norm (before clipping)")
        fig.tight_layout()
        return (ax, gax) if gax is not None else ax


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError(
            "plotting needs the package 'matplotlib': pip install matplotlib"
        ) from None
    return plt


def plot_histories(
    histories: dict[str, History],
    ax: Any = None,
    validation: bool = True,
    smooth: int | None = None,
    title: str | None = None,
) -> Any:
    """Several runs on one axes, one colour each: validation loss (or smoothed training loss
    with ``validation=False``) against step. Returns the axes."""
    plt = _pyplot()
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 3.8))
    else:
        fig = ax.figure
    for i, (name, h) in enumerate(histories.items()):
        if validation and h.val_loss:
            ax.plot(h.val_step, h.val_loss, "o-", markersize=3, color=f"C{i}", label=name)
        else:
            ax.plot(np.arange(1, h.steps + 1), h.smoothed_loss(smooth), color=f"C{i}", label=name)
    ax.set_xlabel("step")
    ax.set_ylabel("validation loss" if validation else "training loss (smoothed)")
    ax.legend()
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return ax


# ----------------------------------------------------------------------------- the trainer


class Trainer:
    """Train ``model`` with ``optimizer`` on batches, recording a :class:`History`.

    Arguments:
        model: a :class:`minigrad.nn.Module` (anything with ``parameters()`` and ``train()``).
        optimizer: an optimizer over its parameters (default ``Adam(lr=1e-3)``).
        loss_fn: ``loss_fn(model, batch) -> loss``, or with ``stateful=True``
            ``loss_fn(model, batch, state) -> (loss, state)``. Default :func:`classification_loss`
            (or :func:`language_model_loss` when stateful).
        clip_grad_norm: rescale the gradients to this total norm when above it.
        clip_grad_value: clip every gradient entry to ``[-v, v]``.
        eval_every: validate every so many steps (and at the end); None: at the end of each epoch.
        max_steps, max_time: stop after this many steps or seconds, whichever comes first.
        scheduler: a learning-rate scheduler, stepped after every optimiser step.
        progress: True, False, or None (a bar if tqdm is installed).
        verbose: print one line at each validation (through the bar when there is one).
        on_eval: called as ``on_eval(trainer)`` after each validation (to print a sample, save).

    ``fit`` can be called again to continue training; the history grows.
    A ``KeyboardInterrupt`` stops training cleanly: ``fit`` returns the history so far
    (``interrupted=True``).

    >>> import minigrad, minigrad.nn as nn
    >>> _ = minigrad.manual_seed(0)
    >>> x = minigrad.randn(32, 3); y = (x.sum(1) > 0).long()
    >>> model = nn.Linear(3, 2)
    >>> trainer = Trainer(model, minigrad.optim.SGD(model.parameters(), lr=0.5),
    ...                   clip_grad_norm=1.0, eval_every=5, progress=False)
    >>> history = trainer.fit([(x, y)] * 10, val_data=[(x, y)])
    >>> history.val_step, round(trainer.evaluate([(x, y)]), 3) == round(history.val_loss[-1], 3)
    ([5, 10], True)
    """

    def __init__(
        self,
        model: Any,
        optimizer: Any = None,
        loss_fn: Callable[..., Any] | None = None,
        *,
        stateful: bool = False,
        clip_grad_norm: float | None = None,
        clip_grad_value: float | None = None,
        eval_every: int | None = None,
        max_steps: int | None = None,
        max_time: float | None = None,
        scheduler: Any = None,
        progress: bool | None = None,
        verbose: bool = False,
        desc: str | None = None,
        on_eval: Callable[[Trainer], None] | None = None,
    ) -> None:
        self.model = model
        if optimizer is None:
            from .optim import Adam

            optimizer = Adam(model.parameters(), lr=1e-3)
        self.optimizer = optimizer
        self.stateful = stateful
        self.loss_fn = loss_fn or (language_model_loss if stateful else classification_loss)
        self.clip_grad_norm, self.clip_grad_value = clip_grad_norm, clip_grad_value
        if eval_every is not None and eval_every < 1:
            raise ValueError(f"eval_every must be >= 1 or None, got {eval_every}")
        self.eval_every, self.max_steps, self.max_time = eval_every, max_steps, max_time
        self.scheduler = scheduler
        self.progress, self.verbose, self.desc = progress, verbose, desc
        self.on_eval = on_eval
        self.history = History()
        self._bar: Any = None
        self._params = [p for p in _parameters(model) if p.requires_grad]

    # -- one step
    def _compute_loss(self, batch: Any, state: Any) -> tuple[Tensor, Any]:
        if self.stateful:
            out = self.loss_fn(self.model, batch, state)
            if not (isinstance(out, tuple) and len(out) == 2):
                raise TypeError("with stateful=True, loss_fn must return (loss, state)")
            return out
        out = self.loss_fn(self.model, batch)
        return (out[0] if isinstance(out, tuple) else out), None

    def train_step(self, batch: Any, state: Any = None) -> tuple[float, Any]:
        """One optimisation step on ``batch``; returns the loss and the (detached) new state."""
        loss, state = self._compute_loss(batch, state)
        if not isinstance(loss, Tensor) or loss.numel() != 1:
            raise TypeError(f"the loss must be a scalar tensor, got {type(loss).__name__}")
        value = float(loss.item())
        if not math.isfinite(value):
            raise FloatingPointError(
                f"the training loss became {value} at step {self.history.steps + 1}; try a smaller"
                " learning rate or gradient clipping (clip_grad_norm=...)"
            )
        self.optimizer.zero_grad()
        loss.backward()
        norm = float(clip_grad_norm_(self._params, self.clip_grad_norm or math.inf))
        if self.clip_grad_value is not None:
            clip_grad_value_(self._params, self.clip_grad_value)
        self.optimizer.step()
        if self.scheduler is not None:
            self.scheduler.step()
        h = self.history
        h.loss.append(value)
        h.grad_norm.append(norm)
        h.lr.append(float(self.optimizer.param_groups[0]["lr"]))
        return value, detach_state(state)

    # -- validation
    def evaluate(self, data: Iterable[Any]) -> float:
        """The mean loss over ``data`` (weighted by the number of targets per batch), in eval
        mode and without a graph."""
        was_training = getattr(self.model, "training", True)
        if hasattr(self.model, "eval"):
            self.model.eval()
        total, weight, state = 0.0, 0, None
        try:
            with no_grad():
                for batch in data:
                    loss, state = self._compute_loss(batch, state)
                    w = _batch_weight(batch)
                    total += float(loss.item()) * w
                    weight += w
        finally:
            if was_training and hasattr(self.model, "train"):
                self.model.train(True)
        if weight == 0:
            raise ValueError("evaluate: the validation data gave no batches")
        return total / weight

    def _validate(self, val_data: Any) -> None:
        loss = self.evaluate(val_data)
        h = self.history
        h.val_step.append(h.steps)
        h.val_loss.append(loss)
        if self.verbose:
            recent = float(np.mean(h.loss[-50:])) if h.loss else float("nan")
            line = f"step {h.steps:>6}  loss {recent:.4f}  validation {loss:.4f}"
            if self._bar is not None:
                self._bar.write(line)
            else:
                print(line)
        if self.on_eval is not None:
            self.on_eval(self)

    # -- the loop
    def fit(
        self, train_data: Iterable[Any], epochs: int = 1, val_data: Iterable[Any] | None = None
    ) -> History:
        """Train for ``epochs`` passes over ``train_data`` (an iterable of batches, iterated
        afresh each epoch), or until ``max_steps``/``max_time``; validate on ``val_data``."""
        if epochs < 1:
            raise ValueError(f"epochs must be >= 1, got {epochs}")
        h = self.history
        start_step = h.steps
        try:
            per_epoch = len(train_data)  # type: ignore[arg-type]
        except TypeError:
            per_epoch = None
        total = per_epoch * epochs if per_epoch is not None else None
        if self.max_steps is not None:
            total = min(total, self.max_steps) if total is not None else self.max_steps
        self._bar = progress_bar(total=total, desc=self.desc, enabled=self.progress, leave=True)
        t0 = time.perf_counter()
        seconds0 = h.seconds
        last_val_step = -1
        if hasattr(self.model, "train"):
            self.model.train(True)
        try:
            stop = False
            for _epoch in range(epochs):
                state = None
                for batch in train_data:
                    loss, state = self.train_step(batch, state)
                    if self._bar is not None:
                        self._bar.update(1)
                        if h.steps % 10 == 0 or h.steps == start_step + 1:
                            self._bar.set_postfix(self._postfix(), refresh=False)
                    done_steps = h.steps - start_step
                    if self.max_steps is not None and done_steps >= self.max_steps:
                        stop = True
                    if self.max_time is not None and time.perf_counter() - t0 >= self.max_time:
                        stop = True
                    if val_data is not None and self.eval_every and h.steps % self.eval_every == 0:
                        self._validate(val_data)
                        last_val_step = h.steps
                        if self._bar is not None:
                            self._bar.set_postfix(self._postfix(), refresh=False)
                    if stop:
                        break
                h.epoch_end.append(h.steps)
                if val_data is not None and not self.eval_every and last_val_step != h.steps:
                    self._validate(val_data)
                    last_val_step = h.steps
                if stop:
                    break
            if val_data is not None and last_val_step != h.steps and h.steps > start_step:
                self._validate(val_data)
        except KeyboardInterrupt:
            h.interrupted = True
        finally:
            h.seconds = seconds0 + time.perf_counter() - t0
            if self._bar is not None:
                self._bar.set_postfix(self._postfix(), refresh=False)
                self._bar.close()
            self._bar = None
        return h

    def _postfix(self) -> dict[str, str]:
        h = self.history
        out = {}
        if h.loss:
            out["loss"] = f"{float(np.mean(h.loss[-20:])):.3f}"
        if h.val_loss:
            out["val"] = f"{h.val_loss[-1]:.3f}"
        if h.grad_norm:
            out["|g|"] = f"{h.grad_norm[-1]:.2f}"
        return out


def _parameters(model: Any) -> list[Tensor]:
    if isinstance(model, nn.Module) or hasattr(model, "parameters"):
        return list(model.parameters())
    if isinstance(model, Sequence):
        return [p for m in model for p in m.parameters()]
    raise TypeError(f"cannot find the parameters of {type(model).__name__}")


def fit(
    model: Any,
    train_data: Iterable[Any],
    loss_fn: Callable[..., Any] | None = None,
    optimizer: Any = None,
    epochs: int = 1,
    val_data: Iterable[Any] | None = None,
    **options: Any,
) -> History:
    """Train ``model`` on ``train_data`` and return the :class:`History`; ``options`` are those
    of :class:`Trainer` (``clip_grad_norm``, ``eval_every``, ``max_steps``, ``max_time``,
    ``stateful``, ``progress``, ``verbose``, ...)."""
    trainer = Trainer(model, optimizer, loss_fn, **options)
    return trainer.fit(train_data, epochs=epochs, val_data=val_data)
