"""The hostile suite's ledger: every attack tried, whether it was accepted, whether the
server failed. Each attack is stored as a user property of its test's report, so the
counts reach pytest's main process under xdist too; tests/conftest.py prints the totals
at the end of the run and fails the run if any attack was accepted or caused an error."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

KEY = "hostile_attack"


class Attacker:
    def __init__(self, node: pytest.Item) -> None:
        self.node = node

    def attempt(self, name: str, send: Callable[[], Any], refused: Callable[[Any], bool]) -> Any:
        """Run one attack: `send` makes the request(s), `refused` says whether the system
        turned it away and changed nothing. A 5xx or an exception is a server error."""
        try:
            response = send()
        except Exception as error:
            self._record(name, accepted=False, error=True)
            raise AssertionError(f"attack {name!r} caused a server error: {error!r}") from error
        status = getattr(response, "status_code", 200)
        error = status >= 500
        accepted = not error and not refused(response)
        self._record(name, accepted=accepted, error=error)
        assert not error, f"attack {name!r} caused a server error ({status})"
        assert not accepted, f"attack {name!r} was accepted ({status})"
        return response

    def _record(self, name: str, *, accepted: bool, error: bool) -> None:
        self.node.user_properties.append(
            (KEY, {"name": name, "accepted": accepted, "error": error})
        )


class Tally:
    def __init__(self) -> None:
        self.tried = self.accepted = self.errors = 0
        self.bad: list[str] = []

    def add(self, report: pytest.TestReport) -> None:
        for key, value in report.user_properties:
            if key != KEY:
                continue
            self.tried += 1
            self.accepted += bool(value["accepted"])
            self.errors += bool(value["error"])
            if value["accepted"] or value["error"]:
                self.bad.append(f"{report.nodeid}: {value['name']}")

    @property
    def failed(self) -> bool:
        return bool(self.accepted or self.errors)
