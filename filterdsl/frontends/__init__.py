"""The frontends: one module per input format, each turning its text or object into the one AST.

``FRONTENDS`` is the registry ``api.parse`` dispatches through: a new format is a module here with a
``parse_<format>(source, catalog, database, options) -> ParseResult`` function and one line below.
Grammars live in the repository's top-level ``grammar/`` folder and are read through ``grammar_path``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from filterdsl.ast import Query
from filterdsl.errors import Diagnostic, HasDiagnostics
from filterdsl.options import ParseOptions
from filterdsl.schema import Catalog

#: format -> (module, function); imported on first use, so parsing one format loads only its frontend
FRONTENDS: dict[str, tuple[str, str]] = {
    "pitchly": ("filterdsl.frontends.pitchly", "parse_pitchly"),
    "search": ("filterdsl.frontends.search", "parse_search"),
    "pixiebrix": ("filterdsl.frontends.pixiebrix", "parse_pixiebrix"),
    "text": ("filterdsl.frontends.text", "parse_text"),
    "ast": ("filterdsl.frontends.ast_json", "parse_ast"),
}


@dataclass(frozen=True)
class ParseResult(HasDiagnostics):
    """What a frontend returns: the query (None when there are errors) and every diagnostic."""

    query: Query | None
    diagnostics: tuple[Diagnostic, ...] = ()


@dataclass(frozen=True)
class Context:
    """What every frontend gets besides the source: the schema, the queried database, the options."""

    catalog: Catalog | None = None
    database: str | None = None
    options: ParseOptions = field(default_factory=ParseOptions)


#: the signature every frontend has
Frontend = Callable[[Any, Context], ParseResult]


def frontend(fmt: str) -> Frontend | None:
    """The parse function of a format, or None for an unknown one."""
    spec = FRONTENDS.get(fmt)
    if spec is None:
        return None
    fn: Frontend = getattr(importlib.import_module(spec[0]), spec[1])
    return fn


def grammar_path(name: str) -> Path:
    """``filterdsl/grammar/<name>`` in a wheel, ``<repo>/grammar/<name>`` in a checkout."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here / "grammar" / name, here.parent / "grammar" / name):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"grammar {name} not found")
