"""Every write of the assessment app: the rule sets, the facts the office enters, the records of
the six mechanisms (DOMAIN §6), the yearly run and lock of the score sheets (DOMAIN §7.1) and
reminders for the half-yearly reports. The step-8 performance periods are in
``assessment.performance``.

Rules that hold everywhere here:
- a year whose sheets are locked takes no more entries: a fact, meeting, report, supervision,
  penalty decision or self-evaluation dated in it is refused (400) and a run is a conflict (409);
- bad input stores nothing: each service validates everything first and raises ``DomainError``
  with every problem, then writes in one transaction;
- who may act: the city office (``selectors.is_city_office``) runs, locks and enters facts; a
  grid's responsible people and office record for their grid; a department's members for it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from assessment import defaults, evidence, scoring, selectors
from assessment.models import (
    AssessmentFact,
    AssessmentLog,
    HalfYearReport,
    HelpRequest,
    JointMeeting,
    MeetingDecision,
    PenaltyDecision,
    Rule,
    RuleItem,
    RuleSet,
    ScoreItem,
    ScoreLine,
    ScoreSheet,
    SelfEvaluation,
    Supervision,
)
from core.errors import Conflict, DomainError, Forbidden
from core.models import User
from core.services import notify
from grids import county as county_sql
from grids import selectors as grid_selectors
from grids.models import Department, Grid, GridRole, Role

DOCUMENT_MAX_BYTES = 20 * 1024 * 1024
DOCUMENT_EXTENSIONS = {
    ".pdf",
    ".ofd",
    ".doc",
    ".docx",
    ".xls",
    ".xlsx",
    ".wps",
    ".jpg",
    ".jpeg",
    ".png",
    ".txt",
}
MIN_YEAR = 2000


# --- shared checks -----------------------------------------------------------------------------


def _today(now: datetime | None = None) -> date:
    return timezone.localdate(now or timezone.now())


def _document_problem(upload: UploadedFile | None, *, required: bool) -> str | None:
    if upload is None:
        return _("Attach the document.") if required else None
    if upload.size is not None and upload.size > DOCUMENT_MAX_BYTES:
        return _("The document is larger than %(mb)s MB.") % {"mb": DOCUMENT_MAX_BYTES // 2**20}
    extension = os.path.splitext(upload.name or "")[1].lower()
    if extension not in DOCUMENT_EXTENSIONS:
        return _("Attach a PDF, OFD, Word, WPS, Excel, image or text file.")
    return None


def _require_office(actor: User) -> None:
    if not selectors.is_city_office(user=actor):
        raise Forbidden(_("Only the leadership-group office may do this."))


def _require_grid_recorder(actor: User, grid: Grid) -> None:
    if not selectors.may_record_for_grid(user=actor, grid=grid):
        raise Forbidden(_("You may not record this for %(grid)s.") % {"grid": grid.name})


def _require_department_recorder(actor: User, department: Department) -> None:
    if not selectors.may_record_for_department(user=actor, department=department):
        raise Forbidden(_("You may not record this for %(dept)s.") % {"dept": department.name})


def _locked_year_problem(year: int) -> str | None:
    if selectors.year_locked(year=year):
        return _("The %(year)s assessment is locked; no more entries for that year.") % {
            "year": year
        }
    return None


def _fresh(grid: Grid) -> Grid:
    """The grid as stored now: tree positions cached on an instance go stale as the tree grows."""
    return Grid.objects.get(pk=grid.pk)


def _raise(errors: dict[str, list[str]], message: str | None = None) -> None:
    if errors:
        first = next(iter(errors.values()))[0]
        raise DomainError(message or first, **errors)


def _assessed_level(year: int) -> int:
    rule_set = RuleSet.objects.filter(year=year).only("grid_level").first()
    return rule_set.grid_level if rule_set else 2


def _log(action: str, *, actor: User | None, year: int | None = None, grid=None, **data) -> None:
    AssessmentLog.objects.create(action=action, year=year, grid=grid, actor=actor, data=data)


# --- rule sets ---------------------------------------------------------------------------------


@transaction.atomic
def ruleset_install_linyi(*, year: int) -> RuleSet:
    """Install Linyi's rule set (DOMAIN §7.1, ``assessment.defaults``) for ``year``; a year that
    has a rule set keeps it."""
    if not MIN_YEAR <= year <= 2100:
        raise DomainError(_("Give a year between 2000 and 2100."), year=[_("Out of range.")])
    return defaults.ruleset_install(RuleSet, RuleItem, Rule, year=year)


# --- facts -------------------------------------------------------------------------------------


def _points(value, *, field: str = "points") -> Decimal:
    try:
        points = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError) as exc:
        raise DomainError(_("Points must be a number."), **{field: [_("Not a number.")]}) from exc
    if not points.is_finite():
        raise DomainError(_("Points must be a number."), **{field: [_("Not a number.")]})
    return points


@transaction.atomic
def fact_enter(
    *,
    year: int,
    grid: Grid,
    rule_code: str,
    note: str,
    document: UploadedFile | None,
    actor: User,
    points=None,
    occurred_on: date | None = None,
    now: datetime | None = None,
) -> AssessmentFact:
    """The office enters one instance of a rule the system cannot count (a criticism, a media
    report, a leading group not set up …) for a county-level grid, with the document that
    proves it. The points default to the rule's; others must lie in the rule's range."""
    _require_office(actor)
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}
    rule = (
        Rule.objects.filter(rule_set__year=year, code=rule_code)
        .select_related("item", "rule_set")
        .first()
    )
    if rule is None:
        errors["rule"] = [
            _("There is no rule %(code)s in the %(year)s rule set.")
            % {"code": rule_code, "year": year}
        ]
    elif not rule.is_fact:
        errors["rule"] = [
            _("Rule %(code)s is counted from the system's records, not entered.")
            % {"code": rule_code}
        ]
    locked = _locked_year_problem(year)
    if locked:
        errors["year"] = [locked]
    level = rule.rule_set.grid_level if rule else _assessed_level(year)
    if grid.level != level:
        errors["grid"] = [
            _("%(grid)s is not a grid the assessment scores (level %(level)s).")
            % {"grid": grid.name, "level": level}
        ]
    value = None
    if rule is not None and rule.is_fact:
        value = rule.points if points in (None, "") else _points(points)
        if rule.kind == Rule.Kind.ZERO_IF and points in (None, ""):
            value = rule.fact_min
        low, high = rule.fact_min, rule.fact_max
        if (
            value is None
            or (low is not None and value < low)
            or (high is not None and value > high)
        ):
            errors["points"] = [
                _("Points for rule %(code)s lie between %(low)s and %(high)s.")
                % {"code": rule.code, "low": low, "high": high}
            ]
    if not (note or "").strip():
        errors["note"] = [_("Say what happened.")]
    if occurred_on is not None and not (date(year, 1, 1) <= occurred_on <= date(year, 12, 31)):
        errors["occurred_on"] = [_("The date lies outside %(year)s.") % {"year": year}]
    elif occurred_on is not None and occurred_on > _today(now):
        errors["occurred_on"] = [_("The date lies in the future.")]
    problem = _document_problem(document, required=True)
    if problem:
        errors["document"] = [problem]
    _raise(errors)
    fact = AssessmentFact.objects.create(
        rule=rule,
        grid=grid,
        year=year,
        points=value,
        occurred_on=occurred_on,
        note=note.strip(),
        document=document,
        entered_by=actor,
        entered_at=now,
    )
    _log(
        "fact_enter",
        actor=actor,
        year=year,
        grid=grid,
        fact=fact.pk,
        rule=rule.code,
        points=str(value),
    )
    return fact


@transaction.atomic
def fact_withdraw(
    *, fact: AssessmentFact, actor: User, reason: str, now: datetime | None = None
) -> AssessmentFact:
    """Withdraw a fact entered in error (kept, marked withdrawn); not in a locked year."""
    _require_office(actor)
    fact = AssessmentFact.objects.select_for_update().get(pk=fact.pk)
    errors = {}
    locked = _locked_year_problem(fact.year)
    if locked:
        errors["year"] = [locked]
    if fact.withdrawn_at:
        errors["detail"] = [_("The entry is already withdrawn.")]
    if not (reason or "").strip():
        errors["reason"] = [_("Give the reason.")]
    _raise(errors)
    fact.withdrawn_at = now or timezone.now()
    fact.withdrawn_by = actor
    fact.withdraw_reason = reason.strip()[:300]
    fact.save(update_fields=["withdrawn_at", "withdrawn_by", "withdraw_reason"])
    _log("fact_withdraw", actor=actor, year=fact.year, grid=fact.grid, fact=fact.pk)
    return fact


# --- joint meetings (communication) ------------------------------------------------------------


@dataclass
class DecisionInput:
    text: str
    issued_as: str = MeetingDecision.IssuedAs.MINUTES
    letter_number: str = ""
    department: Department | None = None
    due_on: date | None = None


def _decision_problems(decisions: list[DecisionInput], *, held_on: date | None) -> list[str]:
    problems = []
    for n, d in enumerate(decisions, start=1):
        if not (d.text or "").strip():
            problems.append(_("Decision %(n)s: say what was decided.") % {"n": n})
        if d.issued_as not in MeetingDecision.IssuedAs.values:
            problems.append(
                _("Decision %(n)s: issued as minutes or a supervision letter.") % {"n": n}
            )
        if d.issued_as == MeetingDecision.IssuedAs.SUPERVISION_LETTER and d.department is None:
            problems.append(
                _("Decision %(n)s: a supervision letter goes to a department.") % {"n": n}
            )
        if d.due_on and held_on and d.due_on < held_on:
            problems.append(_("Decision %(n)s: due before the meeting.") % {"n": n})
    return problems


@transaction.atomic
def joint_meeting_record(
    *,
    grid: Grid,
    held_on: date,
    title: str,
    minutes: str,
    actor: User,
    kind: str = JointMeeting.Kind.REGULAR,
    chaired_by: str = "",
    attendees: list[str] | None = None,
    decisions: list[DecisionInput] | None = None,
    document: UploadedFile | None = None,
    now: datetime | None = None,
) -> JointMeeting:
    """Record a joint meeting (联席会议) of a grid's leading group with its minutes and
    decisions (Linyi annex 1: twice a year, one per half, plus ad-hoc ones)."""
    _require_grid_recorder(actor, grid)
    now = now or timezone.now()
    decisions = decisions or []
    attendees = [a.strip() for a in (attendees or []) if a and a.strip()]
    errors: dict[str, list[str]] = {}
    if held_on > _today(now):
        errors["held_on"] = [_("A meeting cannot be dated in the future.")]
    else:
        locked = _locked_year_problem(held_on.year)
        if locked:
            errors["held_on"] = [locked]
    if not (title or "").strip():
        errors["title"] = [_("Give the meeting a title.")]
    if not (minutes or "").strip():
        errors["minutes"] = [_("Record the minutes.")]
    if kind not in JointMeeting.Kind.values:
        errors["kind"] = [_("Regular or ad hoc.")]
    if not attendees:
        errors["attendees"] = [_("Name who attended.")]
    problem = _document_problem(document, required=False)
    if problem:
        errors["document"] = [problem]
    decision_problems = _decision_problems(decisions, held_on=held_on)
    if decision_problems:
        errors["decisions"] = decision_problems
    _raise(errors)
    meeting = JointMeeting.objects.create(
        grid=grid,
        held_on=held_on,
        kind=kind,
        title=title.strip(),
        chaired_by=chaired_by.strip(),
        attendees=attendees,
        minutes=minutes.strip(),
        document=document,
        recorded_by=actor,
        recorded_at=now,
    )
    MeetingDecision.objects.bulk_create(
        MeetingDecision(
            meeting=meeting,
            text=d.text.strip(),
            issued_as=d.issued_as,
            letter_number=d.letter_number,
            department=d.department,
            due_on=d.due_on,
        )
        for d in decisions
    )
    for d in decisions:
        if d.department is not None and d.issued_as == MeetingDecision.IssuedAs.SUPERVISION_LETTER:
            _notify_department_heads(
                department=d.department,
                title=_("Supervision letter from the joint meeting of %(grid)s: %(text)s")
                % {"grid": grid.name, "text": d.text[:80]},
                key=f"assessment:letter:{meeting.pk}:{d.department.pk}",
            )
    return meeting


@transaction.atomic
def meeting_decision_follow_up(
    *,
    decision: MeetingDecision,
    actor: User,
    follow_up: str,
    done_on: date | None = None,
    now: datetime | None = None,
) -> MeetingDecision:
    """Record how a decision (or supervision letter) was followed up, and when it was done."""
    now = now or timezone.now()
    decision = (
        MeetingDecision.objects.select_for_update(of=("self",))
        .select_related("meeting", "department")
        .get(pk=decision.pk)
    )
    meeting_grid = Grid.objects.get(pk=decision.meeting.grid_id)
    allowed = selectors.may_record_for_grid(user=actor, grid=meeting_grid) or (
        decision.department is not None
        and selectors.may_record_for_department(user=actor, department=decision.department)
    )
    if not allowed:
        raise Forbidden(_("You may not follow up this decision."))
    errors = {}
    if not (follow_up or "").strip():
        errors["follow_up"] = [_("Say what was done.")]
    if done_on and done_on > _today(now):
        errors["done_on"] = [_("The date lies in the future.")]
    elif done_on and done_on < decision.meeting.held_on:
        errors["done_on"] = [_("Done before the meeting?")]
    _raise(errors)
    decision.follow_up = follow_up.strip()
    decision.followed_up_at = now
    if done_on:
        decision.done_on = done_on
    decision.save(update_fields=["follow_up", "followed_up_at", "done_on"])
    return decision


def _notify_department_heads(*, department: Department, title: str, key: str) -> None:
    users = User.objects.filter(
        department_memberships__department=department,
        department_memberships__position__in=["head", "handler"],
        is_active=True,
    ).distinct()
    for user in users:
        notify(user=user, kind="assessment", title=title, dedupe_key=key)


# --- half-year reports (report) ----------------------------------------------------------------


@transaction.atomic
def half_year_report_submit(
    *,
    grid: Grid,
    year: int,
    half: int,
    summary: str,
    actor: User,
    department: Department | None = None,
    document: UploadedFile | None = None,
    now: datetime | None = None,
) -> HalfYearReport:
    """A county-level grid's half-yearly report to the city office (patrol ledger, supervision,
    work summary; due 10 July and 10 January — Linyi report rule 3), or with ``department`` a
    department's report of its ledger to its grid's office. Lateness is kept, not refused."""
    now = now or timezone.now()
    if department is not None:
        _require_department_recorder(actor, department)
    else:
        _require_grid_recorder(actor, grid)
    errors: dict[str, list[str]] = {}
    if half not in (1, 2):
        errors["half"] = [_("The first (1) or the second (2) half of the year.")]
    if not MIN_YEAR <= year <= 2100:
        errors["year"] = [_("Give a year between 2000 and 2100.")]
    elif half in (1, 2) and date(year, 1 if half == 1 else 7, 1) > _today(now):
        errors["half"] = [_("That half-year has not begun.")]
    else:
        locked = _locked_year_problem(year)
        if locked:
            errors["year"] = [locked]
    level = _assessed_level(year)
    if department is None and grid.level != level:
        errors["grid"] = [
            _(
                "%(grid)s does not owe half-yearly reports: they come from the level-%(level)s "
                "grids."
            )
            % {"grid": grid.name, "level": level}
        ]
    if department is not None:
        if department.grid_id != grid.pk:
            errors["department"] = [
                _("%(dept)s belongs to another grid.") % {"dept": department.name}
            ]
        elif not department.active:
            errors["department"] = [_("The department is no longer active.")]
    if not (summary or "").strip():
        errors["summary"] = [_("Write the summary.")]
    problem = _document_problem(document, required=False)
    if problem:
        errors["document"] = [problem]
    if not errors and half in (1, 2):
        existing = HalfYearReport.objects.filter(year=year, half=half)
        existing = (
            existing.filter(department=department)
            if department is not None
            else existing.filter(grid=grid, department__isnull=True)
        )
        if existing.exists():
            errors["half"] = [
                _("The report for %(year)s H%(h)s was already submitted.")
                % {"year": year, "h": half}
            ]
    _raise(errors)
    try:
        with transaction.atomic():
            return HalfYearReport.objects.create(
                grid=grid,
                department=department,
                year=year,
                half=half,
                due_on=evidence.report_due_on(year, half),
                submitted_at=now,
                submitted_by=actor,
                summary=summary.strip(),
                document=document,
            )
    except IntegrityError as exc:  # submitted concurrently
        raise DomainError(
            _("The report for %(year)s H%(h)s was already submitted.") % {"year": year, "h": half},
            half=[_("Already submitted.")],
        ) from exc


REMIND_DAYS_BEFORE = 7
REMIND_DAYS_AFTER = 30


def half_year_reports_remind(*, now: datetime | None = None) -> int:
    """Tell the principals of the county-level grids whose half-yearly report is due within
    ``REMIND_DAYS_BEFORE`` days (and, once more, when it is overdue) that it has not come.
    Idempotent: one notification per grid, report and stage (a dedupe key)."""
    now = now or timezone.now()
    today = _today(now)
    sent = 0
    for year, half in ((today.year - 1, 2), (today.year, 1)):
        due = evidence.report_due_on(year, half)
        days_left = (due - today).days
        if 0 <= days_left <= REMIND_DAYS_BEFORE:
            stage = "soon"
        elif -REMIND_DAYS_AFTER <= days_left < 0:
            stage = "overdue"
        else:
            continue
        level = _assessed_level(year)
        counties = county_sql.grids_at_level(level=level, on=today)
        done = set(
            HalfYearReport.objects.filter(
                year=year, half=half, department__isnull=True, grid__in=counties
            ).values_list("grid_id", flat=True)
        )
        waiting = [c for c in counties if c.pk not in done]
        principals = GridRole.objects.filter(
            grid_selectors.active_q(today), grid__in=waiting, role=Role.PRINCIPAL
        ).select_related("user", "grid")
        for role in principals:
            if stage == "soon":
                title = _("%(grid)s: the %(year)s H%(h)s report is due by %(due)s.")
            else:
                title = _(
                    "%(grid)s: the %(year)s H%(h)s report was due on %(due)s and has not come."
                )
            notify(
                user=role.user,
                kind="assessment",
                title=title % {"grid": role.grid.name, "year": year, "h": half, "due": due},
                dedupe_key=f"assessment:report:{role.grid_id}:{year}H{half}:{stage}",
            )
            sent += 1
    return sent


# --- requests for help (report) ----------------------------------------------------------------


@transaction.atomic
def help_request_make(
    *,
    from_grid: Grid,
    subject: str,
    body: str,
    actor: User,
    to_grid: Grid | None = None,
    case=None,
    document: UploadedFile | None = None,
    now: datetime | None = None,
) -> HelpRequest:
    """A lower grid asks a grid above it (by default its parent) for help with a problem it
    cannot handle (Linyi report rule 2, disposal rule 4)."""
    _require_grid_recorder(actor, from_grid)
    to_grid = to_grid or (Grid.objects.get(pk=from_grid.parent_id) if from_grid.parent_id else None)
    errors: dict[str, list[str]] = {}
    if to_grid is None:
        errors["to_grid"] = [_("The top grid has no grid above it to ask.")]
    elif (
        not Grid.objects.filter(grid_selectors.subtree_q(grid=_fresh(to_grid)), pk=from_grid.pk)
        .exclude(pk=to_grid.pk)
        .exists()
    ):
        errors["to_grid"] = [_("Help is asked of a grid above one's own.")]
    if not (subject or "").strip():
        errors["subject"] = [_("Give the subject.")]
    if not (body or "").strip():
        errors["body"] = [_("Describe the problem.")]
    if (
        case is not None
        and not Grid.objects.filter(
            grid_selectors.subtree_q(grid=_fresh(from_grid)), pk=case.grid_id
        ).exists()
    ):
        errors["case"] = [_("The case lies outside the grid.")]
    problem = _document_problem(document, required=False)
    if problem:
        errors["document"] = [problem]
    _raise(errors)
    request = HelpRequest.objects.create(
        from_grid=from_grid,
        to_grid=to_grid,
        subject=subject.strip(),
        body=body.strip(),
        case=case,
        document=document,
        requested_by=actor,
        requested_at=now or timezone.now(),
    )
    for role in GridRole.objects.filter(
        grid_selectors.active_q(_today(now)), grid=to_grid, role__in=[Role.PRINCIPAL, Role.OFFICE]
    ).select_related("user"):
        notify(
            user=role.user,
            kind="assessment",
            title=_("%(grid)s asks for help: %(subject)s")
            % {"grid": from_grid.name, "subject": request.subject},
            dedupe_key=f"assessment:help:{request.pk}",
        )
    return request


@transaction.atomic
def help_request_answer(
    *, request: HelpRequest, actor: User, answer: str, now: datetime | None = None
) -> HelpRequest:
    request = HelpRequest.objects.select_for_update().get(pk=request.pk)
    _require_grid_recorder(actor, Grid.objects.get(pk=request.to_grid_id))
    if request.status == HelpRequest.Status.ANSWERED:
        raise Conflict(_("The request was already answered."))
    if not (answer or "").strip():
        raise DomainError(_("Write the answer."), answer=[_("Required.")])
    request.answer = answer.strip()
    request.answered_by = actor
    request.answered_at = now or timezone.now()
    request.status = HelpRequest.Status.ANSWERED
    request.save(update_fields=["answer", "answered_by", "answered_at", "status"])
    return request


# --- supervision -------------------------------------------------------------------------------


@transaction.atomic
def supervision_record(
    *,
    supervisor_grid: Grid,
    target_grid: Grid,
    held_on: date,
    topic: str,
    findings: str,
    actor: User,
    department: Department | None = None,
    rectification_due: date | None = None,
    document: UploadedFile | None = None,
    now: datetime | None = None,
) -> Supervision:
    """One level supervises the next (一级督一级): a comprehensive supervision by the grid's
    office (no department) or a department's supervision of its own matters, of a grid below
    the supervising one, with its findings and the date rectification is due."""
    now = now or timezone.now()
    if department is not None:
        _require_department_recorder(actor, department)
    else:
        _require_grid_recorder(actor, supervisor_grid)
    errors: dict[str, list[str]] = {}
    if held_on > _today(now):
        errors["held_on"] = [_("A supervision cannot be dated in the future.")]
    else:
        locked = _locked_year_problem(held_on.year)
        if locked:
            errors["held_on"] = [locked]
    if (
        target_grid.pk == supervisor_grid.pk
        or not Grid.objects.filter(
            grid_selectors.subtree_q(grid=_fresh(supervisor_grid)), pk=target_grid.pk
        ).exists()
    ):
        errors["target_grid"] = [
            _("%(t)s is not a grid below %(s)s.")
            % {"t": target_grid.name, "s": supervisor_grid.name}
        ]
    if department is not None and department.grid_id != supervisor_grid.pk:
        errors["department"] = [_("%(dept)s belongs to another grid.") % {"dept": department.name}]
    if not (topic or "").strip():
        errors["topic"] = [_("Give the topic.")]
    if not (findings or "").strip():
        errors["findings"] = [_("Record the findings.")]
    if rectification_due and rectification_due < held_on:
        errors["rectification_due"] = [_("Rectification cannot be due before the supervision.")]
    problem = _document_problem(document, required=False)
    if problem:
        errors["document"] = [problem]
    _raise(errors)
    return Supervision.objects.create(
        supervisor_grid=supervisor_grid,
        department=department,
        target_grid=target_grid,
        kind=Supervision.Kind.DEPARTMENT if department else Supervision.Kind.COMPREHENSIVE,
        held_on=held_on,
        topic=topic.strip(),
        findings=findings.strip(),
        rectification_due=rectification_due,
        document=document,
        recorded_by=actor,
        recorded_at=now,
    )


def _supervision_writer(actor: User, supervision: Supervision) -> None:
    if supervision.department_id:
        _require_department_recorder(actor, Department.objects.get(pk=supervision.department_id))
    else:
        _require_grid_recorder(actor, Grid.objects.get(pk=supervision.supervisor_grid_id))


@transaction.atomic
def supervision_rectification_record(
    *,
    supervision: Supervision,
    actor: User,
    rectification: str,
    rectified_on: date | None = None,
    now: datetime | None = None,
) -> Supervision:
    supervision = Supervision.objects.select_for_update().get(pk=supervision.pk)
    _supervision_writer(actor, supervision)
    errors = {}
    if not (rectification or "").strip():
        errors["rectification"] = [_("Describe the rectification.")]
    if rectified_on and rectified_on > _today(now):
        errors["rectified_on"] = [_("The date lies in the future.")]
    elif rectified_on and rectified_on < supervision.held_on:
        errors["rectified_on"] = [_("Rectified before the supervision?")]
    _raise(errors)
    supervision.rectification = rectification.strip()
    supervision.rectified_on = rectified_on
    supervision.save(update_fields=["rectification", "rectified_on"])
    return supervision


@transaction.atomic
def supervision_publish(
    *, supervision: Supervision, actor: User, now: datetime | None = None
) -> Supervision:
    """Publish a supervision's findings and rectification on the public disclosure page (Linyi
    disclosure rule 1). Published once; the date stays."""
    supervision = Supervision.objects.select_for_update().get(pk=supervision.pk)
    _supervision_writer(actor, supervision)
    if supervision.published_at:
        raise Conflict(_("The supervision is already published."))
    supervision.published_at = now or timezone.now()
    supervision.save(update_fields=["published_at"])
    return supervision


# --- penalty decisions (disclosure) ------------------------------------------------------------


@transaction.atomic
def penalty_decision_record(
    *,
    department: Department,
    grid: Grid,
    number: str,
    party: str,
    violation: str,
    penalty: str,
    decided_on: date,
    actor: User,
    amount=None,
    credit_code: str = "",
    source=None,
    case=None,
    now: datetime | None = None,
) -> PenaltyDecision:
    """Record a department's penalty decision (to be published, Linyi disclosure rule 2)."""
    _require_department_recorder(actor, department)
    errors: dict[str, list[str]] = {}
    if decided_on > _today(now):
        errors["decided_on"] = [_("A decision cannot be dated in the future.")]
    else:
        locked = _locked_year_problem(decided_on.year)
        if locked:
            errors["decided_on"] = [locked]
    if not Grid.objects.filter(
        grid_selectors.subtree_q(grid=Grid.objects.get(pk=department.grid_id)), pk=grid.pk
    ).exists():
        errors["grid"] = [
            _("%(grid)s lies outside the area of %(dept)s.")
            % {"grid": grid.name, "dept": department.name}
        ]
    for name, value in (
        ("number", number),
        ("party", party),
        ("violation", violation),
        ("penalty", penalty),
    ):
        if not (value or "").strip():
            errors[name] = [_("Required.")]
    if amount not in (None, ""):
        amount = _points(amount, field="amount")
        if amount < 0:
            errors["amount"] = [_("A fine is not negative.")]
    else:
        amount = None
    if credit_code:
        from inspections.credit_code import credit_code_problem

        problem = credit_code_problem(credit_code)
        if problem:
            errors["credit_code"] = [problem]
    if (
        not errors
        and PenaltyDecision.objects.filter(department=department, number=number.strip()).exists()
    ):
        errors["number"] = [
            _("%(dept)s already recorded decision %(n)s.") % {"dept": department.name, "n": number}
        ]
    _raise(errors)
    return PenaltyDecision.objects.create(
        department=department,
        grid=grid,
        number=number.strip(),
        party=party.strip(),
        credit_code=credit_code,
        violation=violation.strip(),
        penalty=penalty.strip(),
        amount=amount,
        decided_on=decided_on,
        source=source,
        case=case,
        recorded_by=actor,
        recorded_at=now or timezone.now(),
    )


@transaction.atomic
def penalty_decision_publish(
    *, decision: PenaltyDecision, actor: User, now: datetime | None = None
) -> PenaltyDecision:
    decision = PenaltyDecision.objects.select_for_update().get(pk=decision.pk)
    _require_department_recorder(actor, Department.objects.get(pk=decision.department_id))
    if decision.published_at:
        raise Conflict(_("The decision is already published."))
    decision.published_at = now or timezone.now()
    decision.save(update_fields=["published_at"])
    return decision


# --- self-evaluation ---------------------------------------------------------------------------


@transaction.atomic
def self_evaluation_submit(
    *,
    grid: Grid,
    year: int,
    summary: str,
    actor: User,
    score=None,
    problems: str = "",
    document: UploadedFile | None = None,
    now: datetime | None = None,
) -> SelfEvaluation:
    """A grid's evaluation of its own running in ``year``, reported upward (Yiyang; DOMAIN
    §7.3): once per grid and year, after the year has begun."""
    _require_grid_recorder(actor, grid)
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}
    if not MIN_YEAR <= year <= _today(now).year:
        errors["year"] = [_("Evaluate a year that has begun.")]
    else:
        locked = _locked_year_problem(year)
        if locked:
            errors["year"] = [locked]
    if score not in (None, ""):
        score = _points(score, field="score")
        if not Decimal(0) <= score <= Decimal(200):
            errors["score"] = [_("A score between 0 and 200.")]
    else:
        score = None
    if not (summary or "").strip():
        errors["summary"] = [_("Write the summary.")]
    problem = _document_problem(document, required=False)
    if problem:
        errors["document"] = [problem]
    if not errors and SelfEvaluation.objects.filter(grid=grid, year=year).exists():
        errors["year"] = [
            _("%(grid)s already evaluated %(year)s.") % {"grid": grid.name, "year": year}
        ]
    _raise(errors)
    evaluation = SelfEvaluation.objects.create(
        grid=grid,
        year=year,
        score=score,
        summary=summary.strip(),
        problems=(problems or "").strip(),
        document=document,
        submitted_by=actor,
        submitted_at=now,
    )
    if grid.parent_id:
        for role in GridRole.objects.filter(
            grid_selectors.active_q(_today(now)),
            grid_id=grid.parent_id,
            role__in=[Role.PRINCIPAL, Role.OFFICE],
        ).select_related("user"):
            notify(
                user=role.user,
                kind="assessment",
                title=_("%(grid)s reported its self-evaluation for %(year)s.")
                % {"grid": grid.name, "year": year},
                dedupe_key=f"assessment:self:{evaluation.pk}",
            )
    return evaluation


# --- the yearly run and lock -------------------------------------------------------------------


def _facts_by_county(
    *, rule_set: RuleSet, county_ids: list[int]
) -> dict[int, dict[str, list[AssessmentFact]]]:
    out: dict[int, dict[str, list[AssessmentFact]]] = {}
    for fact in (
        AssessmentFact.objects.filter(
            rule__rule_set=rule_set,
            year=rule_set.year,
            grid_id__in=county_ids,
            withdrawn_at__isnull=True,
        )
        .select_related("rule")
        .order_by("pk")
    ):
        out.setdefault(fact.grid_id, {}).setdefault(fact.rule.code, []).append(fact)
    return out


def _fact_evidence(fact: AssessmentFact) -> dict:
    return {
        "model": "assessment.assessmentfact",
        "pk": fact.pk,
        "text": f"{fact.note[:200]} ({fact.points:+})",
        "url": evidence._reverse("api-assessment-fact-detail", fact.pk),
        "document": fact.document.url if fact.document else "",
    }


@dataclass
class RunResult:
    sheets: list[ScoreSheet]
    queries_per_collector: dict[str, int] | None = None


def assessment_compute(
    *, rule_set: RuleSet, counties: list[Grid], now: datetime
) -> dict[int, tuple]:
    """Score every county: the collectors (each once, for all counties), the facts, the pure
    arithmetic. Returns ``{county id: (SheetResult, {rule code: evidence list})}``; writes
    nothing."""
    spec = selectors.rule_set_spec(rule_set=rule_set)
    rules = [rule for item in rule_set.items.all() for rule in item.rules.all()]
    ctx = evidence.Context(
        year=rule_set.year, counties=counties, now=now, grid_level=rule_set.grid_level
    )
    found = {
        rule.code: evidence.collect(ctx, rule.evidence, rule.params)
        for rule in rules
        if not rule.is_fact
    }
    facts = _facts_by_county(rule_set=rule_set, county_ids=ctx.county_ids)
    out = {}
    for county in counties:
        findings: dict[str, scoring.Finding] = {}
        proofs: dict[str, list[dict]] = {}
        for rule in rules:
            if rule.is_fact:
                entries = facts.get(county.pk, {}).get(rule.code, [])
                if entries:
                    findings[rule.code] = scoring.Finding.of_entries([f.points for f in entries])
                    proofs[rule.code] = [_fact_evidence(f) for f in entries]
            else:
                f = found[rule.code].get(county.pk)
                if f and f.count:
                    findings[rule.code] = scoring.Finding(instances=f.count)
                    proofs[rule.code] = [e.as_dict() for e in f.items]
        out[county.pk] = (scoring.sheet_score(spec, findings), proofs)
    return out


def assessment_run(
    *, year: int, actor: User | None, now: datetime | None = None
) -> list[ScoreSheet]:
    """Compute the score sheet of every county-level grid for ``year`` from the records and the
    facts (DOMAIN §7.1). Re-runnable until the year is locked; a locked year is a conflict.
    ``actor=None`` is the system (the yearly task in Q1)."""
    now = now or timezone.now()
    if actor is not None:
        _require_office(actor)
    if year > _today(now).year:
        raise DomainError(_("%(year)s has not begun.") % {"year": year}, year=[_("In the future.")])
    rule_set = selectors.rule_set_get(year=year)
    if rule_set is None:
        raise DomainError(
            _("There is no rule set for %(year)s; install one first.") % {"year": year},
            year=[_("No rule set.")],
        )
    if rule_set.locked_at:
        raise Conflict(
            _("The %(year)s assessment is locked; its sheets never change.") % {"year": year}
        )
    as_of = min(date(year, 12, 31), _today(now))
    counties = county_sql.grids_at_level(level=rule_set.grid_level, on=as_of)
    results = assessment_compute(rule_set=rule_set, counties=counties, now=now)
    return _sheets_write(
        rule_set=rule_set, counties=counties, results=results, actor=actor, now=now
    )


@transaction.atomic
def _sheets_write(*, rule_set, counties, results, actor, now) -> list[ScoreSheet]:
    year = rule_set.year
    # The rule set's row is the year's lock: a concurrent lock or run waits here.
    locked = RuleSet.objects.select_for_update().get(pk=rule_set.pk)
    if locked.locked_at:
        raise Conflict(
            _("The %(year)s assessment is locked; its sheets never change.") % {"year": year}
        )
    existing = {s.grid_id: s for s in ScoreSheet.objects.select_for_update().filter(year=year)}
    ScoreItem.objects.filter(sheet__year=year).delete()
    sheets = []
    for county in counties:
        result, _proofs = results[county.pk]
        sheet = existing.get(county.pk) or ScoreSheet(grid=county, year=year)
        sheet.rule_set = rule_set
        sheet.base_score = result.base_score
        sheet.bonus = result.bonus
        sheet.deductions = result.deductions
        sheet.total = result.total
        sheet.grade = result.grade
        sheet.computed_at = now
        sheet.computed_by = actor
        sheets.append(sheet)
    fields = [
        "rule_set",
        "base_score",
        "bonus",
        "deductions",
        "total",
        "grade",
        "computed_at",
        "computed_by",
    ]
    ScoreSheet.objects.bulk_update([s for s in sheets if s.pk], fields)
    ScoreSheet.objects.bulk_create([s for s in sheets if not s.pk])
    by_grid = {s.grid_id: s for s in sheets}
    if any(s.pk is None for s in sheets):  # databases that do not return ids from bulk inserts
        by_grid = {s.grid_id: s for s in ScoreSheet.objects.filter(year=year)}
    items_by_code = {i.code: i for i in rule_set.items.all()}
    rules_by_code = {r.code: r for i in rule_set.items.all() for r in i.rules.all()}
    rule_order = {r.code: r.order for r in rules_by_code.values()}
    score_items, pending_lines = [], []
    for county in counties:
        result, proofs = results[county.pk]
        for item in result.items:
            row = ScoreItem(
                sheet=by_grid[county.pk],
                rule_item=items_by_code[item.code],
                code=item.code,
                group=item.group,
                max_points=item.max_points,
                raw=item.raw,
                score=item.score,
                order=items_by_code[item.code].order,
            )
            score_items.append(row)
            for line in item.lines:
                pending_lines.append((row, line, proofs.get(line.code, [])))
    ScoreItem.objects.bulk_create(score_items)
    ScoreLine.objects.bulk_create(
        ScoreLine(
            item=row,
            rule=rules_by_code[line.code],
            code=line.code,
            instances=line.instances,
            points=line.points,
            evidence=proof,
            order=rule_order[line.code],
        )
        for row, line, proof in pending_lines
    )
    _log("run", actor=actor, year=year, sheets=len(sheets))
    return sheets


@transaction.atomic
def assessment_lock(*, year: int, actor: User, now: datetime | None = None) -> int:
    """Lock the year: its sheets never change again and it takes no more entries. Every
    county-level grid must have a sheet (run first). Returns the number of sheets locked."""
    _require_office(actor)
    now = now or timezone.now()
    rule_set = RuleSet.objects.select_for_update().filter(year=year).first()
    if rule_set is None:
        raise DomainError(
            _("There is no rule set for %(year)s.") % {"year": year}, year=[_("No rule set.")]
        )
    if rule_set.locked_at:
        raise Conflict(_("The %(year)s assessment is already locked.") % {"year": year})
    counties = county_sql.grids_at_level(
        level=rule_set.grid_level, on=min(date(year, 12, 31), _today(now))
    )
    sheets = ScoreSheet.objects.select_for_update().filter(year=year)
    have = set(sheets.values_list("grid_id", flat=True))
    missing = [c.name for c in counties if c.pk not in have]
    if not have or missing:
        raise DomainError(
            _("Run the %(year)s assessment first (no sheet for: %(grids)s).")
            % {"year": year, "grids": "、".join(missing) or "—"}
        )
    count = sheets.update(locked_at=now, locked_by=actor)
    rule_set.locked_at = now
    rule_set.save(update_fields=["locked_at"])
    _log("lock", actor=actor, year=year, sheets=count)
    return count
