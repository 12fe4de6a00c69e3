"""Query-builder integrations: filterdsl queries inside SQLAlchemy statements and Django querysets.

Each module imports its framework itself (``filterdsl.integrations.sqlalchemy`` needs SQLAlchemy,
``filterdsl.integrations.django`` needs Django), so the core keeps depending on lark and sqlglot only.
Both are built on the public ``to_sql`` contract: the compiled SELECT's text is embedded with its
values as bound parameters (see ``_sqltext``).
"""
