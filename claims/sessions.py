"""Django's database sessions, read with one plain query.

Every claimant and staff page reads its session first. Django's store builds that
SELECT through the ORM on each request, which costs the web process more than the
query itself (bench/submission.py); this reads the same row with the same conditions.
Writing, keys, expiry and signing stay Django's.
"""

from __future__ import annotations

from typing import Any

from django.contrib.sessions.backends import db
from django.db import connections, router
from django.utils import timezone


class SessionStore(db.SessionStore):
    def load(self) -> dict[str, Any]:
        connection = connections[router.db_for_read(self.model)]
        table = connection.ops.quote_name(self.model._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT session_data FROM {table} "  # noqa: S608 (the model's table name)
                "WHERE session_key = %s AND expire_date > %s",
                [self.session_key, timezone.now()],
            )
            row = cursor.fetchone()
        if row is None:
            # As Django's: a key that names no live session is forgotten, so a new one
            # is made if this request writes to the session.
            self._session_key = None
            return {}
        data: dict[str, Any] = self.decode(row[0])
        return data
