from django.db import migrations


def install(apps, schema_editor):
    from cases.defaults import settings_install

    settings_install(apps.get_model("cases", "CaseSettings"))


class Migration(migrations.Migration):
    dependencies = [("cases", "0004_workflow")]
    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
