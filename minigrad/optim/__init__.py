"""Optimizers (SGD, Adam, AdamW) and learning-rate schedules, matching PyTorch's update rules."""

from . import lr_scheduler
from .optimizer import SGD, Adam, AdamW, Optimizer

__all__ = ["SGD", "Adam", "AdamW", "Optimizer", "lr_scheduler"]
