"""Forms of the case pages. They parse and check the shape of what people type; the rules
(which action needs what, who may take it) stay in ``cases.transitions`` and the services."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.models import Case, Channel, ReturnVisit
from cases.transitions import Action, Transition

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"
DATETIME_LOCAL_SECONDS = "%Y-%m-%dT%H:%M:%S"


class MultiplePhotoInput(forms.FileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """One or more photos; always cleans to a list (empty when none and not required)."""

    widget = MultiplePhotoInput

    def __init__(self, *args, max_count: int | None = None, **kwargs):
        self.max_count = max_count or settings.PHOTO_MAX_COUNT
        super().__init__(*args, **kwargs)
        self.widget.attrs.setdefault("accept", "image/*")

    def clean(self, data, initial=None):
        files = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        if not files:
            if self.required:
                raise forms.ValidationError(self.error_messages["required"], code="required")
            return []
        if len(files) > self.max_count:
            raise forms.ValidationError(
                _("At most %(n)s photos.") % {"n": self.max_count}, code="too_many"
            )
        single = super().clean
        return [single(f, initial) for f in files]


def _datetime_field(label, *, seconds=False) -> forms.DateTimeField:
    attrs = {"type": "datetime-local"}
    if seconds:
        attrs["step"] = "1"
    return forms.DateTimeField(
        label=label,
        required=False,
        input_formats=[DATETIME_LOCAL_SECONDS, DATETIME_LOCAL, "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(
            attrs=attrs, format=DATETIME_LOCAL_SECONDS if seconds else DATETIME_LOCAL
        ),
    )


def _text(label, *, rows=2, max_length=2000, placeholder="") -> forms.CharField:
    attrs = {"rows": rows}
    if placeholder:
        attrs["placeholder"] = placeholder
    return forms.CharField(
        label=label,
        required=False,
        max_length=max_length,
        widget=forms.Textarea(attrs=attrs),
    )


# The fields each action's form shows; which of them are required comes from the table.
ACTION_FIELDS: dict[str, tuple[str, ...]] = {
    Action.FILE: ("note",),
    Action.REJECT: ("reason",),
    Action.VOID: ("reason",),
    Action.DISPATCH: ("department", "assist_departments", "note"),  # the lead first
    Action.ESCALATE: ("reason",),
    Action.ACCEPT: (),
    Action.RETURN: ("reason",),
    Action.ARRIVE: ("arrived_at", "lat", "lng", "photos"),
    Action.EXTEND: ("until", "reason"),
    Action.APPROVE_EXTENSION: (),
    Action.FEEDBACK: ("result", "photos", "lat", "lng"),
    Action.VERIFY: ("photos", "note", "lat", "lng"),
    Action.REWORK: ("reason", "photos", "lat", "lng"),
    Action.EVALUATE: ("comment",),
    Action.SUSPEND: ("reason",),
    Action.RESUME: (),
}
# Rework says the site is not rectified: the page asks for the photo that shows it, although
# the table itself does not require one.
PHOTO_REQUIRED = frozenset({Action.REWORK})
# Hidden: filled by the location script, not typed.
GEO_HIDDEN = frozenset({Action.FEEDBACK, Action.VERIFY, Action.REWORK})


class ActionForm(forms.Form):
    is_open = False  # shown unfolded on the page (a submitted form with errors)
    note = _text(_("Note"))
    reason = _text(_("Reason"))
    result = _text(_("Result"), rows=3, max_length=4000)
    comment = _text(_("Comment"))
    department = forms.ChoiceField(label=_("Lead department"), required=False)
    assist_departments = forms.MultipleChoiceField(
        label=_("Assisting departments (joint enforcement)"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    # to the second: an arrival minutes after the report must not read as before it
    arrived_at = _datetime_field(_("Arrived at"), seconds=True)
    lat = forms.FloatField(label=_("Latitude"), required=False, min_value=-90, max_value=90)
    lng = forms.FloatField(label=_("Longitude"), required=False, min_value=-180, max_value=180)
    until = _datetime_field(_("New deadline asked for"))
    photos = PhotosField(label=_("Photos"), required=False)

    def __init__(
        self,
        *args,
        action: str,
        edge: Transition | None,
        departments=(),
        proposed: str | None = None,
        camera: bool = False,
        **kwargs,
    ):
        kwargs.setdefault("auto_id", f"id_{action}_%s")
        super().__init__(*args, **kwargs)
        self.action = action
        shown = ACTION_FIELDS.get(action, ())
        for name in list(self.fields):
            if name not in shown:
                del self.fields[name]
        self.order_fields(shown)
        required = set(edge.requires) if edge else set()
        if edge and (edge.photo or action in PHOTO_REQUIRED):
            required.add("photos")
        for name in required & set(self.fields):
            self.fields[name].required = True
        if "department" in self.fields:
            choices = [(d.code, d.name) for d in departments]
            self.fields["department"].choices = [("", "—"), *choices]
            self.fields["assist_departments"].choices = choices
            if proposed:
                self.fields["department"].initial = proposed
        if "arrived_at" in self.fields:
            self.fields["arrived_at"].initial = timezone.localtime().replace(microsecond=0)
        for name in ("lat", "lng"):
            if name in self.fields:
                field = self.fields[name]
                field.widget.attrs.update({"step": "any", f"data-geo-{name}": ""})
                if action in GEO_HIDDEN:
                    field.widget = forms.HiddenInput(attrs={f"data-geo-{name}": ""})
        if "photos" in self.fields:
            attrs = self.fields["photos"].widget.attrs
            attrs["accept"] = "image/*"
            if camera:
                attrs["capture"] = "environment"

    @property
    def has_geo(self) -> bool:
        return "lat" in self.fields

    @property
    def geo_hidden(self) -> bool:
        return self.action in GEO_HIDDEN

    def clean(self):
        data = super().clean()
        lead = data.get("department")
        if lead and lead in (data.get("assist_departments") or []):
            self.add_error("assist_departments", _("The lead department cannot also assist."))
        if ("lat" in self.fields) and (data.get("lat") is None) != (data.get("lng") is None):
            self.add_error("lat", _("Give both latitude and longitude, or neither."))
        return data

    def action_input_values(self) -> dict:
        """The cleaned values as ``services.ActionInput`` keywords."""
        values = {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}
        values.setdefault("photos", [])
        values.setdefault("assist_departments", [])
        return values


class ReportForm(forms.Form):
    """An inspector's report from the field (step 1, collect)."""

    category = forms.ChoiceField(label=_("What is the problem?"), widget=forms.RadioSelect)
    description = forms.CharField(
        label=_("Description"),
        max_length=4000,
        widget=forms.Textarea(
            attrs={"rows": 3, "placeholder": _("What you see, where exactly, since when")}
        ),
    )
    photos = PhotosField(label=_("Photo"), required=True)
    lat = forms.FloatField(
        required=False, min_value=-90, max_value=90, widget=forms.HiddenInput({"data-geo-lat": ""})
    )
    lng = forms.FloatField(
        required=False,
        min_value=-180,
        max_value=180,
        widget=forms.HiddenInput({"data-geo-lng": ""}),
    )
    accuracy = forms.FloatField(
        required=False, min_value=0, widget=forms.HiddenInput({"data-geo-accuracy": ""})
    )
    grid = forms.ChoiceField(label=_("Or choose the grid"), required=False)
    address = forms.CharField(
        label=_("Address or landmark"),
        required=False,
        max_length=300,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args, categories=(), grids=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [(c.code, c.name) for c in categories]
        self.fields["grid"].choices = [("", "—"), *((g.code, g.name) for g in grids)]
        photo_attrs = self.fields["photos"].widget.attrs
        photo_attrs.update({"accept": "image/*", "capture": "environment"})

    def clean(self):
        data = super().clean()
        has_point = data.get("lat") is not None and data.get("lng") is not None
        if (data.get("lat") is None) != (data.get("lng") is None):
            self.add_error(None, _("The location is incomplete; fix the position again."))
        elif not has_point and not data.get("grid"):
            self.add_error(
                None, _("No position yet: allow the location, retry, or choose the grid.")
            )
        return data


class ReturnVisitForm(forms.Form):
    satisfaction = forms.ChoiceField(
        label=_("Satisfaction"), choices=ReturnVisit.Satisfaction.choices, widget=forms.RadioSelect
    )
    note = _text(_("Note"))


class PartForm(forms.Form):
    department = forms.CharField(max_length=40, widget=forms.HiddenInput)
    part = forms.CharField(
        label=_("Our part"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )


class CaseFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False)
    category = forms.ChoiceField(label=_("Category"), required=False)
    channel = forms.ChoiceField(
        label=_("Channel"), required=False, choices=[("", _("All")), *Channel.choices]
    )
    grid = forms.RegexField(
        label=_("Grid code"),
        regex=r"^\d{12,15}$",
        required=False,
        error_messages={"invalid": _("A grid code has 12 to 15 digits.")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "placeholder": "371302001001"}),
    )
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    after = forms.CharField(required=False, max_length=80, widget=forms.HiddenInput)

    def __init__(self, *args, categories=(), status_labels=None, **kwargs):
        super().__init__(*args, **kwargs)
        labels = status_labels or dict(Case.Status.choices)
        self.fields["status"].choices = [("", _("All")), *labels.items()]
        self.fields["category"].choices = [("", _("All")), *((c.code, c.name) for c in categories)]
