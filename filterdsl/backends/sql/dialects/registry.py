"""sqlglot dialects, loaded completely before first use and shared between threads (issue 26, H7).

sqlglot registers a dialect class in its registry at the *start* of the class's construction
(``_Dialect.__new__``) and only then sets its tokenizer, parser and generator. A thread that looks a
dialect up by name while another thread is still importing it can get the half-built class, whose
generator is sqlglot's generic one: PostgreSQL SQL came out as ``JSON_EXTRACT(...)`` (5 of 10 cold
starts of a race script), and the per-shape SQL cache then kept that SQL for good.

Here every dialect is loaded under one lock (and sqlglot's own import lock) by importing its module,
which Python's import machinery finishes before anyone else may use it; the class is then checked to
be complete, and one ``Dialect`` instance per name is kept for the life of the process, so its
``id`` is a stable identity that cache keys hold. The dialects filterdsl's families write (see
``FAMILY_DIALECTS``) are loaded when this package is imported, before any thread can compile.
"""

from __future__ import annotations

import importlib
import threading

from sqlglot.dialects.dialect import Dialect

from filterdsl.errors import Diagnostic, FilterError, Location

#: dialects whose sqlglot modules the families use by name (dtype(..., dialect=...), parse_one): loaded
#: eagerly at import, so even their helper lookups never see a half-built class
FAMILY_DIALECTS = ("sqlite", "duckdb", "postgres", "mysql", "spark", "databricks", "clickhouse")

#: class attributes ``_Dialect.__new__`` sets on a dialect class after registering it; the last one
#: it sets is VALID_INTERVAL_UNITS, so a class holding all of them in its own __dict__ is complete
_BUILT = ("tokenizer_class", "parser_class", "generator_class", "INVERSE_TIME_TRIE", "VALID_INTERVAL_UNITS")

_lock = threading.RLock()
_instances: dict[str, Dialect] = {}


def is_complete(cls: type[Dialect]) -> bool:
    """Whether sqlglot finished building ``cls`` (its generator is its own, not an ancestor's)."""
    return all(name in cls.__dict__ for name in _BUILT)


def _unknown(name: str, why: object) -> FilterError:
    return FilterError(
        [Diagnostic("unknown-dialect", f"unknown SQL dialect {name!r}: {why}", Location(param="dialect"))]
    )


def _load(name: str) -> Dialect:
    from sqlglot import dialects as sqlglot_dialects

    base = name.split(",")[0].strip().lower()
    import_lock = getattr(sqlglot_dialects, "_import_lock", None) or threading.RLock()
    with import_lock:
        if base in sqlglot_dialects.DIALECT_MODULE_NAMES:
            # returns only once the module (and so the class) is fully executed, even when another
            # thread started the import
            importlib.import_module(f"sqlglot.dialects.{base}")
        try:
            instance = Dialect.get_or_raise(name)
        except (ValueError, KeyError) as e:
            raise _unknown(name, e) from None
    if not is_complete(type(instance)):
        raise FilterError(
            [
                Diagnostic(
                    "internal",
                    f"the sqlglot dialect {name!r} is not completely loaded",
                    Location(param="dialect"),
                )
            ]
        )
    return instance


def dialect(name: str) -> Dialect:
    """The one complete ``Dialect`` instance for ``name`` (FilterError ``unknown-dialect`` if none)."""
    found = _instances.get(name)
    if found is not None:
        return found
    with _lock:
        found = _instances.get(name)
        if found is None:
            found = _instances[name] = _load(name)
    return found


def identity(name: str) -> int:
    """A key part that names the exact dialect object SQL was generated with (stable per process)."""
    return id(dialect(name))


def check_generator(name: str, generator: object) -> None:
    """Self-check before SQL is generated (and cached): the generator is this dialect's own."""
    d = dialect(name)
    cls = type(d)
    if not is_complete(cls) or type(generator) is not cls.generator_class:
        raise FilterError(
            [
                Diagnostic(
                    "internal",
                    f"SQL for {name!r} would be written by another dialect's generator "
                    f"({type(generator).__module__}.{type(generator).__qualname__})",
                    Location(param="dialect"),
                )
            ]
        )


def preload(names: tuple[str, ...] = FAMILY_DIALECTS) -> None:
    for n in names:
        dialect(n)
