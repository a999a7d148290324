"""Forms of the inspection pages. They parse and check the shape of the input; the rules (who
may patrol, two officers for an enforcement inspection, GPS on site, no future dates …) are the
services', whose errors ``add_domain_errors`` puts back on the fields they name."""

from __future__ import annotations

from datetime import date, datetime

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import DomainError
from core.models import User
from grids import selectors as grid_selectors
from grids.models import Department, Grid
from inspections import services
from inspections.models import ControlTier, Patrol, PollutionSource, SourceKind

GRID_CODE_RE = r"^\d{12,15}$"
MAX_IMPORT_BYTES = 10 * 1024 * 1024


def _blank(label) -> list[tuple[str, str]]:
    return [("", label)]


def add_domain_errors(form: forms.Form, exc: DomainError, field_of: dict | None = None) -> None:
    """Show a service's refusal on the form: its message on top, each named field's messages
    at that field (``field_of`` renames service fields to form fields), the rest on top too."""
    field_of = field_of or {}
    form.add_error(None, str(exc))
    for key, messages in exc.extra.items():
        if key == "status":
            continue
        if not isinstance(messages, list | tuple):
            messages = [messages]
        name = field_of.get(key, key)
        target = name if name in form.fields else None
        for message in messages:
            if not isinstance(message, str):
                continue
            if target is None and message == str(exc):
                continue
            form.add_error(target, message)


# --- the source register --------------------------------------------------------------------


class SourceFilterForm(forms.Form):
    """The register's filters, with the same names and values as the API's (so the Excel
    export link carries them unchanged)."""

    OVERDUE_CHOICES = [
        ("", gettext_lazy("Any schedule")),
        ("true", gettext_lazy("Overdue")),
        ("false", gettext_lazy("Not overdue")),
    ]

    q = forms.CharField(
        label=gettext_lazy("Search"),
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": gettext_lazy("Name, credit code or address")}
        ),
    )
    grid = forms.RegexField(
        label=gettext_lazy("Grid code"),
        regex=GRID_CODE_RE,
        required=False,
        error_messages={"invalid": gettext_lazy("A grid code has 12 to 15 digits.")},
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "list": "grid-codes", "autocomplete": "off"}
        ),
    )
    control_tier = forms.ChoiceField(
        label=gettext_lazy("Control tier"),
        required=False,
        choices=_blank(gettext_lazy("All tiers")) + ControlTier.choices,
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"),
        required=False,
        choices=_blank(gettext_lazy("All kinds")) + SourceKind.choices,
    )
    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        required=False,
        choices=_blank(gettext_lazy("Any status")) + PollutionSource.Status.choices,
    )
    overdue = forms.ChoiceField(
        label=gettext_lazy("Schedule"), required=False, choices=OVERDUE_CHOICES
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_grid(self) -> Grid | None:
        code = self.cleaned_data.get("grid")
        if not code:
            return None
        grid = grid_selectors.grids_visible(user=self.user).filter(code=code).first()
        if grid is None:
            raise forms.ValidationError(_("Unknown grid, or it lies outside your area."))
        return grid

    def filters(self) -> dict:
        """Keyword arguments for ``selectors.source_list``."""
        data = self.cleaned_data
        overdue = {"true": True, "false": False}.get(data.get("overdue") or "")
        return {
            "grid": data.get("grid"),
            "control_tier": data.get("control_tier") or None,
            "kind": data.get("kind") or None,
            "status": data.get("status") or None,
            "overdue": overdue,
            "q": (data.get("q") or "").strip() or None,
        }

    def query(self) -> dict[str, str]:
        """The filters as API query parameters (only those set)."""
        data = self.cleaned_data
        params = {
            "q": (data.get("q") or "").strip(),
            "grid": data["grid"].code if data.get("grid") else "",
            "control_tier": data.get("control_tier") or "",
            "kind": data.get("kind") or "",
            "status": data.get("status") or "",
            "overdue": data.get("overdue") or "",
        }
        return {key: value for key, value in params.items() if value}


class SourceImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Excel file (.xlsx)"),
        widget=forms.ClearableFileInput(
            attrs={
                "accept": ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size is not None and upload.size > MAX_IMPORT_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(mb)s MB.") % {"mb": MAX_IMPORT_BYTES // 2**20}
            )
        return upload


# --- the patrol form ------------------------------------------------------------------------


class MultiplePhotoInput(forms.FileInput):
    allow_multiple_selected = True


class MultiplePhotoField(forms.FileField):
    """Several photos from one ``<input type=file multiple>``; the images themselves are
    checked by the service (``core.photos.photo_check``)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault(
            "widget",
            MultiplePhotoInput(
                attrs={
                    "accept": "image/*",
                    "capture": "environment",
                    "multiple": True,
                    "class": "photo-input",
                }
            ),
        )
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        single = super().clean
        cleaned = [single(item, initial) for item in files if item]
        if self.required and not cleaned:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        if len(cleaned) > settings.PHOTO_MAX_COUNT:
            raise forms.ValidationError(
                _("At most %(n)s photos.") % {"n": settings.PHOTO_MAX_COUNT}
            )
        return cleaned


class LocalDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def officer_candidates(*, grid: Grid, exclude: User, on: date) -> list[User]:
    """People who hold an enforcement role on ``grid`` or above it today, nearest grid first:
    whom an officer may name as the second officer of an enforcement inspection."""
    return grid_selectors.role_holders_over(
        grid=grid, roles=services.ENFORCEMENT_ROLES, on=on, exclude=exclude
    )


def patrol_departments(*, user: User, grid: Grid, on: date) -> list[Department]:
    """The departments a patrol by ``user`` may be booked to (for the ledger)."""
    return grid_selectors.departments_serving(user=user, grid=grid, on=on)


class PatrolForm(forms.Form):
    """One patrol, inspection or online check of one source, as a phone submits it."""

    kind = forms.ChoiceField(label=gettext_lazy("Kind of check"), widget=forms.RadioSelect)
    patrolled_at = forms.DateTimeField(
        label=gettext_lazy("Time of the patrol"), widget=LocalDateTimeInput()
    )
    outcome = forms.ChoiceField(label=gettext_lazy("Outcome"), widget=forms.RadioSelect)
    rectification_deadline = forms.DateField(
        label=gettext_lazy("Rectification deadline"), required=False, widget=DateInput()
    )
    case_reference = forms.CharField(
        label=gettext_lazy("Case number"), required=False, max_length=40
    )
    findings = forms.CharField(
        label=gettext_lazy("Findings"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    checklist = forms.MultipleChoiceField(
        label=gettext_lazy("Checklist: tick each item found in order"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    person_present = forms.CharField(
        label=gettext_lazy("Person present for the unit"), required=False, max_length=60
    )
    second_officer = forms.ModelChoiceField(
        label=gettext_lazy("Second officer"),
        queryset=User.objects.none(),
        required=False,
        empty_label=gettext_lazy("— nobody —"),
        help_text=gettext_lazy("An on-site enforcement inspection needs at least two officers."),
    )
    department = forms.ModelChoiceField(
        label=gettext_lazy("Department"),
        queryset=Department.objects.none(),
        required=False,
        empty_label=gettext_lazy("— none —"),
    )
    photos = MultiplePhotoField(label=gettext_lazy("Photos"), required=False)
    lat = forms.FloatField(required=False, min_value=-90, max_value=90, widget=forms.HiddenInput)
    lng = forms.FloatField(required=False, min_value=-180, max_value=180, widget=forms.HiddenInput)

    # Service fields that the form shows under another name.
    FIELD_OF = {"officers": "second_officer", "lng": "lat"}

    def __init__(
        self,
        *args,
        source: PollutionSource,
        user: User,
        roles: set[str],
        checklist_items: list[str],
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.source = source
        self.user = user
        self.checklist_items = [str(item) for item in checklist_items]
        today = timezone.localdate()

        kinds = [(Patrol.Kind.PATROL.value, Patrol.Kind.PATROL.label)]
        if roles & services.ENFORCEMENT_ROLES:
            kinds.append((Patrol.Kind.INSPECTION.value, Patrol.Kind.INSPECTION.label))
        if source.online_monitoring:
            kinds.append((Patrol.Kind.ONLINE_CHECK.value, Patrol.Kind.ONLINE_CHECK.label))
        self.fields["kind"].choices = kinds
        self.fields["kind"].initial = Patrol.Kind.PATROL.value

        outcomes = [
            (value, label)
            for value, label in Patrol.Outcome.choices
            if value != Patrol.Outcome.ABNORMAL_READING or source.online_monitoring
        ]
        self.fields["outcome"].choices = outcomes
        self.fields["outcome"].initial = Patrol.Outcome.COMPLIANT.value
        self.fields["checklist"].choices = [(item, item) for item in self.checklist_items]

        now = timezone.localtime().replace(second=0, microsecond=0)
        self.fields["patrolled_at"].initial = now.replace(tzinfo=None)
        self.fields["patrolled_at"].widget.attrs["max"] = now.strftime("%Y-%m-%dT%H:%M")
        self.fields["rectification_deadline"].widget.attrs["min"] = today.isoformat()

        candidates = officer_candidates(grid=source.grid, exclude=user, on=today)
        self.officer_choices = candidates
        self.fields["second_officer"].queryset = User.objects.filter(
            pk__in=[u.pk for u in candidates]
        )
        self.fields["second_officer"].label_from_instance = _officer_label
        self.fields["second_officer"].choices = [("", self.fields["second_officer"].empty_label)]
        self.fields["second_officer"].choices += [(u.pk, _officer_label(u)) for u in candidates]

        departments = patrol_departments(user=user, grid=source.grid, on=today)
        self.departments = departments
        self.fields["department"].queryset = Department.objects.filter(
            pk__in=[d.pk for d in departments]
        )
        self.fields["department"].choices = [("", self.fields["department"].empty_label)] + [
            (d.pk, d.name) for d in departments
        ]
        if departments:
            self.fields["department"].initial = departments[0].pk

    def clean_department(self) -> Department | None:
        # With one department to choose from, the patrol is booked to it (the page sends it
        # as a hidden input; a client that leaves it out means the same).
        chosen = self.cleaned_data.get("department")
        if chosen is None and len(self.departments) == 1:
            return self.departments[0]
        return chosen

    def clean_checklist(self) -> dict[str, bool]:
        ticked = set(self.cleaned_data.get("checklist") or [])
        return {item: item in ticked for item in self.checklist_items}

    def patrol_input(self) -> services.PatrolInput:
        data = self.cleaned_data
        patrolled_at: datetime = data["patrolled_at"]
        officers = [self.user]
        if data.get("second_officer") and data["second_officer"].pk != self.user.pk:
            officers.append(data["second_officer"])
        notice = data["outcome"] == Patrol.Outcome.NOTICE_ISSUED
        case = data["outcome"] == Patrol.Outcome.CASE_OPENED
        return services.PatrolInput(
            kind=data["kind"],
            patrolled_at=patrolled_at,
            outcome=data["outcome"],
            officers=officers,
            lat=data.get("lat"),
            lng=data.get("lng"),
            findings=(data.get("findings") or "").strip(),
            checklist=data.get("checklist") or {},
            rectification_deadline=data.get("rectification_deadline") if notice else None,
            person_present=(data.get("person_present") or "").strip(),
            department=data.get("department"),
            case_reference=(data.get("case_reference") or "").strip() if case else "",
            photos=data.get("photos") or [],
        )

    def add_service_errors(self, exc: DomainError) -> None:
        add_domain_errors(self, exc, self.FIELD_OF)


def _officer_label(user: User) -> str:
    name = user.full_name or user.get_username()
    if user.enforcement_certificate:
        return f"{name}（{user.enforcement_certificate}）"
    return name


# --- the ledger and the plans ---------------------------------------------------------------


class LedgerForm(forms.Form):
    department = forms.ModelChoiceField(
        label=gettext_lazy("Department"),
        queryset=Department.objects.none(),
        required=False,
        to_field_name="code",
        empty_label=gettext_lazy("Any department"),
    )
    grid = forms.RegexField(
        label=gettext_lazy("Grid code"),
        regex=GRID_CODE_RE,
        required=False,
        error_messages={"invalid": gettext_lazy("A grid code has 12 to 15 digits.")},
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "list": "grid-codes", "autocomplete": "off"}
        ),
    )
    start = forms.DateField(label=gettext_lazy("From"), widget=DateInput())
    end = forms.DateField(label=gettext_lazy("To"), widget=DateInput())
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"),
        required=False,
        choices=_blank(gettext_lazy("On-site patrols and inspections")) + Patrol.Kind.choices,
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["department"].queryset = grid_selectors.department_list(user=user)

    def clean_grid(self) -> Grid | None:
        code = self.cleaned_data.get("grid")
        if not code:
            return None
        grid = grid_selectors.grids_visible(user=self.user).filter(code=code).first()
        if grid is None:
            raise forms.ValidationError(_("Unknown grid, or it lies outside your area."))
        return grid

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            self.add_error("end", _("The end comes before the start."))
        if not self.errors and not data.get("department") and not data.get("grid"):
            raise forms.ValidationError(_("Choose a department, a grid or both."))
        return data

    def query(self) -> dict[str, str]:
        """The ledger API's parameters for the same ledger."""
        data = self.cleaned_data
        params = {
            "department": data["department"].code if data.get("department") else "",
            "grid": data["grid"].code if data.get("grid") else "",
            "start": data["start"].isoformat(),
            "end": data["end"].isoformat(),
            "kind": data.get("kind") or "",
        }
        return {key: value for key, value in params.items() if value}


class PlansForm(forms.Form):
    year = forms.IntegerField(label=gettext_lazy("Year"), min_value=2000, max_value=2100)
    month = forms.RegexField(
        label=gettext_lazy("Month"),
        regex=r"^\d{4}-(0[1-9]|1[0-2])$",
        error_messages={"invalid": gettext_lazy("Write the month as YYYY-MM.")},
        widget=forms.TextInput(attrs={"type": "month"}),
    )

    def clean_month(self) -> date:
        year, month = self.cleaned_data["month"].split("-")
        return date(int(year), int(month), 1)
