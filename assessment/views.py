"""The assessment pages: the ranking of a year, a county's score sheet laid out like the notice's
table with each deduction's evidence, the office's facts, the mechanism records (joint meetings,
half-year reports, supervisions, requests for help, self-evaluations) and the public disclosure
page.

Views stay thin: a form parses the request, one service or selector does the work, a template
renders. Everything shown comes through the scoped selectors, so a sheet or record outside the
user's grids is a 404; bad input shows the form again with the service's errors (status 400)
and stores nothing.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from assessment import selectors, services
from assessment.forms import (
    AnswerForm,
    FactForm,
    HelpRequestForm,
    MeetingForm,
    RectificationForm,
    ReportForm,
    SelfEvaluationForm,
    SupervisionForm,
    add_domain_errors,
)
from assessment.models import RuleItem, ScoreSheet
from core.errors import DomainError, Forbidden
from grids import selectors as grid_selectors

LIST_PAGE_SIZE = 50
DISCLOSURE_PAGE_SIZE = 30
GRID_HINTS = 300
# The bar chart of the ranking: one bar per grid, in SVG user units.
CHART_BAR = 22
CHART_GAP = 6
CHART_LABEL = 200
CHART_WIDTH = 700
CHART_SCALE = Decimal(100)

MODEL_LABELS = {
    "cases.case": gettext_lazy("Case"),
    "inspections.pollutionsource": gettext_lazy("Pollution source"),
    "inspections.supervisionplan": gettext_lazy("Supervision plan"),
    "grids.grid": gettext_lazy("Grid"),
    "grids.department": gettext_lazy("Department"),
    "grids.divisionplan": gettext_lazy("Division plan"),
    "assessment.assessmentfact": gettext_lazy("Entry of the office"),
    "assessment.jointmeeting": gettext_lazy("Joint meeting"),
    "assessment.halfyearreport": gettext_lazy("Half-year report"),
    "assessment.supervision": gettext_lazy("Supervision"),
    "assessment.penaltydecision": gettext_lazy("Penalty decision"),
}
GROUP_TITLES = {
    RuleItem.Group.BONUS: gettext_lazy("Bonuses"),
    RuleItem.Group.DEDUCTION: gettext_lazy("Extra deductions"),
}


def _chinese() -> bool:
    return (get_language() or "").lower().startswith("zh")


def _title(obj) -> str:
    """The notice's Chinese words, or the English title in the English interface."""
    return obj.title if _chinese() or not obj.title_en else obj.title_en


def _year_or_404(year: int | str) -> int:
    year = int(year)  # the route's four digits
    if not 2000 <= year <= 2100:
        raise Http404
    return year


def _default_year() -> int:
    """The year the pages open on: the newest with sheets, else last year (the one Q1 runs)."""
    newest = ScoreSheet.objects.order_by("-year").values_list("year", flat=True).first()
    return newest or timezone.localdate().year - 1


def _grid_hints(user) -> list:
    return list(
        grid_selectors.grids_visible(user=user)
        .filter(level__lte=3)
        .order_by("level", "code")
        .values("code", "name")[:GRID_HINTS]
    )


def _years(year: int) -> list[int]:
    years = set(selectors.sheet_years())
    years.add(year)
    return sorted(years, reverse=True)


# --- where each piece of evidence links to --------------------------------------------------


def _route(name: str, *args) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def evidence_href(row: dict) -> str:
    """The page behind one evidence row: our own pages where there is one (cases, sources,
    facts, meetings, reports, supervisions), otherwise the link the run stored (a grid page, or
    the admin's change page) — never an API address, which a person cannot read."""
    model, pk, url = row.get("model", ""), row.get("pk"), row.get("url") or ""
    if pk is not None:
        if model == "cases.case":
            return _route("case-detail", pk) or url
        if model == "inspections.pollutionsource":
            return _route("source-detail", pk) or url
        if model == "assessment.assessmentfact":
            return reverse("assessment-fact", args=[pk])
        if model == "assessment.jointmeeting":
            return reverse("assessment-meeting", args=[pk])
        if model == "assessment.halfyearreport":
            return reverse("assessment-reports") + f"#report-{pk}"
        if model == "assessment.supervision":
            return reverse("assessment-supervisions") + f"#supervision-{pk}"
    if "/api/" in url:
        if model == "grids.grid" and "joint-meetings" in url:
            grid = parse_qs(urlsplit(url).query).get("grid", [""])[0]
            return reverse("assessment-meetings") + (f"?grid={grid}" if grid else "")
        return ""
    return url


def _evidence_rows(evidence: list[dict]) -> list[dict]:
    return [
        {
            **row,
            "href": evidence_href(row),
            "kind": MODEL_LABELS.get(row.get("model", ""), row.get("model", "")),
        }
        for row in evidence
    ]


# --- the ranking -------------------------------------------------------------------------------


@login_required
@require_GET
def assessment_home(request):
    return redirect("assessment-ranking", year=_default_year())


@dataclass(frozen=True)
class Bar:
    y: int
    width: float
    text_y: int
    value_x: float
    rank: int
    sheet: ScoreSheet


def _chart(rows) -> dict:
    """The ranking as horizontal bars: the total on a 0–100 scale (a total above 100 with its
    bonuses runs to the edge, one below 0 shows no bar)."""
    room = CHART_WIDTH - CHART_LABEL - 60
    bars = []
    for index, row in enumerate(rows):
        total = max(Decimal(0), min(row.sheet.total, CHART_SCALE))
        y = index * (CHART_BAR + CHART_GAP)
        width = round(float(total / CHART_SCALE) * room, 1)
        bars.append(
            Bar(
                y=y,
                width=width,
                text_y=y + CHART_BAR // 2 + 5,
                value_x=CHART_LABEL + width + 6,
                rank=row.rank,
                sheet=row.sheet,
            )
        )
    height = max(1, len(rows)) * (CHART_BAR + CHART_GAP)
    marks = [
        {"x": CHART_LABEL + round(room * p / 100, 1), "label": p} for p in (0, 60, 80, 90, 100)
    ]
    return {
        "bars": bars,
        "width": CHART_WIDTH,
        "height": height + 18,
        "axis_y": height + 12,
        "label_x": CHART_LABEL - 8,
        "bar_x": CHART_LABEL,
        "bar_height": CHART_BAR,
        "marks": marks,
    }


@login_required
@require_GET
def ranking_page(request, year: int):
    """Every county-level grid the user may see with total, grade and rank, best first."""
    year = _year_or_404(year)
    user = request.user
    rows = selectors.ranking(user=user, year=year)
    state = selectors.year_state(year=year)
    is_office = selectors.is_city_office(user=user)
    context = {
        "year": year,
        "years": _years(year),
        "rows": rows,
        "chart": _chart(rows),
        "rule_set": state,
        "locked": bool(state and state.locked_at),
        "is_office": is_office,
        "can_run": is_office and state is not None and not state.locked_at,
        "can_lock": is_office and state is not None and not state.locked_at and bool(rows),
        "nav": "assessment",
        "tab": "ranking",
    }
    return render(request, "assessment/ranking.html", context)


@login_required
@require_POST
def assessment_run(request, year: int):
    """Run (or re-run) the year: the office only; a locked year is refused."""
    year = _year_or_404(year)
    if not selectors.is_city_office(user=request.user):
        raise PermissionDenied(_("Only the leadership-group office may do this."))
    try:
        if selectors.year_state(year=year) is None:
            services.ruleset_install_linyi(year=year)
        sheets = services.assessment_run(year=year, actor=request.user)
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    except DomainError as exc:  # a Conflict (locked) included
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("The %(year)s sheets of %(n)s grids were computed.")
            % {"year": year, "n": len(sheets)},
        )
    return redirect(_back(request, reverse("assessment-ranking", args=[year])))


@login_required
@require_POST
def assessment_lock(request, year: int):
    """Lock the year for good: the office only; its sheets never change again."""
    year = _year_or_404(year)
    if not selectors.is_city_office(user=request.user):
        raise PermissionDenied(_("Only the leadership-group office may do this."))
    try:
        count = services.assessment_lock(year=year, actor=request.user)
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("The %(year)s assessment is locked (%(n)s sheets); they never change again.")
            % {"year": year, "n": count},
        )
    return redirect(_back(request, reverse("assessment-ranking", args=[year])))


def _back(request, default: str) -> str:
    """The page the button was on, when it is one of ours (``next`` is a path, not a URL)."""
    target = request.POST.get("next") or ""
    return target if target.startswith("/assessment/") else default


# --- the score sheet ---------------------------------------------------------------------------


@dataclass
class SectionRows:
    key: str
    title: str
    items: list


def _sections(sheet: ScoreSheet) -> list[SectionRows]:
    """The sheet's items grouped as in the notice: sections 1–3, the bonuses, the extra
    deductions; each item and line carries its display title."""
    sections: list[SectionRows] = []
    for item in sheet.items.all():
        rule_item = item.rule_item
        item.label = _title(rule_item)
        item.applied = list(item.lines.all())
        for line in item.applied:
            line.label = _title(line.rule)
        key = rule_item.group if rule_item.group != RuleItem.Group.BASE else rule_item.section
        if not sections or sections[-1].key != key:
            title = GROUP_TITLES.get(rule_item.group) or rule_item.section_title
            sections.append(SectionRows(key=key, title=str(title), items=[]))
        sections[-1].items.append(item)
    return sections


@login_required
@require_GET
def sheet_page(request, year: int, code: str):
    """One county's sheet for the year, printable; each deduction links to its evidence."""
    year = _year_or_404(year)
    user = request.user
    sheet = selectors.sheet_get(user=user, year=year, grid_code=code)
    is_office = selectors.is_city_office(user=user)
    locked = bool(sheet.locked_at or sheet.rule_set.locked_at)
    context = {
        "year": year,
        "sheet": sheet,
        "grid": sheet.grid,
        "sections": _sections(sheet),
        "locked": locked,
        "is_office": is_office,
        "can_run": is_office and not locked,
        "can_lock": is_office and not locked,
        "nav": "assessment",
        "tab": "ranking",
    }
    return render(request, "assessment/sheet.html", context)


@login_required
@require_GET
def evidence_page(request, year: int, code: str, rule: str):
    """The records behind one rule that applied on a sheet, each linked to its page."""
    year = _year_or_404(year)
    line = selectors.sheet_line_get(user=request.user, year=year, grid_code=code, code=rule)
    sheet = line.item.sheet
    rows = _evidence_rows(line.evidence or [])
    context = {
        "year": year,
        "sheet": sheet,
        "grid": sheet.grid,
        "line": line,
        "rule_title": _title(line.rule),
        "item_title": _title(line.item.rule_item),
        "rows": rows,
        "shown": len(rows),
        "nav": "assessment",
        "tab": "ranking",
    }
    return render(request, "assessment/evidence.html", context)


# --- the office's facts ------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def facts_page(request, year: int):
    """The facts entered for the year, and (for the office) the form to enter one."""
    year = _year_or_404(year)
    user = request.user
    is_office = selectors.is_city_office(user=user)
    state = selectors.year_state(year=year)
    form = None
    if is_office and state is not None:
        form = FactForm(
            request.POST if request.method == "POST" else None,
            request.FILES if request.method == "POST" else None,
            user=user,
            year=year,
        )
    elif request.method == "POST":
        raise PermissionDenied(_("Only the leadership-group office may do this."))
    if request.method == "POST" and form is not None and form.is_valid():
        try:
            fact = services.fact_enter(year=year, actor=user, **form.service_kwargs())
        except Forbidden as exc:
            raise PermissionDenied(str(exc)) from exc
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(
                request,
                _(
                    "The entry for %(grid)s (%(code)s, %(points)s) is recorded; re-run the sheets "
                    "to count it."
                )
                % {"grid": fact.grid.name, "code": fact.rule.code, "points": f"{fact.points:+}"},
            )
            return redirect("assessment-facts", year=year)
    facts = list(selectors.fact_list(user=user, year=year))
    for fact in facts:
        fact.rule_label = _title(fact.rule)
    context = {
        "year": year,
        "years": _years(year),
        "facts": facts,
        "form": form,
        "locked": bool(state and state.locked_at),
        "rule_set": state,
        "nav": "assessment",
        "tab": "facts",
    }
    failed = request.method == "POST" and form is not None and bool(form.errors)
    return render(request, "assessment/facts.html", context, status=400 if failed else 200)


@login_required
@require_GET
def fact_page(request, pk: int):
    """One entry of the office with its document: the evidence behind a fact's points."""
    fact = selectors.fact_get(user=request.user, pk=pk)
    fact.rule_label = _title(fact.rule)
    context = {
        "fact": fact,
        "year": fact.year,
        "can_withdraw": selectors.is_city_office(user=request.user)
        and not fact.withdrawn_at
        and not selectors.year_locked(year=fact.year),
        "nav": "assessment",
        "tab": "facts",
    }
    return render(request, "assessment/fact.html", context)


@login_required
@require_POST
def fact_withdraw(request, pk: int):
    fact = selectors.fact_get(user=request.user, pk=pk)
    try:
        services.fact_withdraw(fact=fact, actor=request.user, reason=request.POST.get("reason", ""))
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    except DomainError as exc:
        messages.error(request, " ".join([str(exc), *_extra_messages(exc)]))
    else:
        messages.success(request, _("The entry is withdrawn; re-run the sheets to drop it."))
    return redirect("assessment-fact", pk=fact.pk)


def _extra_messages(exc: DomainError) -> list[str]:
    out = []
    for value in exc.extra.values():
        for message in value if isinstance(value, list | tuple) else [value]:
            if isinstance(message, str) and message != str(exc):
                out.append(message)
    return out


def _document_response(field) -> FileResponse:
    if not field:
        raise Http404
    try:
        handle = field.open("rb")
    except OSError as exc:
        raise Http404 from exc
    content_type = mimetypes.guess_type(field.name)[0] or "application/octet-stream"
    if content_type.startswith("text/html") or "xml" in content_type or "svg" in content_type:
        content_type = "application/octet-stream"  # never rendered as a page of ours
    return FileResponse(
        handle,
        content_type=content_type,
        filename=field.name.rsplit("/", 1)[-1],
        headers={"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


@login_required
@require_GET
def fact_document(request, pk: int):
    return _document_response(selectors.fact_get(user=request.user, pk=pk).document)


# --- joint meetings ----------------------------------------------------------------------------


def _grid_filter(request):
    code = (request.GET.get("grid") or "").strip()
    if not code:
        return None
    return grid_selectors.grid_get(user=request.user, code=code)


def _entry_form(request, form_class, *, grid, grid_field: str):
    """A page's entry form, bound on POST, its grid field preset with ``grid`` (``?grid=``)."""
    posted = request.method == "POST"
    return form_class(
        request.POST if posted else None,
        request.FILES if posted else None,
        user=request.user,
        initial={grid_field: grid.code} if grid else None,
    )


def _entry_submitted(request, form, *, submit, done, refused_field, field_of=None):
    """Hand a posted, valid entry form to the service ``submit``: on success the message and
    the redirect ``done(record)`` gives; on a refusal ``None``, the form carrying it (a
    ``Forbidden`` on ``refused_field``, ``None`` for the whole form)."""
    if request.method != "POST" or not form.is_valid():
        return None
    try:
        record = submit(actor=request.user, **form.service_kwargs())
    except Forbidden as exc:
        form.add_error(refused_field, str(exc))
    except DomainError as exc:
        add_domain_errors(form, exc, field_of=field_of)
    else:
        message, url = done(record)
        messages.success(request, message)
        return redirect(url)
    return None


def _record_page(
    request,
    *,
    form_class,
    submit,
    done,
    selector,
    template: str,
    tab: str,
    list_url: str | None = None,
    field_of: dict | None = None,
):
    """A record list in the user's area (``?grid=`` for one grid and below) with the form that
    adds one: a POST goes to the service ``submit``, whose refusal shows on the form (400,
    nothing stored); ``done(record)`` gives the success message and where to go next."""
    user = request.user
    grid = _grid_filter(request)
    posted = request.method == "POST"
    form = _entry_form(request, form_class, grid=grid, grid_field="grid")
    submitted = _entry_submitted(
        request, form, submit=submit, done=done, refused_field="grid", field_of=field_of
    )
    if submitted:
        return submitted
    page = Paginator(selector(user=user, grid=grid), LIST_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {
        "page": page,
        "grid": grid,
        "form": form,
        "grid_hints": _grid_hints(user),
        "nav": "assessment",
        "tab": tab,
    }
    if list_url:
        context["list_url"] = list_url
    return render(request, template, context, status=400 if posted and form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def meetings_page(request):
    """Joint meetings in the user's area, and the form to record one."""
    return _record_page(
        request,
        form_class=MeetingForm,
        submit=services.joint_meeting_record,
        done=lambda meeting: (
            _("The meeting is recorded."),
            reverse("assessment-meeting", args=[meeting.pk]),
        ),
        selector=selectors.meeting_list,
        template="assessment/meetings.html",
        tab="meetings",
        field_of={"decisions": "decision"},
    )


@login_required
@require_GET
def meeting_page(request, pk: int):
    meeting = selectors.meeting_get(user=request.user, pk=pk)
    context = {
        "meeting": meeting,
        "decisions": list(meeting.decisions.all()),
        "nav": "assessment",
        "tab": "meetings",
    }
    return render(request, "assessment/meeting.html", context)


@login_required
@require_GET
def meeting_document(request, pk: int):
    return _document_response(selectors.meeting_get(user=request.user, pk=pk).document)


# --- half-year reports -------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def reports_page(request):
    """Half-yearly reports in the user's area, and the form for a county to submit one."""
    return _record_page(
        request,
        form_class=ReportForm,
        submit=services.half_year_report_submit,
        done=lambda report: (
            _("The %(year)s H%(h)s report of %(grid)s is submitted.")
            % {"year": report.year, "h": report.half, "grid": report.grid.name},
            reverse("assessment-reports") + f"#report-{report.pk}",
        ),
        selector=selectors.report_list,
        template="assessment/reports.html",
        tab="reports",
    )


# --- supervisions ------------------------------------------------------------------------------


def _may_write_supervision(rights: selectors.RecordRights, supervision) -> bool:
    """Whether the service would let the user record the rectification or publish: whoever
    may record for the supervising department, or else for the supervising grid."""
    if supervision.department_id:
        return rights.for_department(supervision.department)
    return rights.for_grid(supervision.supervisor_grid)


def _supervisions_render(request, *, form, row=None, row_form=None, row_errors=None):
    """The supervisions list with the entry form; each row the user may write carries its
    rectification form (the failed one bound, with its errors) and whether it may be
    published."""
    user = request.user
    grid = _grid_filter(request)
    page = Paginator(selectors.supervision_list(user=user, grid=grid), LIST_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    page.object_list = list(page.object_list)  # the rows carry their forms to the template
    rights = selectors.record_rights(user=user)
    for supervision in page.object_list:
        supervision.writable = _may_write_supervision(rights, supervision)
        if row is not None and supervision.pk == row:
            supervision.row_errors = row_errors or []
        if row is not None and supervision.pk == row and row_form is not None:
            supervision.rectify_form = row_form
        elif supervision.writable:
            supervision.rectify_form = RectificationForm(
                initial={"rectification": supervision.rectification},
                auto_id=f"id_r{supervision.pk}_%s",
            )
    context = {
        "page": page,
        "grid": grid,
        "form": form,
        "grid_hints": _grid_hints(user),
        "list_url": reverse("assessment-supervisions"),
        "nav": "assessment",
        "tab": "supervisions",
    }
    failed = request.method == "POST" and (
        bool(form.errors) or bool(row_errors) or bool(row_form is not None and row_form.errors)
    )
    return render(request, "assessment/supervisions.html", context, status=400 if failed else 200)


def _list_anchor(request, name: str, anchor: str) -> str:
    """The list page (with the grid and page the row's form was posted from) at a row."""
    query = request.GET.urlencode()
    return reverse(name) + (f"?{query}" if query else "") + f"#{anchor}"


def _supervision_anchor(pk: int) -> str:
    return reverse("assessment-supervisions") + f"#supervision-{pk}"


@login_required
@require_http_methods(["GET", "POST"])
def supervisions_page(request):
    """Supervisions in the user's area, and the form to record one."""
    form = _entry_form(
        request, SupervisionForm, grid=_grid_filter(request), grid_field="supervisor_grid"
    )
    submitted = _entry_submitted(
        request,
        form,
        submit=services.supervision_record,
        done=lambda supervision: (
            _("The supervision of %(grid)s is recorded.") % {"grid": supervision.target_grid.name},
            _supervision_anchor(supervision.pk),
        ),
        refused_field=None,
    )
    if submitted:
        return submitted
    return _supervisions_render(request, form=form)


@login_required
@require_POST
def supervision_rectify(request, pk: int):
    """Record what was done about a supervision's findings."""
    supervision = selectors.supervision_get(user=request.user, pk=pk)
    row_form = RectificationForm(request.POST, auto_id=f"id_r{pk}_%s")
    if row_form.is_valid():
        try:
            services.supervision_rectification_record(
                supervision=supervision, actor=request.user, **row_form.service_kwargs()
            )
        except Forbidden as exc:
            row_form.add_error(None, str(exc))
        except DomainError as exc:
            add_domain_errors(row_form, exc)
        else:
            messages.success(request, _("The rectification is recorded."))
            return redirect(_list_anchor(request, "assessment-supervisions", f"supervision-{pk}"))
    return _supervisions_render(
        request, form=SupervisionForm(user=request.user), row=int(pk), row_form=row_form
    )


@login_required
@require_POST
def supervision_publish(request, pk: int):
    """Publish a supervision's findings and rectification on the disclosure page."""
    supervision = selectors.supervision_get(user=request.user, pk=pk)
    try:
        services.supervision_publish(supervision=supervision, actor=request.user)
    except DomainError as exc:  # Forbidden and Conflict included
        return _supervisions_render(
            request,
            form=SupervisionForm(user=request.user),
            row=int(pk),
            row_errors=[str(exc), *_extra_messages(exc)],
        )
    messages.success(request, _("The supervision is published on the disclosure page."))
    return redirect(_list_anchor(request, "assessment-supervisions", f"supervision-{pk}"))


# --- self-evaluations -------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def self_evaluations_page(request):
    """Self-evaluations in the user's area, and the form for a grid to submit its own."""
    return _record_page(
        request,
        form_class=SelfEvaluationForm,
        submit=services.self_evaluation_submit,
        done=lambda evaluation: (
            _("The %(year)s self-evaluation of %(grid)s is submitted.")
            % {"year": evaluation.year, "grid": evaluation.grid.name},
            reverse("assessment-self-evaluations") + f"#self-{evaluation.pk}",
        ),
        selector=selectors.self_evaluation_list,
        template="assessment/self_evaluations.html",
        tab="self",
        list_url=reverse("assessment-self-evaluations"),
    )


# --- requests for help ------------------------------------------------------------------------


def _help_render(request, *, form, row=None, row_form=None):
    """The requests list with the entry form; each open request the user may answer (he may
    record for the asked grid) carries its answer form, the failed one bound."""
    user = request.user
    grid = _grid_filter(request)
    page = Paginator(selectors.help_request_list(user=user, grid=grid), LIST_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    page.object_list = list(page.object_list)  # the rows carry their forms to the template
    rights = selectors.record_rights(user=user)
    for help_request in page.object_list:
        if help_request.answered_at:
            continue
        if row is not None and help_request.pk == row:
            help_request.answer_form = row_form
        elif rights.for_grid(help_request.to_grid):
            help_request.answer_form = AnswerForm(auto_id=f"id_a{help_request.pk}_%s")
    context = {
        "page": page,
        "grid": grid,
        "form": form,
        "grid_hints": _grid_hints(user),
        "list_url": reverse("assessment-help-requests"),
        "nav": "assessment",
        "tab": "help",
    }
    failed = request.method == "POST" and (
        bool(form.errors) or bool(row_form is not None and row_form.errors)
    )
    return render(request, "assessment/help_requests.html", context, status=400 if failed else 200)


def _help_anchor(pk: int) -> str:
    return reverse("assessment-help-requests") + f"#help-{pk}"


@login_required
@require_http_methods(["GET", "POST"])
def help_requests_page(request):
    """Requests for help from or to the user's grids, and the form to ask one."""
    form = _entry_form(request, HelpRequestForm, grid=_grid_filter(request), grid_field="from_grid")
    submitted = _entry_submitted(
        request,
        form,
        submit=services.help_request_make,
        done=lambda help_request: (
            _("The request is sent to %(grid)s.") % {"grid": help_request.to_grid.name},
            _help_anchor(help_request.pk),
        ),
        refused_field="from_grid",
    )
    if submitted:
        return submitted
    return _help_render(request, form=form)


@login_required
@require_POST
def help_request_answer(request, pk: int):
    """The asked grid answers a request for help."""
    help_request = selectors.help_request_get(user=request.user, pk=pk)
    row_form = AnswerForm(request.POST, auto_id=f"id_a{pk}_%s")
    if row_form.is_valid():
        try:
            services.help_request_answer(
                request=help_request, actor=request.user, answer=row_form.cleaned_data["answer"]
            )
        except DomainError as exc:  # Forbidden and Conflict included
            add_domain_errors(row_form, exc)
        else:
            messages.success(request, _("The answer is recorded."))
            return redirect(_list_anchor(request, "assessment-help-requests", f"help-{pk}"))
    return _help_render(
        request, form=HelpRequestForm(user=request.user), row=int(pk), row_form=row_form
    )


# --- public disclosure (no login) -------------------------------------------------------------


@require_GET
def disclosure_page(request):
    """Published supervision findings with their rectification, and published penalty
    decisions (Linyi disclosure rules 1 and 2). No login; only what was published."""
    supervisions = Paginator(selectors.disclosure_supervisions(), DISCLOSURE_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    penalties = Paginator(selectors.disclosure_penalties(), DISCLOSURE_PAGE_SIZE).get_page(
        request.GET.get("penalties")
    )
    context = {"supervisions": supervisions, "penalties": penalties, "nav": "disclosure"}
    return render(request, "assessment/disclosure.html", context)
