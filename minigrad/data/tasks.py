"""Sequence tasks for the chapters, each a seeded function returning train/validation/test splits.

* :func:`name_tagging`, many-to-many with T_x = T_y:
  ``(["O", "Romeo", ",", "Romeo", "!"], [0, 1, 0, 1, 0])``
* :func:`line_genre`, many-to-one: ``("What bloody man is that? He can report,", 2)``
* :func:`gendered_names`, one-to-many: ``("female", "Mary")``
* :func:`names_corpus`, for a language model: ``"mary"``
* :func:`number_agreement`, many-to-one over a long distance:
  ``(["the", "cats", "that", "the", "dog", "chased"], 1)`` (0: was, 1: were)
* :func:`date_formats`, many-to-many with T_x != T_y: ``("3 May 1979", "1979-05-03")``
* :func:`date_sentences`, the same dates inside filler words, for inputs of up to ~110
  characters: ``("the letter came on 3 May 1979 after the rain", "1979-05-03")``

Every example is a named tuple whose first two fields are the input and the target, so
``x, y = example[:2]`` works everywhere and the other fields (the play a line came from, the
distance of a distractor...) are there when a chapter wants them. Every function returns a
:class:`Splits` and is deterministic for a given ``seed``.
"""

from __future__ import annotations

import calendar
import datetime as _dt
import functools
import itertools
from collections import Counter
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from ..text import make_rng, word_tokenize
from .firstnames import first_names
from .shakespeare_plays import GENRES, Play, plays

__all__ = [
    "AGREEMENT_LABELS",
    "DATE_FORMATS",
    "Agreement",
    "DatePair",
    "DateSentence",
    "FILLER_WORDS",
    "GenderedName",
    "GenreLine",
    "Splits",
    "TaggedLine",
    "date_formats",
    "date_sentences",
    "gendered_names",
    "line_genre",
    "name_tagging",
    "names_corpus",
    "number_agreement",
    "play_names",
]


class Splits(NamedTuple):
    """Train, validation and test examples: ``train, val, test = task(seed=0)``."""

    train: list[Any]
    validation: list[Any]
    test: list[Any]

    def __repr__(self) -> str:
        return (
            f"Splits(train={len(self.train)}, validation={len(self.validation)},"
            f" test={len(self.test)})"
        )


def _fractions_split(
    items: list[Any], fractions: Sequence[float], rng: np.random.Generator
) -> Splits:
    if len(fractions) != 3 or any(f < 0 for f in fractions) or abs(sum(fractions) - 1) > 1e-9:
        raise ValueError(
            f"fractions must be three non-negative numbers summing to 1, got {fractions}"
        )
    order = rng.permutation(len(items))
    n_val = int(round(fractions[1] * len(items)))
    n_test = int(round(fractions[2] * len(items)))
    n_train = len(items) - n_val - n_test
    pick = [items[i] for i in order]
    return Splits(pick[:n_train], pick[n_train : n_train + n_val], pick[n_train + n_val :])


# ============================================================================ first names


class GenderedName(NamedTuple):
    """``gender`` ("female" or "male") as input, ``name`` (capitalised) as the output sequence."""

    gender: str
    name: str


def names_corpus(
    seed: int = 0, fractions: Sequence[float] = (0.8, 0.1, 0.1), lower: bool = True
) -> Splits:
    """The distinct census first names (both genders, 5,163 of them), shuffled and split, for a
    character-level language model; lower-case unless ``lower=False``.

    >>> from minigrad.data import names_corpus
    >>> train, val, test = names_corpus(seed=0)
    >>> len(train), len(val), len(test), train[:3]
    (4131, 516, 516, ['consuela', 'carmella', 'luna'])
    """
    unique = sorted({n.name for n in first_names()})
    if lower:
        unique = [n.lower() for n in unique]
    return _fractions_split(unique, fractions, make_rng(seed))


def gendered_names(seed: int = 0, fractions: Sequence[float] = (0.8, 0.1, 0.1)) -> Splits:
    """``(gender, name)`` pairs from the census lists for name generation conditioned on gender.

    A name on both lists (``Jean``) gives two examples, always in the same split, so that no
    name of the validation or test set was seen in training. About 4,300 female and 1,200 male
    examples: the classes are as unbalanced as the census lists.

    >>> from minigrad.data import gendered_names
    >>> train, val, test = gendered_names(seed=0)
    >>> train[0]
    GenderedName(gender='female', name='Consuela')
    """
    by_name: dict[str, list[str]] = {}
    for n in first_names():
        by_name.setdefault(n.name, []).append(n.gender)
    names = sorted(by_name)
    parts = _fractions_split(names, fractions, make_rng(seed))
    return Splits(*[[GenderedName(g, n) for n in part for g in by_name[n]] for part in parts])


# ============================================================================ Shakespeare tasks

# words of speaker headings that are titles, roles, ordinals or connectives rather than names
_NOT_NAMES = frozenset(
    """OF THE AND A AN ALL BOTH KING QUEEN PRINCE PRINCESS DUKE DUCHESS LORD LORDS LADY SIR EARL
    COUNT COUNTESS CARDINAL BISHOP ARCHBISHOP FRIAR MISTRESS MASTER DOCTOR CAPTAIN HERALD GENTLEMAN
    CITIZEN ESQUIRE POOR YOUNG OLD BOY FRENCH FRENCHMAN ENGLISH BASTARD FIRST SECOND THIRD
    FOURTH FIFTH DE DON LE LA DU SAINT ST MARQUESS VISCOUNT MAYOR LIEUTENANT GOVERNOR SERVANT
    GHOST SON WIFE WIDOW ATTENDANT MESSENGER SOLDIER SERVANT BOYS FRENCHMEN FRENCHWOMAN
    GARDENER MARINER MYRMIDONS SENIOR SU XI POL FFOLK BEAU I II III IV V VI VII VIII""".split()
)


@functools.lru_cache(maxsize=64)
def play_names(slug_or_play: str | Play) -> frozenset[str]:
    """The personal names of one play, upper-case, taken from its own list of speakers.

    A speaker heading such as ``LADY MACBETH`` or ``KING HENRY V`` gives the words that are not
    titles, ordinals or roles (``MACBETH``, ``HENRY``); a word that only ever follows ``OF``
    (``DUKE OF VENICE``) is a place and is left out; so is a name that the play's lines use more
    often as an ordinary lower-case word than as a capitalised one inside a line (``Speed``, the
    servant in *Two Gentlemen of Verona*, loses to "speed"; ``Page`` in *The Merry Wives of
    Windsor* stays, since "Master Page" outnumbers "page"). Titles used as names (``YORK``
    of ``DUKE OF YORK``) are therefore left out too: the rule cannot tell them from places.

    >>> from minigrad.data import play_names
    >>> sorted(play_names("macbeth"))[:4]
    ['ANGUS', 'BANQUO', 'CAITHNESS', 'DONALBAIN']
    """
    from .shakespeare_plays import play

    p = play(slug_or_play) if isinstance(slug_or_play, str) else slug_or_play
    candidates: set[str] = set()
    after_of: set[str] = set()
    elsewhere: set[str] = set()
    for speaker in p.speakers:
        words = speaker.replace("&", " ").split()
        for i, w in enumerate(words):
            w = w.strip(",.")
            if len(w) < 2 or not w.isupper() or not w.isalpha() or w in _NOT_NAMES:
                continue
            candidates.add(w)
            (after_of if i and words[i - 1].upper() == "OF" else elsewhere).add(w)
    candidates -= after_of - elsewhere
    lines = _tokenized_lines(p.slug)
    tokens = Counter(itertools.chain.from_iterable(lines))
    initial = Counter(words[0] for words in lines if words)

    def count(forms: list[str], inside_only: bool) -> int:
        return sum(tokens[f] - (initial[f] if inside_only else 0) for f in forms)

    keep = set()
    for w in candidates:
        cap, low = w.capitalize(), w.lower()
        if count([cap, cap + "'s"], True) >= count([low, low + "'s"], False):
            keep.add(w)
    return frozenset(keep)


@functools.lru_cache(maxsize=64)
def _tokenized_lines(slug: str) -> tuple[tuple[str, ...], ...]:
    """The words of every spoken line of a play (computed once per play)."""
    from .shakespeare_plays import play

    return tuple(tuple(word_tokenize(line)) for _, line in play(slug).spoken_lines())


def _strip_possessive(tok: str) -> str:
    return tok[:-2] if tok.endswith("'s") and len(tok) > 2 else tok


def _is_name(tok: str, names: frozenset[str]) -> int:
    return int(tok[:1].isupper() and _strip_possessive(tok).upper() in names)


def _tags(tokens: Sequence[str], names: frozenset[str], memo: dict[str, int]) -> list[int]:
    out = []
    for t in tokens:
        tag = memo.get(t)
        if tag is None:
            tag = memo[t] = _is_name(t, names)
        out.append(tag)
    return out


class TaggedLine(NamedTuple):
    """A line as words, a 0/1 tag per word (1: a character's name), and the play it is from."""

    words: list[str]
    tags: list[int]
    play: str


def name_tagging(seed: int = 0, negatives: float = 1.0, lower: bool = False) -> Splits:
    """Tag every word of a Shakespeare line that is a character's name (many-to-many, T_x = T_y).

    The names of each play come from its own speaker list (:func:`play_names`); a word is tagged
    1 when it is capitalised and is one of them (``Romeo's`` counts). Every spoken line that
    holds a name is an example, plus ``negatives`` times as many lines without one, drawn with
    ``seed``. Splits follow the plays' split (:data:`~minigrad.data.VALIDATION_PLAYS`,
    :data:`~minigrad.data.TEST_PLAYS`), so the validation and test plays bring names
    the training set never showed: the model must learn where names go, not which words they
    are. ``lower=True`` lower-cases the words, hiding the capital letters that give most names away.

    >>> from minigrad.data import name_tagging
    >>> train, val, test = name_tagging(seed=0)
    >>> ex = next(e for e in train if "Romeo" in e.words)
    >>> list(zip(ex.words, ex.tags))[:4]
    [('Romeo', 1), (',', 0), ('bon', 0), ('jour', 0)]
    """
    if negatives < 0:
        raise ValueError(f"negatives must be >= 0, got {negatives}")
    rng = make_rng(seed)
    out = {}
    for split in ("train", "validation", "test"):
        pos, neg = [], []
        for p in plays(split):
            names = play_names(p)
            memo: dict[str, int] = {}
            for line_words in _tokenized_lines(p.slug):
                if not line_words:
                    continue
                words = list(line_words)
                tags = _tags(words, names, memo)
                ex = TaggedLine([w.lower() for w in words] if lower else words, tags, p.slug)
                (pos if any(tags) else neg).append(ex)
        k = min(len(neg), int(round(negatives * len(pos))))
        chosen = [neg[i] for i in sorted(rng.choice(len(neg), size=k, replace=False))]
        examples = pos + chosen
        out[split] = [examples[i] for i in rng.permutation(len(examples))]
    return Splits(out["train"], out["validation"], out["test"])


@functools.lru_cache(maxsize=128)
def _genre_lines(slug: str, label: int, min_words: int) -> tuple[GenreLine, ...]:
    from .shakespeare_plays import play

    pairs = zip(play(slug).spoken_lines(), _tokenized_lines(slug))
    return tuple(
        GenreLine(line, label, slug)
        for (_, line), words in pairs
        if sum(w[:1].isalnum() for w in words) >= min_words
    )


class GenreLine(NamedTuple):
    """A spoken line, the index of its play's genre in :data:`GENRES`, and the play's slug."""

    text: str
    label: int
    play: str


def line_genre(
    seed: int = 0,
    min_words: int = 5,
    per_class: int | None = None,
    fractions: Sequence[float] = (0.8, 0.1, 0.1),
    by_play: bool = False,
) -> Splits:
    """Which kind of play a line comes from: comedy, history or tragedy (many-to-one).

    Lines of at least ``min_words`` words, the same number from each genre (``per_class``, or as
    many as the smallest genre has), so that the majority baseline is one in three. The lines
    are shuffled and split by ``fractions``; with ``by_play=True`` the plays' own split is used
    instead (a harder task: no character of the test plays was seen in training, and the classes
    are then balanced within each split separately).

    >>> from minigrad.data import line_genre, GENRES
    >>> train, val, test = line_genre(seed=0)
    >>> train[0].text, GENRES[train[0].label]
    ('To be but named of thee. His meanest garment,', 'tragedy')
    """
    rng = make_rng(seed)

    def balanced(ps: list[Play], cap: int | None) -> list[GenreLine]:
        by_genre: dict[int, list[GenreLine]] = {i: [] for i in range(len(GENRES))}
        for p in ps:
            label = GENRES.index(p.genre)
            by_genre[label] += _genre_lines(p.slug, label, min_words)
        n = min(len(v) for v in by_genre.values())
        if cap is not None:
            n = min(n, cap)
        picked: list[GenreLine] = []
        for label in range(len(GENRES)):
            pool = by_genre[label]
            picked += [pool[i] for i in sorted(rng.choice(len(pool), size=n, replace=False))]
        return [picked[i] for i in rng.permutation(len(picked))]

    if by_play:
        return Splits(*[balanced(plays(s), per_class) for s in ("train", "validation", "test")])
    return _fractions_split(balanced(plays(), per_class), fractions, rng)


# ============================================================================ number agreement

AGREEMENT_LABELS: tuple[str, ...] = ("was", "were")
"""Label 0: the subject is singular, the verb is ``was``; label 1: plural, ``were``."""

_NOUNS = [
    ("cat", "cats"),
    ("dog", "dogs"),
    ("horse", "horses"),
    ("fox", "foxes"),
    ("bird", "birds"),
    ("child", "children"),
    ("man", "men"),
    ("woman", "women"),
    ("mouse", "mice"),
    ("goose", "geese"),
    ("king", "kings"),
    ("queen", "queens"),
    ("sailor", "sailors"),
    ("farmer", "farmers"),
    ("baker", "bakers"),
    ("soldier", "soldiers"),
    ("girl", "girls"),
    ("boy", "boys"),
    ("wolf", "wolves"),
    ("monk", "monks"),
]
_PLACES = [
    ("barn", "barns"),
    ("river", "rivers"),
    ("tower", "towers"),
    ("garden", "gardens"),
    ("castle", "castles"),
    ("bridge", "bridges"),
    ("church", "churches"),
    ("tree", "trees"),
    ("market", "markets"),
    ("gate", "gates"),
]
_VERBS = [
    "chased",
    "saw",
    "fed",
    "followed",
    "watched",
    "feared",
    "loved",
    "met",
    "heard",
    "helped",
]
_ADVERBS = ["quietly", "often", "once", "slowly", "gladly", "never", "always", "secretly"]
_ADJECTIVES = ["old", "small", "red", "dark", "quiet", "busy", "tall", "empty", "green", "cold"]
_PREPS = ["near", "by", "behind", "beside", "past", "under", "beyond", "inside"]
_FILLERS = {
    1: ["here", "outside", "today", "upstairs"],
    2: ["at home", "in town", "last night", "over there"],
}
_PREDICATES = [
    "full",
    "hungry",
    "tired",
    "asleep",
    "happy",
    "late",
    "cold",
    "afraid",
    "lost",
    "glad",
]


class Agreement(NamedTuple):
    """The words up to the verb, the label (0: ``was``, 1: ``were``), the number of words between
    the subject and the verb, and the whole sentence with the right verb and a predicate."""

    words: list[str]
    label: int
    distance: int
    sentence: str


def _noun(
    rng: np.random.Generator, table: list[tuple[str, str]], plural: bool | None = None
) -> str:
    sing, plur = table[rng.integers(len(table))]
    if plural is None:
        plural = bool(rng.integers(2))
    return plur if plural else sing


def _place_phrase(rng: np.random.Generator, n_words: int) -> list[str]:
    """``prep the [adj ...] place``, 3 to 5 words; the place noun has a random number."""
    adjs = [str(a) for a in rng.choice(_ADJECTIVES, size=n_words - 3, replace=False)]
    return [str(rng.choice(_PREPS)), "the", *adjs, _noun(rng, _PLACES)]


def _clause(rng: np.random.Generator, distance: int) -> list[str]:
    """Exactly ``distance`` words between the subject and its verb, with attractor nouns of
    random number ("the cat that the dogs chased near the barns ...")."""
    if distance <= 2:
        return str(rng.choice(_FILLERS[distance])).split() if distance else []
    # a place phrase of 3 to 5 words, or a relative clause of 4 or 5
    core = int(rng.integers(3, min(5, distance) + 1))
    if core == 3 or rng.integers(2):
        words = _place_phrase(rng, core)
    elif core == 4:
        words = ["that", "the", _noun(rng, _NOUNS), str(rng.choice(_VERBS))]
    else:
        words = [
            "that",
            str(rng.choice(_ADVERBS)),
            str(rng.choice(_VERBS)),
            "the",
            _noun(rng, _NOUNS),
        ]
    rest = distance - core
    while rest >= 3:  # then place phrases ...
        k = int(rng.integers(3, min(5, rest) + 1))
        words += _place_phrase(rng, k)
        rest -= k
    return words + [str(a) for a in rng.choice(_ADVERBS, size=rest, replace=False)]  # ... adverbs


def _agreement_example(rng: np.random.Generator, distance: int) -> Agreement:
    label = int(rng.integers(2))
    subject = _noun(rng, _NOUNS, plural=bool(label))
    words = ["the", subject, *_clause(rng, distance)]
    assert len(words) == distance + 2
    sentence = " ".join([*words, AGREEMENT_LABELS[label], str(rng.choice(_PREDICATES))])
    return Agreement(words, label, distance, sentence)


def number_agreement(
    distance: int | tuple[int, int] = (0, 12),
    n_train: int = 5000,
    n_validation: int = 500,
    n_test: int = 500,
    seed: int = 0,
) -> Splits:
    """Subject-verb agreement across a distractor of controllable length (many-to-one).

    Each example is the start of a sentence, "the cats that the dog chased near the old barn",
    and its label says which verb must follow: 0 for ``was`` (singular subject), 1 for ``were``.
    The words between the subject and the verb number exactly ``distance`` (an int, or a range
    ``(lo, hi)`` inclusive from which each example draws its own), and the nouns among them have
    random number, so only the first noun decides. Labels are balanced in expectation. At small
    distances the same sentence can occur in two splits; from about five words on that is rare.

    >>> from minigrad.data import number_agreement
    >>> train, val, test = number_agreement(distance=6, n_train=2, seed=1)
    >>> " ".join(train[0].words), train[0].label, train[0].sentence.split()[-2:]
    ('the king inside the old small tower always', 0, ['was', 'happy'])
    >>> all(len(ex.words) == 8 for ex in train + val + test)
    True
    """
    lo, hi = (distance, distance) if isinstance(distance, int) else distance
    if not 0 <= lo <= hi:
        raise ValueError(f"distance must be >= 0 (or a range lo <= hi), got {distance}")
    rng = make_rng(seed)
    sizes = (n_train, n_validation, n_test)
    return Splits(
        *[[_agreement_example(rng, int(rng.integers(lo, hi + 1))) for _ in range(n)] for n in sizes]
    )


# ============================================================================ date formats


def _ordinal(d: int) -> str:
    suffix = "th" if 11 <= d % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(d % 10, "th")
    return f"{d}{suffix}"


_MONTHS = list(calendar.month_name)[1:]
_MON = [m[:3] for m in _MONTHS]
_WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

DATE_FORMATS: dict[str, Any] = {
    "3 September 1979": lambda d: f"{d.day} {_MONTHS[d.month - 1]} {d.year}",
    "03 September 1979": lambda d: f"{d.day:02d} {_MONTHS[d.month - 1]} {d.year}",
    "September 3, 1979": lambda d: f"{_MONTHS[d.month - 1]} {d.day}, {d.year}",
    "September 3 1979": lambda d: f"{_MONTHS[d.month - 1]} {d.day} {d.year}",
    "3 september 1979": lambda d: f"{d.day} {_MONTHS[d.month - 1].lower()} {d.year}",
    "3 SEPTEMBER 1979": lambda d: f"{d.day} {_MONTHS[d.month - 1].upper()} {d.year}",
    "3rd September 1979": lambda d: f"{_ordinal(d.day)} {_MONTHS[d.month - 1]} {d.year}",
    "the 3rd of September, 1979": lambda d: (
        f"the {_ordinal(d.day)} of {_MONTHS[d.month - 1]}, {d.year}"
    ),
    "3 Sep 1979": lambda d: f"{d.day} {_MON[d.month - 1]} {d.year}",
    "Monday, 3 September 1979": lambda d: (
        f"{_WEEKDAYS[d.weekday()]}, {d.day} {_MONTHS[d.month - 1]} {d.year}"
    ),
    "Mon 3 Sep 1979": lambda d: (
        f"{_WEEKDAYS[d.weekday()][:3]} {d.day} {_MON[d.month - 1]} {d.year}"
    ),
    "3.9.1979": lambda d: f"{d.day}.{d.month}.{d.year}",
    "1979 September 3": lambda d: f"{d.year} {_MONTHS[d.month - 1]} {d.day}",
}
"""The human formats of :func:`date_formats`, each named by how it writes 3 September 1979 (a
Monday). Years always have four digits: two would make the ISO target ambiguous."""


class DatePair(NamedTuple):
    """A date as a person might write it, the same date in ISO 8601, and the format's name."""

    source: str
    target: str
    format: str


def date_formats(
    n_train: int = 10000,
    n_validation: int = 1000,
    n_test: int = 1000,
    seed: int = 0,
    formats: Sequence[str] | None = None,
    years: tuple[int, int] = (1900, 2099),
) -> Splits:
    """Dates in varied human formats paired with ISO 8601: ``("3 May 1979", "1979-05-03")``.

    The encoder-decoder's task, with input and output of different lengths. Dates are drawn
    uniformly between 1 January of ``years[0]`` and 31 December of ``years[1]``, no date in two
    splits; each example gets a format drawn uniformly from ``formats`` (names of
    :data:`DATE_FORMATS`; all of them by default).

    >>> from minigrad.data import date_formats
    >>> train, val, test = date_formats(n_train=3, n_validation=1, n_test=1, seed=0)
    >>> all(len(ex.target) == 10 for ex in train)
    True
    >>> one = date_formats(n_train=1, n_validation=0, n_test=0, formats=["3 September 1979"])
    >>> one.train[0][:2]
    ('15 February 2070', '2070-02-15')
    """
    names = list(DATE_FORMATS) if formats is None else list(formats)
    unknown = [f for f in names if f not in DATE_FORMATS]
    if unknown or not names:
        raise ValueError(f"unknown date formats {unknown}; choose from {list(DATE_FORMATS)}")
    first, last = _dt.date(years[0], 1, 1), _dt.date(years[1], 12, 31)
    span = (last - first).days + 1
    total = n_train + n_validation + n_test
    if total > span:
        raise ValueError(f"{total} distinct dates asked for, but the years hold only {span}")
    rng = make_rng(seed)
    offsets = rng.choice(span, size=total, replace=False)
    fmt_idx = rng.integers(len(names), size=total)
    pairs = []
    for off, fi in zip(offsets.tolist(), fmt_idx.tolist()):
        d = first + _dt.timedelta(days=off)
        pairs.append(DatePair(DATE_FORMATS[names[fi]](d), d.isoformat(), names[fi]))
    return Splits(
        pairs[:n_train], pairs[n_train : n_train + n_validation], pairs[n_train + n_validation :]
    )


FILLER_WORDS: tuple[str, ...] = (
    "a", "about", "after", "again", "all", "and", "at", "before", "by", "came", "day",
    "evening", "friends", "from", "had", "her", "his", "home", "it", "late", "letter", "long",
    "met", "morning", "note", "of", "old", "on", "our", "rain", "said", "sent", "signed", "so",
    "the", "them", "then", "they", "to", "town", "train", "walked", "was", "we", "were", "with",
    "wrote",
)
"""The words that :func:`date_sentences` puts around a date: lower case, no digits, and none is a
month, a month's three-letter abbreviation or a weekday, so that the date is the only date."""


class DateSentence(NamedTuple):
    """A date inside filler words, its ISO 8601 form, the date's format, and where the date
    stands in ``source``: ``source[start:end]`` is the date as written."""

    source: str
    target: str
    format: str
    start: int
    end: int


def date_sentences(
    n_train: int = 10000,
    n_validation: int = 1000,
    n_test: int = 1000,
    seed: int = 0,
    formats: Sequence[str] | None = None,
    max_words: int = 16,
    years: tuple[int, int] = (1900, 2099),
) -> Splits:
    """:func:`date_formats` with filler words before and after the date, for longer inputs.

    Each date of ``date_formats(n_train, n_validation, n_test, seed, formats, years)`` gets a
    number of filler words (from :data:`FILLER_WORDS`) drawn uniformly from 0 to ``max_words``,
    split at a uniform point into the words before the date and the words after it. The target
    is unchanged, so the task is to find the date in a longer input and then to convert it; with
    the default 16 words, inputs run from 8 to about 110 characters.

    >>> from minigrad.data import date_sentences
    >>> one = date_sentences(n_train=1, n_validation=0, n_test=0, formats=["3 September 1979"])
    >>> ex = one.train[0]
    >>> ex.source
    'them before signed town we had 15 February 2070 a the her old'
    >>> ex.source[ex.start : ex.end], ex.target
    ('15 February 2070', '2070-02-15')
    """
    if max_words < 0:
        raise ValueError(f"max_words must be >= 0, got {max_words}")
    dates = date_formats(n_train, n_validation, n_test, seed=seed, formats=formats, years=years)
    rng = np.random.default_rng([seed, 14])
    out = []
    for split in dates:
        rows = []
        for ex in split:
            n = int(rng.integers(max_words + 1))
            before = int(rng.integers(n + 1))
            words = [FILLER_WORDS[i] for i in rng.integers(len(FILLER_WORDS), size=n)]
            head = " ".join(words[:before])
            start = len(head) + 1 if head else 0
            source = " ".join([*words[:before], ex.source, *words[before:]])
            rows.append(DateSentence(source, ex.target, ex.format, start, start + len(ex.source)))
        out.append(rows)
    return Splits(*out)
