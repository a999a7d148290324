from django.utils.translation import gettext as _
from rest_framework import serializers

from core.models import User
from inspections.models import ControlTier, Patrol, PatrolAlarm, PollutionSource, SourceKind


class SourceSerializer(serializers.ModelSerializer):
    grid = serializers.CharField(source="grid.code")

    class Meta:
        model = PollutionSource
        fields = [
            "id",
            "name",
            "credit_code",
            "address",
            "grid",
            "lat",
            "lng",
            "industry",
            "kind",
            "control_tier",
            "online_monitoring",
            "safety_key",
            "contact_name",
            "contact_phone",
            "permit_number",
            "pollutants",
            "discharge_to",
            "status",
            "confirmed_on",
            "closed_on",
            "tightened_until",
            "patrol_interval_days",
            "last_patrol_at",
            "next_patrol_due",
            "last_online_check_at",
            "next_online_check_due",
            "follow_up_due",
        ]
        read_only_fields = fields


class SourceWriteSerializer(serializers.Serializer):
    """Input of POST / PATCH: types are checked here, rules in inspections.services."""

    name = serializers.CharField(max_length=200)
    grid = serializers.RegexField(r"^\d{12,15}$")
    kind = serializers.ChoiceField(choices=SourceKind.choices)
    control_tier = serializers.ChoiceField(choices=ControlTier.choices)
    credit_code = serializers.CharField(max_length=18, required=False, allow_blank=True)
    address = serializers.CharField(max_length=300, required=False, allow_blank=True)
    lat = serializers.FloatField(required=False, allow_null=True, min_value=-90, max_value=90)
    lng = serializers.FloatField(required=False, allow_null=True, min_value=-180, max_value=180)
    industry = serializers.CharField(max_length=100, required=False, allow_blank=True)
    online_monitoring = serializers.BooleanField(required=False)
    safety_key = serializers.BooleanField(required=False)
    contact_name = serializers.CharField(max_length=60, required=False, allow_blank=True)
    contact_phone = serializers.CharField(max_length=30, required=False, allow_blank=True)
    permit_number = serializers.CharField(max_length=60, required=False, allow_blank=True)
    pollutants = serializers.CharField(max_length=300, required=False, allow_blank=True)
    discharge_to = serializers.CharField(max_length=300, required=False, allow_blank=True)


class PatrolSerializer(serializers.ModelSerializer):
    officers = serializers.SlugRelatedField(slug_field="username", many=True, read_only=True)
    recorded_by = serializers.CharField(source="recorded_by.username")
    photos = serializers.SerializerMethodField()

    class Meta:
        model = Patrol
        fields = [
            "id",
            "source",
            "kind",
            "patrolled_at",
            "lat",
            "lng",
            "officers",
            "recorded_by",
            "findings",
            "checklist",
            "outcome",
            "rectification_deadline",
            "person_present",
            "case_reference",
            "photos",
            "created_at",
        ]
        read_only_fields = fields

    def get_photos(self, patrol) -> list[dict]:
        return [
            {"url": p.image.url, "sha256": p.sha256, "lat": p.lat, "lng": p.lng}
            for p in patrol.photos.all()
        ]


class PatrolWriteSerializer(serializers.Serializer):
    source = serializers.IntegerField(min_value=1)
    kind = serializers.ChoiceField(choices=Patrol.Kind.choices, default=Patrol.Kind.PATROL)
    patrolled_at = serializers.DateTimeField()
    lat = serializers.FloatField(required=False, allow_null=True, min_value=-90, max_value=90)
    lng = serializers.FloatField(required=False, allow_null=True, min_value=-180, max_value=180)
    officers = serializers.ListField(child=serializers.CharField(max_length=150), min_length=1)
    findings = serializers.CharField(required=False, allow_blank=True)
    checklist = serializers.JSONField(required=False)
    outcome = serializers.ChoiceField(choices=Patrol.Outcome.choices)
    rectification_deadline = serializers.DateField(required=False, allow_null=True)
    person_present = serializers.CharField(max_length=60, required=False, allow_blank=True)
    case_category = serializers.CharField(max_length=30, required=False, allow_blank=True)
    photos = serializers.ListField(child=serializers.FileField(), required=False)

    def validate_officers(self, usernames):
        users = list(User.objects.filter(username__in=usernames, is_active=True))
        missing = sorted(set(usernames) - {u.username for u in users})
        if missing:
            raise serializers.ValidationError(
                _("Unknown officers: %(names)s") % {"names": ", ".join(missing)}
            )
        return users

    def validate_checklist(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError(_("The checklist is an object of item → answer."))
        return value


class PatrolAlarmSerializer(serializers.ModelSerializer):
    source_name = serializers.CharField(source="source.name")
    grid = serializers.CharField(source="source.grid.code")

    class Meta:
        model = PatrolAlarm
        fields = [
            "id",
            "source",
            "source_name",
            "grid",
            "kind",
            "due_on",
            "status",
            "level",
            "raised_at",
            "escalated_at",
            "cleared_at",
            "cleared_by",
        ]
        read_only_fields = fields
