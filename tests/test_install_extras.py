"""Each optional extra installs what its documented command needs: a fresh virtual environment per
extra (no packages from the running environment), ``pip install -e '.[extra]'`` as the docs say, then
the documented command runs and answers (docs/integrations.md "Example apps", docs/sql.md "CLI").

- ``sqlalchemy`` (+ ``server``, aiosqlite): ``python examples/sqlalchemy_app/app.py`` (async SQLAlchemy
  needs greenlet, which SQLAlchemy 2.1 no longer installs by itself: the extra is ``sqlalchemy[asyncio]``);
- ``django``: ``python examples/django_app/manage.py demo``;
- ``postgres`` / ``mysql``: ``filterdsl run --engine postgres|mysql`` (psycopg / PyMySQL).

The environments are made with ``venv --without-pip`` and filled by the running pip
(``pip --python``), which keeps the package cache; one environment per extra.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import IN_CI, mysql_available, mysql_url, need, postgres_available, postgres_url

ROOT = Path(__file__).resolve().parent.parent
ORDERS = "ixuPJwBRqtRP3GpoM"
PAID = ["fzsEYQSCqHaADLpz2", "a5hzm9xChLDKrxneG", "o2yMTjDeKqM7C3p9z", "Y56zQAGsiaNrviBm6"]
QUERY = "data__Popw6SRW8pL2RqECF=paid"


def _venv(tmp: Path, *requirements: str) -> Path:
    """A fresh environment with ``requirements`` installed (as the docs' pip command); its python."""
    env_dir = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], check=True, timeout=300)
    python = env_dir / "bin" / "python"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", *requirements],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    if done.returncode != 0 and not IN_CI and "No matching distribution" in done.stderr + done.stdout:
        pytest.skip(f"cannot install from the package index here: {done.stderr[-300:]}")
    assert done.returncode == 0, done.stderr[-3000:]
    where = subprocess.run(
        [str(python), "-c", "import filterdsl, sys; print(filterdsl.__file__, sys.prefix)"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert str(env_dir) in where.stdout, where.stdout + where.stderr  # the fresh environment, not ours
    return python


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve_and_get(cmd: list[str], port: int, path: str, env: dict[str, str] | None = None) -> object:
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    out = proc.stdout.read().decode() if proc.stdout else ""
                    pytest.fail(f"{cmd} did not start:\n{out[-3000:]}")
                time.sleep(0.3)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as r:
            return json.loads(r.read())
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _paid_by_app(body: object) -> list[str]:
    assert isinstance(body, list)
    return [r["id"] for r in body]


def _expected() -> list[str]:
    """The in-memory engine's answer to QUERY (the apps are checked against it in test_examples_*)."""
    import filterdsl

    ex = ROOT / "examples"
    catalog = filterdsl.load_catalog(ex / "catalog.json")
    q = filterdsl.parse(QUERY, "pixiebrix", catalog=catalog, database=ORDERS)
    got = [d["id"] for d in filterdsl.apply(q, json.loads((ex / "records.json").read_text()), catalog)]
    assert got
    return got


@pytest.mark.slow
def test_extra_sqlalchemy_runs_the_sqlalchemy_example(tmp_path: Path) -> None:
    python = _venv(tmp_path, "-e", ".[sqlalchemy,server]", "aiosqlite")
    port = _free_port()
    body = _serve_and_get(
        [str(python), "examples/sqlalchemy_app/app.py", "--port", str(port)],
        port,
        f"/api/databases/{ORDERS}/records/?{QUERY}",
    )
    assert _paid_by_app(body) == _expected()


@pytest.mark.slow
def test_extra_django_runs_the_django_example(tmp_path: Path) -> None:
    python = _venv(tmp_path, "-e", ".[django]")
    port = _free_port()
    body = _serve_and_get(
        [str(python), "examples/django_app/manage.py", "demo", "--port", str(port)],
        port,
        f"/api/databases/{ORDERS}/records/?{QUERY}",
        env={k: v for k, v in os.environ.items() if k != "FILTERDSL_DJANGO_DB"},
    )
    assert _paid_by_app(body) == _expected()


def _cli_run(python: Path, engine: str, url: str) -> list[str]:
    ex = ROOT / "examples"
    done = subprocess.run(
        [
            str(python.parent / "filterdsl"),
            "run",
            "--engine",
            engine,
            "--url",
            url,
            "--schema",
            str(ex / "catalog.json"),
            "--database",
            ORDERS,
            "--data",
            str(ex / "records.json"),
            "--ids",
            str(ex / "paid-orders.json"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    return done.stdout.split()


@pytest.mark.slow
def test_extra_postgres_runs_the_cli_on_postgres(tmp_path: Path) -> None:
    need(postgres_available(), "PostgreSQL is not reachable at " + postgres_url())
    python = _venv(tmp_path, "-e", ".[postgres]")
    assert _cli_run(python, "postgres", postgres_url()) == PAID


@pytest.mark.slow
def test_extra_mysql_runs_the_cli_on_mariadb(tmp_path: Path) -> None:
    need(mysql_available(), "MariaDB is not reachable at " + mysql_url())
    python = _venv(tmp_path, "-e", ".[mysql]")
    assert _cli_run(python, "mysql", mysql_url()) == PAID
