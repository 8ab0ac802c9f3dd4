"""Erase personal data whose retention period is over (claims.actions.privacy).

`manage.py retention --dry-run` lists, per scheme, the claims and files the next run
would erase and changes nothing; without it, erases them (as the daily beat job does).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from claims.actions import privacy


class Command(BaseCommand):
    help = "Erase personal data past each scheme's retention period (--dry-run: report only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Report what would be erased; change nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        report = privacy.retention_run(dry_run=options["dry_run"])
        for line in report.lines():
            self.stdout.write(line)
        if report.failed:
            self.stderr.write(f"{len(report.failed)} claim(s) could not be erased.")
