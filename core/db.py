"""Statements for the hot paths (every API request, every case intake), built once per process
and, on PostgreSQL, planned once per connection.

``Model.objects.create`` compiles its ``INSERT`` anew on every call, ``RawQuerySet`` matches
columns to fields on every query, and PostgreSQL plans every statement it is sent; on the
platform's intake, which authenticates, scopes, locates and writes a case, its first event
and its timers per request, those were most of the request's CPU. Here:

- ``insert_one`` / ``insert_many`` write rows with the ORM's field preparation
  (``pre_save``, ``get_db_prep_save``) from a statement cached per model and row count;
- ``Prepared``: a statement prepared once per connection on PostgreSQL;
- ``columns``: a model's column list for a written-out ``SELECT``, and its rows made into
  instances as the ORM would.

The SQL is what PostgreSQL and SQLite (3.35+) share: ``INSERT … RETURNING`` and
``ON CONFLICT DO NOTHING``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.postgresql.psycopg_any import is_psycopg3
from django.db.models import DateField, Field, Model


@dataclass(frozen=True)
class InsertColumns:
    """What a written-out ``INSERT`` of ``model`` names: ``table``, ``columns`` (quoted,
    comma-separated), ``marks`` (one ``%s`` per column) and how to read a row's values from an
    instance (``values``). The ``id`` the database makes and the fields in ``exclude`` are left
    out (to be filled in by the statement, e.g. a foreign key to a row it inserts)."""

    table: str
    columns: str
    marks: str
    preparers: tuple

    def values(self, obj: Model) -> list:
        """``obj``'s values for ``columns``, prepared as the ORM would save them."""
        return _values(obj, self.preparers)


@lru_cache(maxsize=64)
def insert_columns(model: type[Model], *, exclude: tuple[str, ...] = ()) -> InsertColumns:
    meta = model._meta
    fields = [
        f
        for f in meta.concrete_fields
        if not (f.primary_key and f.attname == "id") and f.name not in exclude
    ]
    quote = connections[DEFAULT_DB_ALIAS].ops.quote_name
    return InsertColumns(
        table=quote(meta.db_table),
        columns=", ".join(quote(f.column) for f in fields),
        marks=", ".join(["%s"] * len(fields)),
        preparers=_preparers(fields),
    )


@lru_cache(maxsize=64)
def _insert_statement(model: type[Model], rows: int, *, skip_conflicts: bool, returning: bool):
    meta = model._meta
    parts = insert_columns(model)
    # names from _meta, values as parameters
    sql = f"INSERT INTO {parts.table} ({parts.columns}) VALUES " + ", ".join(  # noqa: S608
        [f"({parts.marks})"] * rows
    )
    if skip_conflicts:
        sql += " ON CONFLICT DO NOTHING"
    if returning:
        sql += f" RETURNING {connections[DEFAULT_DB_ALIAS].ops.quote_name(meta.pk.column)}"
    name = f"insert_{meta.db_table}_{rows}{'_skip' if skip_conflicts else ''}"
    return Prepared(name, sql, len(parts.preparers) * rows), parts.preparers


# Values the ORM would pass on unchanged for fields of these types (its preparation only
# checks or converts to the same type): taken as they are, the rest goes through
# ``get_db_prep_save``. A case row has some forty fields, half of them None.
_AS_IS = {
    **dict.fromkeys(("CharField", "TextField", "SlugField", "EmailField", "URLField"), str),
    **dict.fromkeys(
        (
            "IntegerField",
            "BigIntegerField",
            "SmallIntegerField",
            "PositiveIntegerField",
            "PositiveBigIntegerField",
            "PositiveSmallIntegerField",
            "ForeignKey",
            "OneToOneField",
        ),
        int,
    ),
    "BooleanField": bool,
    "FloatField": float,
}


def _preparers(fields: list) -> tuple:
    """Per field: its attname, whether ``pre_save`` must run (auto_now, files…), the one type
    whose values go as they are, whether None goes as NULL unprepared (not for JSON)."""
    out = []
    for f in fields:
        internal = f.get_internal_type()
        if internal in ("ForeignKey", "OneToOneField"):
            internal = f.target_field.get_internal_type()
            internal = "IntegerField" if "AutoField" in internal else internal
        plain = type(f).pre_save is Field.pre_save or (
            isinstance(f, DateField) and not (f.auto_now or f.auto_now_add)
        )
        out.append((f, f.attname, plain, _AS_IS.get(internal), internal != "JSONField"))
    return tuple(out)


def _values(obj: Model, preparers: tuple) -> list:
    connection = connections[DEFAULT_DB_ALIAS]  # (not the proxy: one lookup, not one a field)
    values = []
    for f, attname, plain, as_is, null_as_is in preparers:
        value = getattr(obj, attname) if plain else f.pre_save(obj, True)
        if (value is None and null_as_is) or (as_is is not None and type(value) is as_is):
            values.append(value)
        else:
            values.append(f.get_db_prep_save(value, connection=connection))
    return values


def saved(obj: Model, pk=None) -> None:
    """Mark ``obj`` as a row of the database (its ``pk`` set when given), as the ORM does
    after a save: for rows written by a statement here."""
    if pk is not None:
        obj.pk = pk
    obj._state.adding = False
    obj._state.db = DEFAULT_DB_ALIAS


def insert_one(obj: Model, *, skip_conflicts: bool = False, before: str = "") -> bool:
    """Insert ``obj`` (its ``id`` made by the database) and set its pk. With
    ``skip_conflicts``, a row that would break a unique constraint is not written and
    ``False`` comes back: no error, so the surrounding transaction needs no savepoint.
    ``before``: as for ``Prepared.execute``."""
    statement, preparers = _insert_statement(
        type(obj), 1, skip_conflicts=skip_conflicts, returning=True
    )
    row = statement.row(_values(obj, preparers), before=before)
    if row is None:
        return False
    saved(obj, row[0])
    return True


def insert_many(objs: list[Model]) -> None:
    """Insert rows of one model in one statement; their pks are not read back."""
    if not objs:
        return
    statement, preparers = _insert_statement(
        type(objs[0]), len(objs), skip_conflicts=False, returning=False
    )
    params = [value for obj in objs for value in _values(obj, preparers)]
    statement.run(params)
    for obj in objs:
        saved(obj)


class Prepared:
    """A statement run on (nearly) every request, planned once per database connection.

    PostgreSQL plans every statement it is sent; for the short statements every API call or
    every intake runs (the user's scope, locating a grid, the intake's inserts) planning cost
    as much as running them. On PostgreSQL the statement is ``PREPARE``d on a connection the
    first time that connection runs it (after five runs PostgreSQL keeps one generic plan
    for it), and run with ``EXECUTE`` from then on; elsewhere (SQLite) it is simply run.
    ``sql`` takes ``%(name)s`` parameters, each named in ``params`` (values given as a
    dict), or, with ``params`` a number, that many ``%s`` (values given as a list). A
    prepared statement lasts as long as its connection; a rollback does not drop it.

    ``rows`` / ``row`` / ``run`` take a cursor of their own. When nothing watches the
    connection's queries (no query log: ``DEBUG`` off and no ``assertNumQueries`` or
    ``CaptureQueriesContext``; no execute wrapper), it is psycopg2's own cursor rather than
    Django's wrapper, which cost as much CPU per statement as the round trip; the database's
    errors are still raised as Django's, and a broken transaction is still refused.
    """

    def __init__(self, name: str, sql: str, params: tuple[str, ...] | int):
        self.name = f"gridsup_{name}"
        self.sql = sql
        self.params = params
        if isinstance(params, int):
            body = sql % tuple(f"${i}" for i in range(1, params + 1))
            count = params
        else:
            body = sql % {param: f"${i}" for i, param in enumerate(params, start=1)}
            count = len(params)
        self._prepare = f"PREPARE {self.name} AS {body}"
        self._execute = f"EXECUTE {self.name} (" + ", ".join(["%s"] * count) + ")"

    def rows(self, values: dict | list, *, before: str = "") -> list[tuple]:
        """Run the statement and return its rows. ``before``: PostgreSQL statements sent
        ahead of it in the same round trip (``SET LOCAL …;``), skipped elsewhere."""
        return self._run(values, before, fetch=2)

    def row(self, values: dict | list, *, before: str = "") -> tuple | None:
        """Run the statement and return its first row (``None`` for none)."""
        return self._run(values, before, fetch=1)

    def run(self, values: dict | list, *, before: str = "") -> None:
        """Run a statement that returns no rows (``UPDATE``, ``INSERT`` without
        ``RETURNING``)."""
        self._run(values, before, fetch=0)

    def _run(self, values, before: str, fetch: int):
        conn = connections[DEFAULT_DB_ALIAS]
        if conn.vendor != "postgresql":
            with conn.cursor() as cursor:
                cursor.execute(self.sql, values)
                return _fetched(cursor, fetch)
        if not isinstance(self.params, int):
            values = [values[param] for param in self.params]
        if conn.queries_logged or conn.execute_wrappers or is_psycopg3:
            with conn.cursor() as cursor:
                self._prepared_on(conn, cursor.execute)
                cursor.execute(before + self._execute, values)
                return _fetched(cursor, fetch)
        # nothing watches: the driver's cursor, as Django's own ``_cursor`` would open it
        conn.close_if_health_check_failed()
        conn.ensure_connection()
        conn.validate_thread_sharing()
        conn.validate_no_broken_transaction()
        with conn.wrap_database_errors:
            cursor = conn.connection.cursor()
            try:
                cursor.tzinfo_factory = conn.tzinfo_factory if settings.USE_TZ else None
                self._prepared_on(conn, cursor.execute)
                cursor.execute(before + self._execute, values)
                return _fetched(cursor, fetch)
            finally:
                cursor.close()

    def _prepared_on(self, conn, execute) -> None:
        """``PREPARE`` the statement on this connection unless it was already."""
        raw = conn.connection
        state = getattr(conn, "_gridsup_prepared", None)
        if state is None or state[0] is not raw:  # a new connection: nothing prepared on it yet
            state = (raw, set())
            conn._gridsup_prepared = state
        if self.name not in state[1]:
            execute(self._prepare)  # (PREPARE and a rollback do not undo each other)
            state[1].add(self.name)


def _fetched(cursor, fetch: int):
    if fetch == 2:
        return cursor.fetchall()
    if fetch == 1:
        return cursor.fetchone()
    return None


@dataclass(frozen=True)
class Columns:
    """A model's columns for a written-out ``SELECT`` (``sql``: the column list), and how to
    make its rows into instances the way the ORM would (its converters applied, e.g. SQLite's
    datetimes made aware), without ``RawQuerySet``'s per-query matching of columns to
    fields. Columns left out are deferred on the instances."""

    model: type[Model]
    attnames: tuple[str, ...]
    sql: str
    converters: tuple

    def instance(self, row) -> Model:
        """An instance from the first ``len(attnames)`` values of ``row``."""
        values = list(row[: len(self.attnames)])
        if self.converters:
            connection = connections[DEFAULT_DB_ALIAS]
            for i, col, functions in self.converters:
                for convert in functions:
                    values[i] = convert(values[i], col, connection)
        return self.model.from_db(DEFAULT_DB_ALIAS, self.attnames, values)


@lru_cache(maxsize=32)
def columns(model: type[Model], *, exclude: tuple[str, ...] = (), alias: str = "") -> Columns:
    """``Columns`` of ``model`` without the fields named in ``exclude``; ``alias`` qualifies
    the column names (``u.id``)."""
    fields = [f for f in model._meta.concrete_fields if f.name not in exclude]
    connection = connections[DEFAULT_DB_ALIAS]
    quote = connection.ops.quote_name
    prefix = f"{alias}." if alias else ""
    converters = []
    for i, f in enumerate(fields):
        col = f.get_col(model._meta.db_table)
        found = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
        if found:
            converters.append((i, col, tuple(found)))
    return Columns(
        model=model,
        attnames=tuple(f.attname for f in fields),
        sql=", ".join(prefix + quote(f.column) for f in fields),
        converters=tuple(converters),
    )
