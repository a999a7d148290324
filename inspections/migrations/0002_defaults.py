from django.db import migrations


def install(apps, schema_editor):
    from inspections.defaults import defaults_install

    defaults_install(
        apps.get_model("inspections", "PatrolPolicy"), apps.get_model("inspections", "Checklist")
    )


class Migration(migrations.Migration):
    dependencies = [("inspections", "0001_initial")]
    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
