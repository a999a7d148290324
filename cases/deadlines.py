"""Deadlines on a case: the timers each deadline sets (warning, breach, principal, leader) and
the beat sweep that fires them.

``timers_set`` and ``timers_stop`` are called by ``cases.services`` inside the transition's
transaction; ``case_deadlines_sweep`` runs from Celery beat, set-based, and never takes a
case's row lock, so it never blocks the workflow.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.calendar import WorkingCalendar
from cases.models import Case, CaseBreach, CaseSettings, CaseTimer
from core import db
from core.models import Notification
from core.services import notifications_email_after_commit
from grids import selectors as grid_selectors
from grids.models import DepartmentMembership, Role

Deadline = CaseBreach.Deadline
Level = CaseBreach.Level


# --- deadlines and their timers ----------------------------------------------------------------


def timers_set(
    *,
    case: Case,
    deadline: str,
    start: datetime,
    due: datetime,
    calendar: WorkingCalendar,
    case_settings: CaseSettings,
    working: bool,
) -> None:
    """(Re)write the four timers of one deadline (``timers_for``). A level already recorded
    as a breach of this deadline is not set again; the warning, never recorded, is (set
    again, the deadline earns a new reminder before it)."""
    CaseTimer.objects.filter(case=case, deadline=deadline).delete()
    # the sweep deletes a timer as it fires it; a breach row says the level has fired
    fired = set(
        CaseBreach.objects.filter(case=case, deadline=deadline).values_list("level", flat=True)
    )
    # (one cached statement)
    db.insert_many(
        timers_for(
            case=case,
            deadline=deadline,
            start=start,
            due=due,
            calendar=calendar,
            case_settings=case_settings,
            working=working,
            fired=fired,
        )
    )


def timers_for(
    *,
    case: Case,
    deadline: str,
    start: datetime,
    due: datetime,
    calendar: WorkingCalendar,
    case_settings: CaseSettings,
    working: bool,
    fired: set[str] | frozenset[str] = frozenset(),
) -> list[CaseTimer]:
    """The timers of one deadline, not written: the warning at ``warn_at_share`` of the time
    allowed, the deadline, and the alarms to the principal and the leader after it; the
    levels in ``fired`` left out. A new case's are written with it (``case_create``)."""
    share = float(case_settings.warn_at_share)
    if working:
        warn = calendar.add_working_time(start, calendar.working_time_between(start, due) * share)
    else:
        warn = start + (due - start) * share
    principal = calendar.add_working_days(due, float(case_settings.principal_after_days))
    leader = calendar.add_working_days(due, float(case_settings.leader_after_days))
    return [
        CaseTimer(case=case, deadline=deadline, level=level, due_at=at, deadline_at=due)
        for level, at in (
            (Level.WARNING, warn),
            (Level.BREACH, due),
            (Level.PRINCIPAL, principal),
            (Level.LEADER, leader),
        )
        if level not in fired
    ]


def timers_stop(*, case: Case, deadline: str) -> None:
    """Drop the pending timers of a deadline that was met (fired ones are already gone)."""
    CaseTimer.objects.filter(case=case, deadline=deadline).delete()


# --- deadline enforcement (Celery beat) ----------------------------------------------------------


@dataclass
class DeadlineSweepResult:
    fired: int  # timers fired (and deleted)
    breaches: int  # CaseBreach rows recorded
    notified: int  # inbox messages written (one per person and level per sweep)


# Whose nearest holder hears of each level; the lead department's heads and handlers hear of
# the warning and the breach too.
_ROLE = {
    Level.WARNING.value: Role.DIRECT_RESPONSIBLE.value,
    Level.BREACH.value: Role.DIRECT_RESPONSIBLE.value,
    Level.PRINCIPAL.value: Role.PRINCIPAL.value,
    Level.LEADER.value: Role.LEADER.value,
}
_DEPARTMENT_LEVELS = (Level.WARNING.value, Level.BREACH.value)
# The lines of a message are sorted by code point on PostgreSQL: they begin with the case
# number (ASCII), and a "C" sort is several times faster than the database's collation.
_BY_CODE_POINT = 'COLLATE "C"'


def case_deadlines_sweep(*, now: datetime | None = None) -> DeadlineSweepResult:
    """Fire the timers that are due: record each one past its deadline (the deadline, the
    principal's and the leader's alarms) as a breach on the case (once: unique per case,
    deadline and level), and tell the people of each level, the 80 % warning included,
    after commit. The breach row of level ``breach`` is the mark of a deadline that passed
    unmet; the case's ``<deadline>_met`` is the step's outcome, settled by the transition
    that completes the step (``False`` when it came late), so the sweep never writes the
    case.

    Fired timers are deleted, not marked, so the table holds pending timers only and the
    claim writes no new row versions. Each person gets one message per level and sweep: about
    one case it names the case and links to it; about several (a backlog) it counts and lists
    them. A warning whose deadline passed in the same sweep is not sent: the breach message
    says more. docs/cases.md, "Enforcement", gives the reasons.

    Never blocks the workflow: the sweep takes no case lock and writes only its own rows
    (timers, breaches, messages). On PostgreSQL it claims the due timers with ``SKIP LOCKED``,
    so the timers of a case whose transition is rewriting them are left for the next sweep,
    and a transition that stops a timer the sweep has just claimed waits at most for the
    sweep's commit; the sweep itself waits for nothing, so the two never deadlock. A second
    run, a retry or a second worker finds nothing left to do."""
    now = now or timezone.now()
    sweep = _Sweep(now=now)
    with connection.cursor() as cursor:
        cursor.execute(sweep.due_any, sweep.params)
        if cursor.fetchone() is None:
            return DeadlineSweepResult(0, 0, 0)
    with transaction.atomic(), connection.cursor() as cursor:
        result = sweep.run(cursor)
        if result.notified:
            notifications_email_after_commit()
    return result


class _Sweep:
    """The sweep's SQL, written once over the relation ``sweep_fired`` (the due timers this
    sweep claimed, deleted) and those built from it (``sweep_subject`` …). On PostgreSQL they
    are materialized CTEs and the whole sweep is one statement; elsewhere (SQLite) they are
    temporary tables and the same statements run one after the other."""

    def __init__(self, *, now: datetime):
        self.postgres = connection.vendor == "postgresql"
        self.timer, self.breach, self.case = (
            CaseTimer._meta.db_table,
            CaseBreach._meta.db_table,
            Case._meta.db_table,
        )
        self.note = Notification._meta.db_table
        self.today = timezone.localdate(now)
        case_list = reverse("case-list")
        self.params: dict[str, object] = {
            "now": connection.ops.adapt_datetimefield_value(now),
            "nl": "\n",
            "count": "%(count)s",
            "case_url": case_list,
            "list_url": case_list,
            "overdue_url": f"{case_list}?overdue=on",
        }
        one = {
            Level.WARNING: _("Deadline near (80 percent of the time used): "),
            Level.BREACH: _("Deadline passed: "),
            Level.PRINCIPAL: _("Overdue case, supervise (督办): "),
            Level.LEADER: _("Overdue case, supervise (督办): "),
        }
        many = {
            Level.WARNING: _("Deadlines near (80 percent of the time used): %(count)s cases"),
            Level.BREACH: _("Deadlines passed: %(count)s cases"),
            Level.PRINCIPAL: _("Overdue cases, supervise (督办): %(count)s cases"),
            Level.LEADER: _("Overdue cases, supervise (督办): %(count)s cases"),
        }
        for level in Level.values:
            self.params[f"one_{level}"] = str(one[Level(level)])
            self.params[f"many_{level}"] = str(many[Level(level)])
        for deadline in Deadline:
            self.params[f"label_{deadline.value}"] = str(deadline.label)

    @property
    def due_any(self) -> str:
        # ORDER BY due_at: an index-only scan of the partial index; without it the planner
        # may scan the table (it multiplies the two conditions' selectivities)
        return (
            f"SELECT 1 FROM {self.timer} WHERE fired_at IS NULL AND due_at <= %(now)s"  # noqa: S608
            " ORDER BY due_at LIMIT 1"
        )

    def run(self, cursor) -> DeadlineSweepResult:
        return self._run_postgres(cursor) if self.postgres else self._run_stepwise(cursor)

    # -- the claim ----------------------------------------------------------------------------

    def _fired_postgres(self) -> str:
        # The due timers are locked with SKIP LOCKED first (a transition rewriting a case's
        # timers holds them: they are left to the next sweep), then deleted by their tuple
        # ids: a locked row cannot move, and a TID scan is the cheapest way back to it.
        return f"""
            DELETE FROM {self.timer} t
            WHERE t.ctid = ANY(ARRAY(SELECT ctid FROM {self.timer}
                                     WHERE fired_at IS NULL AND due_at <= %(now)s
                                     FOR UPDATE SKIP LOCKED))
            RETURNING t.id, t.case_id, t.deadline, t.level, t.deadline_at
        """  # noqa: S608 - identifiers from _meta; values are parameters

    # -- the statements, shared ---------------------------------------------------------------

    def _breaches(self, *, on_conflict: bool) -> str:
        """The fired timers past their deadline (the deadline itself and the alarms after
        it) as breach rows, in the order of the unique index (which it fills faster); a
        warning is a reminder, not a breach: it is sent, not recorded. ``on_conflict``: skip
        a row whose (case, deadline, level) is already recorded; without it such a row fails
        the statement (see ``_run_postgres``)."""
        skip = "ON CONFLICT (case_id, deadline, level) DO NOTHING" if on_conflict else ""
        # (a WHERE is needed: SQLite would read ON CONFLICT as a join's ON without it)
        return f"""
            INSERT INTO {self.breach} (case_id, deadline, level, due_at, at)
            SELECT f.case_id, f.deadline, f.level, f.deadline_at, %(now)s FROM sweep_fired f
            WHERE f.level <> 'warning' ORDER BY f.case_id, f.deadline, f.level {skip}
        """  # noqa: S608 - identifiers from _meta; values are parameters

    def _subject(self) -> str:
        """The fired timers worth a message, with their case (read, not locked): all but a
        warning whose deadline passed in the same sweep. Each with its line in a message
        listing several (``line``: the case number and the deadline, which also orders the
        list), made once per timer here rather than once per person told."""
        label = "CASE f.deadline " + " ".join(
            f"WHEN '{d}' THEN %(label_{d})s" for d in Deadline.values
        )
        return f"""
            SELECT f.id AS timer_id, f.level, f.deadline, m.id AS case_id, m.number,
                   m.grid_id, m.department_id,
                   m.number || ' (' || {label} END || ')' AS line
            FROM sweep_fired f JOIN {self.case} m ON m.id = f.case_id
            WHERE f.level <> 'warning' OR NOT EXISTS (
                SELECT 1 FROM sweep_fired b WHERE b.case_id = f.case_id
                AND b.deadline = f.deadline AND b.level = 'breach')
        """  # noqa: S608 - constants; values are parameters

    def _holders(self) -> str:
        """The nearest holders of each role wanted, found once per distinct grid, set-based
        (the holders and the grids compared by range in ``grids.selectors``)."""
        parts = []
        for role in dict.fromkeys(_ROLE.values()):
            levels = ", ".join(f"'{level}'" for level, r in _ROLE.items() if r == role)
            grids = f"(SELECT DISTINCT s.grid_id FROM sweep_subject s WHERE s.level IN ({levels}))"  # noqa: S608 - constants
            nearest = grid_selectors.nearest_role_holders_rows(
                rows=grids,
                key="grid_id",
                grid_id="grid_id",
                columns=["grid_id"],
                role=role,
                on=self.today,
            )
            parts.append(
                f"SELECT n.grid_id, '{role}' AS role, n.holder_user_id AS user_id"  # noqa: S608
                f" FROM ({nearest}) n"
            )
        return "\nUNION ALL\n".join(parts)

    def _sources(self) -> str:
        """The fired timers by where their people come from (``kind``, ``src``): a holder
        (``h``, the holder's user id), or for a warning or a breach the lead department
        (``d``, the department's id), whose heads and handlers all hear the same."""
        role_of = "CASE s.level " + " ".join(f"WHEN '{lv}' THEN '{r}'" for lv, r in _ROLE.items())
        dept_levels = ", ".join(f"'{level}'" for level in _DEPARTMENT_LEVELS)
        columns = "s.timer_id, s.level, s.case_id, s.number, s.line"
        return f"""
            SELECT 'h' AS kind, h.user_id AS src, {columns}
            FROM sweep_subject s
            JOIN (SELECT DISTINCT grid_id, role, user_id FROM sweep_holders) h
              ON h.grid_id = s.grid_id AND h.role = {role_of} END
            UNION ALL
            SELECT 'd' AS kind, s.department_id AS src, {columns}
            FROM sweep_subject s
            WHERE s.level IN ({dept_levels}) AND s.department_id IS NOT NULL
        """  # noqa: S608 - constants

    def _digests(self) -> str:
        """Per source and level, what its people are told: the number of cases, the lines
        in case-number order, and the first case and timer (for one case's title, link and
        the message's key). Built once per department, not once per member."""
        lines = (
            f"string_agg(line, %(nl)s ORDER BY line {_BY_CODE_POINT})"
            if self.postgres
            else "group_concat(line, %(nl)s)"
        )
        return f"""
            SELECT kind, src, level, count(DISTINCT case_id) AS cases, {lines} AS body,
                   min(number) AS number, min(case_id) AS case_id, min(timer_id) AS timer_id
            FROM sweep_sources GROUP BY kind, src, level
        """  # noqa: S608 - constants

    def _reach(self) -> str:
        """Each person and level with the digests they are owed, and how many there are: a
        holder's own, and one per department where they are a head or a handler."""
        m = DepartmentMembership._meta.db_table
        return f"""
            SELECT r.user_id, g.kind, g.src, g.level,
                   count(*) OVER (PARTITION BY r.user_id, g.level) AS sources
            FROM (SELECT DISTINCT 'h' AS kind, user_id AS src, user_id FROM sweep_holders
                  UNION ALL
                  SELECT DISTINCT 'd', department_id, user_id FROM {m}
                  WHERE position IN ('head', 'handler') AND ends_on IS NULL) r
            JOIN sweep_digests g ON g.kind = r.kind AND g.src = r.src
        """  # noqa: S608 - identifiers from _meta and constants

    def _notifications(self) -> str:
        """One message per person and level: about one case, its number and page; about
        several, their count, the list of them and the case list. The key (the level and the
        lowest timer id among them) is unique to this sweep's timers and the same on a retry.

        A person owed one digest (nearly everyone) gets it as it is; a person owed several
        (a holder who is also in the department, or in two departments) gets them merged
        from the timers, each timer once."""
        lines = (
            f"string_agg(x.line, %(nl)s ORDER BY x.line {_BY_CODE_POINT})"
            if self.postgres
            else "group_concat(x.line, %(nl)s)"
        )
        merged = f"""
            SELECT r.user_id, g.level, g.cases, g.body, g.number, g.case_id, g.timer_id
            FROM sweep_reach r
            JOIN sweep_digests g ON g.kind = r.kind AND g.src = r.src AND g.level = r.level
            WHERE r.sources = 1
            UNION ALL
            SELECT x.user_id, x.level, count(DISTINCT x.case_id), {lines}, min(x.number),
                   min(x.case_id), min(x.timer_id)
            FROM (SELECT DISTINCT r.user_id, s.level, s.timer_id, s.case_id, s.number, s.line
                  FROM sweep_reach r
                  JOIN sweep_sources s ON s.kind = r.kind AND s.src = r.src AND s.level = r.level
                  WHERE r.sources > 1) x
            GROUP BY x.user_id, x.level
        """  # noqa: S608 - constants

        def by_level(prefix: str) -> str:
            whens = " ".join(f"WHEN '{lv}' THEN %({prefix}_{lv})s" for lv in Level.values)
            return f"CASE d.level {whens} END"

        return f"""
            INSERT INTO {self.note} (user_id, kind, title, body, url, dedupe_key, created_at)
            SELECT d.user_id, 'case_deadline',
                CASE WHEN d.cases = 1 THEN {by_level("one")} || d.number
                     ELSE replace({by_level("many")}, %(count)s, CAST(d.cases AS TEXT)) END,
                CASE WHEN d.cases = 1 THEN '' ELSE d.body END,
                CASE WHEN d.cases = 1 THEN %(case_url)s || CAST(d.case_id AS TEXT) || '/'
                     WHEN d.level = 'warning' THEN %(list_url)s ELSE %(overdue_url)s END,
                'case_timers:' || d.level || ':' || CAST(d.timer_id AS TEXT), %(now)s
            FROM ({merged}) d
            WHERE true
            ON CONFLICT (user_id, dedupe_key) DO NOTHING
        """  # noqa: S608 - identifiers from _meta; values are parameters

    # -- running them -------------------------------------------------------------------------

    def _run_postgres(self, cursor) -> DeadlineSweepResult:
        # Short set-based work: JIT compilation would cost more than it saves; a backlog's
        # messages are sorted by person (tens of thousands of rows): in memory, not on disk.
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("SET LOCAL work_mem = '32MB'")
        # The commit need not wait for its WAL to reach the disk: a crash could lose the last
        # sweep's commit, and the next sweep would then find the same timers due and do the
        # same again (idempotent), while a transition never depends on the sweep's commit.
        cursor.execute("SET LOCAL synchronous_commit = off")
        # A backlog's digests are long texts (1,500 lines): lz4 compresses them several times
        # faster than pglz, where the server has it.
        if _lz4_available(cursor):
            cursor.execute("SET LOCAL default_toast_compression = lz4")
        # The breach rows are inserted without ON CONFLICT, which checks the unique index
        # twice per row (a third of the insert): a due timer has no breach by construction
        # (the sweep deletes a timer as it records it, ``timers_set`` writes none for a level
        # that fired, and a timer's row lock lets one sweep claim it). Should a row from
        # before that rule collide, the constraint refuses it, and the sweep runs again from
        # its savepoint with ON CONFLICT DO NOTHING.
        try:
            with transaction.atomic():
                return self._statement_postgres(cursor, on_conflict=False)
        except IntegrityError as error:
            if getattr(getattr(error.__cause__, "diag", None), "constraint_name", None) != (
                "case_breach_once"
            ):
                raise
        return self._statement_postgres(cursor, on_conflict=True)

    def _statement_postgres(self, cursor, *, on_conflict: bool) -> DeadlineSweepResult:
        cursor.execute(
            f"""
            WITH sweep_fired AS MATERIALIZED ({self._fired_postgres()}),
            sweep_breached AS ({self._breaches(on_conflict=on_conflict)} RETURNING 1),
            sweep_subject AS MATERIALIZED ({self._subject()}),
            sweep_holders AS MATERIALIZED ({self._holders()}),
            sweep_sources AS MATERIALIZED ({self._sources()}),
            sweep_digests AS MATERIALIZED ({self._digests()}),
            sweep_reach AS MATERIALIZED ({self._reach()}),
            sweep_notified AS ({self._notifications()} RETURNING 1)
            SELECT (SELECT count(*) FROM sweep_fired), (SELECT count(*) FROM sweep_breached),
                   (SELECT count(*) FROM sweep_notified)
            """,  # noqa: S608 - identifiers from _meta and constants; values are parameters
            self.params,
        )
        fired, breaches, notified = cursor.fetchone()
        return DeadlineSweepResult(fired=fired, breaches=breaches, notified=notified)

    def _run_stepwise(self, cursor) -> DeadlineSweepResult:
        due = f"SELECT {{}} FROM {self.timer} WHERE fired_at IS NULL AND due_at <= %(now)s"  # noqa: S608
        # (a failure rolls the temporary tables back with the rest)
        cursor.execute(
            "CREATE TEMP TABLE sweep_fired AS "
            + due.format("id, case_id, deadline, level, deadline_at"),
            self.params,
        )
        cursor.execute(f"DELETE FROM {self.timer} WHERE id IN (SELECT id FROM sweep_fired)")  # noqa: S608
        counts = [max(cursor.rowcount, 0)]
        for sql in (
            self._breaches(on_conflict=True),
            f"CREATE TEMP TABLE sweep_subject AS {self._subject()}",
            f"CREATE TEMP TABLE sweep_holders AS {self._holders()}",
            f"CREATE TEMP TABLE sweep_sources AS {self._sources()}",
            f"CREATE TEMP TABLE sweep_digests AS {self._digests()}",
            f"CREATE TEMP TABLE sweep_reach AS {self._reach()}",
            self._notifications(),
        ):
            cursor.execute(sql, self.params)
            counts.append(max(cursor.rowcount, 0))
        for table in (
            "sweep_fired",
            "sweep_subject",
            "sweep_holders",
            "sweep_sources",
            "sweep_digests",
            "sweep_reach",
        ):
            cursor.execute(f"DROP TABLE temp.{table}")
        return DeadlineSweepResult(fired=counts[0], breaches=counts[1], notified=counts[-1])


_LZ4: dict[str, bool] = {}


def _lz4_available(cursor) -> bool:
    """Whether this PostgreSQL server was built with lz4 (asked once per database alias)."""
    alias = connection.alias
    if alias not in _LZ4:
        cursor.execute(
            "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
        )
        row = cursor.fetchone()
        _LZ4[alias] = bool(row and row[0])
    return _LZ4[alias]
