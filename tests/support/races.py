"""Two calls racing for one claim, forced rather than left to timing (PostgreSQL only:
SQLite has no row locks). The first call, once it has passed `hold_after` (a check
made while it holds the claim's lock), waits until PostgreSQL reports the rival
waiting for a lock; only then does it go on."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

from django.db import connection, connections

from claims import core
from claims.core import ClaimError


def wait_until_a_rival_waits_for_a_lock(timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    probe = connections.create_connection("default")
    try:
        with probe.cursor() as cursor:
            while time.monotonic() < deadline:
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE wait_event_type = 'Lock' AND datname = current_database()"
                )
                if cursor.fetchone()[0] >= 1:
                    return True
                time.sleep(0.01)
        return False
    finally:
        probe.close()


def race(
    first: Callable[[], Any],
    second: Callable[[], Any],
    monkeypatch: Any,
    *,
    hold_after: tuple[ModuleType, str] = (core, "check_can"),
) -> list[Any]:
    """[what first returned or raised, what second did], the second having reached
    the claim while the first held it."""
    module, name = hold_after
    holding = threading.Event()
    original = getattr(module, name)

    def check_then_hold(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        if threading.current_thread().name == "first" and not holding.is_set():
            holding.set()
            wait_until_a_rival_waits_for_a_lock()
        return result

    monkeypatch.setattr(module, name, check_then_hold)
    outcomes: dict[str, Any] = {}

    def run(name: str, call: Callable[[], Any]) -> None:
        try:
            if name == "second":
                holding.wait(timeout=10)
            outcomes[name] = call()
        except ClaimError as error:
            outcomes[name] = error
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=("first", first), name="first"),
        threading.Thread(target=run, args=("second", second), name="second"),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return [outcomes["first"], outcomes["second"]]
