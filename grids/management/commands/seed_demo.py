"""Load the demo city (Linyi). Safe to run again: a second run changes nothing."""

import time

from django.core.management.base import BaseCommand
from django.utils import timezone

from assessment.demo import demo_assessment_seed
from cases.demo import demo_cases_seed
from grids.demo import DEMO_LOGINS, demo_city_seed
from inspections.demo import demo_sources_seed


class Command(BaseCommand):
    help = "Load the Linyi demo city with its departments, responsible people and demo logins."

    def handle(self, *args, **options):
        started = time.perf_counter()
        counts = demo_city_seed()
        counts.update(demo_sources_seed())
        # The last month's cases across the counties, at every step of the workflow.
        counts["recent cases"] = demo_cases_seed()
        # Last year's records of the six mechanisms and the score sheets of the 16 county-level
        # grids (the year the office runs in Q1); seeded once per year, a second start finds them.
        counts.update(demo_assessment_seed(year=timezone.localdate().year - 1))
        elapsed = time.perf_counter() - started
        summary = ", ".join(f"{v} {k}" for k, v in counts.items())
        self.stdout.write(self.style.SUCCESS(f"Demo city ready in {elapsed:.1f} s: {summary}"))
        for login in DEMO_LOGINS:
            self.stdout.write(f"  {login.username:<20} {login.description}")
