"""Shared pytest configuration.

* ``torch`` is an optional oracle: tests that need it use the ``torch`` fixture, which skips cleanly
  where it is not installed.
* Every test starts from the same random state and the float32 default dtype.
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad


@pytest.fixture(autouse=True)
def _reset_minigrad_state():
    minigrad.manual_seed(0)
    minigrad.set_default_dtype(minigrad.float32)
    yield
    minigrad.set_default_dtype(minigrad.float32)


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


@pytest.fixture
def rng():
    return np.random.default_rng(0)
