"""The frontends: one module per input format, each turning its text or object into the one AST.

``FRONTENDS`` is the registry ``api.parse`` dispatches through: a new format is a module here with a
``parse_<format>(source, catalog, database, options) -> ParseResult`` function and one line below.
Grammars live in the repository's top-level ``grammar/`` folder and are read through ``grammar_path``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from filterdsl.ast import Query
from filterdsl.errors import Diagnostic

#: format -> (module, function); imported on first use, so parsing one format loads only its frontend
FRONTENDS: dict[str, tuple[str, str]] = {
    "pitchly": ("filterdsl.frontends.pitchly", "parse_pitchly"),
    "search": ("filterdsl.frontends.search", "parse_search"),
    "pixiebrix": ("filterdsl.frontends.pixiebrix", "parse_pixiebrix"),
    "text": ("filterdsl.frontends.text", "parse_text"),
    "ast": ("filterdsl.frontends.ast_json", "parse_ast"),
}


@dataclass(frozen=True)
class ParseResult:
    """What a frontend returns: the query (None when there are errors) and every diagnostic."""

    query: Query | None
    diagnostics: tuple[Diagnostic, ...] = ()

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.is_error]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if not d.is_error]


def frontend(fmt: str) -> Callable[..., ParseResult] | None:
    """The parse function of a format, or None for an unknown one."""
    spec = FRONTENDS.get(fmt)
    if spec is None:
        return None
    fn: Callable[..., ParseResult] = getattr(importlib.import_module(spec[0]), spec[1])
    return fn


def grammar_path(name: str) -> Path:
    """``filterdsl/grammar/<name>`` in a wheel, ``<repo>/grammar/<name>`` in a checkout."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here / "grammar" / name, here.parent / "grammar" / name):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"grammar {name} not found")
