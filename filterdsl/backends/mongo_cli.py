"""``filterdsl convert --to mongo``: the find spec or pipeline as JSON (timestamps stay ISO strings)."""

from __future__ import annotations

import json
from typing import Any

from ..ast import Query
from .mongo import to_mongo


def convert(query: Query, catalog: Any = None) -> str:
    return json.dumps(to_mongo(query, catalog=catalog), ensure_ascii=False, indent=2)
