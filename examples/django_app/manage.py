#!/usr/bin/env python
"""Django example for filterdsl: ``python examples/django_app/manage.py demo`` (see README.md there)."""

import os
import sys
from pathlib import Path

if __name__ == "__main__":
    here = Path(__file__).resolve().parent
    sys.path.insert(0, str(here))
    sys.path.insert(0, str(here.parent.parent))  # filterdsl itself, when not installed
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "records_site.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
