"""Speed of the engine itself, against PyTorch CPU in the same run.

1. Autograd overhead per graph node: forward and backward of a long chain of tiny elementwise ops
   (so that the arithmetic costs nothing and what is left is bookkeeping), in microseconds per op.
2. A matmul-heavy MLP training step (forward, cross-entropy, backward, Adam) in float32.

Run: ``python benchmarks/bench_core.py`` (``--quick`` for a fast smoke run). Not a test: it prints.

``--instructions`` also counts the instructions minigrad executes per op of the chain, with
valgrind's callgrind (when valgrind is installed; about a minute). On a shared machine the time of
the same code drifts by half from one hour to the next; the count does not, so it is the figure to
compare two versions of the engine by.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F


def median_time(fn, repeat: int, warmup: int = 2) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


CHAIN_SCRIPT = """
import gc, statistics, sys, time
lib = sys.argv[1]
n, repeat = int(sys.argv[2]), int(sys.argv[3])
if lib == "minigrad":
    import minigrad as L
else:
    import torch as L
    L.set_num_threads(int(sys.argv[4]))

def chain():
    x = L.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x
    for i in range(n):
        y = y * 1.0001 if i % 2 else y + 0.5
    y.sum().backward()

times = []
for r in range(repeat + 2):
    t0 = time.perf_counter()
    chain()
    if r >= 2:
        times.append(time.perf_counter() - t0)
print(statistics.median(times) / n * 1e6)
"""


def chain_in_fresh_process(lib: str, n: int, repeat: int, threads: int) -> float:
    """Microseconds per op of the chain, in a new interpreter that imports only ``lib``.

    A fresh process each: Python's full garbage collections scan every live object, so timing
    minigrad after ``import torch`` (hundreds of thousands of objects) would charge it for torch's.
    """
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", CHAIN_SCRIPT, lib, str(n), str(repeat), str(threads)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip())


def parse_collected(valgrind_stderr: str) -> int:
    """The total instruction count from callgrind's summary line ``==pid== Collected : N``."""
    import re

    m = re.search(r"Collected\s*:\s*(\d+)", valgrind_stderr)
    if m is None:
        raise ValueError("no 'Collected : N' line in valgrind's output:\n" + valgrind_stderr[-500:])
    return int(m.group(1))


def chain_instructions(n: int) -> float | None:
    """Instructions per op of minigrad's chain, counted by callgrind; None without valgrind.

    The chain script runs its chain ``repeat + 2`` times; the counts of ``repeat`` 1 and 3 differ by
    two chains, so their difference over ``2 n`` is the cost of one op, start-up excluded.
    """
    import shutil
    import subprocess
    import sys

    if shutil.which("valgrind") is None:
        return None
    counts = []
    for repeat in (1, 3):
        out = subprocess.run(
            ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
             "-c", CHAIN_SCRIPT, "minigrad", str(n), str(repeat), "1"],
            capture_output=True,
            text=True,
            check=True,
        )
        counts.append(parse_collected(out.stderr))
    return (counts[1] - counts[0]) / (2 * n)


def mlp_step_factory(lib, nn_mod, F_mod, optim, sizes, batch, seed=0):
    rng = np.random.default_rng(seed)
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn_mod.Linear(a, b), nn_mod.ReLU()]
    model = nn_mod.Sequential(*layers[:-1])
    opt = optim.Adam(model.parameters(), lr=1e-3)
    x = lib.tensor(rng.normal(size=(batch, sizes[0])).astype(np.float32))
    y = lib.tensor(rng.integers(0, sizes[-1], batch))

    def step():
        opt.zero_grad()
        loss = F_mod.cross_entropy(model(x), y)
        loss.backward()
        opt.step()

    return step


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, few repeats")
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="also count minigrad's instructions per op with valgrind (about a minute)",
    )
    args = parser.parse_args(argv)
    try:
        import torch
    except ImportError:  # pragma: no cover
        torch = None
    threads = int(os.environ.get("OMP_NUM_THREADS", os.cpu_count() or 1))
    if torch is not None:
        torch.set_num_threads(threads)

    n = 2_000 if args.quick else 20_000
    repeat = 3 if args.quick else 7
    print(
        f"threads: {threads}; numpy {np.__version__}"
        + (f"; torch {torch.__version__}" if torch else "")
    )
    print(f"\n1. autograd overhead: chain of {n} elementwise ops on a 3-vector, forward + backward")
    print("   (each library in a fresh interpreter; the raw numpy op it wraps is shown for scale)")
    a = np.array([1.0, 2.0, 3.0])
    raw = median_time(lambda: [a * 1.0001 for _ in range(10_000)], repeat) / 10_000 * 1e6
    print(f"   one numpy multiply of a 3-vector: {raw:.2f} us (forward and backward each do one)")
    us_mg = chain_in_fresh_process("minigrad", n, repeat, threads)
    print(f"   minigrad  {us_mg:6.2f} us per op   (target: at most 5)")
    results = {"numpy_multiply_us": raw, "minigrad_us_per_op": us_mg}
    if torch is not None:
        us_t = chain_in_fresh_process("torch", n, repeat, threads)
        print(f"   torch     {us_t:6.2f} us per op   ratio minigrad/torch {us_mg / us_t:.2f}")
        results["torch_us_per_op"] = us_t
    if args.instructions:
        count = chain_instructions(n)
        if count is None:
            print("   instructions: valgrind is not installed (apt install valgrind)")
        else:
            print(f"   minigrad  {count:,.0f} instructions per op (callgrind)")
            results["minigrad_instructions_per_op"] = count

    sizes = [784, 256, 256, 10] if args.quick else [784, 1024, 1024, 10]
    batch = 64 if args.quick else 256
    print(f"\n2. MLP training step {sizes}, batch {batch}, float32, Adam")
    step_mg = mlp_step_factory(mg, nn, F, mg.optim, sizes, batch)
    t_mg = median_time(step_mg, repeat * 3)
    print(f"   minigrad  {t_mg * 1e3:7.2f} ms")
    results["minigrad_mlp_ms"] = t_mg * 1e3
    if torch is not None:
        step_t = mlp_step_factory(torch, torch.nn, torch.nn.functional, torch.optim, sizes, batch)
        t_t = median_time(step_t, repeat * 3)
        print(
            f"   torch     {t_t * 1e3:7.2f} ms   ratio minigrad/torch {t_mg / t_t:.2f}"
            "   (target: at most 1.2)"
        )
        results["torch_mlp_ms"] = t_t * 1e3
    return results


if __name__ == "__main__":
    main()
