"""Diagnostics and the one exception type that carries them.

Every problem with user input becomes a :class:`Diagnostic` with a stable ``code`` (documented in
docs/errors.md), a message and a location. Parsers collect all of them and raise a single
:class:`FilterError`, so callers handle exactly one exception type whatever the input was.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

ERROR = "error"
WARNING = "warning"


def pointer(parts: Iterable[str | int]) -> str:
    """RFC 6901 JSON Pointer for a path of keys/indices."""
    out = []
    for p in parts:
        out.append("/" + str(p).replace("~", "~0").replace("/", "~1"))
    return "".join(out)


@dataclass(frozen=True)
class Location:
    """Where a diagnostic points: a JSON Pointer, a text position, or a query parameter."""

    pointer: str | None = None
    line: int | None = None
    column: int | None = None
    offset: int | None = None
    param: str | None = None
    index: int | None = None

    def __str__(self) -> str:
        parts = []
        if self.pointer is not None:
            parts.append(self.pointer or "/")
        if self.line is not None:
            parts.append(f"{self.line}:{self.column}")
        if self.param is not None:
            parts.append(f"param {self.param!r}" + (f" #{self.index}" if self.index is not None else ""))
        return " ".join(parts) or "<input>"

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True)
class Diagnostic:
    code: str
    message: str
    location: Location = field(default_factory=Location)
    severity: str = ERROR

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def __str__(self) -> str:
        return f"{self.location}: {self.severity} {self.code}: {self.message}"

    def to_json(self) -> dict[str, Any]:
        return {
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            "location": self.location.to_json(),
        }


class HasDiagnostics:
    """``errors`` and ``warnings`` of a ``diagnostics`` sequence (FilterError, ParseResult)."""

    diagnostics: Sequence[Diagnostic]

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.is_error]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if not d.is_error]


class FilterError(HasDiagnostics, ValueError):
    """Raised for any invalid input; ``diagnostics`` lists every error and warning found."""

    def __init__(self, diagnostics: Iterable[Diagnostic]):
        self.diagnostics: list[Diagnostic] = list(diagnostics)
        errors = [d for d in self.diagnostics if d.is_error] or self.diagnostics
        head = str(errors[0]) if errors else "invalid filter"
        more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(head + more)

    @classmethod
    def one(cls, code: str, message: str, where: Location | None = None) -> FilterError:
        """One error; by default about the whole query (the root of its AST JSON form)."""
        return cls([Diagnostic(code, message, where if where is not None else Location(pointer=""))])


#: Diagnostics reported for one input; past it, one ``too-large`` says the rest were left out (an input
#: with 40,000 unknown keys is not helped by 40,000 messages, and building them costs seconds).
MAX_DIAGNOSTICS = 1000


class Collector:
    """Accumulates diagnostics while a frontend walks its input (all errors, not just the first, up to
    ``MAX_DIAGNOSTICS``)."""

    def __init__(self, strict: bool = True):
        self.strict = strict
        self.items: list[Diagnostic] = []
        self.dropped = 0

    def _add(self, d: Diagnostic) -> None:
        if len(self.items) < MAX_DIAGNOSTICS:
            self.items.append(d)
            return
        if not self.dropped:
            self.items.append(
                Diagnostic(
                    "too-large",
                    f"more than {MAX_DIAGNOSTICS} problems: the rest are not reported (fix these first)",
                    d.location,
                    ERROR,
                )
            )
        self.dropped += 1

    def error(self, code: str, message: str, location: Location) -> None:
        self._add(Diagnostic(code, message, location, ERROR))

    def warn(self, code: str, message: str, location: Location) -> None:
        self._add(Diagnostic(code, message, location, WARNING))

    def lenient(self, code: str, message: str, location: Location) -> None:
        """An error in strict mode, a warning in lenient mode."""
        (self.error if self.strict else self.warn)(code, message, location)

    @property
    def has_errors(self) -> bool:
        return any(d.is_error for d in self.items)

    def raise_if_errors(self) -> None:
        if self.has_errors:
            raise FilterError(self.items)


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A ' (did you mean ...?)' suffix, or '' when nothing is close."""
    choices = list(choices)
    close = difflib.get_close_matches(word, choices, n=3, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in choices}
        if word.lower() in lowered:
            close = [lowered[word.lower()]]
    if not close:
        return ""
    return " (did you mean " + " or ".join(repr(c) for c in close) + "?)"
