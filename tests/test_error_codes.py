"""Every diagnostic code the code base can emit has an entry in docs/errors.md (stable, documented)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parent.parent
EMIT = re.compile(
    r"""(?:\.error|\.warn|\.lenient|\.ignore|Diagnostic|_diag|_error|_warn|_bad)\(\s*["']([a-z][a-z0-9-]+)["']"""
)


def emitted_codes() -> set[str]:
    codes: set[str] = set()
    for path in (ROOT / "filterdsl").rglob("*.py"):
        codes |= set(EMIT.findall(path.read_text(encoding="utf-8")))
    return codes


def test_scanner_finds_the_core_codes() -> None:
    assert {"invalid-json", "unknown-field", "limit-too-large", "empty-term"} <= emitted_codes()


def test_every_code_is_documented() -> None:
    doc = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([a-z0-9-]+)`", doc, re.M))
    missing = sorted(emitted_codes() - documented)
    assert not missing, f"codes emitted but not documented in docs/errors.md: {missing}"
