from __future__ import annotations

import os
import uuid
from typing import Any

import pytest
from django.db import connection

from claims.domain import roles
from tests.support.factories import People, SchemeFactory, staff
from tests.support.staff_login import StaffClient

IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Any:
    # In CI nothing may be skipped: a missing service or browser is a failure there.
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, which must run every test: {report.longrepr}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://...")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(
    django_db_modify_db_settings_parallel_suffix: None, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """On SQLite, a test database in a file of this run's own (not in memory), so the
    real Celery worker of tests/delivery, another process, can open it."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        path = tmp_path_factory.mktemp("sqlite") / "test.sqlite3"
        database.setdefault("TEST", {})["NAME"] = str(path)


@pytest.fixture(autouse=True)
def _own_cache_namespace(settings: Any, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Each test counts rate limits and caches from zero, even on a shared Redis or a
    file cache that outlives the run, without clearing another test's keys. A file
    cache gets a folder of its own too: Django's lists its whole folder on each write,
    which grew slower with every test while they shared one."""
    caches = {}
    for name, config in settings.CACHES.items():
        config = {**config, "KEY_PREFIX": uuid.uuid4().hex}
        if config["BACKEND"].endswith("FileBasedCache"):
            config["LOCATION"] = str(tmp_path_factory.mktemp("cache"))
        caches[name] = config
    settings.CACHES = caches


@pytest.fixture
def client() -> StaffClient:
    """pytest-django's client, except that `force_login` of a staff user also passes the
    second factor, which every staff page needs (tests/staff_login.py)."""
    return StaffClient()


@pytest.fixture
def scheme(db: None) -> Any:
    return SchemeFactory()


@pytest.fixture
def people(db: None) -> People:
    return People()


@pytest.fixture
def caseworker(db: None) -> Any:
    return staff(roles.CASEWORKER)


@pytest.fixture
def senior(db: None) -> Any:
    return staff(roles.SENIOR_CASEWORKER)


@pytest.fixture
def finance(db: None) -> Any:
    return staff(roles.FINANCE_OFFICER)


@pytest.fixture
def scheme_admin(db: None) -> Any:
    return staff(roles.SCHEME_ADMINISTRATOR)


# --- The hostile suite's summary (tests/security/ledger.py) ------------------------
from tests.security.ledger import Tally  # noqa: E402

_hostile = Tally()


_refusals: list[Any] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call":
        _hostile.add(report)
        # tests/actions/test_invariants.py: how often each rule refused, for the run's summary.
        _refusals.extend(v for k, v in report.user_properties if k == "invariant_refusals")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _hostile.failed and not hasattr(session.config, "workerinput"):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if hasattr(config, "workerinput"):
        return
    for counts in _refusals:
        terminalreporter.section("invariant test (tests/actions/test_invariants.py)")
        terminalreporter.write_line(f"refusals met: {counts}")
    if not _hostile.tried:
        return
    terminalreporter.section("hostile suite (tests/security)")
    terminalreporter.write_line(
        f"attacks tried: {_hostile.tried}, accepted: {_hostile.accepted} (must be 0), "
        f"server errors: {_hostile.errors} (must be 0)",
        red=_hostile.failed,
        green=not _hostile.failed,
    )
    for line in _hostile.bad:
        terminalreporter.write_line(f"  {line}", red=True)
