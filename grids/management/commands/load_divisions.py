"""Load a city's administrative divisions from a CSV file into the grid tree."""

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.errors import DomainError
from grids import services
from grids.divisions import divisions_parse_bytes
from grids.models import Grid


class Command(BaseCommand):
    help = (
        "Load divisions (code,name,level,parent_code) in one transaction with one tree rebuild. "
        "Any bad row stops the load and nothing is stored."
    )

    def add_arguments(self, parser):
        parser.add_argument("csv", type=Path, help="path of the CSV file")
        parser.add_argument(
            "--under", help="code of an existing grid to hang the file's roots below"
        )

    def handle(self, *args, **options):
        path: Path = options["csv"]
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        under = None
        if options["under"]:
            under = Grid.objects.filter(code=options["under"]).first()
            if under is None:
                raise CommandError(f"No grid with code {options['under']}")
        started = time.perf_counter()
        try:
            rows = divisions_parse_bytes(path.read_bytes())
            result = services.divisions_load(rows=rows, actor=None, under=under)
        except DomainError as exc:
            lines = [str(exc), *exc.extra.get("errors", [])]
            raise CommandError("\n".join(lines)) from exc
        elapsed = time.perf_counter() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Loaded {result.created} grids from {len(rows)} rows in {elapsed:.2f} s"
                + (f"; skipped placeholders: {', '.join(result.skipped)}" if result.skipped else "")
            )
        )
