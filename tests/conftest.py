"""Shared pytest configuration.

* ``torch`` is an optional oracle: tests that need it use the ``torch`` fixture, which skips cleanly
  where it is not installed.
* Every test starts from the same random state and the float32 default dtype.
* BLAS uses one thread per process (see below).
"""

from __future__ import annotations

import os

# pytest runs on two xdist workers (one per core) and each notebook kernel nbval starts inherits
# this environment: one BLAS thread per process, set before numpy is first imported, avoids
# oversubscribing the cores (a 5 ms RNN step measured 88-300 ms with multi-threaded OpenBLAS in two
# workers) and makes floating point results independent of the thread count.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
# CI exports MPLBACKEND=Agg (no screen). Notebook kernels inherit it, and under Agg plt.show()
# displays nothing, so a notebook shows its figures only through an explicit `%matplotlib inline`.
# Setting it here too makes a missing (or commented-out) magic fail locally as it fails in CI.
os.environ["MPLBACKEND"] = "Agg"

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import minigrad  # noqa: E402


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


@pytest.fixture
def keep_torch_threads():
    """For tests that run a benchmark's main(), which sets PyTorch's thread count: restore it.

    Yields the torch module, or None where torch is not installed (the benchmarks run without it).
    """
    try:
        import torch as torch_module
    except ImportError:
        yield None
        return
    threads = torch_module.get_num_threads()
    try:
        yield torch_module
    finally:
        torch_module.set_num_threads(threads)
