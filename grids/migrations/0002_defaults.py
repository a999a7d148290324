from django.db import migrations


def install(apps, schema_editor):
    from grids.defaults import levels_install, sectors_install

    levels_install(apps.get_model("grids", "GridLevel"))
    sectors_install(apps.get_model("grids", "Sector"))


class Migration(migrations.Migration):
    dependencies = [("grids", "0001_initial")]
    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
