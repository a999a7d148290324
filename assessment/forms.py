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

__all__ = ["FactForm", "MeetingForm", "ReportForm", "add_domain_errors"]

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
        code = (self.cleaned_data.get("department") or "").strip()
        if not code:
            return None
        department = grid_selectors.department_list(user=self.user).filter(code=code).first()
        if department is None:
            raise forms.ValidationError(_("Unknown department, or it lies outside your area."))
        return department

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
