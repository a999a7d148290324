"""core.db: cached inserts, statements prepared once per connection, rows made into instances."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from core import db
from core.models import User
from grids.models import Grid
from grids.tests.conftest import small_city_build

pytestmark = pytest.mark.django_db

NAMES = db.Prepared(
    "test_usernames",
    "SELECT username FROM core_user WHERE username >= %(low)s ORDER BY 1",
    ("low",),
)


def test_insert_one_writes_the_row_and_sets_its_key():
    # given
    user = User(username="row-1", email="row@example.org")
    # when
    inserted = db.insert_one(user)
    # then
    assert inserted and user.pk
    assert User.objects.get(pk=user.pk).email == "row@example.org"
    assert not user._state.adding


def test_a_conflicting_row_is_skipped_and_the_transaction_goes_on():
    # given
    db.insert_one(User(username="taken"))
    # when: inside one transaction, no savepoint around the insert
    with transaction.atomic():
        twice = db.insert_one(User(username="taken"), skip_conflicts=True)
        other = db.insert_one(User(username="other"), skip_conflicts=True)
    # then
    assert (twice, other) == (False, True)
    assert User.objects.filter(username__in=["taken", "other"]).count() == 2


def test_insert_many_writes_every_row_in_one_statement():
    users = [User(username=f"many-{n}") for n in range(3)]
    with CaptureQueriesContext(connection) as queries:
        db.insert_many(users)
    assert len([q for q in queries if "INSERT" in q["sql"]]) == 1
    assert User.objects.filter(username__startswith="many-").count() == 3


def test_a_prepared_statement_answers_like_the_plain_one():
    for name in ("b", "a", "c"):
        User.objects.create(username=name)
    assert [row[0] for row in NAMES.rows({"low": "b"})] == ["b", "c"]
    assert NAMES.row({"low": "c"}) == ("c",)


@pytest.mark.postgres
def test_a_statement_is_prepared_once_per_connection_and_outlives_a_rollback():
    # given: a statement this connection has not run yet
    User.objects.create(username="z")
    once = db.Prepared("test_once", "SELECT username FROM core_user WHERE username = %s", 1)
    # when: run twice, then once more after a rollback
    with CaptureQueriesContext(connection) as first:
        for _ in range(2):
            once.rows(["z"])
    with pytest.raises(RuntimeError), transaction.atomic():
        once.rows(["z"])
        raise RuntimeError
    with CaptureQueriesContext(connection) as after:
        rows = once.rows(["z"])
    # then
    sql = [q["sql"] for q in first]
    assert [s.split()[0] for s in sql] == ["PREPARE", "EXECUTE", "EXECUTE"]
    assert [q["sql"].split()[0] for q in after] == ["EXECUTE"]
    assert rows == [("z",)]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_new_connection_prepares_the_statement_again():
    NAMES.rows({"low": "a"})
    connection.close()
    with CaptureQueriesContext(connection) as again:
        NAMES.rows({"low": "a"})
    assert any(q["sql"].startswith("PREPARE gridsup_test_usernames") for q in again)


def test_rows_become_instances_as_the_orm_reads_them():
    # given
    from core.models import User as _  # noqa: F401 - the app registry is ready

    small_city_build()
    columns = db.columns(Grid, exclude=("boundary",))
    orm = Grid.objects.get(code="371302001001")
    # when
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns.sql} FROM grids_grid WHERE code = %s", ["371302001001"])  # noqa: S608
        grid = columns.instance(cursor.fetchone())
    # then: the same values (datetimes aware on SQLite too), the boundary deferred
    assert (grid.pk, grid.code, grid.updated_at, grid.active_from) == (
        orm.pk,
        orm.code,
        orm.updated_at,
        orm.active_from,
    )
    assert "boundary" in grid.get_deferred_fields()


# --- the driver's cursor when nothing watches the queries (PostgreSQL) ---------------------------

JOINED = db.Prepared(
    "test_joined", "SELECT username, date_joined FROM core_user WHERE username = %s", 1
)


@pytest.mark.postgres
def test_unwatched_and_watched_statements_answer_alike():
    # given
    user = User.objects.create(username="alike")
    # when: unwatched (no query log), then watched
    unwatched = JOINED.row(["alike"])
    with CaptureQueriesContext(connection) as watched_queries:
        watched = JOINED.row(["alike"])
    # then: the same row, the datetime aware in UTC as the ORM reads it; only the watched one
    # was logged
    assert unwatched == watched == ("alike", User.objects.get(pk=user.pk).date_joined)
    assert unwatched[1].utcoffset().total_seconds() == 0
    assert [q["sql"].split()[0] for q in watched_queries] == ["EXECUTE"]


@pytest.mark.postgres
def test_an_unwatched_statement_raises_djangos_errors_and_respects_a_broken_transaction():
    from django.db import IntegrityError
    from django.db.transaction import TransactionManagementError

    # given
    db.insert_one(User(username="dup"))
    with transaction.atomic():
        # when: a unique key broken through the driver's cursor, in a block without savepoint
        with pytest.raises(IntegrityError), transaction.atomic(savepoint=False):
            db.insert_one(User(username="dup"))
        # then: the transaction is known to be broken, and the next statement is refused
        with pytest.raises(TransactionManagementError):
            NAMES.rows({"low": "a"})
    assert User.objects.filter(username="dup").count() == 1
