"""A Sphinx directive that documents every public module of minigrad with autodoc.

``{minigrad-api}`` on a page expands to one section per module (``automodule`` with its members),
found by walking the package, so that a module added to minigrad appears in the API reference
without editing the page. A module is public unless its name, or a package above it, starts with an
underscore, or it is listed in ``EXCLUDE``. Every object is documented once, in the module that
defines it (``ignore-module-all`` in ``_config.yml``), so a re-export does not make a reference
ambiguous.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

#: Modules left out of the reference.
EXCLUDE: set[str] = set()


def public_modules(package: str = "minigrad") -> list[str]:
    """The names of the package's public modules, the package first, then sorted by name."""
    pkg = importlib.import_module(package)
    names = [package]
    for info in pkgutil.walk_packages(pkg.__path__, prefix=package + "."):
        if any(part.startswith("_") for part in info.name.split(".")) or info.name in EXCLUDE:
            continue
        names.append(info.name)
    return [names[0]] + sorted(names[1:])


def _is_private(module: str) -> bool:
    return any(part.startswith("_") for part in module.split("."))


def reexports_from_private(name: str) -> list[str]:
    """Directives for the classes and functions a module exports from a private module.

    ``minigrad.set_default_dtype`` lives in ``minigrad._dtype``, which has no section of its own,
    so it is documented where users find it.
    """
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None) or [
        n for n in vars(module) if not n.startswith("_")]
    lines = []
    for attr in exported:
        obj = getattr(module, attr, None)
        owner = getattr(obj, "__module__", None)
        if not (inspect.isclass(obj) or inspect.isfunction(obj)) or not isinstance(owner, str):
            continue
        if not owner.startswith("minigrad") or not _is_private(owner):
            continue
        if inspect.isclass(obj):
            kind = "autoexception" if issubclass(obj, BaseException) else "autoclass"
        else:
            kind = "autofunction"
        lines += [f".. {kind}:: {name}.{attr}", ""]
    return lines


class MinigradAPI(SphinxDirective):
    has_content = False
    option_spec: dict = {}

    def run(self) -> list[nodes.Node]:
        lines: list[str] = []
        for name in public_modules():
            lines += [name, "-" * len(name), "", f".. automodule:: {name}", ""]
            lines += reexports_from_private(name)
        source = self.get_source_info()[0]
        content = StringList(lines, source=source)
        node = nodes.section()
        node.document = self.state.document
        nested_parse_with_titles(self.state, content, node)
        return node.children


def _import(path: str) -> object | None:
    """The object named by a dotted path (a module, then attributes), or None."""
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except Exception:  # noqa: BLE001 - not a module (or not importable): try a shorter prefix
            continue
        try:
            for attr in parts[cut:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return None
        return obj
    return None


def _canonical(obj: object) -> str | None:
    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    if isinstance(module, str) and isinstance(qualname, str) and "<" not in qualname:
        return f"{module}.{qualname}"
    return None


def resolve_reexport(app, env, node, contnode):  # noqa: ANN001, ANN201 - Sphinx's signature
    """Resolve a Python reference that names an object where it is used, not where it is defined.

    Docstrings say ``:func:`minigrad.manual_seed``` or, inside ``minigrad.data``, ``:func:`plays```:
    names under which users reach the object. The reference documents it once, under its defining
    module (``minigrad.random.manual_seed``); this finds that entry by importing the name, or, for
    attributes that cannot be traced that way, by a unique match of the name's end within minigrad.
    """
    if node.get("refdomain") != "py":
        return None
    from sphinx.util.nodes import make_refnode

    domain = env.get_domain("py")
    target = node["reftarget"].lstrip(".~")
    module, cls = node.get("py:module"), node.get("py:class")
    candidates = [f"{module}.{cls}.{target}"] if module and cls else []
    candidates += [f"{module}.{target}"] if module else []
    candidates.append(target)
    found = None
    for name in candidates:
        obj = _import(name)
        if obj is None:
            continue
        canonical = _canonical(obj)
        if canonical in domain.objects:
            found = canonical
            break
    if found is None and target.replace(".", "").replace("_", "").isalnum():
        # "minigrad.data.TEST_PLAYS": a name ending in TEST_PLAYS somewhere under minigrad.data
        parts = target.split(".")
        for cut in range(len(parts)):
            prefix = ".".join(parts[:cut]) + "." if cut else "minigrad."
            suffix = "." + ".".join(parts[cut:])
            matches = [n for n in domain.objects if n.endswith(suffix) and n.startswith(prefix)]
            if len(matches) == 1:
                found = matches[0]
                break
            if matches:  # ambiguous: leave it to Sphinx's warning
                break
    if found is None:
        return None
    entry = domain.objects[found]
    return make_refnode(app.builder, node["refdoc"], entry.docname, entry.node_id, contnode, found)


def _keep_attribute_docstrings() -> None:
    """Let napoleon leave the docstrings of constants and properties as they are written.

    Napoleon reads the first line of such a docstring as ``type: description``, so prose such as
    "The default special tokens, in id order: ..." turned into a reference to a type named "The
    default special tokens, in id order". minigrad writes no types there.
    """
    from sphinx.ext.napoleon.docstring import GoogleDocstring

    GoogleDocstring._parse_attribute_docstring = lambda self: self._consume_to_end()


def setup(app):  # noqa: ANN001, ANN201 - Sphinx's signature
    _keep_attribute_docstrings()
    app.add_directive("minigrad-api", MinigradAPI)
    app.connect("missing-reference", resolve_reexport)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
