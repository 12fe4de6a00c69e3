"""The planted-secret check: a ``secretKey`` member (or a near-miss name) with a known value is put into an
input at a place where a member can go, and no output about that input may contain the value.

Shared by the fuzz pipeline (``FILTERDSL_FUZZ_SECRETS=1``, tests/fuzz/pipeline.py) and the hypothesis
property in tests/security/test_secret_outputs.py. "Outputs" are everything a user or a log can see:
every diagnostic (``str``, its JSON, the FilterError message), the four ``validate`` reports (text with
caret snippets, JSON, GitHub annotations, SARIF), the CLI's stderr lines with their snippets, the server's
error body (the diagnostics' JSON), and, when the input parses, the query's repr and every emitted format
(for the member-structured formats: Pitchly, AST JSON and query strings; a search or text-form query that
*contains* the planted text as a search term or a string literal is the user's own query, not a member).
"""

from __future__ import annotations

import io
import json
import re
from typing import Any

#: the planted value: letters and digits that no message, code or keyword contains by chance
SECRET = "Qz7TOPSECRET9xW"
#: secret names (docs/security.md, "Secrets": the rule in filterdsl/redact.py)
NAMES = (
    '"secretKey"',
    "secretKey",
    '"SECRETKEY"',
    '"secret_key"',
    "secretkey",
    "'Secret-Key'",
    '"secret\\u004bey"',
    '"secretKeys"',
    '"secertKey"',
    "secret",
)
#: how the value is written: quoted, unquoted, malformed, nested, unterminated
FORMS = (
    '"{s}"',
    "{s}",
    '9"{s}"',
    "'{s}'",
    '{{"k": "{s}"}}',
    '["{s}", 1]',
    '"{s}',
    '"a,{s}"',
    '"{s}" "x"',
    "{s} {s}",
    '"\\u0051z7TOPSECRET9xW"',
    "-{s}",
)
QS_FORMS = ("{s}", "%51z7TOPSECRET9xW", "{s}%ZZ", "a%2C{s}")
_SKIP = re.compile(r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|//[^\n]*|/\*(?:[^*]|\*(?!/))*\*/|[{,]|["\'/]')


def _member_offsets(body: str) -> list[int]:
    """Offsets just after a ``{`` or ``,`` outside strings and comments, plus the start, and the end when
    it is not inside an unclosed string or comment (a member planted there would be a string's text)."""
    out = [0]
    closed = True
    for m in _SKIP.finditer(body):
        tok = m.group()
        if tok in "{,":
            out.append(m.end())
        elif tok in ('"', "'") or tok == "/" and body[m.end() : m.end() + 1] == "*":
            closed = False  # an unclosed string or comment runs to the end
            break
    if closed:
        out.append(len(body))
    return sorted(set(out))


def plant(body: str, fmt: str, choice: int) -> tuple[str, list[str]]:
    """``body`` with a secret member planted (chosen by ``choice``); the strings that must not appear."""
    if fmt == "pixiebrix":
        name = ("secretKey", "SECRETKEY", "secret_key", "secret%4Bey", "Secret-Key")[choice % 5]
        form = QS_FORMS[(choice // 5) % len(QS_FORMS)]
        cuts = [0, len(body)] + [m.end() for m in re.finditer("&", body)] + ([1] if body[:1] == "?" else [])
        at = sorted(set(cuts))[(choice // 20) % len(set(cuts))]
        piece = f"{name}={form.format(s=SECRET)}"
        sep_before = "&" if at > 0 and body[:at] not in ("?",) and body[at - 1 : at] != "&" else ""
        sep_after = "&" if at < len(body) and body[at : at + 1] != "&" else ""
        return body[:at] + sep_before + piece + sep_after + body[at:], [SECRET]
    name = NAMES[choice % len(NAMES)]
    form = FORMS[(choice // len(NAMES)) % len(FORMS)]
    offsets = _member_offsets(body)
    at = offsets[(choice // (len(NAMES) * len(FORMS))) % len(offsets)]
    tail = ("," if (choice >> 9) & 1 else "") + ("}" if (choice >> 10) & 1 else "")
    member = f"{name}: {form.format(s=SECRET)}{tail}"
    if (choice >> 11) & 1:  # a duplicate: the secret first, a harmless second
        member = f'{member}, {name}: "other"'
    if at == 0 and (choice >> 12) & 1:
        member = "{" + member
    if at > 0:
        member = " " + member  # never glued to a word before it ("davidsecretKey" is no secret name)
    return body[:at] + member + body[at:], [SECRET]


def outputs(body: str, fmt: str, catalog: Any, database: str | None, opts: dict[str, Any]) -> list[str]:
    """Everything filterdsl shows about ``body`` (see the module docstring)."""
    from filterdsl import FilterError
    from filterdsl.api import parse_result, to_format
    from filterdsl.cli.common import _print_diags
    from filterdsl.cli.report import FileResult, github_report, json_report, sarif_report, text_report

    out: list[str] = []
    try:
        res = parse_result(body, fmt, catalog, database, **opts)
    except FilterError as e:
        diags, query = list(e.diagnostics), None
        out.append(str(e))
    else:
        diags, query = list(res.diagnostics), res.query
        if query is None or res.errors:
            out.append(str(FilterError(res.diagnostics)))
    out += [str(d) for d in diags]
    out.append(json.dumps({"errors": [d.to_json() for d in diags]}, ensure_ascii=False))
    fr = [FileResult("input." + fmt, body, tuple(diags), query is not None)]
    out += [
        text_report(fr),
        json_report(fr),
        github_report(fr),
        json.dumps(sarif_report(fr), ensure_ascii=False),
    ]
    buf = io.StringIO()
    _print_diags(diags, "input", buf, body)
    out.append(buf.getvalue())
    if query is not None and fmt in ("pitchly", "ast", "pixiebrix"):
        out.append(repr(query))
        for target in ("text", "pitchly", "ast", "search", "pixiebrix"):
            try:
                emitted = to_format(query, target)  # type: ignore[call-overload]
            except FilterError as e:
                emitted = str(e)
            out.append(emitted if isinstance(emitted, str) else json.dumps(emitted, ensure_ascii=False))
    return out


def leaks(
    body: str, fmt: str, catalog: Any, database: str | None, opts: dict[str, Any], secrets: list[str]
) -> str | None:
    """The first output holding a secret (with the secret marked), or None."""
    for text in outputs(body, fmt, catalog, database, opts):
        for s in secrets:
            if s in text:
                i = text.index(s)
                return text[max(0, i - 200) : i + len(s) + 60]
    return None
