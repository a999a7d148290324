from django.db import migrations


def install(apps, schema_editor):
    from cases.defaults import categories_install

    categories_install(
        apps.get_model("cases", "ProblemCategory"),
        apps.get_model("cases", "DutyRule"),
        apps.get_model("grids", "Sector"),
    )


class Migration(migrations.Migration):
    dependencies = [("cases", "0002_initial"), ("grids", "0002_defaults")]
    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
