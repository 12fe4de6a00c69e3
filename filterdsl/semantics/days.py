"""Calendar days (SPEC 1.2, SPEC 5): a date field compares by its day ``YYYY-MM-DD``."""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any

_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")

#: text that starts with a real day YYYY-MM-DD (ASCII digits, year >= 1, Gregorian leap years): the test
#: ``day_of`` makes, as one regex for the engines that cannot run Python (SQL, MongoDB). Every month has
#: days 01-28, all but February 29 and 30, seven months 31; February 29 needs a leap year (the last two
#: digits a non-zero multiple of 4, or a century divisible by 400). Written for the regex dialects of
#: PostgreSQL, PCRE (MariaDB/MySQL), Java (Spark), JavaScript and Python alike: ``[0-9]``, never ``\d``
#: (Unicode digits in some of them); capturing groups, which are shorter SQL than ``(?:``. Checked
#: against ``valid_day`` on every month/day pair 00-99 of 22 rule years, February of every year and
#: random strings (tests/test_day_regex.py); each engine runs it on a grid (tests/test_sql_dates.py).
DAY_PREFIX = (
    "^(?!0000)([0-9]{4}-((0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])|(0[13-9]|1[0-2])-(29|30)|(0[13578]|1[02])-31)"
    "|([0-9]{2}(0[48]|[2468][048]|[13579][26])|([02468][048]|[13579][26])00)-02-29)"
)


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
