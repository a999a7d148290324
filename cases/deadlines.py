"""Deadlines on a case: the timers each deadline sets (warning, breach, principal, leader) and
the beat sweep that fires them.

``timers_set`` and ``timers_stop`` are called by ``cases.services`` inside the transition's
transaction; ``case_deadlines_sweep`` runs from Celery beat, set-based, and never takes a
case's row lock for long, so it never blocks the workflow.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.calendar import WorkingCalendar
from cases.models import Case, CaseBreach, CaseSettings, CaseTimer
from grids import selectors as grid_selectors
from grids.models import DepartmentMembership

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
    """(Re)write the four timers of one deadline: the warning at ``warn_at_share`` of the time
    allowed, the deadline, and the alarms to the principal and the leader after it."""
    CaseTimer.objects.filter(case=case, deadline=deadline, fired_at__isnull=True).delete()
    share = float(case_settings.warn_at_share)
    if working:
        warn = calendar.add_working_time(start, calendar.working_time_between(start, due) * share)
    else:
        warn = start + (due - start) * share
    principal = calendar.add_working_days(due, float(case_settings.principal_after_days))
    leader = calendar.add_working_days(due, float(case_settings.leader_after_days))
    fired = set(
        CaseTimer.objects.filter(case=case, deadline=deadline).values_list("level", flat=True)
    )
    CaseTimer.objects.bulk_create(
        [
            CaseTimer(case=case, deadline=deadline, level=level, due_at=at, deadline_at=due)
            for level, at in (
                (Level.WARNING, warn),
                (Level.BREACH, due),
                (Level.PRINCIPAL, principal),
                (Level.LEADER, leader),
            )
            if level not in fired
        ]
    )


def timers_stop(*, case: Case, deadline: str) -> None:
    CaseTimer.objects.filter(case=case, deadline=deadline, fired_at__isnull=True).delete()


# --- deadline enforcement (Celery beat) ----------------------------------------------------------


@dataclass
class DeadlineSweepResult:
    fired: int
    breaches: int
    notified: int


def case_deadlines_sweep(*, now: datetime | None = None) -> DeadlineSweepResult:
    """Fire the timers that are due, set-based: claim them, record each breach on the case once
    (unique per case, deadline and level), mark the passed deadline as missed, and tell the
    people of each level once. It never takes a case's row lock for long, so it never blocks the
    workflow; a second run, a retry or a second worker finds nothing left to do."""
    from django.db import connection

    from core.models import Notification

    now = now or timezone.now()
    ops = connection.ops
    now_db = ops.adapt_datetimefield_value(now)
    timer_t, breach_t, case_t = (
        CaseTimer._meta.db_table,
        CaseBreach._meta.db_table,
        Case._meta.db_table,
    )
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Short set-based statements: JIT compilation would cost more than it saves.
            cursor.execute("SET LOCAL jit = off")
        fired = CaseTimer.objects.filter(fired_at__isnull=True, due_at__lte=now).update(
            fired_at=now
        )
        if not fired:
            return DeadlineSweepResult(0, 0, 0)
        cursor.execute(
            f"""
            INSERT INTO {breach_t} (case_id, deadline, level, due_at, at)
            SELECT t.case_id, t.deadline, t.level, t.deadline_at, %s FROM {timer_t} t
            WHERE t.fired_at = %s
            ON CONFLICT (case_id, deadline, level) DO NOTHING
            """,  # noqa: S608 - identifiers from _meta; values are parameters
            [now_db, now_db],
        )
        breaches = max(cursor.rowcount, 0)
        for deadline, met, done in (
            ("response", "response_met", "arrived_at"),
            ("dispatch", "dispatch_met", "dispatched_at"),
            ("handling", "handling_met", "fed_back_at"),
            ("verify", "verify_met", "verified_at"),
        ):
            cursor.execute(
                f"""
                UPDATE {case_t} SET {met} = %s
                WHERE {met} IS NULL AND {done} IS NULL AND id IN (
                    SELECT case_id FROM {timer_t}
                    WHERE fired_at = %s AND deadline = %s AND level = 'breach')
                """,  # noqa: S608 - identifiers are constants; values are parameters
                [False, now_db, deadline],
            )
        notified = 0
        note_t = Notification._meta.db_table
        title = {
            "warning": _("Deadline near (80 percent of the time used): "),
            "breach": _("Deadline passed: "),
            "principal": _("Overdue case, supervise (督办): "),
            "leader": _("Overdue case, supervise (督办): "),
        }
        recipients = {
            "warning": ["direct_responsible"],
            "breach": ["direct_responsible"],
            "principal": ["principal"],
            "leader": ["leader"],
        }
        today = timezone.localdate(now)
        for level, roles in recipients.items():
            for role in roles:
                holders = grid_selectors.nearest_role_holders_join(
                    grid_id="c.grid_id", role=role, on=today
                )
                cursor.execute(
                    f"""
                    INSERT INTO {note_t} (user_id, kind, title, body, url, dedupe_key, created_at)
                    SELECT DISTINCT holder.user_id, 'case_deadline', %s || c.number, '',
                           '/cases/' || c.id || '/', 'case_timer:' || t.id, %s
                    FROM {timer_t} t JOIN {case_t} c ON c.id = t.case_id
                    {holders}
                    WHERE t.fired_at = %s AND t.level = %s
                    ON CONFLICT (user_id, dedupe_key) DO NOTHING
                    """,  # noqa: S608 - identifiers from _meta; values are parameters
                    [str(title[level]), now_db, now_db, level],
                )
                notified += max(cursor.rowcount, 0)
            if level in ("warning", "breach"):
                # the lead department's handlers hear of their own deadlines too
                cursor.execute(
                    f"""
                    INSERT INTO {note_t} (user_id, kind, title, body, url, dedupe_key, created_at)
                    SELECT m.user_id, 'case_deadline', %s || c.number, '', '/cases/' || c.id || '/',
                           'case_timer:' || t.id, %s
                    FROM {timer_t} t JOIN {case_t} c ON c.id = t.case_id
                    JOIN {DepartmentMembership._meta.db_table} m ON m.department_id = c.department_id
                         AND m.position IN ('head', 'handler') AND m.ends_on IS NULL
                    WHERE t.fired_at = %s AND t.level = %s
                    ON CONFLICT (user_id, dedupe_key) DO NOTHING
                    """,  # noqa: S608 - identifiers from _meta; values are parameters
                    [str(title[level]), now_db, now_db, level],
                )
                notified += max(cursor.rowcount, 0)
    if notified:
        from core.services import notifications_email_after_commit

        notifications_email_after_commit()
    return DeadlineSweepResult(fired=fired, breaches=breaches, notified=notified)
