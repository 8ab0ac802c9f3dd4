"""gunicorn settings for Redress's web processes: `gunicorn -c config/gunicorn.py config.wsgi`.

Every value can be changed by environment variable, so one file serves a laptop and a
fleet. Sync workers: each request holds one worker and one PostgreSQL connection (kept
open between requests, CONN_MAX_AGE), which keeps the database's connection count
predictable: web machines x WEB_CONCURRENCY. Sync workers must sit behind a proxy or
load balancer that buffers slow clients (nginx, a cloud load balancer), as in production.
"""

from __future__ import annotations

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND") or f"127.0.0.1:{os.environ.get('PORT') or 8000}"
# gunicorn's own advice, (2 x cores) + 1, and never fewer than 2, so one slow request
# (a large upload, a letter download) never stalls the machine's whole web tier.
workers = int(os.environ.get("WEB_CONCURRENCY") or max(2, 2 * multiprocessing.cpu_count() + 1))
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or 30)
graceful_timeout = 20
keepalive = 2
# A worker is replaced after this many requests (with jitter, so not all at once): a
# slow leak in any library cannot grow for ever.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS") or 2000)
max_requests_jitter = max_requests // 10
# Behind a proxy on another machine: which addresses may set X-Forwarded-* headers.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
proxy_protocol = False
# Uploads are spooled to a temporary directory in memory where there is one.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108
control_socket_disable = True

# One JSON line per request comes from Django (config.observability, with the request
# id and the URL pattern, never a path holding a claimant's token), so gunicorn's own
# access log is off; its error log is JSON lines too.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
if os.environ.get("LOG_FORMAT", "json") == "json":
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "config.observability.JsonFormatter"}},
        "handlers": {
            "error_console": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            },
        },
        "root": {"handlers": ["error_console"], "level": "INFO"},
        "loggers": {
            "gunicorn.error": {
                "handlers": ["error_console"],
                "level": loglevel.upper(),
                "propagate": False,
            },
        },
    }
