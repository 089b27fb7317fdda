"""Speed of the engine itself, against PyTorch CPU in the same run.

1. Autograd overhead per graph node: forward and backward of a long chain of tiny elementwise ops
   (so that the arithmetic costs nothing and what is left is bookkeeping), in microseconds per op.
2. A matmul-heavy MLP training step (forward, cross-entropy, backward, Adam) in float32.

Run: ``python benchmarks/bench_core.py`` (``--quick`` for a fast smoke run). Not a test: it prints.

The two libraries take turns, ``--rounds`` times (5 by default), and each ratio is taken within a
round: on a shared machine the speed of the same code drifts from minute to minute (the MLP ratio
measured 0.89 to 1.28 in single runs of one afternoon), and a median of paired ratios is steadier
than one ratio of two measurements taken a minute apart.

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


def spread(values: list[float], unit: str) -> str:
    """The median of one figure over the rounds, and its range when there are several."""
    med = statistics.median(values)
    text = f"{med:7.2f} {unit}".rstrip()
    if len(values) > 1:
        text += f" (median of {len(values)}; {min(values):.2f} to {max(values):.2f})"
    return text


CHAIN_SCRIPT = """
import gc, statistics, sys, time
lib = sys.argv[1]
n, repeat = int(sys.argv[2]), int(sys.argv[3])
if sys.argv[5:] == ["nogc"]:
    gc.disable()
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
    two chains, so their difference over ``2 n`` is the cost of one op, start-up excluded. The
    garbage collector is off for the count (it is about a tenth of the time): when it runs a full
    collection depends on everything the interpreter has allocated since it started, so the
    difference of two runs with it on came out anywhere from 22,500 to 30,500 for the same code,
    depending on the directory the script was started from.
    """
    import shutil
    import subprocess
    import sys

    if shutil.which("valgrind") is None:
        return None
    # a fixed hash seed: string hashes decide the layout of every dict, and with a random seed
    # the count of the same code varied by up to a tenth between runs (24,717 and 28,115)
    # and one BLAS thread: callgrind runs threads one at a time and counts the instructions of
    # OpenBLAS's idle workers spinning while they wait for work, which varied from run to run
    env = dict(os.environ, PYTHONHASHSEED="0", OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
               MKL_NUM_THREADS="1")
    # import once outside valgrind: a first import after an edit compiles the changed modules,
    # which would land in the first count only (once making the difference negative)
    subprocess.run([sys.executable, "-c", "import minigrad"], check=True, env=env)
    counts = []
    for repeat in (1, 3):
        out = subprocess.run(
            ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
             "-c", CHAIN_SCRIPT, "minigrad", str(n), str(repeat), "1", "nogc"],
            capture_output=True,
            text=True,
            check=True,
            env=env,
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
        "--rounds",
        type=int,
        default=None,
        help="times each library is measured, taking turns (default 5; 1 with --quick)",
    )
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
    rounds = args.rounds if args.rounds is not None else (1 if args.quick else 5)
    if rounds < 1:
        parser.error("--rounds must be at least 1")
    print(
        f"threads: {threads}; numpy {np.__version__}"
        + (f"; torch {torch.__version__}" if torch else "")
        + f"; {rounds} round{'s' if rounds > 1 else ''}, the libraries taking turns"
    )
    print(f"\n1. autograd overhead: chain of {n} elementwise ops on a 3-vector, forward + backward")
    print("   (each library in a fresh interpreter; the raw numpy op it wraps is shown for scale)")
    a = np.array([1.0, 2.0, 3.0])
    raw, chain_mg, chain_t = [], [], []
    for r in range(rounds):
        raw.append(median_time(lambda: [a * 1.0001 for _ in range(10_000)], repeat) / 10_000 * 1e6)
        # alternate who goes first, so that a drift of the machine's speed favours neither
        for lib in ("minigrad", "torch")[:: 1 if r % 2 == 0 else -1]:
            if lib == "minigrad":
                chain_mg.append(chain_in_fresh_process("minigrad", n, repeat, threads))
            elif torch is not None:
                chain_t.append(chain_in_fresh_process("torch", n, repeat, threads))
    us_raw, us_mg = statistics.median(raw), statistics.median(chain_mg)
    print(f"   one numpy multiply of a 3-vector: {spread(raw, 'us')}")
    print("   (forward and backward each do one)")
    print(f"   minigrad  {spread(chain_mg, 'us per op')}   (target: at most 5)")
    results = {"numpy_multiply_us": us_raw, "minigrad_us_per_op": us_mg}
    if torch is not None:
        ratios = [m / t for m, t in zip(chain_mg, chain_t)]
        print(f"   torch     {spread(chain_t, 'us per op')}")
        print(f"   ratio minigrad/torch, per round: {spread(ratios, '').strip()}")
        results["torch_us_per_op"] = statistics.median(chain_t)
        results["chain_ratio"] = statistics.median(ratios)
    if args.instructions:
        count = chain_instructions(n)
        if count is None:
            print("   instructions: valgrind is not installed (apt install valgrind)")
        else:
            print(f"   minigrad  {count:,.0f} instructions per op (callgrind; no GC)")
            results["minigrad_instructions_per_op"] = count

    sizes = [784, 256, 256, 10] if args.quick else [784, 1024, 1024, 10]
    batch = 64 if args.quick else 256
    print(f"\n2. MLP training step {sizes}, batch {batch}, float32, Adam")
    steps = {"minigrad": mlp_step_factory(mg, nn, F, mg.optim, sizes, batch)}
    if torch is not None:
        steps["torch"] = mlp_step_factory(
            torch, torch.nn, torch.nn.functional, torch.optim, sizes, batch
        )
    times: dict[str, list[float]] = {name: [] for name in steps}
    for r in range(rounds):
        for name in list(steps)[:: 1 if r % 2 == 0 else -1]:
            times[name].append(median_time(steps[name], repeat * 3) * 1e3)
    print(f"   minigrad  {spread(times['minigrad'], 'ms')}")
    results["minigrad_mlp_ms"] = statistics.median(times["minigrad"])
    if torch is not None:
        ratios = [m / t for m, t in zip(times["minigrad"], times["torch"])]
        print(f"   torch     {spread(times['torch'], 'ms')}")
        ratio = spread(ratios, "").strip()
        print(f"   ratio minigrad/torch, per round: {ratio}   (target: at most 1.2)")
        results["torch_mlp_ms"] = statistics.median(times["torch"])
        results["mlp_ratio"] = statistics.median(ratios)
    return results


if __name__ == "__main__":
    main()
