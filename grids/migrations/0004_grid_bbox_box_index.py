"""A GiST index on each grid's bounding box as a box, for locating a point (PostgreSQL only).

The btree on (min_lng, max_lng, min_lat, max_lat) answers "boxes holding this point" by
scanning every grid west of it (half the city); a GiST index on the box answers it directly.
``grids.selectors`` asks with the same expression on PostgreSQL; SQLite keeps the btree.
"""

from django.db import migrations

_CREATE = (
    "CREATE INDEX IF NOT EXISTS grid_bbox_box ON grids_grid"
    " USING gist (box(point(min_lng, min_lat), point(max_lng, max_lat)))"
)


def _create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(_CREATE)


def _drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS grid_bbox_box")


class Migration(migrations.Migration):
    dependencies = [("grids", "0003_department_code_length")]

    operations = [migrations.RunPython(_create, _drop)]
