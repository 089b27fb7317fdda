"""``minigrad train-lm`` and ``minigrad sample``: a tiny run end to end, and one-line errors."""

from __future__ import annotations

import pytest

import minigrad
from minigrad.checkpoint import load_checkpoint
from minigrad.cli import main


@pytest.fixture
def corpus_file(tmp_path):
    path = tmp_path / "tiny.txt"
    path.write_text("ROMEO:\nBut soft, what light through yonder window breaks?\n\n" * 40)
    return path


@pytest.fixture
def trained(tmp_path, corpus_file, capsys):
    """The checkpoint of a 30-step run, and what the command printed."""
    out = tmp_path / "ck" / "tiny.npz"
    code = main(
        [
            "train-lm",
            "--corpus",
            str(corpus_file),
            "--model",
            "gru",
            "--hidden-size",
            "16",
            "--embedding-dim",
            "8",
            "--batch-size",
            "4",
            "--seq-len",
            "16",
            "--steps",
            "30",
            "--eval-every",
            "15",
            "--no-progress",
            "-q",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    return out, capsys.readouterr().out


@pytest.fixture
def checkpoint(trained):
    return trained[0]


def test_train_lm_writes_a_checkpoint(trained):
    checkpoint, out = trained
    assert "30 steps" in out and "nats/char" in out and str(checkpoint) in out
    ckpt = load_checkpoint(checkpoint)
    assert ckpt.config["cell"] == "gru" and ckpt.config["hidden_size"] == 16
    assert ckpt.vocab.level == "char" and "R" in ckpt.vocab
    assert ckpt.meta["steps"] == 30 and len(ckpt.meta["history"]["val_loss"]) == 2
    assert ckpt.meta["settings"]["seq_len"] == 16


def test_train_lm_is_reproducible(tmp_path, corpus_file, checkpoint):
    again = tmp_path / "again.npz"
    main(
        [
            "train-lm",
            "--corpus",
            str(corpus_file),
            "--model",
            "gru",
            "--hidden-size",
            "16",
            "--embedding-dim",
            "8",
            "--batch-size",
            "4",
            "--seq-len",
            "16",
            "--steps",
            "30",
            "--eval-every",
            "15",
            "--no-progress",
            "-q",
            "--out",
            str(again),
        ]
    )
    a, b = minigrad.load(checkpoint)["state_dict"], minigrad.load(again)["state_dict"]
    assert all((a[k].numpy() == b[k].numpy()).all() for k in a)


def test_sample_prints_the_prompt_and_its_continuation(checkpoint, capsys):
    capsys.readouterr()
    assert (
        main(
            [
                "sample",
                str(checkpoint),
                "--prompt",
                "ROMEO:",
                "--length",
                "40",
                "--seed",
                "1",
                "--temperature",
                "0.8",
            ]
        )
        == 0
    )
    first = capsys.readouterr().out
    assert first.startswith("ROMEO:") and len(first) >= len("ROMEO:") + 10
    main(
        [
            "sample",
            str(checkpoint),
            "--prompt",
            "ROMEO:",
            "--length",
            "40",
            "--seed",
            "1",
            "--temperature",
            "0.8",
        ]
    )
    assert capsys.readouterr().out == first  # seeded
    assert (
        main(
            ["sample", str(checkpoint), "-n", "2", "--length", "20", "--top-k", "3", "--seed", "0"]
        )
        == 0
    )
    assert main(["sample", str(checkpoint), "--info"]) == 0
    info = capsys.readouterr().out
    assert "RNNLanguageModel" in info and "steps: 30" in info
    main(["sample", str(checkpoint), "--prompt", "ROMEO\u00a7", "--length", "5"])
    assert "<UNK>" in capsys.readouterr().err


def _one_line_error(capsys, argv, match):
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("minigrad: error: ") and match in lines[0], lines[0]


def test_user_errors_print_one_line(tmp_path, capsys, corpus_file, checkpoint):
    capsys.readouterr()
    _one_line_error(capsys, ["sample", str(tmp_path / "missing.npz")], "no such checkpoint")
    _one_line_error(capsys, ["sample", str(tmp_path)], "is a directory")
    text = tmp_path / "notes.txt"
    text.write_text("not a checkpoint")
    _one_line_error(capsys, ["sample", str(text)], "not a minigrad file")
    plain = tmp_path / "plain.npz"
    minigrad.save({"a": 1}, plain)
    _one_line_error(capsys, ["sample", str(plain)], "not a checkpoint")
    _one_line_error(capsys, ["sample", str(checkpoint), "--temperature", "-1"], "--temperature")
    _one_line_error(capsys, ["sample", str(checkpoint), "--top-p", "1.5"], "--top-p")
    _one_line_error(
        capsys, ["train-lm", "--corpus", str(tmp_path / "none.txt"), "--steps", "1"], "no corpus"
    )
    _one_line_error(capsys, ["train-lm", "--corpus", str(corpus_file)], "give a budget")
    _one_line_error(capsys, ["train-lm", "--corpus", str(corpus_file), "--steps", "0"], "--steps")
    _one_line_error(
        capsys, ["train-lm", "--corpus", str(corpus_file), "--steps", "1", "--lr", "0"], "--lr"
    )
    _one_line_error(
        capsys,
        ["train-lm", "--corpus", "names", "--level", "word", "--steps", "1"],
        "character-level",
    )
    _one_line_error(
        capsys,
        ["train-lm", "--corpus", str(corpus_file), "--steps", "1", "--out", str(tmp_path)],
        "is a directory",
    )
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"\xff\xfe\x00\x81" * 100)
    _one_line_error(
        capsys, ["train-lm", "--corpus", str(binary), "--steps", "1"], "is not UTF-8 text"
    )
    short = tmp_path / "short.txt"
    short.write_text("hi")
    _one_line_error(
        capsys, ["train-lm", "--corpus", str(short), "--steps", "1"], "only 2 characters"
    )


def test_argparse_errors_exit_with_code_two(capsys):
    with pytest.raises(SystemExit) as e:
        main(["train-lm", "--model", "transformer"])
    assert e.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_train_lm_tied_weights_in_half_precision(tmp_path, corpus_file, capsys):
    out = tmp_path / "tied.npz"
    args = ["train-lm", "--corpus", str(corpus_file), "--level", "word", "--hidden-size", "8",
            "--embedding-dim", "8", "--batch-size", "2", "--seq-len", "4", "--steps", "3",
            "--eval-every", "3", "--no-progress", "-q", "--out", str(out)]
    assert main(args + ["--tie-weights", "--save-dtype", "float16"]) == 0
    ckpt = load_checkpoint(out)
    assert ckpt.config["tie_weights"] is True
    assert ckpt.model.decoder.weight is ckpt.model.embedding.weight
    assert ckpt.meta["settings"]["save_dtype"] == "float16"
    assert minigrad.load(out)["state_dict"]["embedding.weight"].dtype == "float16"
    capsys.readouterr()
    _one_line_error(capsys, args + ["--tie-weights", "--embedding-dim", "4"],
                    "--tie-weights needs --embedding-dim equal to --hidden-size")
