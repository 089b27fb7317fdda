"""Checks that grade the exercises: one module per chapter, and the framework they share.

The checks of the chapter whose notebooks are ``NN_name.ipynb`` (in ``book/``, ``solutions/`` and
``exercises/``) live in ``minigrad.checks.chNN``: ``exercises/02_building_minigrad.ipynb`` imports
``from minigrad.checks.ch02 import check_unbroadcast``. :mod:`minigrad.checks.framework` holds what
they share: cases, comparisons that say what differs, hints, and the record each check leaves for
``minigrad grade``.
"""

from __future__ import annotations

import importlib
import re
from types import ModuleType

from .framework import RESULTS, CheckResult, Exercise, exercises_of

__all__ = ["RESULTS", "CheckResult", "Exercise", "exercises_of", "module_name_for", "load_chapter"]


def module_name_for(notebook_name: str) -> str:
    """The checks module of a chapter notebook: ``"02_building_minigrad.ipynb"`` -> ``ch02``.

    Raises ``ValueError`` when the name does not start with the chapter's two-digit number.
    """
    m = re.match(r"(\d\d)_", notebook_name.rsplit("/", 1)[-1])
    if not m:
        raise ValueError(
            f"{notebook_name!r} does not start with a chapter number (NN_name.ipynb)"
        )
    return f"{__name__}.ch{m.group(1)}"


def load_chapter(module_name: str) -> tuple[ModuleType, list[Exercise]]:
    """Import a chapter's checks module and return it with its exercises, in order."""
    module = importlib.import_module(module_name)
    return module, exercises_of(module.__name__)
