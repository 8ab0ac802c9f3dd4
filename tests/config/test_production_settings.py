"""Production mode is chosen by environment variables alone (config/settings.py), and
Procfile.prod runs a worker for every queue a task can be routed to, and one beat."""

from __future__ import annotations

import json
import os
import re
import runpy
import subprocess
import sys
from pathlib import Path

from config.celery import app

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "a-production-secret-for-this-test-only-0123456789",
    "DATABASE_URL": "postgres://redress:pw@db.internal:5432/redress",
    "REDIS_URL": "redis://redis.internal:6379/0",
}
# Set for the test suite (pyproject.toml); production leaves them to their defaults.
UNSET = ("CELERY_BROKER_URL", "STATIC_MANIFEST", "LOG_FORMAT", "S3_BUCKET", "CONN_MAX_AGE")
SHOW = """
import json
from django.conf import settings as s
db = s.DATABASES["default"]
print(json.dumps({
    "engine": db["ENGINE"], "conn_max_age": db["CONN_MAX_AGE"],
    "conn_health_checks": db["CONN_HEALTH_CHECKS"], "db_options": db.get("OPTIONS", {}),
    "cache": s.CACHES["default"]["BACKEND"], "cache_location": s.CACHES["default"]["LOCATION"],
    "broker": s.CELERY_BROKER_URL, "acks_late": s.CELERY_TASK_ACKS_LATE,
    "reject_on_worker_lost": s.CELERY_TASK_REJECT_ON_WORKER_LOST,
    "visibility_timeout": s.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"],
    "time_limit": s.CELERY_TASK_TIME_LIMIT,
    "static": s.STORAGES["staticfiles"]["BACKEND"], "files": s.STORAGES["default"]["BACKEND"],
    "log_format": s.LOG_FORMAT, "formatter": s.LOGGING["handlers"]["console"]["formatter"],
    "middleware": s.MIDDLEWARE[:3],
}))
"""


SETUP = (
    "import django, os\nos.environ['DJANGO_SETTINGS_MODULE'] = 'config.settings'\ndjango.setup()\n"
)


def start_django(environment: dict[str, str], code: str = "") -> subprocess.CompletedProcess[str]:
    """A fresh process that loads config.settings with `environment` (nothing connects)."""
    env = {k: v for k, v in os.environ.items() if k not in UNSET}
    env = {**env, **PRODUCTION, **environment}
    command = [sys.executable, "-c", SETUP + code]
    return subprocess.run(  # noqa: S603  (our own arguments)
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )


def settings_with(environment: dict[str, str]) -> dict[str, object]:
    result = start_django(environment, SHOW)
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout.splitlines()[-1]))


def test_prepared_statements_can_be_turned_off_for_a_pooler_in_transaction_mode() -> None:
    shown = settings_with({"DATABASE_PREPARED_STATEMENTS": "false"})
    assert shown["db_options"] == {}


def test_production_environment_gives_postgres_with_persistent_checked_connections_and_redis() -> (
    None
):
    shown = settings_with({})
    assert shown["engine"] == "django.db.backends.postgresql"
    assert shown["conn_max_age"] == 60 and shown["conn_health_checks"] is True
    # Prepared statements: parameters bound by the server, a repeated query prepared.
    assert shown["db_options"] == {"server_side_binding": True, "prepare_threshold": 5}
    assert shown["cache"] == "django.core.cache.backends.redis.RedisCache"
    assert shown["cache_location"] == shown["broker"] == "redis://redis.internal:6379/0"
    # A killed worker's task goes back to the queue and is run again, after at most the
    # visibility timeout, which outlasts any task (so a running one is never doubled).
    assert shown["acks_late"] is True and shown["reject_on_worker_lost"] is True
    assert int(str(shown["visibility_timeout"])) > int(str(shown["time_limit"]))
    assert shown["static"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    assert shown["files"] == "django.core.files.storage.FileSystemStorage"
    assert shown["log_format"] == "json" and shown["formatter"] == "json"
    assert shown["middleware"] == [
        "config.observability.RequestIdMiddleware",
        "config.health.HealthCheckMiddleware",
        "django.middleware.security.SecurityMiddleware",
    ]


def test_connection_lifetime_and_log_format_follow_the_environment() -> None:
    shown = settings_with({"CONN_MAX_AGE": "600", "LOG_FORMAT": "text"})
    assert shown["conn_max_age"] == 600
    assert shown["formatter"] == "text"


def test_an_unknown_log_format_stops_the_start_with_a_clear_error() -> None:
    result = start_django({"LOG_FORMAT": "xml"})
    assert result.returncode != 0
    assert "LOG_FORMAT must be json or text, not 'xml'" in result.stderr


# --- Queues -------------------------------------------------------------------------

EXPECTED_QUEUES = {
    "claims.tasks.status_update_send": "notifications",
    "claims.tasks.staff_digest_send": "notifications",
    "claims.tasks.notice_campaign_plan": "notices",
    "claims.tasks.notice_chunk_send": "notices",
    "claims.tasks.letter_generate": "letters",
    "claims.tasks.letter_batch_queue": "letters",
    "claims.tasks.letter_requests_sweep": "letters",
    "claims.tasks.outbox_sweep": "housekeeping",
    "claims.tasks.clock_send_reminders": "housekeeping",
    "claims.tasks.clock_close_incomplete": "housekeeping",
    "claims.tasks.clock_expire_offers": "housekeeping",
    "claims.tasks.clock_warn_expiring_offers": "housekeeping",
    "claims.tasks.clock_send_digests": "housekeeping",
}


LOADERS = """
import json
from django.template import engines
def name(loader):
    return type(loader).__module__ + "." + type(loader).__name__
loaders = engines["django"].engine.template_loaders
print(json.dumps([[name(c), *map(name, c.loaders)] for c in loaders]))
"""


def test_production_compiles_each_template_once_with_the_cached_loader() -> None:
    result = start_django({}, LOADERS)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [
        [
            "django.template.loaders.cached.Loader",
            "django.template.loaders.filesystem.Loader",
            "django.template.loaders.app_directories.Loader",
        ]
    ]


def queue_of(task_name: str) -> str:
    return str(app.amqp.router.route({}, task_name)["queue"].name)


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile.prod").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip())


def consumed_queues() -> set[str]:
    return {
        queue
        for command in procfile().values()
        if (match := re.search(r"--queues (\S+)", command))
        for queue in match.group(1).split(",")
    }


def test_each_task_is_routed_to_its_named_queue() -> None:
    app.loader.import_default_modules()
    assert {name: queue_of(name) for name in EXPECTED_QUEUES} == EXPECTED_QUEUES


def test_every_task_goes_to_a_queue_that_a_production_worker_consumes() -> None:
    app.loader.import_default_modules()
    ours = [name for name in app.tasks if name.startswith("claims.")]
    assert set(EXPECTED_QUEUES) <= set(ours)
    unserved = {name: queue_of(name) for name in ours if queue_of(name) not in consumed_queues()}
    assert unserved == {}


def test_procfile_prod_runs_one_worker_per_queue_one_beat_and_gunicorn() -> None:
    processes = procfile()
    consumed = {
        name: re.search(r"--queues (\S+)", command).group(1)  # type: ignore[union-attr]
        for name, command in processes.items()
        if " worker " in command
    }
    assert sorted(consumed.values()) == sorted(set(EXPECTED_QUEUES.values()))
    assert [name for name, command in processes.items() if " beat" in command] == ["beat"]
    assert processes["web"].startswith("gunicorn --config config/gunicorn.py ")


def test_gunicorn_runs_at_least_two_sync_workers_logging_json() -> None:
    config = runpy.run_path(str(ROOT / "config" / "gunicorn.py"), run_name="gunicorn_config")
    assert config["workers"] >= 2
    assert config["worker_class"] == "sync"
    assert config["accesslog"] is None  # one line per request comes from Django
    formatter = config["logconfig_dict"]["formatters"]["json"]["()"]
    assert formatter == "config.observability.JsonFormatter"
