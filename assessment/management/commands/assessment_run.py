"""Run the yearly assessment for a year (as the system) and print the ranking."""

import time

from django.core.management.base import BaseCommand

from assessment.services import assessment_run


class Command(BaseCommand):
    help = "Compute every county-level grid's score sheet for a year (re-runnable until locked)."

    def add_arguments(self, parser):
        parser.add_argument("year", type=int)

    def handle(self, *args, year: int, **options):
        started = time.perf_counter()
        sheets = assessment_run(year=year, actor=None)
        elapsed = time.perf_counter() - started
        for sheet in sorted(sheets, key=lambda s: -s.total):
            self.stdout.write(
                f"{sheet.grid.code} {sheet.grid.name:<16} {sheet.total:>7} {sheet.grade}"
            )
        self.stdout.write(self.style.SUCCESS(f"{len(sheets)} sheets in {elapsed:.2f} s"))
