"""The notebook kernels of the book build get the environment that the tests give them.

``pytest`` (``tests/conftest.py``) runs every notebook with one BLAS thread per process: the
floating-point results of a training run then repeat exactly on one machine, and the timings of
small matrix products that some chapters measure are steady. ``jupyter-book build`` starts its
kernels from the Sphinx process, and a child process inherits its parent's environment, so setting
the same variables here, when Sphinx loads this extension and before any kernel starts, gives the
build the tests' conditions. A value the user has set already is kept.
"""

from __future__ import annotations

import os
from typing import Any

#: The thread-count variables of OpenBLAS, OpenMP and MKL, whichever numpy was built with.
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def setup(app: Any) -> dict[str, Any]:
    for var in THREAD_VARIABLES:
        os.environ.setdefault(var, "1")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
