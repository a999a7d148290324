"""Install Linyi's rule set for a year (a year that has one keeps it)."""

from django.core.management.base import BaseCommand

from assessment.services import ruleset_install_linyi


class Command(BaseCommand):
    help = "Install the Linyi assessment rule set (临政办字〔2017〕121号 annex 3) for a year."

    def add_arguments(self, parser):
        parser.add_argument("year", type=int)

    def handle(self, *args, year: int, **options):
        rule_set = ruleset_install_linyi(year=year)
        items = rule_set.items.count()
        self.stdout.write(self.style.SUCCESS(f"{rule_set}: {items} items"))
