"""Exercises that grade themselves: the exercise generator and the ``minigrad grade`` command.

* :mod:`minigrad.grading.generate` writes ``exercises/`` from ``solutions/``.
* :mod:`minigrad.grading.runner` runs a notebook in a fresh kernel and scores it.
* :mod:`minigrad.grading.cli` is ``minigrad grade``.

The checks themselves live in :mod:`minigrad.checks`.
"""
