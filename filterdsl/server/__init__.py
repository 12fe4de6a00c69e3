"""A reference records API over a real database (``filterdsl serve``): an ASGI app on Starlette.

Records live in the SQL JSON document layout (one table per database: id, created_at, updated_at,
removed_at, data) in SQLite (default; a file or memory) or PostgreSQL (by URL). Endpoints:

- ``GET  /api/databases/{id}/records/``: PixieBrix params; JSON list, or CSV with ``Accept: text/csv``;
  pagination by ``page``/``page_size`` with a ``Link`` header (RFC 8288) and ``X-Total-Count``;
- ``POST /api/databases/{id}/data`` and ``.../data/count``: the Pitchly ``data`` variables object;
- ``POST /api/records/import``: ``{"databaseId": id, "records": [Pitchly rows or PixieBrix records]}``.

Bad input is HTTP 400 with the diagnostics as JSON (code, message, location); an unknown database
is 404. Request bodies are never logged (they may carry ``secretKey``). Parsing, compiling and the
database work run in Starlette's threadpool, never on the event loop; request cost is bounded by the
parse limits (body size, sort keys, page range); imported documents are checked so that every later
listing can read them back.

Layers: ``app`` (create_app, serve) -> ``routes`` (Api: one method per endpoint) -> ``store`` (tables).
"""

from filterdsl.server.app import create_app, serve
from filterdsl.server.store import Store

__all__ = ["Store", "create_app", "serve"]
