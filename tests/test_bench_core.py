"""The core benchmark runs (--quick) and reads callgrind's instruction count (so it cannot rot)."""

from __future__ import annotations

import importlib.util
import pathlib

import pytest

BENCH = pathlib.Path(__file__).resolve().parents[1] / "benchmarks" / "bench_core.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_core", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_quick_mode_prints_and_returns_every_figure(bench, capsys, keep_torch_threads):
    torch = keep_torch_threads
    res = bench.main(["--quick"])
    out = capsys.readouterr().out
    assert "us per op" in out and "MLP training step" in out
    expected = {"numpy_multiply_us", "minigrad_us_per_op", "minigrad_mlp_ms"}
    if torch is not None:
        expected |= {"torch_us_per_op", "torch_mlp_ms", "chain_ratio", "mlp_ratio"}
    assert set(res) == expected
    # a chain op does two numpy operations and some bookkeeping: more than one raw product
    assert 0 < res["numpy_multiply_us"] < res["minigrad_us_per_op"] < 1000
    assert all(v > 0 for v in res.values())


def test_rounds_take_turns_and_report_medians_of_paired_ratios(bench, capsys, keep_torch_threads):
    torch = keep_torch_threads
    res = bench.main(["--quick", "--rounds", "2"])
    out = capsys.readouterr().out
    assert "2 rounds" in out and "(median of 2;" in out
    if torch is not None:
        assert "ratio minigrad/torch, per round:" in out
        assert 0 < res["mlp_ratio"] and 0 < res["chain_ratio"]
    with pytest.raises(SystemExit):
        bench.main(["--quick", "--rounds", "0"])


def test_spread_shows_the_range_only_for_several_values(bench):
    assert bench.spread([2.0], "ms") == "   2.00 ms"
    assert bench.spread([3.0, 1.0, 2.0], "us") == "   2.00 us (median of 3; 1.00 to 3.00)"


def test_parse_collected_reads_callgrind_summary(bench):
    stderr = (
        "==1234== Callgrind, a call-graph generating cache profiler\n"
        "==1234== Events    : Ir\n"
        "==1234== Collected : 2907361860\n"
        "==1234==\n==1234== I   refs:      2,907,361,860\n"
    )
    assert bench.parse_collected(stderr) == 2_907_361_860
    with pytest.raises(ValueError, match="no 'Collected : N' line"):
        bench.parse_collected("valgrind: command not found\n")


def test_instruction_count_is_skipped_without_valgrind(bench, monkeypatch):
    import shutil

    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert bench.chain_instructions(10) is None


def test_instruction_count_runs_a_repeatable_process(bench, monkeypatch):
    """Fixed hash seed, one BLAS thread, GC off: the three things that made the count wander."""
    import shutil
    import subprocess

    calls = []

    def fake_run(cmd, **kwargs):
        calls.append((cmd, kwargs["env"]))
        if cmd[0] != "valgrind":
            return subprocess.CompletedProcess(cmd, 0, "", "")
        repeat = int(cmd[cmd.index("-c") + 4])
        return subprocess.CompletedProcess(cmd, 0, "", f"==1== Collected : {1000 + 60 * repeat}\n")

    monkeypatch.setattr(shutil, "which", lambda name: "/usr/bin/valgrind")
    monkeypatch.setattr(subprocess, "run", fake_run)
    assert bench.chain_instructions(10) == (1180 - 1060) / 20
    # first an import outside valgrind (compiling any changed module), then the two counts
    assert len(calls) == 3 and calls[0][0][1:] == ["-c", "import minigrad"]
    for cmd, env in calls[1:]:
        assert cmd[0] == "valgrind" and cmd[-1] == "nogc"
        assert env["PYTHONHASHSEED"] == "0" and env["OPENBLAS_NUM_THREADS"] == "1"


@pytest.mark.parametrize("extra, enabled", [([], True), (["nogc"], False)])
def test_chain_script_turns_gc_off_only_when_asked(bench, extra, enabled):
    import subprocess
    import sys

    script = bench.CHAIN_SCRIPT + "\nprint(gc.isenabled())\n"
    out = subprocess.run(
        [sys.executable, "-c", script, "minigrad", "20", "1", "1", *extra],
        capture_output=True, text=True, check=True,
    ).stdout.split()
    assert float(out[0]) > 0 and out[1] == str(enabled)
