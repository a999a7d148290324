"""The case pages: the dispatcher's queue, a department's inbox, the case page with its
timeline and actions, the inspector's report and verification pages, and the case list.

Views stay thin: they parse a form, ask ``cases.selectors`` (always scoped, so a case outside
the user's scope is a 404) or call one service, and render. Every workflow action posts to
``case_action``, which calls ``services.case_transition``; the table in ``cases.transitions``
decides what is allowed, and a refusal is shown with the state and the actions allowed now.
"""

from __future__ import annotations

import base64
import mimetypes
from dataclasses import dataclass, field
from datetime import datetime
from functools import reduce
from operator import or_

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import F, Prefetch, Q
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET, require_POST

from cases import selectors, services
from cases.calendar import WorkingCalendar
from cases.forms import ActionForm, CaseFilterForm, PartForm, ReportForm, ReturnVisitForm
from cases.labels import DEADLINE_LABELS, LIGHT_LABELS, STATE_LABELS, action_label, state_label
from cases.models import Case, CaseEvent, CasePhoto, Channel, ReturnVisit
from cases.transitions import Action, Actor, State, allowed_actions, transition_for
from core.errors import Conflict, DomainError, Forbidden
from grids import selectors as grid_selectors
from grids.models import Role

QUEUE_CAP = 50  # rows per queue section; the rest is one click away in the case list
LIST_PAGE = 50
REPORT_GRID_CAP = 300

DISPATCH_ROLES = (Role.DISPATCHER, Role.OFFICE, Role.PLATFORM)
VERIFY_ROLES = (Role.INSPECTOR, Role.SUPERVISOR)
FINAL = (State.REJECTED, State.VOIDED, State.ASSESSED, State.EVALUATED)


# --- who is at which desk ------------------------------------------------------------------


@dataclass
class Desk:
    """Which case pages a user works at: the dispatcher's queue (where they dispatch), the
    department inbox (their departments), reporting and verification (their grids)."""

    everything: bool
    dispatcher_grids: list = field(default_factory=list)
    verifier_grids: list = field(default_factory=list)
    department_ids: frozenset[int] = frozenset()
    has_grids: bool = False

    @property
    def dispatcher(self) -> bool:
        return self.everything or bool(self.dispatcher_grids)

    @property
    def verifier(self) -> bool:
        return self.everything or bool(self.verifier_grids)

    @property
    def handler(self) -> bool:
        return self.everything or bool(self.department_ids)

    @property
    def reporter(self) -> bool:
        return self.everything or self.has_grids

    @property
    def any(self) -> bool:
        return self.everything or self.has_grids or bool(self.department_ids)


def _desk(request) -> Desk:
    cached = getattr(request, "_case_desk", None)
    if cached is not None:
        return cached
    user = request.user
    scope = grid_selectors.user_scope(user=user)
    if scope.everything:
        desk = Desk(everything=True, department_ids=scope.department_ids, has_grids=True)
    else:
        # The grids where the user holds a dispatching or a verifying role (one query).
        held = grid_selectors.roles_held(
            user=user, roles=[*DISPATCH_ROLES, *VERIFY_ROLES], on=timezone.localdate()
        )
        desk = Desk(everything=False, department_ids=scope.department_ids)
        for role in held:
            target = desk.dispatcher_grids if role.role in DISPATCH_ROLES else desk.verifier_grids
            target.append(role.grid)
        desk.has_grids = bool(scope.ranges)
    request._case_desk = desk
    return desk


def _within(qs, grids, *, desk: Desk):
    """Cases in the subtrees of ``grids`` (all of them for a whole-city user)."""
    if desk.everything:
        return qs
    if not grids:
        return qs.none()
    return qs.filter(
        reduce(or_, (grid_selectors.subtree_q(grid=g, prefix="grid__") for g in grids))
    )


# --- deadlines and their traffic lights ---------------------------------------------------------


@dataclass
class DeadlineRow(selectors.DeadlineState):
    label: str = ""

    @property
    def light_label(self) -> str:
        return str(LIGHT_LABELS.get(self.light, ""))


def _deadlines(case: Case, *, now: datetime, calendar: WorkingCalendar) -> list[DeadlineRow]:
    return [
        DeadlineRow(**vars(state), label=str(DEADLINE_LABELS[state.name]))
        for state in selectors.case_deadline_states(case, now=now, calendar=calendar)
    ]


def _with_deadlines(cases: list[Case], *, now: datetime, calendar: WorkingCalendar) -> list[Case]:
    for case in cases:
        case.deadline_rows = _deadlines(case, now=now, calendar=calendar)
        case.running = [row for row in case.deadline_rows if row.running]
        case.state_label = state_label(case.status)
    return cases


def _geo_labels(*, locate: bool = False) -> dict:
    """What the location script writes (static/js/case-geo.js)."""
    return {
        "locate_url": reverse("api-grid-locate") if locate else "",
        "locating": _("Finding your position…"),
        "fixed": _("Position fixed, accurate to %(m)s m."),
        "failed": _("No position: %(reason)s. Retry, or choose the grid below."),
        "failed_short": _("No position: %(reason)s."),
        "denied": _("location is not allowed for this site"),
        "unavailable": _("the position is unavailable"),
        "timeout": _("it took too long"),
        "unsupported": _("this browser cannot locate"),
        "grid": _("Grid: %(name)s"),
        "outside": _("This point lies outside your grids; choose the grid below."),
    }


def _clock(now: datetime) -> dict:
    """What the countdown script needs: the server's time and the words to write."""
    return {
        "now": now.replace(microsecond=0).isoformat(),
        "left": _("%(t)s left"),
        "over": _("%(t)s overdue"),
        "d": pgettext("time unit", "d"),
        "lights": {k: str(v) for k, v in LIGHT_LABELS.items()},
    }


# --- forms for the actions ---------------------------------------------------------------------


def _dispatch_candidates(case: Case, departments) -> list:
    """Departments of the case's grid and the grids above it: those that can act there."""
    found = [d for d in departments if case.grid.is_descendant_of(d.grid, include_self=True)]
    return sorted(found, key=lambda d: (-d.level, d.code))


def _action_form(
    case: Case,
    action: str,
    *,
    data=None,
    files=None,
    departments=(),
    proposed=None,
    camera=False,
    row=False,
) -> ActionForm:
    return ActionForm(
        data,
        files,
        action=action,
        edge=transition_for(case.status, action),
        departments=departments,
        proposed=proposed.code if proposed else None,
        camera=camera,
        auto_id=f"id_{case.pk}_{action}_%s" if row else f"id_{action}_%s",
    )


def _actions_for(case: Case, kinds: set[Actor]) -> list[str]:
    """The table's actions from the case's state that this user's kinds may take."""
    out = []
    for action in allowed_actions(case.status):
        edge = transition_for(case.status, action)
        if action == Action.ASSESS or not (edge.actors & kinds):
            continue
        if action == Action.APPROVE_EXTENSION and case.extension_until is None:
            continue  # nothing asked for yet
        out.append(action)
    return out


# --- the pages -----------------------------------------------------------------------------------


@login_required
@require_GET
def case_queue(request):
    """The dispatcher's queue: new reports to file or reject, filed cases to dispatch (the duty
    matrix's department pre-selected), extension requests to grant."""
    desk = _desk(request)
    if not desk.dispatcher:
        raise Http404
    user, now = request.user, timezone.now()
    calendar = selectors.calendar_get()

    def section(status, *order, **extra):
        qs = selectors.case_list(user=user, status=status)
        qs = _within(qs, desk.dispatcher_grids, desk=desk)
        return list(qs.filter(**extra).order_by(*order, "reported_at", "id")[: QUEUE_CAP + 1])

    new = section(State.COLLECTED, F("response_deadline").asc(nulls_last=True))
    filed = section(State.FILED, F("dispatch_deadline").asc(nulls_last=True))
    extensions = list(
        _within(
            selectors.case_list(user=user).filter(
                status__in=[State.DISPATCHED, State.HANDLING], extension_until__isnull=False
            ),
            desk.dispatcher_grids,
            desk=desk,
        ).order_by("extension_until", "id")[: QUEUE_CAP + 1]
    )
    departments = list(grid_selectors.department_list(user=user)) if filed else []
    categories = {c.pk: c for c in selectors.category_list()} if filed else {}
    for case in new:
        case.forms = {
            Action.FILE: _action_form(case, Action.FILE, row=True),
            Action.REJECT: _action_form(case, Action.REJECT, row=True),
        }
    for case in filed:
        candidates = _dispatch_candidates(case, departments)
        category = categories.get(case.category_id, case.category)
        proposed = selectors.duty_department_pick(
            rules=category.duty_rules.all(),
            departments={(d.level, d.sector_id): d for d in reversed(candidates)},
            level=case.grid.level,
        )
        case.proposed = proposed
        case.forms = {
            Action.DISPATCH: _action_form(
                case, Action.DISPATCH, departments=candidates, proposed=proposed, row=True
            )
        }
    for case in extensions:
        case.forms = {
            Action.APPROVE_EXTENSION: _action_form(case, Action.APPROVE_EXTENSION, row=True)
        }
    sections = [
        _section("new", _("New reports to file or reject"), new),
        _section("filed", _("Filed cases to dispatch"), filed),
        _section("extensions", _("Extension requests"), extensions),
    ]
    for s in sections:
        _with_deadlines(s["cases"], now=now, calendar=calendar)
    return render(
        request,
        "cases/queue.html",
        {"sections": sections, "desk": desk, "tab": "queue", "clock": _clock(now), "nav": "cases"},
    )


def _section(key: str, title: str, cases: list[Case]) -> dict:
    more = len(cases) > QUEUE_CAP
    status = {"new": State.COLLECTED, "filed": State.FILED}.get(key)
    return {
        "key": key,
        "title": title,
        "cases": cases[:QUEUE_CAP],
        "more": more,
        "more_url": f"{reverse('case-list')}?status={status}" if status else reverse("case-list"),
    }


@login_required
@require_GET
def case_inbox(request):
    """A department's inbox: cases dispatched to it (accept or return), cases it is handling
    (arrival, feedback, extension) and cases it assists in (joint enforcement)."""
    desk = _desk(request)
    if not desk.handler:
        raise Http404
    user, now = request.user, timezone.now()
    ids = list(desk.department_ids)
    mine = Q() if desk.everything and not ids else Q(department_id__in=ids)

    def section(status):
        qs = selectors.case_list(user=user, status=status).filter(mine)
        qs = qs.order_by(F("handling_deadline").asc(nulls_last=True), "reported_at", "id")
        return list(qs[: QUEUE_CAP + 1])

    dispatched, handling = section(State.DISPATCHED), section(State.HANDLING)
    assisting = (
        list(
            selectors.case_list(user=user)
            .filter(
                status__in=[State.DISPATCHED, State.HANDLING, State.SUSPENDED],
                assignments__department_id__in=ids,
                assignments__role="assist",
                assignments__active=True,
            )
            .distinct()
            .order_by("reported_at", "id")[: QUEUE_CAP + 1]
        )
        if ids
        else []
    )
    for case in dispatched:
        case.forms = {
            a: _action_form(case, a, row=True)
            for a in (Action.ACCEPT, Action.RETURN, Action.ARRIVE)
        }
    for case in handling:
        actions = [Action.FEEDBACK, Action.EXTEND]
        if case.arrived_at is None:
            actions.insert(0, Action.ARRIVE)
        case.forms = {a: _action_form(case, a, row=True) for a in actions}
    for case in assisting:
        case.forms = {}
    calendar = selectors.calendar_get()
    sections = [
        _section("dispatched", _("Dispatched to us: accept or return"), dispatched),
        _section("handling", _("In hand: arrive, feed back"), handling),
        _section("assisting", _("Assisting (joint enforcement)"), assisting),
    ]
    for s in sections:
        _with_deadlines(s["cases"], now=now, calendar=calendar)
    return render(
        request,
        "cases/inbox.html",
        {
            "sections": sections,
            "desk": desk,
            "tab": "inbox",
            "clock": _clock(now),
            "geo": _geo_labels(),
            "nav": "cases",
        },
    )


@login_required
@require_GET
def case_verify_list(request):
    """Cases fed back in the inspector's grids, to check on site: verify or rework."""
    desk = _desk(request)
    if not desk.verifier:
        raise Http404
    user, now = request.user, timezone.now()
    feedback = CaseEvent.objects.filter(action=Action.FEEDBACK).order_by("-seq")
    after = CasePhoto.objects.filter(kind=CasePhoto.Kind.AFTER).order_by("-uploaded_at")
    cases = list(
        _within(
            selectors.case_list(user=user, status=State.FED_BACK), desk.verifier_grids, desk=desk
        )
        .prefetch_related(
            Prefetch("events", queryset=feedback, to_attr="feedbacks"),
            Prefetch("photos", queryset=after, to_attr="after_photos"),
        )
        .order_by(F("verify_deadline").asc(nulls_last=True), "id")[: QUEUE_CAP + 1]
    )
    for case in cases:
        case.last_feedback = case.feedbacks[0] if case.feedbacks else None
        case.forms = {
            a: _action_form(case, a, camera=True, row=True) for a in (Action.VERIFY, Action.REWORK)
        }
    _with_deadlines(cases, now=now, calendar=selectors.calendar_get())
    return render(
        request,
        "cases/verify.html",
        {
            "section": _section("verify", _("Cases to verify"), cases),
            "desk": desk,
            "tab": "verify",
            "clock": _clock(now),
            "geo": _geo_labels(),
            "nav": "cases",
        },
    )


@login_required
def case_report(request):
    """An inspector reports a problem from the field: category, description, a photo from the
    camera and a GPS fix; the grid is located from the point (or chosen when there is none)."""
    desk = _desk(request)
    if not desk.reporter:
        raise Http404
    user = request.user
    categories = list(selectors.category_list())
    grids = list(grid_selectors.grid_list(user=user)[:REPORT_GRID_CAP])
    form = ReportForm(
        request.POST or None, request.FILES or None, categories=categories, grids=grids
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            has_point = data["lat"] is not None and data["lng"] is not None
            try:
                case, _created = services.case_create(
                    data=services.CaseInput(
                        channel=Channel.INSPECTOR,
                        category=data["category"],
                        description=data["description"],
                        lat=data["lat"],
                        lng=data["lng"],
                        grid=None if has_point else data["grid"],
                        address=data["address"],
                        photos=data["photos"],
                    ),
                    actor=user,
                )
            except DomainError as exc:
                _errors_to_form(form, exc)
            else:
                messages.success(
                    request,
                    _("Reported as %(number)s in %(grid)s. Thank you.")
                    % {"number": case.number, "grid": case.grid.name},
                )
                return redirect("case-detail", pk=case.pk)
        status = 400
    return render(
        request,
        "cases/report.html",
        {
            "form": form,
            "categories": categories,
            "desk": desk,
            "tab": "report",
            "nav": "cases",
            "geo": _geo_labels(locate=True),
        },
        status=status,
    )


def _cursor_encode(case: Case) -> str:
    raw = f"{case.reported_at.isoformat()}|{case.pk}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _cursor_decode(value: str) -> tuple[datetime, int] | None:
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        at, pk = raw.split("|")
        moment = parse_datetime(at)
        return (moment, int(pk)) if moment else None
    except (ValueError, UnicodeDecodeError):
        return None


@login_required
@require_GET
def case_list(request):
    """Every case in scope, newest first, filtered; pages by a cursor, not a COUNT."""
    desk = _desk(request)
    if not desk.any:
        raise Http404
    user, now = request.user, timezone.now()
    categories = list(selectors.category_list())
    form = CaseFilterForm(
        request.GET or None,
        categories=categories,
        status_labels={s.value: label for s, label in STATE_LABELS.items()},
    )
    filters: dict = {}
    cursor = None
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters = {k: data[k] for k in ("status", "category", "channel") if data[k]}
        if data["overdue"]:
            filters["overdue"] = True
        if data["grid"]:
            try:
                filters["grid"] = grid_selectors.grid_get(user=user, code=data["grid"])
            except Http404:
                form.add_error("grid", _("No grid with this code among the grids you may see."))
        if data["after"]:
            cursor = _cursor_decode(data["after"])
    cases: list[Case] = []
    if not form.errors:
        qs = selectors.case_list(user=user, **filters).order_by("-reported_at", "-id")
        if cursor:
            at, pk = cursor
            qs = qs.filter(Q(reported_at__lt=at) | Q(reported_at=at, pk__lt=pk))
        cases = list(qs[: LIST_PAGE + 1])
    more = len(cases) > LIST_PAGE
    cases = _with_deadlines(cases[:LIST_PAGE], now=now, calendar=selectors.calendar_get())
    next_url = first_url = None
    if more:
        query = request.GET.copy()
        query["after"] = _cursor_encode(cases[-1])
        next_url = f"?{query.urlencode()}"
    if cursor:
        query = request.GET.copy()
        query.pop("after", None)
        first_url = f"?{query.urlencode()}" if query else reverse("case-list")
    return render(
        request,
        "cases/list.html",
        {
            "form": form,
            "cases": cases,
            "next_url": next_url,
            "first_url": first_url,
            "filtered": bool(filters),
            "desk": desk,
            "tab": "list",
            "clock": _clock(now),
            "nav": "cases",
        },
        status=400 if form.errors else 200,
    )


# --- the case page -------------------------------------------------------------------------------


def _case_for_page(request, pk: int) -> Case:
    case = (
        selectors.case_list(user=request.user)
        .filter(pk=pk)
        .select_related("created_by", "source")
        .prefetch_related(
            Prefetch("events", queryset=CaseEvent.objects.select_related("actor").order_by("seq")),
            Prefetch("photos", queryset=CasePhoto.objects.order_by("uploaded_at", "id")),
            "assignments__department",
            "breaches",
            Prefetch("return_visits", queryset=_visits()),
        )
        .first()
    )
    if case is None:
        raise Http404
    return case


def _visits():
    return ReturnVisit.objects.select_related("by").order_by("visited_at")


def _detail_context(request, case: Case, *, bound: dict | None = None) -> dict:
    """Everything the case page shows; ``bound`` holds a submitted form to show again."""
    user, now = request.user, timezone.now()
    bound = bound or {}
    kinds = selectors.actor_kinds(user=user, case=case)
    actions = _actions_for(case, kinds)
    departments, proposed = [], None
    if Action.DISPATCH in actions:
        departments = _dispatch_candidates(case, grid_selectors.department_list(user=user))
        proposed = selectors.duty_department_propose(category=case.category, grid=case.grid)
        if proposed and proposed.pk not in {d.pk for d in departments}:
            departments.insert(0, proposed)
    forms = []
    for action in actions:
        form = bound.get(action)
        if form is not None:
            form.is_open = True
        else:
            form = _action_form(case, action, departments=departments, proposed=proposed)
        forms.append(form)
    photos = list(case.photos.all())
    by_event: dict[int, list] = {}
    for photo in photos:
        if photo.event_id:
            by_event.setdefault(photo.event_id, []).append(photo)
    events = list(case.events.all())
    for event in events:
        event.label = action_label(event.action)
        event.from_label = state_label(event.from_status)
        event.to_label = state_label(event.to_status)
        event.attached = by_event.get(event.pk, [])
        event.moment = _when(event.data.get("arrived_at") or event.data.get("until"))
    my_departments = selectors.user_department_ids(user=user)
    assignments = sorted(
        case.assignments.all(), key=lambda a: (not a.active, a.role != "lead", a.pk)
    )
    names = {a.department.code: a.department.name for a in assignments}
    for event in events:
        if event.action == Action.DISPATCH:
            lead = event.data.get("department")
            event.lead_name = names.get(lead, lead)
            event.assist_names = [names.get(c, c) for c in event.data.get("assist_departments", [])]
    for assignment in assignments:
        mine = assignment.active and assignment.department_id in my_departments
        if mine and case.status not in FINAL:
            assignment.form = bound.get(("part", assignment.department_id)) or PartForm(
                initial={"department": assignment.department.code, "part": assignment.part},
                auto_id=f"id_part_{assignment.pk}_%s",
            )
    visit_form = None
    if Actor.DISPATCHER in kinds and case.status in (
        State.VERIFIED,
        State.EVALUATED,
        State.ASSESSED,
    ):
        visit_form = bound.get("visit") or ReturnVisitForm(auto_id="id_visit_%s")
    calendar = selectors.calendar_get()
    case.state_label = state_label(case.status)
    map_data = None
    if case.lat is not None and case.lng is not None:
        map_data = {
            "lat": case.lat,
            "lng": case.lng,
            "boundary": case.grid.boundary,
            "arrived": [case.arrived_lat, case.arrived_lng]
            if case.arrived_lat is not None
            else None,
            "labels": {"report": _("Reported here"), "arrived": _("Arrival recorded here")},
        }
    return {
        "case": case,
        "events": events,
        "photos": photos,
        "deadlines": _deadlines(case, now=now, calendar=calendar),
        "breaches": list(case.breaches.all()),
        "assignments": assignments,
        "visits": list(case.return_visits.all()),
        "visit_form": visit_form,
        "forms": forms,
        "allowed_all": [action_label(a) for a in allowed_actions(case.status) if a != "assess"],
        "proposed": proposed,
        "map_data": map_data,
        "clock": _clock(now),
        "geo": _geo_labels(),
        "desk": _desk(request),
        "nav": "cases",
    }


@login_required
@require_GET
def case_detail(request, pk: int):
    case = _case_for_page(request, pk)
    return render(request, "cases/detail.html", _detail_context(request, case))


def _when(value) -> datetime | None:
    """An ISO instant from an event's data, for the timeline."""
    if not isinstance(value, str):
        return None
    try:
        return parse_datetime(value)
    except ValueError:
        return None


def _safe_next(request, fallback: str) -> str:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def _errors_to_form(form, exc: DomainError) -> None:
    """Put a service's field errors on the form's fields (or on the form when it has no such
    field), so the page shows them where they belong."""
    placed = False
    for name, errors in exc.extra.items():
        if name in ("status", "allowed_actions"):
            continue
        for error in errors if isinstance(errors, list | tuple) else [errors]:
            form.add_error(name if name in form.fields else None, str(error))
            placed = True
    if not placed:
        form.add_error(None, str(exc))


@login_required
@require_POST
def case_action(request, pk: int, action: str):
    """Take one workflow action: the form for the fields the table requires, then
    ``services.case_transition``; a refusal names the state and the actions allowed now."""
    case = _case_for_page(request, pk)
    if action == Action.ASSESS or action not in Action.__members__.values():
        raise Http404
    departments = []
    if action == Action.DISPATCH:
        departments = _dispatch_candidates(case, grid_selectors.department_list(user=request.user))
        proposed = selectors.duty_department_propose(category=case.category, grid=case.grid)
        if proposed and proposed.pk not in {d.pk for d in departments}:
            departments.insert(0, proposed)
    form = _action_form(
        case, action, data=request.POST, files=request.FILES, departments=departments
    )
    status = 400
    if form.is_valid():
        try:
            services.case_transition(
                case=case,
                action=action,
                actor=request.user,
                data=services.ActionInput(**form.action_input_values()),
            )
        except Conflict as exc:
            status = 409
            _refusal(request, exc, action)
        except Forbidden as exc:
            status = 403
            _refusal(request, exc, action)
        except DomainError as exc:
            status = (
                exc.extra.get("status", 400) if isinstance(exc.extra.get("status"), int) else 400
            )
            _errors_to_form(form, exc)
        else:
            fresh = selectors.case_list(user=request.user).filter(pk=case.pk).first()
            label = state_label(fresh.status) if fresh else ""
            messages.success(
                request,
                _("%(number)s: %(action)s done. The case is now “%(state)s”.")
                % {"number": case.number, "action": action_label(action), "state": label}
                if fresh
                else _("%(number)s: %(action)s done; the case has left your grids.")
                % {"number": case.number, "action": action_label(action)},
            )
            fallback = (
                reverse("case-detail", kwargs={"pk": case.pk}) if fresh else reverse("case-list")
            )
            return redirect(_safe_next(request, fallback))
    if status in (403, 409):
        case = _case_for_page(request, pk)  # the state may have moved under us
        return render(request, "cases/detail.html", _detail_context(request, case), status=status)
    context = _detail_context(request, case, bound={action: form})
    return render(request, "cases/detail.html", context, status=status)


def _refusal(request, exc: DomainError, action: str) -> None:
    """A refused action: the table's refusal names the state and the actions it allows there;
    any other conflict (no extension asked for, no return visit before verification) keeps
    the service's reason and adds the state."""
    current = exc.extra.get("status")
    if isinstance(exc, Forbidden):
        text = _("“%(action)s” is not yours to take on this case.") % {
            "action": action_label(action)
        }
    elif current:
        allowed = [a for a in exc.extra.get("allowed_actions") or [] if a != Action.ASSESS]
        text = _(
            "“%(action)s” is not possible now: the case is “%(state)s”. Actions allowed in this state: %(allowed)s."
        ) % {
            "action": action_label(action),
            "state": state_label(current),
            "allowed": "、".join(action_label(a) for a in allowed) or _("none"),
        }
        if action in allowed:  # the table allows it; the service refused for another reason
            text = f"{exc} {text}"
    else:
        text = str(exc)
    messages.error(request, text)


@login_required
@require_POST
def case_return_visit(request, pk: int):
    """Record a return visit (回访): the complainant told the outcome."""
    case = _case_for_page(request, pk)
    if Actor.DISPATCHER not in selectors.actor_kinds(user=request.user, case=case):
        raise Http404
    form = ReturnVisitForm(request.POST, auto_id="id_visit_%s")
    status = 400
    if form.is_valid():
        try:
            services.return_visit_record(case=case, actor=request.user, **form.cleaned_data)
        except Conflict as exc:
            status = 409
            _refusal(request, exc, "visit")
        except DomainError as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, _("Return visit recorded."))
            return redirect("case-detail", pk=case.pk)
    context = _detail_context(request, case, bound={"visit": form})
    return render(request, "cases/detail.html", context, status=status)


@login_required
@require_POST
def case_part(request, pk: int):
    """Joint enforcement: a member of a department on the case records its part."""
    case = _case_for_page(request, pk)
    form = PartForm(request.POST)
    status = 400
    department = None
    if form.is_valid():
        code = form.cleaned_data["department"]
        assignment = next(
            (a for a in case.assignments.all() if a.active and a.department.code == code), None
        )
        if assignment is None:
            raise Http404
        department = assignment.department
        form.auto_id = f"id_part_{assignment.pk}_%s"
        try:
            services.assignment_part_record(
                case=case, department=department, actor=request.user, part=form.cleaned_data["part"]
            )
        except Forbidden as exc:
            status = 403
            messages.error(request, str(exc))
        except DomainError as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, _("The part of %(d)s is recorded.") % {"d": department.name})
            return redirect("case-detail", pk=case.pk)
    bound = {("part", department.pk): form} if department else {}
    context = _detail_context(request, case, bound=bound)
    return render(request, "cases/detail.html", context, status=status)


@login_required
@require_GET
def case_photo(request, pk: int, photo_pk: int):
    """A case photo, to people who may see the case only (evidence is not public)."""
    photo = selectors.case_photo_get(user=request.user, pk=pk, photo_pk=photo_pk)
    content_type = mimetypes.guess_type(photo.image.name)[0] or "application/octet-stream"
    response = FileResponse(photo.image.open("rb"), content_type=content_type)
    response["Cache-Control"] = "private, max-age=3600"
    return response
