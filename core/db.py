"""Row inserts for the hot write paths (case intake), with their SQL built once per process.

``Model.objects.create`` compiles its ``INSERT`` anew on every call; on the platform's intake,
which writes a case, its first event and its timers per request, that compiling was a large
share of the request's CPU. These helpers write the same rows, with the same field
preparation (``pre_save``, ``get_db_prep_save``), from a statement cached per model and row
count. They speak the SQL PostgreSQL and SQLite (3.35+) share: ``INSERT … RETURNING`` and
``ON CONFLICT DO NOTHING``.
"""

from __future__ import annotations

from functools import lru_cache

from django.db import connection
from django.db.models import Model


@lru_cache(maxsize=64)
def _insert_sql(model: type[Model], rows: int, *, skip_conflicts: bool, returning: bool):
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key or f.attname != "id"]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    # names from _meta, values as parameters
    table = quote(meta.db_table)
    sql = f"INSERT INTO {table} ({columns}) VALUES " + ", ".join([row] * rows)  # noqa: S608
    if skip_conflicts:
        sql += " ON CONFLICT DO NOTHING"
    if returning:
        sql += f" RETURNING {quote(meta.pk.column)}"
    return sql, fields


def _values(obj: Model, fields) -> list:
    return [f.get_db_prep_save(f.pre_save(obj, True), connection=connection) for f in fields]


def _saved(obj: Model, pk=None) -> None:
    if pk is not None:
        obj.pk = pk
    obj._state.adding = False
    obj._state.db = connection.alias


def insert_one(obj: Model, *, skip_conflicts: bool = False) -> bool:
    """Insert ``obj`` (its ``id`` made by the database) and set its pk. With
    ``skip_conflicts``, a row that would break a unique constraint is not written and
    ``False`` comes back: no error, so the surrounding transaction needs no savepoint."""
    sql, fields = _insert_sql(type(obj), 1, skip_conflicts=skip_conflicts, returning=True)
    with connection.cursor() as cursor:
        cursor.execute(sql, _values(obj, fields))
        row = cursor.fetchone()
    if row is None:
        return False
    _saved(obj, row[0])
    return True


def insert_many(objs: list[Model]) -> None:
    """Insert rows of one model in one statement; their pks are not read back."""
    if not objs:
        return
    sql, fields = _insert_sql(type(objs[0]), len(objs), skip_conflicts=False, returning=False)
    params = [value for obj in objs for value in _values(obj, fields)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    for obj in objs:
        _saved(obj)
