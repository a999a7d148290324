"""Fired timers are deleted by the sweep from now on (their breach row is the record): record
any fired timer that somehow lacks its breach, then drop the fired ones. The timers' and the
breaches' own index on ``case_id`` goes: their unique constraint leads with it."""

import django.db.models.deletion
from django.db import migrations, models


def fired_timers_delete(apps, schema_editor):
    breach = apps.get_model("cases", "CaseBreach")._meta.db_table
    timer = apps.get_model("cases", "CaseTimer")._meta.db_table
    schema_editor.execute(
        f"""
        INSERT INTO {breach} (case_id, deadline, level, due_at, at)
        SELECT t.case_id, t.deadline, t.level, t.deadline_at, t.fired_at FROM {timer} t
        WHERE t.fired_at IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM {breach} b
            WHERE b.case_id = t.case_id AND b.deadline = t.deadline AND b.level = t.level)
        """  # noqa: S608 - table names from _meta
    )
    schema_editor.execute(f"DELETE FROM {timer} WHERE fired_at IS NOT NULL")  # noqa: S608


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0006_drop_feedback_limit"),
    ]

    operations = [
        migrations.RunPython(fired_timers_delete, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="casebreach",
            name="case",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="breaches",
                to="cases.case",
            ),
        ),
        migrations.AlterField(
            model_name="casetimer",
            name="case",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="timers",
                to="cases.case",
            ),
        ),
    ]
