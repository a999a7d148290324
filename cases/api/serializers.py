from django.urls import reverse
from django.utils import timezone
from rest_framework import serializers

from cases import selectors
from cases.models import Case, CaseEvent, CasePhoto, Channel, ProblemCategory, ReturnVisit
from cases.selectors import duty_department_pick
from cases.transitions import allowed_actions
from core.api.serializers import FieldsCopiedOncePerThread


class CategorySerializer(serializers.ModelSerializer):
    handling_limit = serializers.DecimalField(
        source="handling_limit_days", max_digits=5, decimal_places=1, help_text="working days"
    )
    duty = serializers.SerializerMethodField(help_text="the responsible sector per level")
    proposed_department = serializers.SerializerMethodField()

    class Meta:
        model = ProblemCategory
        fields = [
            "code",
            "name",
            "name_en",
            "handling_limit",
            "is_emergency",
            "duty",
            "proposed_department",
        ]

    def get_duty(self, category) -> list[dict]:
        return [
            {"level": r.level, "sector": r.sector.code, "sector_name": r.sector.name}
            for r in category.duty_rules.all()
        ]

    def get_proposed_department(self, category) -> dict | None:
        """With ``?grid=<code>``: the department the matrix proposes for a case in that grid."""
        grid = self.context.get("grid")
        if grid is None:
            return None
        dept = duty_department_pick(
            rules=category.duty_rules.all(),
            departments=self.context["departments"],
            level=grid.level,
        )
        return {"code": dept.code, "name": dept.name, "level": dept.level} if dept else None


class CaseIntakeSerializer(FieldsCopiedOncePerThread, serializers.Serializer):
    external_id = serializers.CharField(max_length=64, required=False, allow_blank=True)
    channel = serializers.ChoiceField(choices=Channel.choices)
    category = serializers.CharField(max_length=30)
    description = serializers.CharField(max_length=4000)
    reported_at = serializers.DateTimeField(required=False)
    lat = serializers.FloatField(required=False, allow_null=True, min_value=-90, max_value=90)
    lng = serializers.FloatField(required=False, allow_null=True, min_value=-180, max_value=180)
    address = serializers.CharField(max_length=300, required=False, allow_blank=True)
    grid = serializers.CharField(max_length=15, required=False, allow_blank=True)
    reporter_name = serializers.CharField(max_length=60, required=False, allow_blank=True)
    reporter_phone = serializers.CharField(max_length=30, required=False, allow_blank=True)
    source = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    photos = serializers.ListField(child=serializers.FileField(), required=False)


class CaseSerializer(serializers.ModelSerializer):
    """The intake answer and the list row."""

    grid = serializers.CharField(source="grid.code")
    grid_name = serializers.CharField(source="grid.name")
    category = serializers.CharField(source="category.code")
    department = serializers.CharField(source="department.code", default=None)

    class Meta:
        model = Case
        fields = [
            "id",
            "number",
            "status",
            "grid",
            "grid_name",
            "category",
            "channel",
            "external_id",
            "description",
            "address",
            "lat",
            "lng",
            "emergency",
            "reported_at",
            "department",
            "response_deadline",
            "dispatch_deadline",
            "handling_deadline",
            "verify_deadline",
        ]
        read_only_fields = fields


class EventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username", default=None)

    class Meta:
        model = CaseEvent
        fields = ["seq", "action", "from_status", "to_status", "actor", "at", "note", "data"]


def photo_url(photo: CasePhoto) -> str:
    """Where an API client fetches a case photo: a scoped endpoint, never the media folder."""
    return reverse("api-case-photo", args=[photo.case_id, photo.pk])


def _lights(case: Case, now) -> dict:
    """The same lights as the case page (working time for the step limits)."""
    states = selectors.case_deadline_states(case, now=now, calendar=selectors.calendar_get())
    return {state.name: state.light for state in states}


class CaseDetailSerializer(CaseSerializer):
    events = EventSerializer(many=True, read_only=True)
    source = serializers.IntegerField(source="source_id", default=None)
    reporter_name = serializers.CharField()
    photos = serializers.SerializerMethodField()
    assignments = serializers.SerializerMethodField()
    breaches = serializers.SerializerMethodField()
    lights = serializers.SerializerMethodField()
    allowed_actions = serializers.SerializerMethodField()
    return_visits = serializers.SerializerMethodField()

    class Meta(CaseSerializer.Meta):
        fields = [
            *CaseSerializer.Meta.fields,
            "source",
            "reporter_name",
            "arrived_at",
            "response_met",
            "dispatched_at",
            "dispatch_met",
            "fed_back_at",
            "handling_met",
            "verified_at",
            "verify_met",
            "closed_at",
            "evaluation_score",
            "rework_count",
            "return_count",
            "escalation_count",
            "extension_count",
            "extension_until",
            "suspended_at",
            "suspended_seconds",
            "events",
            "photos",
            "assignments",
            "breaches",
            "lights",
            "allowed_actions",
            "return_visits",
        ]
        read_only_fields = fields

    def get_photos(self, case) -> list[dict]:
        return [
            {
                "kind": p.kind,
                "url": photo_url(p),
                "sha256": p.sha256,
                "lat": p.lat,
                "lng": p.lng,
                "uploaded_at": p.uploaded_at,
            }
            for p in case.photos.all()
        ]

    def get_assignments(self, case) -> list[dict]:
        return [
            {
                "department": a.department.code,
                "name": a.department.name,
                "role": a.role,
                "active": a.active,
                "part": a.part,
            }
            for a in case.assignments.all()
        ]

    def to_representation(self, case):
        data = super().to_representation(case)
        # a deadline passed while its step was pending reads as missed before the step settles
        for deadline, met in selectors.deadline_outcomes(case).items():
            data[f"{deadline}_met"] = met
        return data

    def get_breaches(self, case) -> list[dict]:
        return [
            {"deadline": b.deadline, "level": b.level, "due_at": b.due_at, "at": b.at}
            for b in case.breaches.all()
        ]

    def get_lights(self, case) -> dict:
        return _lights(case, timezone.now())

    def get_allowed_actions(self, case) -> list[str]:
        return allowed_actions(case.status)

    def get_return_visits(self, case) -> list[dict]:
        return [
            {"visited_at": v.visited_at, "satisfaction": v.satisfaction, "note": v.note}
            for v in case.return_visits.all()
        ]


class ActionSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    result = serializers.CharField(max_length=4000, required=False, allow_blank=True)
    comment = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    department = serializers.CharField(max_length=40, required=False)
    assist_departments = serializers.ListField(
        child=serializers.CharField(max_length=30), required=False
    )
    arrived_at = serializers.DateTimeField(required=False)
    lat = serializers.FloatField(required=False, min_value=-90, max_value=90)
    lng = serializers.FloatField(required=False, min_value=-180, max_value=180)
    until = serializers.DateTimeField(required=False)
    photos = serializers.ListField(child=serializers.FileField(), required=False)


class AttachmentSerializer(serializers.Serializer):
    photo = serializers.FileField()
    kind = serializers.ChoiceField(choices=CasePhoto.Kind.choices, default=CasePhoto.Kind.ON_SITE)
    lat = serializers.FloatField(required=False, min_value=-90, max_value=90)
    lng = serializers.FloatField(required=False, min_value=-180, max_value=180)


class ReturnVisitSerializer(serializers.Serializer):
    satisfaction = serializers.ChoiceField(choices=ReturnVisit.Satisfaction.choices)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class CallbackEndpointSerializer(serializers.Serializer):
    url = serializers.URLField(max_length=500)
    secret = serializers.CharField(min_length=16, max_length=128, write_only=True)
