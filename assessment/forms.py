"""Forms of the assessment pages. They parse the input's shape; the rules (points within the
rule's range, no entries for a locked year, no meeting in the future, reports only from the grids
that owe them …) are the services', whose refusals ``add_domain_errors`` puts back on the fields
they name, so a page shows the same message the API answers with a 400."""

from __future__ import annotations

from datetime import date

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from assessment import selectors
from assessment.models import JointMeeting, MeetingDecision
from core.models import User
from grids import selectors as grid_selectors
from grids.models import Department, Grid
from inspections.forms import add_domain_errors

__all__ = [
    "AnswerForm",
    "FactForm",
    "HelpRequestForm",
    "MeetingForm",
    "RectificationForm",
    "ReportForm",
    "SelfEvaluationForm",
    "SupervisionForm",
    "add_domain_errors",
]

DATE_INPUT = forms.DateInput(attrs={"type": "date"})
GRID_CODE_RE = r"^\d{12,15}$"


class _GridCodeField(forms.RegexField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", gettext_lazy("Grid code"))
        super().__init__(
            regex=GRID_CODE_RE,
            error_messages={"invalid": gettext_lazy("A grid code has 12 to 15 digits.")},
            widget=forms.TextInput(
                attrs={"inputmode": "numeric", "list": "grid-codes", "autocomplete": "off"}
            ),
            **kwargs,
        )


def _visible_grid(user: User, code: str) -> Grid:
    grid = grid_selectors.grids_visible(user=user).filter(code=code).first()
    if grid is None:
        raise forms.ValidationError(_("Unknown grid, or it lies outside your area."))
    return grid


def _department_of(user: User, code: str | None) -> Department | None:
    code = (code or "").strip()
    if not code:
        return None
    department = grid_selectors.department_list(user=user).filter(code=code).first()
    if department is None:
        raise forms.ValidationError(_("Unknown department, or it lies outside your area."))
    return department


class FactForm(forms.Form):
    """A fact the office enters for a county-level grid: which rule, how many points (the
    rule's own when empty), when, what happened, and the document that proves it."""

    grid = forms.ModelChoiceField(
        label=gettext_lazy("County-level grid"), queryset=Grid.objects.none(), to_field_name="code"
    )
    rule = forms.ChoiceField(label=gettext_lazy("Rule"))
    points = forms.DecimalField(
        label=gettext_lazy("Points"),
        required=False,
        max_digits=7,
        decimal_places=2,
        help_text=gettext_lazy(
            "Empty: the rule's own points. Bonuses positive, deductions negative."
        ),
    )
    occurred_on = forms.DateField(
        label=gettext_lazy("Occurred on"), required=False, widget=DATE_INPUT
    )
    note = forms.CharField(
        label=gettext_lazy("What happened"), widget=forms.Textarea(attrs={"rows": 3})
    )
    document = forms.FileField(
        label=gettext_lazy("Document"),
        required=False,
        help_text=gettext_lazy("The notice, report or decision that proves it (PDF, OFD, Word …)."),
    )

    def __init__(self, *args, user: User, year: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["grid"].queryset = selectors.assessed_grids(user=user, year=year)
        self.fields["grid"].label_from_instance = lambda g: f"{g.name}（{g.code}）"
        self.fields["rule"].choices = [("", "—")] + [
            (r.code, f"{r.code} {r.title}") for r in selectors.fact_rules(year=year)
        ]

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "grid": data["grid"],
            "rule_code": data["rule"],
            "points": data.get("points"),
            "occurred_on": data.get("occurred_on"),
            "note": data["note"],
            "document": data.get("document"),
        }


class MeetingForm(forms.Form):
    """A joint meeting with its minutes and, optionally, one decision."""

    grid = _GridCodeField()
    held_on = forms.DateField(label=gettext_lazy("Held on"), widget=DATE_INPUT)
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"), choices=JointMeeting.Kind.choices, initial="regular"
    )
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200)
    chaired_by = forms.CharField(label=gettext_lazy("Chaired by"), max_length=100, required=False)
    attendees = forms.CharField(
        label=gettext_lazy("Attendees"),
        help_text=gettext_lazy("One per line."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    minutes = forms.CharField(
        label=gettext_lazy("Minutes"), widget=forms.Textarea(attrs={"rows": 4})
    )
    document = forms.FileField(label=gettext_lazy("Minutes (document)"), required=False)
    decision = forms.CharField(
        label=gettext_lazy("Decision"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("Optional: one decision of the meeting."),
    )
    issued_as = forms.ChoiceField(
        label=gettext_lazy("Issued as"),
        choices=MeetingDecision.IssuedAs.choices,
        initial=MeetingDecision.IssuedAs.MINUTES,
        required=False,
    )
    department = forms.CharField(
        label=gettext_lazy("Department to act (code)"), max_length=60, required=False
    )
    due_on = forms.DateField(label=gettext_lazy("Due on"), required=False, widget=DATE_INPUT)

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_grid(self) -> Grid:
        return _visible_grid(self.user, self.cleaned_data["grid"])

    def clean_department(self) -> Department | None:
        return _department_of(self.user, self.cleaned_data.get("department"))

    def service_kwargs(self) -> dict:
        from assessment.services import DecisionInput

        data = self.cleaned_data
        decisions = []
        if (data.get("decision") or "").strip():
            decisions.append(
                DecisionInput(
                    text=data["decision"],
                    issued_as=data.get("issued_as") or MeetingDecision.IssuedAs.MINUTES,
                    department=data.get("department"),
                    due_on=data.get("due_on"),
                )
            )
        return {
            "grid": data["grid"],
            "held_on": data["held_on"],
            "kind": data["kind"],
            "title": data["title"],
            "chaired_by": data.get("chaired_by") or "",
            "attendees": data["attendees"].splitlines(),
            "minutes": data["minutes"],
            "document": data.get("document"),
            "decisions": decisions,
        }


def _this_half() -> tuple[int, int]:
    """The half-year whose report is due next: H1 from July, else H2 of last year."""
    today = timezone.localdate()
    return (today.year, 1) if today >= date(today.year, 7, 1) else (today.year - 1, 2)


class ReportForm(forms.Form):
    """A county-level grid's half-yearly report to the city office."""

    grid = _GridCodeField()
    year = forms.IntegerField(label=gettext_lazy("Year"), min_value=2000, max_value=2100)
    half = forms.TypedChoiceField(
        label=gettext_lazy("Half"),
        coerce=int,
        choices=[
            (1, gettext_lazy("First half (due 10 July)")),
            (2, gettext_lazy("Second half (due 10 January)")),
        ],
    )
    summary = forms.CharField(
        label=gettext_lazy("Summary"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("Patrol ledger, supervision and the work of the half-year."),
    )
    document = forms.FileField(label=gettext_lazy("Document"), required=False)

    def __init__(self, *args, user: User, **kwargs):
        year, half = _this_half()
        kwargs["initial"] = {"year": year, "half": half, **(kwargs.get("initial") or {})}
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_grid(self) -> Grid:
        return _visible_grid(self.user, self.cleaned_data["grid"])

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "grid": data["grid"],
            "year": data["year"],
            "half": data["half"],
            "summary": data["summary"],
            "document": data.get("document"),
        }


class SupervisionForm(forms.Form):
    """A supervision of a grid below by its grid's office, or by one of its departments."""

    supervisor_grid = _GridCodeField(label=gettext_lazy("Supervising grid (code)"))
    target_grid = _GridCodeField(label=gettext_lazy("Supervised grid (code)"))
    department = forms.CharField(
        label=gettext_lazy("Department (code)"),
        max_length=60,
        required=False,
        help_text=gettext_lazy("Empty: a comprehensive supervision by the grid's office."),
    )
    held_on = forms.DateField(label=gettext_lazy("Held on"), widget=DATE_INPUT)
    topic = forms.CharField(label=gettext_lazy("Topic"), max_length=200)
    findings = forms.CharField(
        label=gettext_lazy("Findings"), widget=forms.Textarea(attrs={"rows": 4})
    )
    rectification_due = forms.DateField(
        label=gettext_lazy("Rectification due"), required=False, widget=DATE_INPUT
    )
    document = forms.FileField(label=gettext_lazy("Document"), required=False)

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_department(self) -> Department | None:
        return _department_of(self.user, self.cleaned_data.get("department"))

    def clean(self) -> dict:
        """The grids by code: for a department's supervision any grid (the service checks it
        lies in the department's area, as the API does), else one the user may see."""
        data = super().clean()
        department = data.get("department")
        for name in ("supervisor_grid", "target_grid"):
            code = data.get(name)
            if not code:
                continue
            try:
                if department is None:
                    data[name] = _visible_grid(self.user, code)
                else:
                    grid = Grid.objects.filter(code=code).first()
                    if grid is None:
                        raise forms.ValidationError(_("Unknown grid."))
                    data[name] = grid
            except forms.ValidationError as exc:
                self.add_error(name, exc)
        return data

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "supervisor_grid": data["supervisor_grid"],
            "target_grid": data["target_grid"],
            "department": data.get("department"),
            "held_on": data["held_on"],
            "topic": data["topic"],
            "findings": data["findings"],
            "rectification_due": data.get("rectification_due"),
            "document": data.get("document"),
        }


class RectificationForm(forms.Form):
    """What the supervised grid did about a supervision's findings, and when."""

    rectification = forms.CharField(
        label=gettext_lazy("Rectification"), widget=forms.Textarea(attrs={"rows": 2})
    )
    rectified_on = forms.DateField(
        label=gettext_lazy("Rectified on"), required=False, widget=DATE_INPUT
    )

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {"rectification": data["rectification"], "rectified_on": data.get("rectified_on")}


class SelfEvaluationForm(forms.Form):
    """A grid's yearly evaluation of its own running, reported upward."""

    grid = _GridCodeField()
    year = forms.IntegerField(label=gettext_lazy("Year"), min_value=2000, max_value=2100)
    score = forms.DecimalField(
        label=gettext_lazy("Own score"),
        required=False,
        max_digits=6,
        decimal_places=2,
        help_text=gettext_lazy("Optional, 0 to 200."),
    )
    summary = forms.CharField(
        label=gettext_lazy("Summary"), widget=forms.Textarea(attrs={"rows": 4})
    )
    problems = forms.CharField(
        label=gettext_lazy("Problems found"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    document = forms.FileField(label=gettext_lazy("Document"), required=False)

    def __init__(self, *args, user: User, **kwargs):
        kwargs["initial"] = {
            "year": timezone.localdate().year - 1,
            **(kwargs.get("initial") or {}),
        }
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_grid(self) -> Grid:
        return _visible_grid(self.user, self.cleaned_data["grid"])

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "grid": data["grid"],
            "year": data["year"],
            "score": data.get("score"),
            "summary": data["summary"],
            "problems": data.get("problems") or "",
            "document": data.get("document"),
        }


class HelpRequestForm(forms.Form):
    """A grid asks a grid above it (its parent when none is given) for help."""

    from_grid = _GridCodeField(label=gettext_lazy("Asking grid (code)"))
    to_grid = _GridCodeField(
        label=gettext_lazy("Asked grid (code)"),
        required=False,
        help_text=gettext_lazy("Empty: the grid directly above."),
    )
    subject = forms.CharField(label=gettext_lazy("Subject"), max_length=200)
    body = forms.CharField(
        label=gettext_lazy("The problem"), widget=forms.Textarea(attrs={"rows": 4})
    )
    document = forms.FileField(label=gettext_lazy("Document"), required=False)

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_from_grid(self) -> Grid:
        return _visible_grid(self.user, self.cleaned_data["from_grid"])

    def clean_to_grid(self) -> Grid | None:
        code = self.cleaned_data.get("to_grid")
        if not code:
            return None
        # The grid above may lie outside the asker's own area: any grid is named by its code.
        grid = Grid.objects.filter(code=code).first()
        if grid is None:
            raise forms.ValidationError(_("Unknown grid."))
        return grid

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "from_grid": data["from_grid"],
            "to_grid": data.get("to_grid"),
            "subject": data["subject"],
            "body": data["body"],
            "document": data.get("document"),
        }


class AnswerForm(forms.Form):
    """The asked grid's answer to a request for help."""

    answer = forms.CharField(label=gettext_lazy("Answer"), widget=forms.Textarea(attrs={"rows": 2}))
