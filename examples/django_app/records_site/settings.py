"""Settings of the example: SQLite by default (a file in a temporary directory), PostgreSQL with
``FILTERDSL_DJANGO_DB=postgresql://user@host:port/name`` (a database of its own: ``manage.py demo``
empties its tables; ``pip install -e '.[django,postgres]'``)."""

import os
import tempfile
from pathlib import Path
from urllib.parse import urlparse

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = "filterdsl-example-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.staticfiles",  # the browsable API's CSS (manage.py demo serves it)
    "rest_framework",
    "records",
]
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}]
STATIC_URL = "/static/"
MIDDLEWARE: list[str] = []
ROOT_URLCONF = "records_site.urls"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

_url = os.environ.get("FILTERDSL_DJANGO_DB")
if _url:
    _u = urlparse(_url)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": _u.path.lstrip("/"),
            "USER": _u.username or "postgres",
            "PASSWORD": _u.password or "",
            "HOST": _u.hostname or "127.0.0.1",
            "PORT": str(_u.port or 5432),
        }
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.path.join(tempfile.mkdtemp(prefix="filterdsl-django-"), "db.sqlite3"),
        }
    }

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",  # ?format=api, or a browser's Accept header
    ],
}
