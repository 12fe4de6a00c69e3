"""Calendar days (SPEC 1.2, SPEC 5): a date field compares by its day ``YYYY-MM-DD``."""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any

_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")


def valid_day(text: str) -> bool:
    """True when ``text`` is exactly a real calendar day ``YYYY-MM-DD``."""
    if not (isinstance(text, str) and _DAY.match(text)):
        return False
    try:
        _dt.date(int(text[:4]), int(text[5:7]), int(text[8:10]))
        return True
    except ValueError:
        return False


def day_of(value: Any) -> str | None:
    """The day of a stored date value: its first 10 characters when they are a valid day, else None."""
    if type(value) is str and len(value) >= 10:
        head = value[:10]
        if valid_day(head):
            return head
    return None


def next_day(day: str) -> str:
    d = _dt.date.fromisoformat(day) + _dt.timedelta(days=1)
    return d.isoformat()
