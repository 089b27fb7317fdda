"""Speed of the recurrent layers: one training step of a character language model.

    Embedding(65, 64) -> RNN | GRU | LSTM (H) -> Linear(H, 65) -> cross_entropy
    -> backward -> clip_grad_norm_(5) -> Adam,      float32, B=32 sequences of T=64 steps

timed for H in {128, 256, 512} with

* minigrad (``minigrad.nn.LSTM`` ...),
* PyTorch CPU (``torch.nn.LSTM`` ...) with the same number of threads (``torch.set_num_threads``
  and, for numpy's BLAS, ``OPENBLAS_NUM_THREADS`` and friends, set before numpy is imported),
* for the LSTM, the same step written by hand in numpy with no autograd at all: the floor that an
  autograd engine on numpy can reach.

It prints the median time of a step, the ratios, and the peak memory of a step (the growth of the
process's peak resident set, ``resource.getrusage``). Each measurement runs in a fresh process so
that one cannot disturb the next. Not a test: it prints.

Run:  ``python benchmarks/bench_rnn.py``            (a few minutes)
      ``python benchmarks/bench_rnn.py --threads 2``
      ``python benchmarks/bench_rnn.py --quick``    (tiny sizes, in one process, a smoke run)
"""

from __future__ import annotations

import os
import sys


def _early_threads(argv: list[str]) -> int:
    """The --threads value, applied to the BLAS libraries before numpy loads them."""
    threads = 1
    for i, a in enumerate(argv):
        if a == "--threads" and i + 1 < len(argv):
            threads = int(argv[i + 1])
        elif a.startswith("--threads="):
            threads = int(a.split("=", 1)[1])
    if "numpy" not in sys.modules:
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(threads)
    return threads


if __name__ == "__main__":
    _early_threads(sys.argv[1:])

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

VOCAB, EMBED, BATCH, STEPS = 65, 64, 32, 64
KINDS = ("RNN", "GRU", "LSTM")
CLIP, LR = 5.0, 1e-3


def _reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS mark of this process (Linux); False where that is impossible."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _peak_rss_mb() -> float:
    """The peak resident set of this process so far (since the last reset, on Linux), in MB."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 2**10
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def _rss_mb() -> float:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError):
        return _peak_rss_mb()


def _data(batch: int, steps: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.integers(0, VOCAB, size=(steps, batch))  # time-major, as the layers expect by default
    y = rng.integers(0, VOCAB, size=(steps, batch))
    return x, y


# --------------------------------------------------------------------------------------------------
# The three implementations of one step; each returns a function that runs one step, and the loss
# --------------------------------------------------------------------------------------------------


def make_minigrad(kind: str, hidden: int, batch: int, steps: int):
    import minigrad
    import minigrad.nn as nn
    import minigrad.nn.functional as F
    from minigrad.nn.utils import clip_grad_norm_

    minigrad.manual_seed(0)
    emb, layer, head = (
        nn.Embedding(VOCAB, EMBED),
        getattr(nn, kind)(EMBED, hidden),
        nn.Linear(hidden, VOCAB),
    )
    params = [*emb.parameters(), *layer.parameters(), *head.parameters()]
    opt = minigrad.optim.Adam(params, lr=LR)
    x, y = _data(batch, steps)
    x, y = minigrad.tensor(x), minigrad.tensor(y.reshape(-1))

    def step() -> float:
        out, _ = layer(emb(x))
        loss = F.cross_entropy(head(out).reshape(-1, VOCAB), y)
        opt.zero_grad()
        loss.backward()
        clip_grad_norm_(params, CLIP)
        opt.step()
        return loss.item()

    return step


def make_torch(kind: str, hidden: int, batch: int, steps: int, threads: int):
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    emb = torch.nn.Embedding(VOCAB, EMBED)
    layer = getattr(torch.nn, kind)(EMBED, hidden)
    head = torch.nn.Linear(hidden, VOCAB)
    params = [*emb.parameters(), *layer.parameters(), *head.parameters()]
    opt = torch.optim.Adam(params, lr=LR)
    x, y = _data(batch, steps)
    x, y = torch.from_numpy(x), torch.from_numpy(y.reshape(-1))

    def step() -> float:
        out, _ = layer(emb(x))
        loss = torch.nn.functional.cross_entropy(head(out).reshape(-1, VOCAB), y)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, CLIP)
        opt.step()
        return loss.item()

    return step


class NumpyLSTMModel:
    """The LSTM char-LM step by hand: numpy arrays, forward and backward written out, no graph.

    Written as a careful hand-written numpy LSTM would be: the input projection of all steps as
    one matrix product, one matrix product per step for h W_hh^T over the four gates, sigmoid and
    tanh through one exp per step, dW_hh as one product after the loop, and every array allocated
    once, in ``__init__``, and written with ``out=`` (fresh memory costs page faults).
    """

    def __init__(self, hidden: int, batch: int, steps: int, dtype=np.float32) -> None:
        rng = np.random.default_rng(0)
        k = 1 / math.sqrt(hidden)
        u = lambda shape: rng.uniform(-k, k, shape).astype(dtype)  # noqa: E731
        self.p = {
            "emb": rng.standard_normal((VOCAB, EMBED)).astype(dtype),
            "w_ih": u((4 * hidden, EMBED)),
            "w_hh": u((4 * hidden, hidden)),
            "b_ih": u((4 * hidden,)),
            "b_hh": u((4 * hidden,)),
            "w_out": u((VOCAB, hidden)),
            "b_out": u((VOCAB,)),
        }
        self.g = {name: np.empty_like(v) for name, v in self.p.items()}
        self.m = {name: np.zeros_like(v) for name, v in self.p.items()}
        self.v = {name: np.zeros_like(v) for name, v in self.p.items()}
        self.tmp = {name: np.empty_like(v) for name, v in self.p.items()}
        self.t = 0
        self.hidden, self.batch, self.steps, self.dtype = hidden, batch, steps, dtype
        x, y = _data(batch, steps)
        self.x, self.y = x.reshape(-1), y.reshape(-1)
        n = steps * batch
        self.rows = np.arange(n)
        self.scale = np.full(4 * hidden, -1, dtype=dtype)  # exp(-a) for i, f, o and exp(-2a) for g
        self.scale[2 * hidden : 3 * hidden] = -2
        e = lambda *shape: np.empty(shape, dtype)  # noqa: E731
        self.xe, self.gates, self.d_gates = e(n, EMBED), e(n, 4 * hidden), e(n, 4 * hidden)
        self.tanh_c, self.k_c, self.der = e(n, hidden), e(batch, hidden), e(batch, 4 * hidden)
        self.hs, self.cs = e(n + batch, hidden), e(n + batch, hidden)  # h_0 then h_1..h_T
        self.logits, self.d_out, self.d_xe = e(n, VOCAB), e(n, hidden), e(n, EMBED)
        self.rec, self.w_t, self.w_ih_s = (
            e(batch, 4 * hidden),
            e(hidden, 4 * hidden),
            e(EMBED, 4 * hidden),
        )
        self.tmp_bh, self.dh, self.dh_next, self.dc = (e(batch, hidden) for _ in range(4))

    def step(self) -> float:
        p, g_, hid, bsz, steps = self.p, self.g, self.hidden, self.batch, self.steps
        n = steps * bsz
        tmp = self.tmp_bh
        # ---- forward
        xe = np.take(p["emb"], self.x, axis=0, out=self.xe)
        gates = self.gates
        np.multiply(p["w_ih"].T, self.scale, out=self.w_ih_s)
        np.matmul(xe, self.w_ih_s, out=gates)
        gates += (p["b_ih"] + p["b_hh"]) * self.scale
        w_t = np.multiply(p["w_hh"].T, self.scale, out=self.w_t)
        hs, cs, rec = self.hs, self.cs, self.rec
        hs[:bsz] = 0
        cs[:bsz] = 0
        with np.errstate(over="ignore"):
            for t in range(steps):
                r = slice(t * bsz, (t + 1) * bsz)
                nxt = slice((t + 1) * bsz, (t + 2) * bsz)
                g = gates[r]
                np.matmul(hs[r], w_t, out=rec)
                g += rec
                np.exp(g, out=g)
                g += 1
                np.divide(1, g, out=g)
                gg = g[:, 2 * hid : 3 * hid]
                gg *= 2
                gg -= 1
                c = cs[nxt]
                np.multiply(g[:, hid : 2 * hid], cs[r], out=c)
                np.multiply(g[:, :hid], gg, out=tmp)
                c += tmp
                tc = self.tanh_c[r]
                np.multiply(c, -2, out=tc)
                np.exp(tc, out=tc)
                tc += 1
                np.divide(2, tc, out=tc)
                tc -= 1
                np.multiply(g[:, 3 * hid :], tc, out=hs[nxt])
        out = hs[bsz:]
        logits = np.matmul(out, p["w_out"].T, out=self.logits)
        logits += p["b_out"]
        logits -= logits.max(axis=1, keepdims=True)
        probs = np.exp(logits, out=logits)
        probs /= probs.sum(axis=1, keepdims=True)
        loss = float(-np.log(probs[self.rows, self.y]).mean())
        # ---- backward
        d_logits = probs
        d_logits[self.rows, self.y] -= 1
        d_logits /= n
        np.matmul(d_logits.T, out, out=g_["w_out"])
        np.sum(d_logits, axis=0, out=g_["b_out"])
        d_out = np.matmul(d_logits, p["w_out"], out=self.d_out)
        tanh_c, d_gates, der, k_c = self.tanh_c, self.d_gates, self.der, self.k_c
        dh, dh_next, dc = self.dh, self.dh_next, self.dc
        dh_next[...] = 0
        dc[...] = 0
        for t in range(steps - 1, -1, -1):
            r = slice(t * bsz, (t + 1) * bsz)
            a = gates[r]
            i, f, gg, o = a[:, :hid], a[:, hid : 2 * hid], a[:, 2 * hid : 3 * hid], a[:, 3 * hid :]
            tc = tanh_c[r]
            np.add(d_out[r], dh_next, out=dh)
            np.multiply(tc, tc, out=k_c)  # dc += dh * o * (1 - tanh(c)^2)
            np.subtract(1, k_c, out=k_c)
            k_c *= o
            k_c *= dh
            dc += k_c
            np.subtract(1, a, out=der)  # s (1 - s), and 1 - g^2 for the g gate
            der *= a
            dg_ = der[:, 2 * hid : 3 * hid]
            np.multiply(gg, gg, out=dg_)
            np.subtract(1, dg_, out=dg_)
            da = d_gates[r]
            np.multiply(dc, gg, out=da[:, :hid])
            np.multiply(dc, cs[r], out=da[:, hid : 2 * hid])
            np.multiply(dc, i, out=da[:, 2 * hid : 3 * hid])
            np.multiply(dh, tc, out=da[:, 3 * hid :])
            da *= der
            dc *= f
            np.matmul(da, p["w_hh"], out=dh_next)
        np.matmul(d_gates.T, hs[:n], out=g_["w_hh"])
        np.matmul(d_gates.T, xe, out=g_["w_ih"])
        np.sum(d_gates, axis=0, out=g_["b_ih"])
        g_["b_hh"][...] = g_["b_ih"]
        d_xe = np.matmul(d_gates, p["w_ih"], out=self.d_xe)
        g_["emb"][...] = 0
        np.add.at(g_["emb"], self.x, d_xe)
        # ---- clip_grad_norm_ and Adam
        total = math.sqrt(sum(float(np.vdot(g, g)) for g in g_.values()))
        coef = CLIP / (total + 1e-6)
        if coef < 1:
            for g in g_.values():
                g *= coef
        self.t += 1
        b1, b2, eps = 0.9, 0.999, 1e-8
        step_size = LR / (1 - b1**self.t)
        bc2 = math.sqrt(1 - b2**self.t)
        for name, g in g_.items():
            m, v, tmp_p = self.m[name], self.v[name], self.tmp[name]
            m *= b1
            np.multiply(g, 1 - b1, out=tmp_p)
            m += tmp_p
            v *= b2
            np.multiply(g, g, out=tmp_p)
            tmp_p *= 1 - b2
            v += tmp_p
            np.sqrt(v, out=tmp_p)
            tmp_p /= bc2
            tmp_p += eps
            np.divide(m, tmp_p, out=tmp_p)
            tmp_p *= step_size
            p[name] -= tmp_p
        return loss


def make_numpy(kind: str, hidden: int, batch: int, steps: int):
    if kind != "LSTM":
        raise ValueError("the hand-written numpy baseline is an LSTM")
    return NumpyLSTMModel(hidden, batch, steps).step


# --------------------------------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------------------------------


def _make(framework: str, kind: str, hidden: int, batch: int, steps: int, threads: int):
    if framework == "minigrad":
        return make_minigrad(kind, hidden, batch, steps)
    if framework == "torch":
        return make_torch(kind, hidden, batch, steps, threads)
    return make_numpy(kind, hidden, batch, steps)


def _timed(step) -> tuple[float, float, float]:
    """One step: (wall seconds, CPU seconds of this process, loss)."""
    w0, c0 = time.perf_counter(), time.process_time()
    loss = step()
    return time.perf_counter() - w0, time.process_time() - c0, loss


def _summary(walls: list[float], cpus: list[float], peak_mb: float, loss: float) -> dict:
    return {
        "ms": statistics.median(walls) * 1e3,
        "cpu_ms": statistics.median(cpus) * 1e3,
        "walls": walls,
        "cpus": cpus,
        "peak_mb": peak_mb,
        "loss": loss,
    }


def measure(
    framework: str,
    kind: str,
    hidden: int,
    batch: int,
    steps: int,
    repeats: int,
    threads: int,
    warmup: int = 2,
) -> dict:
    """Time ``repeats`` steps in this process (used by --quick)."""
    step = _make(framework, kind, hidden, batch, steps, threads)
    _reset_peak_rss()
    before = _rss_mb()
    for _ in range(warmup):
        step()
    walls, cpus = [], []
    for _ in range(repeats):
        w, c, loss = _timed(step)
        walls.append(w)
        cpus.append(c)
    return _summary(walls, cpus, max(_peak_rss_mb() - before, 0.0), loss)


def _worker(args: argparse.Namespace) -> None:
    """Build one model, then run one step per "step" line on stdin; "done" prints the summary.

    The parent drives the workers of one configuration in turn, a step each, so that a change
    in the machine's load falls on all of them alike; each worker is a fresh process, so that its
    peak memory is its own.
    """
    framework, kind, hidden = args.worker[0], args.worker[1], int(args.worker[2])
    step = _make(framework, kind, hidden, args.batch, args.steps, args.threads)
    _reset_peak_rss()
    before = _rss_mb()
    for _ in range(2):
        step()
    print("ready", flush=True)
    walls, cpus, loss = [], [], float("nan")
    for line in sys.stdin:
        if line.strip() != "step":
            break
        w, c, loss = _timed(step)
        walls.append(w)
        cpus.append(c)
        print(f"{w} {c}", flush=True)
    print(json.dumps(_summary(walls, cpus, max(_peak_rss_mb() - before, 0.0), loss)), flush=True)


def _run_workers(frameworks: list[str], kind: str, hidden: int, args: argparse.Namespace) -> dict:
    procs = {}
    for fw in frameworks:
        cmd = [
            sys.executable,
            os.path.abspath(__file__),
            "--worker",
            fw,
            kind,
            str(hidden),
            "--threads",
            str(args.threads),
            "--batch",
            str(args.batch),
            "--steps",
            str(args.steps),
        ]
        procs[fw] = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
    results: dict[str, dict | None] = {}
    try:
        for fw, proc in list(procs.items()):
            if proc.stdout.readline().strip() != "ready":
                err = proc.stderr.read().strip().splitlines()[-1:]
                print(f"  ({fw} {kind} H={hidden} failed to start: {err})")
                del procs[fw]
                results[fw] = None
        for _ in range(args.repeats):
            for proc in procs.values():
                proc.stdin.write("step\n")
                proc.stdin.flush()
                proc.stdout.readline()  # the step's times; the summary repeats them
        for fw, proc in procs.items():
            proc.stdin.write("done\n")
            proc.stdin.flush()
            results[fw] = json.loads(proc.stdout.readline())
    finally:
        for proc in procs.values():
            proc.stdin.close()
            proc.wait()
    return results


def _formatters(res: dict):
    """Formatting helpers for one row of the table."""

    def ms(fw: str) -> str:
        r = res.get(fw)
        return f"{r['ms']:.1f}" if r else "-"

    def mem(fw: str) -> str:
        r = res.get(fw)
        return f"{r['peak_mb']:.0f}" if r else "-"

    def ratio(a: str, b: str, key: str = "walls") -> str:
        # the median of the ratios of steps taken in the same round (one step of each in turn),
        # which cancels most of the slow spells caused by other programs on the machine
        ra, rb = res.get(a), res.get(b)
        if not ra or not rb:
            return "-"
        pairs = [x / y for x, y in zip(ra[key], rb[key])]
        return f"{statistics.median(pairs):.2f}x"

    return ms, mem, ratio


def _have_torch() -> bool:
    # find_spec, not import: importing torch here would bloat this process, and a child started
    # from it inherits its peak RSS on Linux
    import importlib.util

    return importlib.util.find_spec("torch") is not None


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1, help="threads for BLAS and torch (1)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[128, 256, 512])
    parser.add_argument("--kinds", nargs="+", default=list(KINDS), choices=KINDS)
    parser.add_argument("--repeats", type=int, default=None, help="timed steps per measurement")
    parser.add_argument("--batch", type=int, default=BATCH)
    parser.add_argument("--steps", type=int, default=STEPS)
    parser.add_argument("--quick", action="store_true", help="tiny sizes in one process")
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.batch, args.steps = [16], 4, 8
        args.repeats = args.repeats or 2
    args.repeats = args.repeats or 15
    if args.worker:
        _worker(args)
        return []

    frameworks = ["minigrad"] + (["torch"] if not args.no_torch and _have_torch() else [])
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"char-LM training step: Embedding({VOCAB},{EMBED}) -> layer(H) -> Linear(H,{VOCAB}) ->"
        f" cross_entropy -> backward -> clip_grad_norm_ -> Adam"
    )
    print(
        f"float32, B={args.batch}, T={args.steps}, {args.threads} thread(s), median of"
        f" {args.repeats} steps{', in one process (--quick)' if args.quick else ''};"
        f" load average {load:.2f} on {os.cpu_count()} CPUs at start"
    )
    if "torch" not in frameworks:
        print("(PyTorch is not installed: its columns are left empty)")
    header = (
        f"{'layer':<5} {'H':>4} | {'minigrad ms':>11} {'torch ms':>9} {'numpy ms':>9} |"
        f" {'mg/torch':>8} {'mg/numpy':>8} | {'cpu: mg/torch':>13} {'mg/numpy':>8} |"
        f" {'peak MB: mg':>11} {'torch':>6} {'numpy':>6}"
    )
    print(header)
    print("-" * len(header))
    rows = []
    for hidden in args.sizes:
        for kind in args.kinds:
            fws = frameworks + (["numpy"] if kind == "LSTM" else [])
            if args.quick:
                res = {
                    fw: measure(
                        fw,
                        kind,
                        hidden,
                        args.batch,
                        args.steps,
                        args.repeats,
                        args.threads,
                        warmup=1,
                    )
                    for fw in fws
                }
            else:
                res = _run_workers(fws, kind, hidden, args)
            rows.append({"kind": kind, "H": hidden, **res})

            ms, mem, ratio = _formatters(res)
            print(
                f"{kind:<5} {hidden:>4} | {ms('minigrad'):>11} {ms('torch'):>9} {ms('numpy'):>9} |"
                f" {ratio('minigrad', 'torch'):>8} {ratio('minigrad', 'numpy'):>8} |"
                f" {ratio('minigrad', 'torch', 'cpus'):>13}"
                f" {ratio('minigrad', 'numpy', 'cpus'):>8} |"
                f" {mem('minigrad'):>11} {mem('torch'):>6} {mem('numpy'):>6}",
                flush=True,
            )
    print(
        "ms: median wall-clock time of a step. Ratios: median over rounds of the ratio of the steps"
        " of one round (the implementations take one step each in turn); cpu: the same from CPU"
        " time, less sensitive to other programs on the machine"
    )
    print(
        "targets at H=256: LSTM mg/torch <= 1.3x and mg/numpy <= 1.1x; GRU and RNN mg/torch <= 1.0x"
    )
    return rows


if __name__ == "__main__":
    main()
