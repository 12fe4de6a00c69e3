"""Validation reports for files: text with caret snippets, JSON, GitHub annotations, SARIF 2.1.0.

The CLI's ``validate`` collects one :class:`FileResult` per input file; this module only formats.
Diagnostics are the library's own (same codes, same messages): a report adds the file, and turns a
location into ``line:column`` of that file where the diagnostic has one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote

from filterdsl.errors import Diagnostic
from filterdsl.redact import MASK
from filterdsl.redact import secret_spans as _spans

SECRET_KEY = "secretKey"


def secret_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of every secret value in ``text`` (``secretKey`` and the names
    :func:`filterdsl.redact.is_secret_name` treats alike; every occurrence, any format, whether the text
    parses or not): see :mod:`filterdsl.redact`."""
    return _spans(text)


class Redacted:
    """``text`` with every ``secretKey`` value replaced by a fixed-width mask, and the mapping from
    positions in the original text to positions in the masked one (so carets stay under the right
    character). A masked span keeps its newlines, so line numbers never move."""

    def __init__(self, text: str):
        self.spans = secret_spans(text)
        pieces, last, self._shifts = [], 0, []
        for a, b in self.spans:
            if a < last:
                continue
            quote = text[a] if text[a] in "\"'" else ""
            repl = quote + MASK + quote + "\n" * text.count("\n", a, b)
            pieces += [text[last:a], repl]
            self._shifts.append((a, b, len(repl)))
            last = b
        pieces.append(text[last:])
        self.text = "".join(pieces)
        self._starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]
        self._masked_lines = self.text.split("\n")

    def snippet(self, line: int, column: int) -> tuple[str, int] | None:
        """The masked source line and the caret column for an original (line, column)."""
        if not 1 <= line <= len(self._starts):
            return None
        off = self._starts[line - 1] + column - 1
        new = off
        for a, b, size in self._shifts:
            if b <= off:
                new += size - (b - a)
            elif a <= off:
                new -= off - a  # inside the masked value: point at its start
        before = self.text.rfind("\n", 0, new) + 1
        masked_line = self.text.count("\n", 0, new)
        if masked_line >= len(self._masked_lines):
            return None
        return self._masked_lines[masked_line], new - before + 1


def redact(text: str) -> str:
    """``text`` with each ``secretKey`` value masked (fixed width; see :class:`Redacted`)."""
    return Redacted(text).text


@dataclass(frozen=True)
class FileResult:
    path: str
    text: str
    diagnostics: tuple[Diagnostic, ...]
    valid: bool  # parsed without errors (warnings allowed)

    def failed(self, strict: bool) -> bool:
        return not self.valid or (strict and bool(self.diagnostics))


def position(d: Diagnostic, text: str) -> tuple[int, int] | None:
    """1-based (line, column) of a diagnostic in its file, when it can be known."""
    loc = d.location
    if loc.line is not None and loc.column is not None:
        return loc.line, loc.column
    if loc.offset is not None:
        off = max(0, min(loc.offset, len(text)))
        return text.count("\n", 0, off) + 1, off - (text.rfind("\n", 0, off) + 1) + 1
    if loc.param is not None and text:
        # A query-string parameter: point at its first occurrence as a name.
        at = _param_offset(text, loc.param, loc.index)
        if at is not None:
            return text.count("\n", 0, at) + 1, at - (text.rfind("\n", 0, at) + 1) + 1
    return None


def _param_offset(text: str, name: str, index: int | None) -> int | None:
    start = 1 if text.startswith("?") else 0
    pieces, offsets, pos = [], [], start
    for piece in text[start:].split("&"):
        pieces.append(piece)
        offsets.append(pos)
        pos += len(piece) + 1
    if index is not None and 0 <= index < len(pieces):
        return offsets[index]
    for piece, off in zip(pieces, offsets):
        if piece.split("=", 1)[0] == name:
            return off
    return None


def _where(d: Diagnostic) -> str:
    """The non-positional part of a location (pointer / parameter), for messages."""
    loc = d.location
    if loc.pointer:
        return f" (at {loc.pointer})"
    if loc.param is not None:
        return f" (parameter {loc.param!r})"
    return ""


def _counts(results: Sequence[FileResult], strict: bool) -> dict[str, int]:
    return {
        "files": len(results),
        "failed": sum(r.failed(strict) for r in results),
        "errors": sum(len([d for d in r.diagnostics if d.is_error]) for r in results),
        "warnings": sum(len([d for d in r.diagnostics if not d.is_error]) for r in results),
    }


def summary_line(results: Sequence[FileResult], strict: bool) -> str:
    c = _counts(results, strict)
    return (
        f"{c['files']} file(s) checked: {c['failed']} failed, {c['errors']} error(s), "
        f"{c['warnings']} warning(s)" + (" (--strict: warnings fail)" if strict else "")
    )


def text_report(results: Sequence[FileResult], strict: bool = False, quiet: bool = False) -> str:
    """``file:line:col: severity code: message`` and the offending line with a caret under it."""
    out: list[str] = []
    for r in results:
        masked = Redacted(r.text)
        for d in r.diagnostics:
            if quiet and not (d.is_error or strict):
                continue
            pos = position(d, r.text)
            head = f"{r.path}:{pos[0]}:{pos[1]}" if pos else r.path
            out.append(f"{head}: {d.severity} {d.code}: {d.message}{_where(d)}")
            shown = masked.snippet(*pos) if pos else None
            if shown is not None:
                out.append("    " + shown[0].expandtabs(1))
                out.append("    " + " " * (shown[1] - 1) + "^")
    if not quiet:
        out.append(summary_line(results, strict))
    return "\n".join(out)


def json_report(results: Sequence[FileResult], strict: bool = False) -> str:
    files = []
    for r in results:
        diags = []
        for d in r.diagnostics:
            item = d.to_json()
            pos = position(d, r.text)
            if pos:
                item["line"], item["column"] = pos
            diags.append(item)
        files.append({"file": r.path, "valid": not r.failed(strict), "diagnostics": diags})
    return json.dumps({"summary": _counts(results, strict), "files": files}, ensure_ascii=False, indent=2)


def _gh_escape(text: str, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if prop else text


def github_report(results: Sequence[FileResult], strict: bool = False) -> str:
    """GitHub Actions workflow commands: one ``::error``/``::warning`` annotation per diagnostic."""
    out: list[str] = []
    for r in results:
        for d in r.diagnostics:
            level = "error" if d.is_error or strict else "warning"
            props = [f"file={_gh_escape(r.path, True)}"]
            pos = position(d, r.text)
            if pos:
                props += [f"line={pos[0]}", f"col={pos[1]}"]
            props.append(f"title={_gh_escape('filterdsl ' + d.code, True)}")
            out.append(f"::{level} {','.join(props)}::{_gh_escape(d.message + _where(d))}")
    out.append(summary_line(results, strict))
    return "\n".join(out)


def artifact_location(path: str) -> dict[str, Any]:
    """A SARIF artifactLocation: a relative path becomes a percent-encoded URI reference against
    ``%SRCROOT%`` (what code scanning maps to repository files), an absolute one a ``file:`` URI."""
    posix = path.replace("\\", "/")
    if PurePosixPath(posix).is_absolute() or re.match(r"[A-Za-z]:/", posix):
        return {"uri": "file://" + ("" if posix.startswith("/") else "/") + quote(posix, safe="/:")}
    return {"uri": quote(posix, safe="/"), "uriBaseId": "%SRCROOT%"}


def sarif_report(
    results: Sequence[FileResult], strict: bool = False, version: str = "", root: str | None = None
) -> dict[str, Any]:
    """A SARIF 2.1.0 log with one run, one rule per diagnostic code, one result per diagnostic.

    ``root`` (the directory relative paths are relative to) is recorded as ``%SRCROOT%``."""
    codes = sorted({d.code for r in results for d in r.diagnostics})
    index = {c: i for i, c in enumerate(codes)}
    rules = [
        {
            "id": c,
            "name": c,
            "shortDescription": {"text": f"filterdsl diagnostic {c}"},
            "help": {"text": f"See docs/errors.md, entry `{c}`, for an example and the fix."},
        }
        for c in codes
    ]
    out: list[dict[str, Any]] = []
    for r in results:
        for d in r.diagnostics:
            phys: dict[str, Any] = {"artifactLocation": artifact_location(r.path)}
            pos = position(d, r.text)
            if pos:
                phys["region"] = {"startLine": pos[0], "startColumn": pos[1]}
            result: dict[str, Any] = {
                "ruleId": d.code,
                "ruleIndex": index[d.code],
                "level": "error" if d.is_error or strict else "warning",
                "message": {"text": d.message + _where(d)},
                "locations": [{"physicalLocation": phys}],
            }
            if d.location.pointer:
                result["locations"][0]["logicalLocations"] = [
                    {"fullyQualifiedName": d.location.pointer, "kind": "member"}
                ]
            out.append(result)
    driver: dict[str, Any] = {"name": "filterdsl", "rules": rules}
    if version:
        driver["version"] = version
    run: dict[str, Any] = {"tool": {"driver": driver}, "results": out}
    if root is not None:
        base = root.replace("\\", "/").rstrip("/") + "/"
        run["originalUriBaseIds"] = {
            "%SRCROOT%": {"uri": "file://" + ("" if base.startswith("/") else "/") + quote(base, safe="/:")}
        }
    return {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0", "runs": [run]}
