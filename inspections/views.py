"""The inspection pages: the source register and a source's page, the overdue list, "my sources
due" and the patrol form for a phone, the printable on-site inspection record (现场检查笔录),
the import of a source list, the inspection ledger and the plans.

Views stay thin: a form parses the request, one service or selector does the work, a template
renders. Everything shown comes through the scoped selectors, so a source or patrol outside the
user's grids is a 404; bad input shows the form again with its errors (status 400) and stores
nothing.
"""

from __future__ import annotations

import io
import mimetypes
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import DateField, F, Value
from django.db.models.functions import Coalesce, Least
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from PIL import Image, UnidentifiedImageError

from core.errors import DomainError, Forbidden
from grids import selectors as grid_selectors
from inspections import excel, ledger, selectors, services
from inspections.forms import (
    LedgerForm,
    PatrolForm,
    PlansForm,
    SourceFilterForm,
    SourceImportForm,
)
from inspections.models import (
    Checklist,
    ControlTier,
    Patrol,
    PatrolAlarm,
    PatrolPhoto,
    PollutionSource,
    SourceChange,
    SourceKind,
)

REGISTER_PAGE_SIZE = 50
OVERDUE_PAGE_SIZE = 50
DUE_LIMIT = 200
TIMELINE_PAGE_SIZE = 20
HISTORY_LIMIT = 30
ALARM_LIMIT = 20
LEDGER_PAGE_SIZE = 100
GRID_HINTS = 300
# "Due soon" (yellow) means due within this many days; "my sources due" looks as far ahead.
DUE_SOON_DAYS = 3
THUMB_SIZE = (320, 320)
FAR_FUTURE = date(9999, 12, 31)


# --- the traffic light --------------------------------------------------------------------


@dataclass(frozen=True)
class Due:
    """A due date read against today: red when past, yellow when close, green otherwise."""

    on: date | None
    state: str  # overdue | soon | ok | none
    days_overdue: int = 0
    days_left: int = 0


def due_light(on: date | None, today: date) -> Due:
    if on is None:
        return Due(on=None, state="none")
    delta = (on - today).days
    if delta < 0:
        return Due(on=on, state="overdue", days_overdue=-delta)
    if delta <= DUE_SOON_DAYS:
        return Due(on=on, state="soon", days_left=delta)
    return Due(on=on, state="ok", days_left=delta)


_SEVERITY = {"overdue": 3, "soon": 2, "ok": 1, "none": 0}


def _mark_due(sources, today: date) -> None:
    """Attach the on-site and online lights, and the worse of the two, to each source."""
    for source in sources:
        source.patrol_due = due_light(source.next_patrol_due, today)
        source.online_due = (
            due_light(source.next_online_check_due, today)
            if source.online_monitoring and source.status == PollutionSource.Status.ACTIVE
            else None
        )
        lights = [source.patrol_due] + ([source.online_due] if source.online_due else [])
        source.light = max(lights, key=lambda d: (_SEVERITY[d.state], d.days_overdue))


def _grid_hints(user) -> list:
    """Grid codes for the filter's autocomplete: the upper levels of the user's area."""
    return list(
        grid_selectors.grids_visible(user=user)
        .order_by("level", "code")
        .values("code", "name")[:GRID_HINTS]
    )


# --- the register -------------------------------------------------------------------------


@login_required
@require_GET
def source_list(request):
    user = request.user
    form = SourceFilterForm(request.GET or None, user=user)
    today = timezone.localdate()
    page = None
    export_query = ""
    if not request.GET or form.is_valid():
        filters = form.filters() if request.GET else {}
        sources = selectors.source_list(user=user, **filters)
        page = Paginator(sources, REGISTER_PAGE_SIZE).get_page(request.GET.get("page"))
        _mark_due(page.object_list, today)
        export_query = urlencode(form.query()) if request.GET else ""
    context = {
        "form": form,
        "page": page,
        "export_query": export_query,
        "grid_hints": _grid_hints(user),
        "nav": "sources",
        "tab": "register",
    }
    return render(
        request, "inspections/source_list.html", context, status=400 if page is None else 200
    )


CHANGE_ACTIONS = {
    "create": gettext_lazy("Registered"),
    "update": gettext_lazy("Changed"),
    "confirm": gettext_lazy("Confirmed"),
    "close": gettext_lazy("Closed"),
    "tighten": gettext_lazy("Patrols tightened"),
}


def _field_label(name: str) -> str:
    if name == "grid":
        return _("grid")
    if name == "tightened_until":
        return _("patrols tightened until")
    try:
        return str(PollutionSource._meta.get_field(name).verbose_name)
    except Exception:  # noqa: BLE001 - an old snapshot may hold a field since removed
        return name


def _value_label(name: str, value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    choices = {
        "kind": SourceKind,
        "control_tier": ControlTier,
        "status": PollutionSource.Status,
    }.get(name)
    if choices is not None and value in choices.values:
        return str(choices(value).label)
    return str(value)


def _change_diff(change: SourceChange) -> list[tuple[str, str, str]]:
    """(field, before, after) for each field a change touched."""
    before, after = change.before or {}, change.after or {}
    if change.action == "create":
        return []
    rows = []
    for name in [*after.keys(), *(k for k in before if k not in after)]:
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        rows.append((_field_label(name), _value_label(name, old), _value_label(name, new)))
    return rows


@login_required
@require_GET
def source_detail(request, pk: int):
    user = request.user
    source = selectors.source_get(user=user, pk=pk)
    today = timezone.localdate()
    _mark_due([source], today)
    roles = grid_selectors.user_roles_over(user=user, grid=source.grid)

    patrols = Paginator(
        selectors.patrol_list(user=user, source=source), TIMELINE_PAGE_SIZE
    ).get_page(request.GET.get("page"))
    for patrol in patrols.object_list:
        patrol.checks = list((patrol.checklist or {}).items())
        patrol.checks_ok = sum(1 for _item, ok in patrol.checks if ok)
    alarms = list(
        selectors.patrol_alarm_list(user=user)
        .filter(source=source)
        .select_related("cleared_by")[:ALARM_LIMIT]
    )
    changes = list(source.changes.select_related("actor")[:HISTORY_LIMIT])
    for change in changes:
        change.label = CHANGE_ACTIONS.get(change.action, change.action)
        change.diff = _change_diff(change)

    context = {
        "source": source,
        "patrols": patrols,
        "alarms": alarms,
        "changes": changes,
        "history_limit": HISTORY_LIMIT,
        "can_confirm": source.status == PollutionSource.Status.REPORTED
        and bool(roles & services.ENFORCEMENT_ROLES),
        "can_patrol": source.status == PollutionSource.Status.ACTIVE
        and bool(roles & services.PATROL_ROLES),
        "nav": "sources",
        "tab": "register",
    }
    return render(request, "inspections/source_detail.html", context)


@login_required
@require_POST
def source_confirm(request, pk: int):
    source = selectors.source_get(user=request.user, pk=pk)
    try:
        services.source_confirm(source=source, actor=request.user)
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("%(name)s is confirmed; its patrol schedule starts today.") % {"name": source.name},
        )
    return redirect("source-detail", pk=source.pk)


# --- overdue and due ----------------------------------------------------------------------


@login_required
@require_GET
def sources_overdue(request):
    """Active sources past due in the user's area, most overdue first, with their alarms."""
    user = request.user
    today = timezone.localdate()
    # The earlier of the two due dates that are set (the online one only where monitored).
    first_due = Least(
        Coalesce(F("next_patrol_due"), Value(FAR_FUTURE), output_field=DateField()),
        Coalesce(F("next_online_check_due"), Value(FAR_FUTURE), output_field=DateField()),
        output_field=DateField(),
    )
    sources = (
        selectors.source_list(user=user, overdue=True, on=today)
        .annotate(first_due=first_due)
        .order_by("first_due", "next_patrol_due", "pk")
    )
    page = Paginator(sources, OVERDUE_PAGE_SIZE).get_page(request.GET.get("page"))
    _mark_due(page.object_list, today)
    alarms: dict[int, list[PatrolAlarm]] = {}
    ids = [s.pk for s in page.object_list]
    if ids:
        for alarm in (
            selectors.patrol_alarm_list(user=user, status=PatrolAlarm.Status.OPEN)
            .filter(source_id__in=ids)
            .order_by("source_id", "due_on")
        ):
            alarms.setdefault(alarm.source_id, []).append(alarm)
    for source in page.object_list:
        source.open_alarms = alarms.get(source.pk, [])
        source.escalated = any(a.level == PatrolAlarm.Level.PRINCIPAL for a in source.open_alarms)
    context = {"page": page, "today": today, "nav": "sources", "tab": "overdue"}
    return render(request, "inspections/sources_overdue.html", context)


@login_required
@require_GET
def sources_due(request):
    """The inspector's "my sources due", most urgent first, for a phone."""
    user = request.user
    today = timezone.localdate()
    sources = list(
        selectors.sources_due(user=user, on=today, within_days=DUE_SOON_DAYS)[:DUE_LIMIT]
    )
    _mark_due(sources, today)
    # Most urgent first: the longest overdue (by either check), then the soonest due.
    sources.sort(
        key=lambda s: (-_SEVERITY[s.light.state], -s.light.days_overdue, s.light.days_left)
    )
    context = {
        "sources": sources,
        "limit": DUE_LIMIT,
        "overdue_count": sum(1 for s in sources if s.light.state == "overdue"),
        "nav": "sources",
        "tab": "due",
    }
    return render(request, "inspections/sources_due.html", context)


# --- the patrol form ----------------------------------------------------------------------


# What static/js/patrol-form.js says while it finds the position ({lat}, {lng}, {acc} and
# {n} are filled in by the script).
GPS_LABELS = {
    "locating": gettext_lazy("Finding the position…"),
    "found": gettext_lazy("Position {lat}, {lng} (accurate to {acc} m)"),
    "kept": gettext_lazy("Position {lat}, {lng}, as sent"),
    "coarse": gettext_lazy("The position is only accurate to {acc} m; try again outdoors."),
    "denied": gettext_lazy(
        "Location access was refused. Allow it for this site in the browser, then try again."
    ),
    "unavailable": gettext_lazy("No position could be found. Try again, outdoors if you can."),
    "timeout": gettext_lazy("Finding the position took too long. Try again."),
    "unsupported": gettext_lazy("This browser cannot give a position."),
    "needed": gettext_lazy(
        "Wait for the position before saving: an on-site patrol records where it took place."
    ),
    "photos": gettext_lazy("{n} photo(s) attached"),
}


@login_required
@require_http_methods(["GET", "POST"])
def patrol_create(request, pk: int):
    user = request.user
    source = selectors.source_get(user=user, pk=pk)
    roles = grid_selectors.user_roles_over(user=user, grid=source.grid)
    if not roles & services.PATROL_ROLES:
        raise PermissionDenied(_("You may not record patrols in this grid."))
    checklist = Checklist.objects.filter(kind=source.kind).first()
    form = PatrolForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
        source=source,
        user=user,
        roles=roles,
        checklist_items=list(checklist.items) if checklist else [],
        initial={"kind": request.GET.get("kind")} if request.GET.get("kind") else None,
    )
    if request.method == "POST" and form.is_valid():
        try:
            patrol = services.patrol_record(source=source, data=form.patrol_input(), actor=user)
        except DomainError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(
                request,
                _("The %(kind)s of %(name)s is recorded.")
                % {"kind": patrol.get_kind_display(), "name": source.name},
            )
            return redirect("sources-due")
    sent_photos = request.method == "POST" and bool(request.FILES.getlist("photos"))
    context = {
        "source": source,
        "form": form,
        "sent_photos": sent_photos,
        "gps_labels": GPS_LABELS,
        "is_active": source.status == PollutionSource.Status.ACTIVE,
        "nav": "sources",
        "tab": "due",
    }
    return render(
        request, "inspections/patrol_form.html", context, status=400 if form.errors else 200
    )


def _patrol_get(request, pk: int) -> Patrol:
    patrol = selectors.patrol_list(user=request.user).filter(pk=pk).first()
    if patrol is None:
        raise Http404
    return patrol


@login_required
@require_GET
def patrol_record_sheet(request, pk: int):
    """The on-site inspection record (现场检查笔录) of one patrol, to print and sign."""
    patrol = _patrol_get(request, pk)
    context = {
        "patrol": patrol,
        "source": patrol.source,
        "officers": list(patrol.officers.all()),
        "checks": list((patrol.checklist or {}).items()),
        "photos": list(patrol.photos.all()),
        "nav": "sources",
    }
    return render(request, "inspections/patrol_record.html", context)


@login_required
@require_GET
def patrol_photo(request, pk: int, photo_pk: int):
    """A patrol's photo (``?thumb=1``: a small JPEG), only for those who may see the patrol."""
    photo = (
        PatrolPhoto.objects.filter(
            pk=photo_pk,
            patrol_id=pk,
            patrol__in=selectors.patrol_list(user=request.user).values("pk"),
        )
        .only("image", "sha256")
        .first()
    )
    if photo is None:
        raise Http404
    headers = {"Cache-Control": "private, max-age=86400", "ETag": f'"{photo.sha256}"'}
    if request.GET.get("thumb"):
        try:
            with photo.image.open("rb") as stored, Image.open(stored) as image:
                image = image.convert("RGB")
                image.thumbnail(THUMB_SIZE)
                out = io.BytesIO()
                image.save(out, "JPEG", quality=80)
        except (OSError, UnidentifiedImageError) as exc:
            raise Http404 from exc
        headers["ETag"] = f'"{photo.sha256}-t"'
        return HttpResponse(out.getvalue(), content_type="image/jpeg", headers=headers)
    content_type = mimetypes.guess_type(photo.image.name)[0] or "application/octet-stream"
    if not content_type.startswith("image/"):
        content_type = "application/octet-stream"
    response = FileResponse(photo.image.open("rb"), content_type=content_type)
    for key, value in headers.items():
        response[key] = value
    return response


# --- import -------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def source_import(request):
    form = SourceImportForm(request.POST or None, request.FILES or None)
    rejected = None
    file_problems: dict = {}
    if request.method == "POST" and form.is_valid():
        try:
            created = excel.source_import(
                workbook_bytes=form.cleaned_data["file"].read(),
                actor=request.user,
                grid_scope_user=request.user,
            )
        except excel.SourceImportRejected as exc:
            rejected = {
                "message": str(exc),
                "rows": exc.extra.get("rows", []),
                "total": exc.extra.get("errors_total", len(exc.rows)),
            }
        except DomainError as exc:
            form.add_error("file", str(exc))
            file_problems = {
                "missing": exc.extra.get("missing_columns") or [],
                "unknown": exc.extra.get("unknown_columns") or [],
                "repeated": exc.extra.get("repeated_columns") or [],
            }
        else:
            messages.success(
                request,
                _("%(n)s sources were registered from the file.") % {"n": created},
            )
            return redirect("source-list")
    failed = request.method == "POST" and (rejected is not None or bool(form.errors))
    context = {
        "form": form,
        "rejected": rejected,
        "file_problems": file_problems,
        "nav": "sources",
        "tab": "import",
    }
    return render(request, "inspections/source_import.html", context, status=400 if failed else 200)


# --- ledger and plans ---------------------------------------------------------------------


def _ledger_defaults(user) -> dict[str, str]:
    """This month, for the user's own department when there is one, else the top grid."""
    today = timezone.localdate()
    initial = {"start": today.replace(day=1).isoformat(), "end": today.isoformat()}
    department = grid_selectors.department_list(user=user).filter(members=user).first()
    if department is not None:
        initial["department"] = department.code
    else:
        top = grid_selectors.grids_visible(user=user).order_by("level", "code").first()
        if top is not None:
            initial["grid"] = top.code
    return initial


@login_required
@require_GET
def ledger_page(request):
    user = request.user
    data = request.GET if request.GET else _ledger_defaults(user)
    form = LedgerForm(data, user=user)
    page = None
    title = ""
    query = ""
    if form.is_valid():
        params = {
            "start": form.cleaned_data["start"],
            "end": form.cleaned_data["end"],
            "department": form.cleaned_data.get("department"),
            "grid": form.cleaned_data.get("grid"),
        }
        kind = form.cleaned_data.get("kind")
        rows = ledger.ledger_rows(
            user=user, kinds=[kind] if kind else ledger.ON_SITE_KINDS, **params
        )
        page = Paginator(rows, LEDGER_PAGE_SIZE).get_page(request.GET.get("page"))
        title = ledger.ledger_title(**params)
        query = urlencode({**form.query(), "format": "xlsx"})
    context = {
        "form": form,
        "page": page,
        "title": title,
        "xlsx_query": query,
        "grid_hints": _grid_hints(user),
        "nav": "sources",
        "tab": "ledger",
    }
    return render(request, "inspections/ledger.html", context, status=200 if page else 400)


@login_required
@require_GET
def plans_page(request):
    user = request.user
    today = timezone.localdate()
    defaults = {"year": today.year, "month": today.strftime("%Y-%m")}
    form = PlansForm({**defaults, **request.GET.dict()})
    supervision, monthly = [], []
    if form.is_valid():
        supervision = list(ledger.supervision_plan_list(user=user, year=form.cleaned_data["year"]))
        done = ledger.supervision_plan_completion(plans=supervision)
        for plan in supervision:
            plan.completion = done[plan.pk]
        monthly = list(ledger.patrol_plan_list(user=user, month=form.cleaned_data["month"]))
        progress = ledger.patrol_plan_progress(plans=monthly)
        for plan in monthly:
            plan.progress = progress[plan.pk]
            plan.completion = plan.progress.completion
    context = {
        "form": form,
        "supervision": supervision,
        "monthly": monthly,
        "nav": "sources",
        "tab": "plans",
    }
    return render(
        request, "inspections/plans.html", context, status=200 if form.is_valid() else 400
    )
