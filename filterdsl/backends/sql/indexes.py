"""Index advice: the ``CREATE INDEX`` statements that let a database serve a set of stored filters.

The indexed expressions are built by the same compiler and family code that writes the queries, then
printed without table qualifiers, so an advised index names exactly the expression the SQL uses (an
expression index only serves a query whose expression matches it). Where no index can serve a form,
the advice says so instead of printing a useless index.

The output is meant to be piped into ``psql``, ``mysql``, ``sqlite3`` or ``duckdb``, and keys come from
untrusted filters, so nothing a key holds is printed raw: in statements keys are literals in the form the
family writes for every session setting (PostgreSQL ``E'...'`` for a backslash or a control character),
a statement holding any other control character or a subquery (SQLite cannot index a ``json_each``
lookup) is left out with a note, a key holding NUL is never compiled, and in ``--`` notes every key is
shown by ``shown`` (no line break, NUL, backslash or quote; long keys cut) and every note is one line
(docs/security.md, "What is escaped").
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from filterdsl import ast as A
from filterdsl.backends.sql.compiler import Compiler, _Ctx
from filterdsl.backends.sql.layout import CI_COLLATIONS, ColumnsLayout, JsonLayout
from filterdsl.errors import FilterError

T = A.FieldType
_RANGE = (A.Op.GT, A.Op.GTE, A.Op.LT, A.Op.LTE)
_CI = (A.Op.CONTAINS, A.Op.STARTS_WITH, A.Op.ENDS_WITH, A.Op.IEQ)


@dataclass
class Advice:
    """``statements`` to run (extensions first), ``notes`` on forms no index serves."""

    statements: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: statement -> the labels of the stored filters it serves (when ``advise`` was given labels)
    serves: dict[str, list[str]] = field(default_factory=dict)

    def text(self) -> str:
        out = [
            f"{s} -- serves {comment(', '.join(self.serves[s]))}" if self.serves.get(s) else s
            for s in self.statements
        ]
        out += [f"-- {comment(n)}" for n in self.notes]
        return "\n".join(out)


def comment(text: str) -> str:
    """``text`` as the body of one ``--`` line: every character that is not printable (line breaks, NUL,
    at which psql cuts a line, the line and paragraph separators...) as ``<U+XXXX>``."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else f"<U+{ord(c):04X}>" for c in text)


#: keys longer than this are cut in notes (a note names the key, it need not repeat 1 MB of it)
SHOWN_MAX = 60


_PLAIN = re.compile(r"[A-Za-z0-9_.$-]{1,60}")


def shown(key: str) -> str:
    """A key as a note shows it: as it is when it is plain (letters, digits, ``_.$-``), else in double
    quotes with ``"``, ``\\`` and every character that is not printable as ``<U+XXXX>``, cut after
    ``SHOWN_MAX`` characters (the count of the rest follows)."""
    if _PLAIN.fullmatch(key):
        return key
    head = key[:SHOWN_MAX]
    body = "".join(c if c.isprintable() and c not in '"\\' else f"<U+{ord(c):04X}>" for c in head)
    more = f"...(+{len(key) - SHOWN_MAX} characters)" if len(key) > SHOWN_MAX else ""
    return f'"{body}"{more}'


class _Unindexable(Exception):
    """An expression no ``CREATE INDEX`` can name (a subquery) or print safely (a raw control character)."""


@dataclass(frozen=True)
class _Use:
    database: str | None
    field: A.Field | None  # None: a record attribute
    kind: str  # eq, in, range, date, ci, tags, state, search, sort, id, created, modified, order
    negated: bool = False
    #: the test compares the value's text (strings, booleans, days), which ``text_indexes`` forms serve
    textual: bool = False


def _uses(node: A.Node, database: str | None, negated: bool, out: list[_Use]) -> None:
    _Uses(database, negated, out).visit(node)


class _Uses(A.Visitor[None]):
    """Collects what each leaf asks of an index, in its database and under its negation."""

    def __init__(self, database: str | None, negated: bool, out: list[_Use]):
        self.database, self.negated, self.out = database, negated, out

    def use(
        self, field: A.Field | None, kind: str, database: str | None = None, textual: bool = False
    ) -> None:
        db = self.database if database is None else database
        self.out.append(_Use(db, field, kind, self.negated, textual))

    def visit_and(self, node: A.And) -> None:
        for i in node.items:
            self.visit(i)

    def visit_or(self, node: A.Or) -> None:
        for i in node.items:
            self.visit(i)

    def visit_not(self, node: A.Not) -> None:
        if not isinstance(node.item, A.InTrash):
            _uses(node.item, self.database, not self.negated, self.out)

    def visit_compare(self, node: A.Compare) -> None:
        op, t = node.op, node.field.type
        if t is T.ENUM_TAGS:
            kind = "tags"
        elif t is T.DATE:
            kind = "date"
        elif op in (A.Op.STARTS_WITH, A.Op.IEQ):
            kind = "ci-prefix"
        elif op in _CI:
            kind = "ci"
        elif op is A.Op.IN:
            kind = "in"
        elif op in _RANGE:
            kind = (
                "money-range"
                if t is T.CURRENCY
                else ("text-range" if isinstance(node.value, str) else "range")
            )
        elif t is T.CURRENCY or isinstance(node.value, A.Money):
            kind = "money-eq"
        elif t is T.ATTACHMENT:
            kind = "ci"
        else:
            kind = "eq"
        number = t is T.NUMBER or (type(node.value) in (int, float))
        self.use(node.field, kind, textual=kind in ("in", "date") or (kind == "eq" and not number))

    def visit_field_state(self, node: A.FieldState) -> None:
        self.use(node.field, "state")

    def visit_relation(self, node: A.Relation) -> None:
        self.use(None, "ref", node.database)
        if node.field.type is T.REF:  # the referring value: what the join from the referenced rows reads
            self.use(node.field, "refcol")
        _uses(node.predicate, node.database, self.negated, self.out)

    def visit_search(self, node: A.Search) -> None:
        self.use(None, "search")

    def visit_id_in(self, node: A.IdIn) -> None:
        self.use(None, "id")

    def visit_created_at(self, node: A.CreatedAt) -> None:
        self.use(None, "created")

    def visit_modified_since(self, node: A.ModifiedSince) -> None:
        self.use(None, "modified")

    def visit_const(self, node: A.Const) -> None:
        pass

    def visit_in_trash(self, node: A.InTrash) -> None:
        pass


def _strip(e: exp.Expr) -> exp.Expr:
    """The expression without table qualifiers (``"r0"."data"`` -> ``"data"``), as an index names it."""

    def f(n: exp.Expr) -> exp.Expr:
        if isinstance(n, exp.Column) and n.args.get("table") is not None:
            return exp.Column(this=n.this.copy())
        return n

    return e.copy().transform(f)


class _Advisor:
    def __init__(self, dialect: str, layout: JsonLayout | ColumnsLayout):
        self.dialect = dialect
        self.layout = layout
        self.comp = Compiler(dialect, layout)
        self.fam = self.comp.fam.name
        self.columns = isinstance(layout, ColumnsLayout)
        self.advice = Advice()
        self._seen: set[str] = set()
        #: the stored filter being advised (named after each statement it needs), when labelled
        self.current: str | None = None

    # ---- output
    def q(self, name: str) -> str:
        return exp.to_identifier(name, quoted=True).sql(self.dialect)

    def sql(self, e: exp.Expr) -> str:
        """An index element: a column as it is, any other expression in parentheses (PostgreSQL needs them)."""
        text = self.expr(e)
        return text if isinstance(e, (exp.Column, exp.Paren)) else f"({text})"

    def expr(self, e: exp.Expr) -> str:
        """``e`` as SQL, its literals in the family's setting-proof form; ``_Unindexable`` for a subquery
        (SQLite's ``json_each`` lookup of a key its paths cannot name) or text that would hold a control
        character."""
        stripped = self.comp.fam.safe_literals(_strip(e))
        if stripped.find(exp.Subquery, exp.Select) is not None:
            raise _Unindexable("a json_each lookup")
        text = stripped.sql(self.dialect)
        if not text.isprintable():
            raise _Unindexable("a control character")
        return text

    def table(self, database: str | None) -> str:
        name = self.q(self.layout.table_name(database))
        return f"{self.q(self.layout.schema)}.{name}" if self.layout.schema else name

    def index(self, database: str | None, label: str, body: str, using: str | None = None) -> None:
        name = self._name(database, label, f"{body}\0{using}")
        how = f" USING {using}" if using else ""
        exists = " IF NOT EXISTS" if self.comp.fam.CREATE_INDEX_IF_NOT_EXISTS else ""
        self._record(f"CREATE INDEX{exists} {self.q(name)} ON {self.table(database)}{how} ({body});")

    def statistics(self, database: str | None, label: str, body: str) -> None:
        """``CREATE STATISTICS`` on one expression (PostgreSQL 14+): the planner's estimate of a test on
        it (``jsonb_typeof(...) = 'number'``), where it otherwise guesses."""
        name = self._name(database, label, f"{body}\0stats")
        self._record(f"CREATE STATISTICS IF NOT EXISTS {self.q(name)} ON {body} FROM {self.table(database)};")

    def _name(self, database: str | None, label: str, salt: str) -> str:
        """A readable, stable name: the table and label, then a digest that tells statements apart."""
        tname = self.layout.table_name(database)
        raw = re.sub(r"[^0-9A-Za-z_]+", "_", f"{tname}_{label}").strip("_").lower()
        digest = hashlib.sha1(f"{tname}\0{salt}".encode()).hexdigest()[:8]
        return f"{raw[:48]}_{digest}"

    def _record(self, stmt: str) -> None:
        """Print each statement once, and remember every stored filter it serves."""
        if stmt not in self._seen:
            self._seen.add(stmt)
            self.advice.statements.append(stmt)
        if self.current is not None:
            served = self.advice.serves.setdefault(stmt, [])
            if self.current not in served:
                served.append(self.current)

    def extension(self, name: str) -> None:
        stmt = f"CREATE EXTENSION IF NOT EXISTS {name};"
        if stmt not in self._seen:
            self._seen.add(stmt)
            self.advice.statements.insert(0, stmt)

    def note(self, text: str) -> None:
        if text not in self.advice.notes:
            self.advice.notes.append(text)

    # ---- expressions, from the compiler
    def ctx(self, database: str | None) -> _Ctx:
        return _Ctx("r0", database)

    def json(self, database: str | None, f: A.Field) -> Any:
        return self.comp.access(self.ctx(database), f)

    def column(self, database: str | None, f: A.Field, part: str = "column") -> exp.Expr | None:
        try:
            return self.comp.col_expr(self.ctx(database), f, part)
        except FilterError:  # unmapped field: compiling the query refuses it, with its own message
            return None

    # ---- advice per use
    def use(self, u: _Use) -> None:
        try:
            self._use(u)
        except _Unindexable as e:
            self.unindexable(u.kind, u.field, str(e))

    def unindexable(self, kind: str, f: A.Field | None, why: str) -> None:
        name = "the record" if f is None else shown(".".join(f.segments))
        self.note(
            f"{kind} on {name}: no index advised, its expression holds {why} (a key holding a quote, a "
            "backslash or a control character on SQLite, or a NUL on any engine)"
        )

    def _use(self, u: _Use) -> None:
        if u.field is not None and any("\x00" in seg for seg in u.field.segments):
            # no engine's SQL text holds a NUL (to_sql refuses such a key: bad-value)
            self.unindexable(u.kind, u.field, "a NUL character")
            return
        if u.negated and u.kind not in ("ref",):
            self.note(
                f"negative or excluding conditions ({u.kind} on {self.label(u)}) match most rows: an index "
                "rarely helps them, none is advised"
            )
            return
        if u.field is None:
            self.record(u)
        elif self.columns:
            self.column_use(u)
        else:
            self.json_use(u)

    @staticmethod
    def label(u: _Use) -> str:
        return "the record" if u.field is None else shown(".".join(u.field.segments))

    def record(self, u: _Use) -> None:
        lay = self.layout
        if u.kind == "id":
            self.note(f"ids: the primary key on {self.q(lay.id)} serves `in`")
        elif u.kind == "ref":
            self.note(
                f"relations: the primary key on {self.q(lay.id)} of {self.table(u.database)} serves the "
                "lookup of each referenced row; the ref value's index, the join from the matching referenced "
                "rows"
                + (
                    ' (printed COLLATE "C", for an id column declared COLLATE "C"; for an id column in the '
                    "database's default collation index the plain value)"
                    if self.comp.fam.INDEX_FORMS.get("columns", {}).get("refcol") == "column_c"
                    else ""
                )
            )
        elif u.kind == "created":
            self.index(u.database, "created_at", self.q(lay.created_at))
        elif u.kind == "modified":
            self.note(
                "modifiedSince compares COALESCE(updated_at, created_at): an expression index on exactly "
                "that serves it where the engine has expression indexes"
            )
        elif u.kind == "search":
            self.note(
                "search terms match any searchable field case-insensitively: no index serves them"
                + (
                    "; pg_trgm indexes on lower(text) of each searched field help"
                    if "trgm" in self.comp.fam.INDEX_FORMS.get("json", {}).values()
                    else ""
                )
            )

    def json_use(self, u: _Use) -> None:
        """The form the family declares for this use (``Family.INDEX_FORMS["json"]``), built from the
        family's own expressions; else its note (``INDEX_WHY``)."""
        assert u.field is not None
        f, db = u.field, u.database
        k = "ci" if u.kind == "ci-prefix" else u.kind
        name = ".".join(f.segments)
        j = self.json(db, f)
        F = self.comp.fam
        forms = F.INDEX_FORMS.get("json", {})
        form = forms.get(u.kind, forms.get(k))
        if u.textual and F.text_indexes:  # JsonLayout(text_indexes=True): the value's text
            form = F.INDEX_FORMS.get("json_text", {}).get(u.kind, form)
        text = F.text(j)
        if form == "value":
            self.index(db, name, self.sql(F.value(j)))
        elif form == "tags_gin":  # jsonb_ops (not jsonb_path_ops): it serves ?| and ?&
            self.index(db, f"{name}_gin", self.sql(F.value(j)), using="gin")
        elif form == "money_value":
            self.index(db, f"{name}_val", self.sql(F.value(F.child(j, "val", 1))))
        elif form == "c_text":
            self.index(db, f"{name}_c", self.sql(exp.Paren(this=F.binary(text))))
        elif form in ("trgm", "trgm_prefix"):
            self.trigram(db, name, F.lower(text), prefix=form == "trgm_prefix")
        elif form == "ref_c":
            self.index(db, f"{name}_ref", self.sql(exp.Paren(this=self._c_collated(text))))
        elif form == "text" or (form == "scalar_text" and f.type is not T.ATTACHMENT):
            self.index(db, f"{name}_ref" if k == "refcol" else name, self.sql(text))
        elif form == "money_text":
            self.index(db, f"{name}_val", self.sql(F.text(F.child(j, "val", 1))))
        elif form is not None and form.startswith("note:"):
            self.note(form[5:].format(name=name))
        elif F.INDEX_WHY.get("json", "") is not None:
            why = F.INDEX_WHY.get("json") or f"no index advice for the {self.dialect} dialect"
            self.note(f"{k} on {shown(name)}: " + why)
        if u.kind in F.KIND_STATISTICS:  # after the index: the planner's estimate of the kind test
            kind_of = F.child(j, "val", 1) if u.kind == "money-range" else j
            self.statistics(db, f"{name}_kind", self.sql(F.typ(kind_of)))

    def trigram(self, db: str | None, name: str, low: exp.Expr, prefix: bool) -> None:
        """pg_trgm's GIN index on ``lower(x)`` (every LIKE), and for a prefix a btree that serves it as a range."""
        self.extension("pg_trgm")
        self.index(db, f"{name}_trgm", f"{self.sql(low)} gin_trgm_ops", using="gin")
        if prefix:
            self.index(db, f"{name}_prefix", f"{self.sql(low)} text_pattern_ops")

    def column_use(self, u: _Use) -> None:
        """As ``json_use``, from ``Family.INDEX_FORMS["columns"]``; a currency amount, a ref column and
        a date column declared to hold days are ranges or joins on the column itself everywhere."""
        assert u.field is not None
        f, k, db = u.field, u.kind, u.database
        c = self.column(db, f)
        if c is None:
            return
        name = ".".join(f.segments)
        F = self.comp.fam
        forms = F.INDEX_FORMS.get("columns", {})
        lay = self.layout
        if k == "ci-prefix":
            form = forms.get(k)
            if form == "ci_collation_column" and isinstance(lay, ColumnsLayout) and lay.ci_collation:
                self.index(db, name, self.sql(c))  # serves the LIKE prefilter on the column itself
                return
            if form == "ci_collation_column":
                self.note(
                    f"ci-prefix on {shown(name)}: declare the text columns' case-insensitive collation in the layout "
                    f"(ci_collation, one of {', '.join(CI_COLLATIONS)}) and the column's index serves it"
                )
                return
            if form == "trgm_prefix":
                self.trigram(db, name, F.lower(c), prefix=True)
                return
            k = "ci"
        if k == "refcol" and forms.get(k) == "column_c":
            self.index(db, f"{name}_ref", f'{self.sql(c)} COLLATE "C"')
            return
        if k in ("money-eq", "money-range", "refcol") or (
            (k == "date" and self.comp._days(self.ctx(db), f))
            or (k == "text-range" and self.comp._code_point(self.ctx(db), f))
        ):
            # a range on the column itself (days: ColumnSpec.days; code-point text: ColumnSpec.binary)
            self.index(db, name, self.sql(c))
            return
        form = forms.get(k)
        if form == "column":
            self.index(db, name, self.sql(c))
        elif form == "c_column":
            self.index(db, f"{name}_c", self.sql(exp.Paren(this=F.binary(c))))
        elif form == "trgm":
            self.trigram(db, name, F.lower(c), prefix=False)
        elif form == "gin":
            self.index(db, f"{name}_gin", self.sql(c), using="gin")
        elif F.INDEX_WHY.get("columns", "") is not None:
            why = F.INDEX_WHY.get("columns") or "no index serves a case-insensitive or list test here"
            self.note(f"{k} on {shown(name)}: " + why)

    def order(self, database: str | None, query: A.Query | None) -> None:
        """The index whose columns are exactly the query's ORDER BY items (its sort keys, then the default
        order), each with the NULL placement the SQL asks: walked in order it returns a page without a
        sort. Printed for the default order too (``query`` None or unsorted)."""
        sort = query.sort if query is not None else ()
        nul = [sk.key for sk in sort if isinstance(sk.key, A.Field) and "\x00" in "".join(sk.key.segments)]
        if nul:  # no engine's SQL text holds a NUL (to_sql refuses such a key: bad-value)
            self.unindexable("sort", nul[0], "a NUL character")
            return
        try:
            items = self.comp.order(A.Query(sort=sort, database=database), self.ctx(database))
        except FilterError:  # an unmapped or unsortable field: compiling the query refuses it
            return
        try:
            self._order(database, sort, items)
        except _Unindexable as e:
            keys = [sk.key for sk in sort if isinstance(sk.key, A.Field)]
            self.unindexable("sort", keys[0] if len(keys) == 1 else None, str(e))

    def _order(self, database: str | None, sort: tuple[A.SortKey, ...], items: list[exp.Ordered]) -> None:
        label = (
            "order_"
            + "_".join(
                ".".join(sk.key.segments) if isinstance(sk.key, A.Field) else sk.key.name for sk in sort
            )
            if sort
            else "default_order"
        )
        shown_label = (
            "order "
            + " ".join(
                shown(".".join(sk.key.segments)) if isinstance(sk.key, A.Field) else sk.key.name
                for sk in sort
            )
            if sort
            else "default order"
        )
        order_index = self.comp.fam.ORDER_INDEX
        if order_index == "columns":
            bad = [o for o in items if not isinstance(o.this, exp.Column)]
            if bad:
                what = ", ".join(self.expr(o.this) for o in bad)
                tie = any(c.name == self.layout.id for o in bad for c in o.this.find_all(exp.Column))
                self.note(
                    f"{shown_label}: MariaDB and MySQL index no expression ({what}), so every page "
                    "is a scan and a sort"
                    + (
                        "; an id column that orders by code point (utf8mb4_nopad_bin or VARBINARY) declared "
                        "with binary_id=True makes the tie-breaker the plain id"
                        if tie and not getattr(self.layout, "binary_id", False)
                        else ""
                    )
                    + (
                        "; a date column declared to hold real days (days=True) sorts by itself"
                        if self.columns and "REGEXP" in what
                        else ""
                    )
                    + (
                        "; a text column that orders by code point (utf8mb4_nopad_bin or VARBINARY) "
                        "declared with binary=True sorts by itself"
                        if self.columns
                        and any(
                            isinstance(o.this, exp.Cast) and c.name != self.layout.id
                            for o in bad
                            for c in o.this.find_all(exp.Column)
                        )
                        else ""
                    )
                )
                return
        elif order_index != "expressions":
            return
        self.index(database, label, ", ".join(self.ordered(o) for o in items))

    @staticmethod
    def _c_collated(e: exp.Expr) -> exp.Expr:
        """``(e) COLLATE "C"``: the ref value as the join with an id column declared ``COLLATE "C"``
        (filterdsl's own tables) compares it; an index in another collation does not serve that join."""
        return exp.Collate(this=exp.Paren(this=e), expression=exp.to_identifier("C", quoted=True))

    def ordered(self, o: exp.Ordered) -> str:
        """One ORDER BY item as an index element: the expression, then DESC and NULLS as the SQL has them."""
        e = o.this
        if isinstance(e, exp.Collate) and isinstance(
            e.this, exp.Column
        ):  # column COLLATE "C": an element form
            elem = _strip(e).sql(self.dialect)
        else:
            elem = self.sql(e)
        mark = exp.Ordered(
            this=exp.column("x"), desc=o.args.get("desc"), nulls_first=o.args.get("nulls_first")
        )
        return elem + mark.sql(self.dialect)[1:]


def advise(
    queries: Iterable[A.Query],
    dialect: str,
    layout: JsonLayout | ColumnsLayout | None = None,
    all_fields: Iterable[tuple[str | None, A.Field]] = (),
    labels: Sequence[str] | None = None,
) -> Advice:
    """The indexes (and extensions) that serve ``queries`` on ``dialect``; ``all_fields`` adds every
    ``(database, field)`` given, as if each were filtered by equality and range (and sorted).
    ``labels`` (one per query, e.g. its file): ``Advice.serves`` and the text name, after each
    statement, the stored filters it serves."""
    adv = _Advisor(dialect.lower(), layout if layout is not None else JsonLayout())
    dbs: list[str | None] = []
    for i, q in enumerate(queries):
        adv.current = labels[i] if labels is not None and i < len(labels) else None
        uses: list[_Use] = []
        _uses(q.predicate, q.database, False, uses)
        for u in uses:
            adv.use(u)
        adv.order(q.database, q)
        if q.sort:  # the default order serves every listing that does not sort
            adv.order(q.database, None)
        dbs.append(q.database)
    for db, f in all_fields:
        adv.current = "--all-fields" if labels is not None else None
        kinds = {
            T.ENUM_TAGS: ("tags",),
            T.DATE: ("date",),
            T.CURRENCY: ("money-range",),
            T.ATTACHMENT: ("ci",),
            T.TEXT_BLOCK: ("ci",),
            T.REF_MULTIPLE: (),
            T.NUMBER: ("range",),
            T.BOOLEAN: ("eq",),
        }.get(f.type, ("eq", "ci"))
        for k in kinds:
            adv.use(_Use(db, f, k, textual=k == "date" or (k == "eq" and f.type is not T.NUMBER)))
        if db not in dbs:
            adv.order(db, None)
            dbs.append(db)
    return adv.advice
