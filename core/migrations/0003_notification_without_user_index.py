"""One index fewer on the inbox: the unique (user, dedupe_key) and the (user, read_at,
created_at) indexes both lead with ``user_id``, so the foreign key's own single-column index only
costs a write per notification (thousands per sweep). Only the index goes; Django's AlterField
would also drop and re-add, and so re-check, the foreign key."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def _user_index_names(schema_editor) -> list[str]:
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "core_notification")
    return [
        name
        for name, info in constraints.items()
        if info["index"] and not info["unique"] and info["columns"] == ["user_id"]
    ]


def user_index_drop(apps, schema_editor):
    for name in _user_index_names(schema_editor):
        schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")


def user_index_create(apps, schema_editor):
    if not _user_index_names(schema_editor):
        schema_editor.execute(
            "CREATE INDEX core_notification_user_id_idx ON core_notification (user_id)"
        )


class Migration(migrations.Migration):
    dependencies = [("core", "0002_notification")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="notification",
                    name="user",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="notifications",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            database_operations=[
                migrations.RunPython(user_index_drop, user_index_create, elidable=False)
            ],
        ),
    ]
