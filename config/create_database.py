"""Create the PostgreSQL database named in a URL if it does not exist yet (`make run-prod`).

python -m config.create_database postgres://postgres@127.0.0.1:5432/redress_prod
"""

from __future__ import annotations

import sys
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql


def database_create_if_missing(url: str) -> bool:
    """True if it was created; the server's maintenance database answers the question."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name:
        raise SystemExit(f"No database name in {parts._replace(netloc=parts.hostname or '')}")
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True, connect_timeout=5) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists:
            return False
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return True


if __name__ == "__main__":
    created = database_create_if_missing(sys.argv[1])
    name = urlsplit(sys.argv[1]).path.lstrip("/")
    print(f"database {name}: {'created' if created else 'exists'}")
