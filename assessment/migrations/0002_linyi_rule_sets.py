"""Install Linyi's rule set (DOMAIN §7.1) for 2025 and 2026."""

from django.db import migrations

from assessment import defaults

YEARS = (2025, 2026)


def install(apps, schema_editor):
    RuleSet = apps.get_model("assessment", "RuleSet")
    RuleItem = apps.get_model("assessment", "RuleItem")
    Rule = apps.get_model("assessment", "Rule")
    for year in YEARS:
        defaults.ruleset_install(RuleSet, RuleItem, Rule, year=year)


def remove(apps, schema_editor):
    RuleSet = apps.get_model("assessment", "RuleSet")
    RuleSet.objects.filter(year__in=YEARS, sheets__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("assessment", "0001_initial")]

    operations = [migrations.RunPython(install, remove)]
