"""``manage.py demo [--port 8002]``: create the tables, load examples/records.json, serve."""

import json
from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand

from filterdsl import load_catalog
from filterdsl.records import normalize_dataset
from records.models import MODELS

EXAMPLES = Path(__file__).resolve().parents[4]


class Command(BaseCommand):
    help = "Create the example tables, load examples/records.json and run the development server."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--port", type=int, default=8002)

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", run_syncdb=True, verbosity=0)
        catalog = load_catalog(EXAMPLES / "catalog.json")
        data = normalize_dataset(json.loads((EXAMPLES / "records.json").read_text()), catalog)
        for db, docs in data.items():
            model = MODELS[db]
            model.objects.all().delete()
            model.objects.bulk_create(
                [
                    model(**{k: d[k] for k in ("id", "created_at", "updated_at", "removed_at", "data")})
                    for d in docs
                ]
            )
        self.stdout.write(f"loaded {sum(len(d) for d in data.values())} records")
        call_command("runserver", f"127.0.0.1:{options['port']}", use_reloader=False, insecure=True)
