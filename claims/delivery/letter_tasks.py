"""Celery tasks for letters: thin wrappers around claims.delivery.letters.

Named `claims.tasks.letter_*`, so settings.CELERY_TASK_ROUTES puts them all on the
`letters` queue, but kept apart from claims.delivery.tasks (emails and the clock).
config/celery.py autodiscovers this module beside each app's `tasks`.

Safe to run twice: `letter_generate` stores one letter per request however often a
message is delivered (see claims.delivery.letters).
"""

from __future__ import annotations

import gc
from typing import Any

from celery import current_app, shared_task
from celery.app.task import Task
from celery.signals import worker_process_init

from claims.delivery import letter_pdf, letters


@worker_process_init.connect
def _load_letter_renderer(**kwargs: Any) -> None:
    """A worker process that takes letters loads WeasyPrint, our stylesheet and fonts as
    it starts, once, and then freezes what it has loaded (Django, WeasyPrint, the fonts)
    out of the garbage collector's way, so collections during letters stay small."""
    consuming = current_app.amqp.queues.consume_from
    if consuming is not None and "letters" not in consuming:
        return
    letter_pdf.renderer()
    gc.collect()
    gc.freeze()


@shared_task(bind=True, name="claims.tasks.letter_generate")
def letter_generate(self: Task, request_id: int) -> str:
    outcome = letters.letter_generate(request_id)
    if outcome == letters.Outcome.RETRY:
        # The request row counts attempts and decides when to give up, not Celery.
        raise self.retry(countdown=letters.retry_seconds(), max_retries=None)
    return outcome


@shared_task(name="claims.tasks.letter_requests_sweep")
def letter_requests_sweep() -> int:
    return letters.letter_requests_sweep()


@shared_task(name="claims.tasks.letter_batch_queue")
def letter_batch_queue(batch_id: int) -> int:
    return letters.letter_batch_queue(batch_id)
