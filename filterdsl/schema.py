"""The catalog: databases and their typed fields, read from Pitchly's ``databases`` query result."""

from __future__ import annotations

import functools
import json
import os
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any, Union

from filterdsl.ast import Field, FieldType
from filterdsl.errors import Collector, FilterError, Location, did_you_mean, pointer

SCHEMA_TYPES = tuple(t.value for t in FieldType if t is not FieldType.JSON)
SEARCHABLE = (FieldType.STRING, FieldType.TEXT_BLOCK, FieldType.ENUM, FieldType.ENUM_TAGS)
REF_TYPES = (FieldType.REF, FieldType.REF_MULTIPLE)


class Suggester:
    """'did you mean' over a fixed word list, at a cost that does not grow with the list.

    difflib compares a word with every candidate (about 5 us each: 0.2 s per unknown key against a
    20,000-field catalog). Past a few hundred words, a bigram index (built once per catalog) picks
    the candidates sharing the most letter pairs with the word, and difflib ranks only those; the
    frontends also ask for at most ``MAX_SUGGESTIONS`` suggestions per input.
    """

    SMALL = 300  # below this, difflib over every word (its exact behaviour)
    MAX_SUGGESTIONS = 20  # per parsed input: later unknown keys get the error without a suggestion
    SHORTLIST = 60

    def __init__(self, words: list[str]):
        self.words = words
        self._index: dict[str, list[int]] | None = None

    @staticmethod
    def _bigrams(word: str) -> set[str]:
        w = word.lower()
        return set(map("".join, zip(w, w[1:]))) or {w}

    def candidates(self, word: str) -> list[str]:
        if len(self.words) <= self.SMALL:
            return self.words
        if self._index is None:
            index: dict[str, list[int]] = defaultdict(list)
            for i, w in enumerate(self.words):
                for bg in self._bigrams(w):
                    index[bg].append(i)
            self._index = dict(index)
        counts = Counter(chain.from_iterable(self._index.get(bg, ()) for bg in self._bigrams(word)))
        n = len(word)
        top = counts.most_common(8 * self.SHORTLIST)  # then, among equal counts, the closest lengths
        top.sort(key=lambda item: (-item[1], abs(len(self.words[item[0]]) - n), item[0]))
        return [self.words[i] for i, _ in top[: self.SHORTLIST]]

    def did_you_mean(self, word: str) -> str:
        return did_you_mean(word, self.candidates(word))


@dataclass(frozen=True)
class FieldDef:
    id: str
    name: str
    type: FieldType
    primary: bool = False
    required: bool = False
    restrict: tuple[str, ...] | None = None
    database: str | None = None  # referenced database for ref/refMultiple

    def ref(self) -> Field:
        return Field(self.id, self.type)


@dataclass(frozen=True)
class Database:
    id: str
    name: str
    fields: tuple[FieldDef, ...]

    def field(self, key: str, by_name: bool = False) -> FieldDef | None:
        f = self._index[0].get(key)
        if f is None and by_name:
            f = self._index[1].get(key)
        return f

    @functools.cached_property
    def _index(self) -> tuple[dict[str, FieldDef], dict[str, FieldDef], dict[str, FieldDef]]:
        """By id, by name (first wins) and by lower-cased name: lookups in O(1) for any catalog size."""
        by_id: dict[str, FieldDef] = {}
        by_name: dict[str, FieldDef] = {}
        by_lower: dict[str, FieldDef] = {}
        for f in self.fields:
            by_id.setdefault(f.id, f)
            by_name.setdefault(f.name, f)
            by_lower.setdefault(f.name.lower(), f)
        return by_id, by_name, by_lower

    @functools.cached_property
    def _suggester(self) -> Suggester:
        return Suggester([f.id for f in self.fields] + [f.name for f in self.fields])

    def suggest(self, key: str) -> str:
        """'did you mean' text for an unknown field key: the id for a name, or close ids/names."""
        f = self._index[1].get(key) or self._index[2].get(key.lower())
        if f is not None:
            return f" (did you mean {f.id!r}, the id of field {f.name!r}? or pass resolve_names=True)"
        return self._suggester.did_you_mean(key)

    @property
    def primary(self) -> FieldDef | None:
        return next((f for f in self.fields if f.primary), None)

    def searchable(self) -> tuple[Field, ...]:
        return tuple(f.ref() for f in self.fields if f.type in SEARCHABLE)


@dataclass(frozen=True)
class Catalog:
    databases: tuple[Database, ...]

    def get(self, database_id: str) -> Database | None:
        for d in self.databases:
            if d.id == database_id:
                return d
        return None

    def __iter__(self) -> Iterator[Database]:
        return iter(self.databases)

    def to_json(self) -> list[dict[str, Any]]:
        return [
            {
                "_id": d.id,
                "name": d.name,
                "fields": [
                    {
                        "_id": f.id,
                        "name": f.name,
                        "type": f.type.value,
                        "primary": f.primary,
                        "required": f.required,
                        "restrict": None if f.restrict is None else list(f.restrict),
                        "database": f.database,
                    }
                    for f in d.fields
                ],
            }
            for d in self.databases
        ]


def _unwrap(obj: Any) -> Any:
    # Accept the GraphQL response ({"data": {"databases": [...]}}), {"databases": [...]}, or a bare list.
    if isinstance(obj, dict) and "data" in obj and isinstance(obj["data"], dict):
        obj = obj["data"]
    if isinstance(obj, dict) and "databases" in obj:
        obj = obj["databases"]
    if isinstance(obj, dict) and "_id" in obj and "fields" in obj:
        obj = [obj]
    return obj


#: what ``catalog=`` takes: a Catalog, a path, JSON text, or the parsed Pitchly ``databases`` JSON
CatalogSource = Union[Catalog, str, "os.PathLike[str]", Mapping[str, Any], Sequence[Any]]


def load_catalog(source: CatalogSource) -> Catalog:
    """Build a Catalog from a path, JSON text, or already-parsed JSON; FilterError if malformed."""
    if isinstance(source, Catalog):
        return source
    if isinstance(source, (str, os.PathLike)):
        text = str(source)
        if isinstance(source, os.PathLike) or not text.lstrip().startswith(("[", "{")):
            try:
                with open(source, encoding="utf-8") as fh:
                    text = fh.read()
            except (OSError, ValueError) as e:  # ValueError: a path with a NUL character
                raise FilterError([_diag("schema-unreadable", f"cannot read schema: {e}")]) from None
        try:
            source = json.loads(text)
        except (ValueError, RecursionError) as e:
            raise FilterError([_diag("invalid-json", f"schema is not valid JSON: {e}")]) from None
    return _build(_unwrap(source))


def _diag(code: str, msg: str, ptr: str = "") -> Any:
    from filterdsl.errors import Diagnostic

    return Diagnostic(code, msg, Location(pointer=ptr))


def _build(raw: Any) -> Catalog:
    c = Collector()
    if not isinstance(raw, list):
        raise FilterError([_diag("bad-schema", 'a catalog is a list of databases (or {"databases": [...]})')])
    dbs: list[Database] = []
    seen_db: set[str] = set()
    for i, d in enumerate(raw):
        loc = Location(pointer=pointer([i]))
        if (
            not isinstance(d, dict)
            or not isinstance(d.get("_id"), str)
            or not isinstance(d.get("fields"), list)
        ):
            c.error("bad-schema", "a database needs a string _id and a fields list", loc)
            continue
        if d["_id"] in seen_db:
            c.error("bad-schema", f"duplicate database _id {d['_id']!r}", loc)
        seen_db.add(d["_id"])
        fields: list[FieldDef] = []
        seen: set[str] = set()
        for j, f in enumerate(d["fields"]):
            floc = Location(pointer=pointer([i, "fields", j]))
            if not isinstance(f, dict) or not isinstance(f.get("_id"), str):
                c.error("bad-schema", "a field needs a string _id", floc)
                continue
            t = f.get("type")
            if t not in SCHEMA_TYPES:
                c.error(
                    "unknown-type",
                    f"unknown field type {t!r}; one of {', '.join(SCHEMA_TYPES)}"
                    + (did_you_mean(t, SCHEMA_TYPES) if isinstance(t, str) else ""),
                    Location(pointer=pointer([i, "fields", j, "type"])),
                )
                continue
            if f["_id"] in seen:
                c.error("bad-schema", f"duplicate field _id {f['_id']!r}", floc)
            seen.add(f["_id"])
            restrict = f.get("restrict")
            if restrict is not None and not (
                isinstance(restrict, list) and all(isinstance(x, str) for x in restrict)
            ):
                c.error(
                    "bad-schema",
                    "restrict must be null or a list of strings",
                    Location(pointer=pointer([i, "fields", j, "restrict"])),
                )
                restrict = None
            ftype = FieldType(t)
            ref_db = f.get("database")
            if ftype in REF_TYPES and not isinstance(ref_db, str):
                c.error("bad-schema", f"{t} field needs the referenced database's _id in 'database'", floc)
            name = f.get("name")
            fields.append(
                FieldDef(
                    id=f["_id"],
                    name=name if isinstance(name, str) else f["_id"],
                    type=ftype,
                    primary=bool(f.get("primary")),
                    required=bool(f.get("required")),
                    restrict=None if restrict is None else tuple(restrict),
                    database=ref_db if ftype in REF_TYPES and isinstance(ref_db, str) else None,
                )
            )
        name = d.get("name")
        dbs.append(Database(d["_id"], name if isinstance(name, str) else d["_id"], tuple(fields)))
    ids = {d.id for d in dbs}
    for i, d in enumerate(dbs):
        for j, f in enumerate(d.fields):
            if f.database is not None and f.database not in ids:
                c.error(
                    "unknown-ref-database",
                    f"field {f.name!r} references database {f.database!r}, which is not in the catalog",
                    Location(pointer=pointer([i, "fields", j, "database"])),
                )
    c.raise_if_errors()
    return Catalog(tuple(dbs))
