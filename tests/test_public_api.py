"""The architecture's promises, checked: a typed public API (mypy flags misuse in user code), one
visitor that every backend and emitter implements in full, and the layers' import rules."""

from __future__ import annotations

import ast as pyast
import importlib
import inspect
import pkgutil
import subprocess
import sys
import textwrap
import typing
from pathlib import Path

import pytest

import filterdsl
from filterdsl import api
from filterdsl.ast import METHODS, Node, Visitor
from filterdsl.ast import nodes as ast_nodes

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / "filterdsl"


def _mypy(tmp_path: Path, code: str) -> str:
    f = tmp_path / "user_code.py"
    f.write_text(textwrap.dedent(code))
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental", "--cache-dir", str(tmp_path / "c"), str(f)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return proc.stdout + proc.stderr


def test_mypy_flags_misuse_of_the_public_api(tmp_path: Path) -> None:
    out = _mypy(
        tmp_path,
        """
        import filterdsl
        from filterdsl import parse, to_format, to_sql

        q = parse("data__a=1", "pixiebrix")
        parse("deal", format="serch")                      # line 6: misspelt format
        to_sql(q, dialekt="postgres")                      # line 7: misspelt keyword
        to_sql(q, "postgress")                             # line 8: misspelt dialect
        parse("deal", "search", strickt=True)              # line 9: misspelt parse option
        to_format(q, "sql")                                # line 10: not an output format
        parse("data__a=1", "pixiebrix", lookups="loose")   # line 11: wrong option value
        n: int = to_format(q, "text")                      # line 12: text is a str
        filterdsl.to_mongo(q, colections={})               # line 13: misspelt keyword
        to_sql(q, "postgres", paramstyle="dolar")          # line 14: misspelt paramstyle
        """,
    )
    flagged = {int(line.split(":")[1]) for line in out.splitlines() if ": error:" in line}
    assert flagged == set(range(6, 15)), out


def test_mypy_accepts_correct_use_and_knows_the_result_types(tmp_path: Path) -> None:
    out = _mypy(
        tmp_path,
        """
        from filterdsl import apply, parse, to_format, to_mongo, to_sql, validate

        q = parse("deal|money, acme", "search", quoted=True, max_limit=50)
        sql, params = to_sql(q, "postgres", paramstyle="format", pretty=True)
        text: str = to_format(q, "text")
        obj: dict = to_format(q, "pitchly")
        spec: dict = to_mongo(q)
        rows: list = apply(q, [])
        diags = validate("data__a=1", "pixiebrix", lookups="extended", strict=False)
        reveal_type(sql)
        """,
    )
    assert "error" not in out, out
    assert 'Revealed type is "str"' in out or 'Revealed type is "builtins.str"' in out, out


def test_the_literal_types_match_the_registries() -> None:
    from filterdsl.backends.sql import dialect_names
    from filterdsl.emitters import OUTPUT_FORMATS as OUT
    from filterdsl.frontends import FRONTENDS

    assert set(typing.get_args(api.Format)) == set(FRONTENDS) == set(api.FORMATS)
    assert set(typing.get_args(api.OutputFormat)) == set(OUT)
    assert set(typing.get_args(api.Dialect)) == set(dialect_names()) | {"datafusion"}
    from filterdsl.backends.sql import PARAMSTYLES

    assert set(typing.get_args(api.Paramstyle)) == set(PARAMSTYLES)


def test_runtime_checks_stay_for_untyped_callers() -> None:
    q = filterdsl.parse("data__a=1", "pixiebrix")
    with pytest.raises(filterdsl.FilterError) as e:
        filterdsl.parse("deal", "search", strickt=True)  # type: ignore[call-arg]
    assert e.value.diagnostics[0].code == "unknown-key"
    with pytest.raises(filterdsl.FilterError) as e:
        filterdsl.parse("deal", "serch")  # type: ignore[arg-type]
    assert e.value.diagnostics[0].code == "unknown-format"
    with pytest.raises(filterdsl.FilterError) as e:
        filterdsl.to_sql(q, 5)  # type: ignore[arg-type]
    assert e.value.diagnostics[0].location.param == "dialect"


# ---------------------------------------------------------------- one visitor, every node type
def _modules() -> list[str]:
    return [m.name for m in pkgutil.walk_packages([str(PKG)], "filterdsl.")]


def test_the_visitor_table_covers_every_node_type() -> None:
    kinds = {
        c for _, c in inspect.getmembers(ast_nodes, inspect.isclass) if issubclass(c, Node) and c is not Node
    }
    assert kinds == set(METHODS)
    assert {n for n, f in vars(Visitor).items() if getattr(f, "__isabstractmethod__", False)} == set(
        METHODS.values()
    )


def test_every_backend_and_emitter_implements_every_node_type() -> None:
    found = set()
    for name in _modules():
        if name.startswith(("filterdsl.cli", "filterdsl.server", "filterdsl.integrations")):
            continue
        mod = importlib.import_module(name)
        for _, cls in inspect.getmembers(mod, inspect.isclass):
            if issubclass(cls, Visitor) and cls is not Visitor and cls.__module__ == name:
                assert not inspect.isabstract(cls), f"{name}.{cls.__name__} misses {cls.__abstractmethods__}"
                found.add(name)
    for expected in (
        "filterdsl.backends.memory",
        "filterdsl.backends.sql.compiler",
        "filterdsl.backends.sql.shape",
        "filterdsl.backends.sql.indexes",
        "filterdsl.backends.mongo.compiler",
        "filterdsl.backends.polars.compiler",
        "filterdsl.emitters.text",
        "filterdsl.emitters.explain",
    ):
        assert expected in found


def test_mypy_reports_a_node_type_a_backend_forgets(tmp_path: Path) -> None:
    out = _mypy(
        tmp_path,
        """
        from typing import Any

        from filterdsl.ast import Visitor

        class Partial(Visitor[str]):  # every node type but InTrash
            def visit_const(self, node: Any) -> str: return ""
            def visit_and(self, node: Any) -> str: return ""
            def visit_or(self, node: Any) -> str: return ""
            def visit_not(self, node: Any) -> str: return ""
            def visit_compare(self, node: Any) -> str: return ""
            def visit_field_state(self, node: Any) -> str: return ""
            def visit_relation(self, node: Any) -> str: return ""
            def visit_search(self, node: Any) -> str: return ""
            def visit_id_in(self, node: Any) -> str: return ""
            def visit_created_at(self, node: Any) -> str: return ""
            def visit_modified_since(self, node: Any) -> str: return ""

        Partial()
        """,
    )
    assert 'Cannot instantiate abstract class "Partial"' in out, out
    assert "visit_in_trash" in out


def test_a_non_node_is_refused_by_name() -> None:
    from filterdsl.emitters.text import node_text

    with pytest.raises(TypeError, match="not an AST node"):
        node_text("x")  # type: ignore[arg-type]


# ---------------------------------------------------------------- layers
def _imports(path: Path) -> set[str]:
    out = set()
    for node in pyast.walk(pyast.parse(path.read_text())):
        if isinstance(node, pyast.ImportFrom) and node.module:
            out.add(node.module)
        elif isinstance(node, pyast.Import):
            out.update(a.name for a in node.names)
    return out


def test_layers_import_only_downwards() -> None:
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(PKG).as_posix()
        imports = _imports(path)
        if not rel.startswith("cli/"):
            assert "argparse" not in imports, f"{rel}: command-line code below cli/"
            assert not any(m.startswith("filterdsl.cli") for m in imports), f"{rel} imports the CLI"
        if not rel.startswith(("cli/", "server/")):
            assert not any(m.startswith("filterdsl.server") for m in imports), f"{rel} imports the server"
        if rel.startswith(("backends/", "emitters/", "ast/")):
            assert not any(m.startswith("filterdsl.frontends") for m in imports), f"{rel} imports a frontend"
        if rel.startswith("ast/"):
            assert not any(
                m.startswith(("filterdsl.backends", "filterdsl.emitters", "filterdsl.api")) for m in imports
            ), rel


def test_the_cli_engine_registry_matches_the_runners() -> None:
    """cli/engines.BACKEND_OF is the one list the CLI offers; each runner accepts exactly its engines."""
    from filterdsl.backends.mongo import runners as mongo_runners
    from filterdsl.backends.sql import runners as sql_runners
    from filterdsl.cli.engines import BACKEND_OF, ENGINES

    by_backend = {b: {e for e, x in BACKEND_OF.items() if x == b} for b in set(BACKEND_OF.values())}
    assert by_backend == {
        "memory": {"memory"},
        "sql": set(sql_runners.ENGINES),
        "mongo": set(mongo_runners.ENGINES),
    }
    assert ENGINES == tuple(BACKEND_OF)
