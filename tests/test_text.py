"""minigrad.text: tokenizers, Vocab, one_hot, BPTT batches, padded batches, seeded shuffling."""

from __future__ import annotations

import json

import numpy as np
import pytest

import minigrad
from minigrad import text
from minigrad.text import Batches, BPTTBatches, Vocab

# ----------------------------------------------------------------------------- tokenizers


def test_tokenizers():
    assert text.char_tokenize("a b\n") == ["a", " ", "b", "\n"]
    assert text.word_tokenize("Romeo's love -- 'tis 3 times!") == [
        "Romeo's",
        "love",
        "-",
        "-",
        "'",
        "tis",
        "3",
        "times",
        "!",
    ]
    assert text.word_tokenize("The Cat", lower=True) == ["the", "cat"]
    assert text.detokenize(["Ay", ",", "me", "!", "\n", "O"]) == "Ay, me!\nO"
    assert text.detokenize(list("a b"), level="char") == "a b"
    with pytest.raises(ValueError, match="level must be"):
        text.detokenize(["a"], level="byte")


# ----------------------------------------------------------------------------- Vocab


def test_vocab_round_trip_and_unknown_words():
    lines = [text.word_tokenize(s) for s in ["the cat sat", "the dog sat", "a cat"]]
    v = Vocab.build(lines, level="word")
    assert v.itos[:4] == ["<PAD>", "<UNK>", "<BOS>", "<EOS>"]
    assert (v.pad_index, v.unk_index, v.bos_index, v.eos_index) == (0, 1, 2, 3)
    assert v.itos[4:] == ["cat", "sat", "the", "a", "dog"]  # by frequency, ties alphabetical
    ids = v.encode(["the", "cat", "sat"])
    assert v.decode(ids) == ["the", "cat", "sat"]
    assert v.encode("the zebra sat") == [v["the"], v.unk_index, v["sat"]]
    assert v["zebra"] == v.unk_index and "zebra" not in v
    assert v.decode(v.encode("the zebra", add_bos=True, add_eos=True)) == [
        "<BOS>",
        "the",
        "<UNK>",
        "<EOS>",
    ]
    assert v.decode_text(v.encode("the cat", add_eos=True), skip_specials=True) == "the cat"
    assert v.decode([6, 3, 4], stop_at_eos=True) == ["the"]
    assert v.counts["cat"] == 2


def test_vocab_max_size_min_freq_and_specials():
    words = ["a"] * 5 + ["b"] * 3 + ["c"] * 2 + ["d"]
    assert Vocab.build(words, max_size=2).itos == ["<PAD>", "<UNK>", "<BOS>", "<EOS>", "a", "b"]
    assert Vocab.build(words, min_freq=2).itos[4:] == ["a", "b", "c"]
    v = Vocab.build(words, specials=["<UNK>"])
    assert v.itos == ["<UNK>", "a", "b", "c", "d"] and v.pad_index is None and v.unk_index == 0
    no_unk = Vocab.build(words, specials=[])
    with pytest.raises(KeyError, match="no <UNK>"):
        no_unk.encode(["z"])
    with pytest.raises(KeyError, match="no <EOS>"):
        no_unk.encode(["a"], add_eos=True)
    with pytest.raises(IndexError):
        v.lookup_token(99)


def test_vocab_of_characters_and_of_names():
    v = Vocab.build("hello world", level="char")
    assert v.encode("hold") == [v[c] for c in "hold"]
    assert v.decode_text(v.encode("hello")) == "hello"
    names = Vocab.build(["anna", "bob"], level="char")
    assert set(names.itos[4:]) == {"a", "n", "b", "o"}
    with pytest.raises(TypeError, match="no level"):
        Vocab.build(["x"]).encode("x y")


def test_vocab_serialises_to_json():
    v = Vocab.build("abcab", level="char")
    back = Vocab.from_json(json.dumps(v.to_dict()))
    assert back == v and back.level == "char"
    assert Vocab.from_dict(v.to_dict()).encode("cab") == v.encode("cab")
    with pytest.raises(ValueError):
        Vocab.from_dict({"itos": ["a"]})


def test_one_hot():
    v = Vocab.build("ab", level="char")
    x = text.one_hot(v.encode("ba"), v)
    assert x.shape == (2, len(v)) and x.dtype == np.float32
    assert x.numpy().argmax(1).tolist() == v.encode("ba")
    assert text.one_hot(minigrad.tensor([[0, 2]]), 3).shape == (1, 2, 3)
    with pytest.raises(ValueError, match="must lie in"):
        text.one_hot([3], 3)


def test_one_hot_of_a_large_vocabulary_builds_only_the_result():
    x = text.one_hot(np.array([[999_999], [3]]), 1_000_000)  # no 10^6 x 10^6 identity matrix
    assert x.shape == (2, 1, 1_000_000) and x.dtype == np.float32
    assert x.numpy().sum() == 2 and x.numpy()[0, 0, 999_999] == 1 and x.numpy()[1, 0, 3] == 1
    assert text.one_hot(np.zeros(0, dtype=np.int64), 4).shape == (0, 4)
    assert text.one_hot(2, 4).numpy().tolist() == [0, 0, 1, 0]
    assert text.one_hot([1], 3, dtype=np.float64).dtype == np.float64


# ----------------------------------------------------------------------------- BPTT batches


def test_batchify_columns_are_contiguous():
    t = text.batchify(np.arange(23), 4)
    assert t.shape == (5, 4)
    assert t[:, 1].tolist() == [5, 6, 7, 8, 9]
    with pytest.raises(ValueError, match="too short"):
        text.batchify(np.arange(5), 4)


def test_bptt_batches_shapes_and_continuity():
    ids = np.arange(1000)
    batches = BPTTBatches(ids, batch_size=8, seq_len=30)
    pairs = list(batches)
    assert len(pairs) == len(batches) == 5  # 125 rows, 124 targets: 4 x 30 + 4
    assert [x.shape for x, _ in pairs] == [(30, 8)] * 4 + [(4, 8)]
    for x, y in pairs:
        assert x.dtype == np.int64
        assert np.array_equal(y.numpy(), x.numpy() + 1)  # targets are the next tokens
    column = np.concatenate([x.numpy()[:, 3] for x, _ in pairs])
    assert np.array_equal(column, np.arange(375, 499))  # one column reads on across batches
    assert batches.num_tokens == 124 * 8


def test_bptt_random_offsets_are_seeded():
    a = BPTTBatches(np.arange(500), 4, 10, random_offset=True, seed=1)
    b = BPTTBatches(np.arange(500), 4, 10, random_offset=True, seed=1)
    firsts_a = [next(iter(a))[0].numpy()[0, 0] for _ in range(5)]
    firsts_b = [next(iter(b))[0].numpy()[0, 0] for _ in range(5)]
    assert firsts_a == firsts_b and len(set(firsts_a)) > 1


# ----------------------------------------------------------------------------- padded batches


def test_pad_batch_time_first_and_batch_first():
    x, lengths = text.pad_batch([[1, 2, 3], [4], [5, 6]], padding_value=0)
    assert x.shape == (3, 3) and lengths.tolist() == [3, 1, 2]
    assert x.numpy()[:, 1].tolist() == [4, 0, 0]
    xb, _ = text.pad_batch([[1, 2, 3], [4]], batch_first=True, padding_value=-1)
    assert xb.tolist() == [[1, 2, 3], [4, -1, -1]]
    xt, lt = text.pad_batch([[1, 2, 3], [4]], max_len=2)
    assert xt.shape == (2, 2) and lt.tolist() == [2, 1]


def test_pad_collate_labels_and_sequences():
    b = text.pad_collate([([1, 2], 1), ([3], 0)])
    assert b.y.tolist() == [1, 0] and b.y_lengths is None
    tagged = text.pad_collate([([1, 2], [0, 1]), ([3], [1])])
    assert tagged.y.numpy().T.tolist() == [[0, 1], [1, -100]]
    assert tagged.y_lengths.tolist() == [2, 1]
    plain = text.pad_collate([[1, 2], [3]])
    assert plain.y is None and plain.x.shape == (2, 2)


def test_shuffling_is_seeded_and_batches_reshuffle_each_epoch():
    assert text.shuffled(range(10), seed=3) == text.shuffled(range(10), seed=3)
    assert sorted(text.shuffled(range(10), seed=3)) == list(range(10))
    minigrad.manual_seed(5)
    a = text.shuffled(range(10))
    minigrad.manual_seed(5)
    assert text.shuffled(range(10)) == a  # seed=None follows minigrad.manual_seed
    data = [([i], i % 2) for i in range(10)]
    batches = Batches(data, batch_size=4, seed=0)
    epoch1 = [b.x.numpy().ravel().tolist() for b in batches]
    epoch2 = [b.x.numpy().ravel().tolist() for b in batches]
    assert len(batches) == 3 and [len(e) for e in epoch1] == [4, 4, 2]
    assert epoch1 != epoch2
    again = Batches(data, batch_size=4, seed=0)
    assert [b.x.numpy().ravel().tolist() for b in again] == epoch1
    ordered = Batches(data, batch_size=4, shuffle=False, collate=None, drop_last=True)
    assert list(ordered) == [data[:4], data[4:8]]
    assert list(text.minibatches("abcde", 2)) == [["a", "b"], ["c", "d"], ["e"]]
