"""Room on every page of ``cases_case`` for the deadline sweep's flag updates, and two indexes
fewer.

The sweep sets ``<deadline>_met = false`` on up to thousands of cases at once; those columns
are in no index, so with free space on the row's page PostgreSQL updates it in place (a HOT
update: no new index entries). A packed table (fillfactor 100) moves every updated row to
another page and adds an entry to each of the table's indexes. ``fillfactor = 90`` leaves 10 %
of each page free for that. It applies to pages written from now on: an existing table gains
the room on its old pages only when it is rewritten (``VACUUM FULL cases_case`` or
``pg_repack``, both outside this migration, which only sets the storage parameter and takes no
lock that blocks reads or writes). Not on SQLite, which has no such parameter.

The single-column indexes on ``grid_id`` and ``department_id`` go: the composite indexes
(grid, status, reported_at DESC) and (department, status) lead with the same columns, so every
lookup by grid or department (lists, dashboards, assessment, PROTECT checks) uses those.
"""

import django.db.models.deletion
from django.db import migrations, models

FILLFACTOR = 90


def fillfactor_set(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE cases_case SET (fillfactor = {FILLFACTOR})")


def fillfactor_reset(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE cases_case RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0008_breach_without_database_key"),
        ("grids", "0003_department_code_length"),
    ]

    operations = [
        # Only the indexes go: Django's AlterField would also drop and re-add (and so re-check
        # over the whole table) the two foreign keys. The names are those Django gave them in 0001.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="case",
                    name="department",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="cases",
                        to="grids.department",
                    ),
                ),
                migrations.AlterField(
                    model_name="case",
                    name="grid",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="cases",
                        to="grids.grid",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f"DROP INDEX IF EXISTS {name}",
                    f"CREATE INDEX IF NOT EXISTS {name} ON cases_case ({column})",
                )
                for name, column in (
                    ("cases_case_department_id_c5b7309d", "department_id"),
                    ("cases_case_grid_id_af7609ce", "grid_id"),
                )
            ],
        ),
        migrations.RunPython(fillfactor_set, fillfactor_reset, elidable=False),
    ]
