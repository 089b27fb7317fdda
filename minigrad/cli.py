"""The ``minigrad`` command line: ``minigrad grade``, ``minigrad train-lm``, ``minigrad sample`` ...

Each group of subcommands lives in its own module, listed in ``_COMMAND_MODULES``; a module
provides ``register(subparsers)``, which adds its subparsers and sets ``func`` on each to a function
taking the parsed ``argparse.Namespace`` and returning an exit code. A command signals a user's
mistake (a bad argument, an unreadable file) by raising :class:`CLIError`: the user sees one line,
``minigrad: error: ...``, and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# modules that register subcommands; a module that does not exist yet is skipped
_COMMAND_MODULES = ("minigrad.grading.cli", "minigrad.lm_cli")


class CLIError(Exception):
    """A user-facing error: printed as one line, exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="minigrad",
        description="minigrad: autograd on numpy, and the tools of Sequence Models from Scratch.",
    )
    parser.add_argument("--version", action="version", version=f"minigrad {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name == name or (e.name and name.startswith(e.name + ".")):
                continue
            raise
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``minigrad`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except CLIError as e:
        print(f"minigrad: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("minigrad: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
