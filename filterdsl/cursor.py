"""Keyset pagination tokens: ``after=<token>`` (PixieBrix) and ``"after": "<token>"`` (Pitchly).

A token is the base64url (no padding) of a compact JSON ``{"v": 1, "s": sort signature, "k": [[rank,
value?]...], "c": created_at, "i": id}`` (semantics.cursor), followed by ``.`` and a truncated
HMAC-SHA256 of that text when a secret is configured. It is opaque to clients; the server validates it
(``bad-cursor``): the shape, the ranks and values against the query's sort, the sort signature (a token
made for another order is refused), and the signature when there is a secret (a tampered or unsigned
token is refused). Without a secret a token is validated, not authenticated: a client can craft one,
which only ever selects rows the filter already allows.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import hmac
import json
from typing import Any

from filterdsl import ast as A
from filterdsl.ast.json import cursor_from_json
from filterdsl.errors import FilterError, Location
from filterdsl.semantics.cursor import cursor_of, cursor_problem, sort_signature

TOKEN_VERSION = 1
#: longest token accepted (a sort value longer than this cannot be a cursor: page with skip instead)
MAX_TOKEN_CHARS = 64 * 1024
_MAC_BYTES = 16

__all__ = ["TOKEN_VERSION", "decode", "encode", "next_cursor", "with_after"]


def _b64(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode("ascii")


def _unb64(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def _key(secret: str | bytes) -> bytes:
    return secret.encode("utf-8") if isinstance(secret, str) else secret


def _mac(body: str, secret: str | bytes) -> str:
    return _b64(hmac.new(_key(secret), body.encode("ascii"), hashlib.sha256).digest()[:_MAC_BYTES])


def bad_cursor(message: str, where: Location | None = None) -> FilterError:
    return FilterError.one("bad-cursor", message, where or Location(param="after"))


def encode(cursor: A.Cursor, secret: str | bytes | None = None) -> str:
    """The opaque token of a cursor (signed when ``secret`` is given)."""
    payload = {
        "v": TOKEN_VERSION,
        "s": cursor.sort,
        "k": [[k.rank] if k.value is None else [k.rank, k.value] for k in cursor.keys],
        "c": cursor.created_at,
        "i": cursor.id,
    }
    text = json.dumps(payload, separators=(",", ":"), allow_nan=False)  # ASCII: lone surrogates survive
    body = _b64(text.encode("ascii"))
    return body if secret is None else f"{body}.{_mac(body, secret)}"


def decode(token: str, secret: str | bytes | None = None, where: Location | None = None) -> A.Cursor:
    """The cursor of a token; ``bad-cursor`` (located at ``where``, default the ``after`` parameter)
    when it is not one, or, with a ``secret``, when its signature is missing or wrong."""
    if not isinstance(token, str) or not token:
        raise bad_cursor("after is a cursor token (a non-empty string)", where)
    if len(token) > MAX_TOKEN_CHARS:
        raise bad_cursor(f"a cursor token has at most {MAX_TOKEN_CHARS} characters", where)
    body, _, mac = token.partition(".")
    if secret is not None and not hmac.compare_digest(
        mac.encode("ascii", "replace"), _mac(body, secret).encode()
    ):
        raise bad_cursor(
            "the cursor token's signature does not match (tampered, or from another server)", where
        )
    try:
        o = json.loads(_unb64(body).decode("utf-8"))
        if not isinstance(o, dict) or o.get("v") != TOKEN_VERSION:
            raise ValueError("version")
        return cursor_from_json({"keys": o["k"], "created_at": o["c"], "id": o["i"], "sort": o["s"]})
    except (ValueError, TypeError, KeyError, binascii.Error, UnicodeDecodeError, RecursionError):
        raise bad_cursor(
            "after is not a cursor token this server made (start again from page 1)", where
        ) from None


def with_after(
    query: A.Query, token: str, secret: str | bytes | None = None, where: Location | None = None
) -> A.Query:
    """``query`` paging after ``token``, checked against the query's sort (``bad-cursor``)."""
    q = dataclasses.replace(query, after=decode(token, secret, where))
    problem = cursor_problem(q)
    if problem is not None:
        raise bad_cursor(problem[1], where)
    return q


def next_cursor(
    query: A.Query,
    record: Any,
    catalog: Any = None,
    secret: str | bytes | None = None,
) -> str:
    """The token of the page after ``record`` (the last record of a page ``query`` returned): pass it
    as ``after`` with the same filter and sort. ``record`` is any accepted record shape; it must hold
    the sort keys' values (a projection that drops a sort key cannot make a cursor)."""
    from filterdsl.records import normalize_record
    from filterdsl.schema import load_catalog

    if not isinstance(query, A.Query):
        raise FilterError.one("wrong-type", "query is a filterdsl Query", Location(param="query"))
    db = None
    if catalog is not None and query.database is not None:
        db = load_catalog(catalog).get(query.database)
    doc = record if isinstance(record, dict) and "removed_at" in record and "data" in record else None
    doc = doc if doc is not None else normalize_record(record, db)
    if query.fields is not None:
        for sk in query.sort:
            if (
                isinstance(sk.key, A.Field)
                and sk.key.key not in query.fields
                and sk.key.key not in doc["data"]
            ):
                raise bad_cursor(
                    f"sort key {sk.key.key!r} is not among the query's fields: make the cursor from the "
                    "unprojected record, or list the key in fields",
                    Location(param="record"),
                )
    token = encode(cursor_of(query, doc), secret)
    if len(token) > MAX_TOKEN_CHARS:
        raise bad_cursor(
            "the record's sort values are too long for a cursor token (page with skip)",
            Location(param="record"),
        )
    return token


def signature(query: A.Query) -> str:
    """The sort signature a cursor for ``query`` carries (semantics.cursor.sort_signature)."""
    return sort_signature(query)
