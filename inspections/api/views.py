"""Thin API views for sources, patrols and patrol alarms (API.md "Pollution sources and patrols")."""

from datetime import date

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from grids import selectors as grid_selectors
from inspections import selectors, services
from inspections.api.serializers import (
    PatrolAlarmSerializer,
    PatrolSerializer,
    PatrolWriteSerializer,
    SourceSerializer,
    SourceWriteSerializer,
)
from inspections.models import ControlTier, PatrolAlarm, PollutionSource, SourceKind


class SourceFilterSerializer(serializers.Serializer):
    grid = serializers.RegexField(r"^\d{12,15}$", required=False)
    control_tier = serializers.ChoiceField(choices=ControlTier.choices, required=False)
    kind = serializers.ChoiceField(choices=SourceKind.choices, required=False)
    status = serializers.ChoiceField(choices=PollutionSource.Status.choices, required=False)
    overdue = serializers.BooleanField(required=False, allow_null=True, default=None)
    q = serializers.CharField(required=False, max_length=100)


SOURCE_FILTERS = [
    OpenApiParameter("grid", OpenApiTypes.STR, description="grid code: the whole subtree"),
    OpenApiParameter("control_tier", OpenApiTypes.STR, enum=ControlTier.values),
    OpenApiParameter("kind", OpenApiTypes.STR, enum=SourceKind.values),
    OpenApiParameter("status", OpenApiTypes.STR, enum=PollutionSource.Status.values),
    OpenApiParameter("overdue", OpenApiTypes.BOOL),
    OpenApiParameter("q", OpenApiTypes.STR),
]


def _grid_for(request, code):
    return grid_selectors.grid_get(user=request.user, code=code) if code else None


class SourceListApi(ListAPIView):
    serializer_class = SourceSerializer
    filter_backends: list = []

    @extend_schema(parameters=SOURCE_FILTERS, tags=["sources"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        query = SourceFilterSerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        filters = dict(query.validated_data)
        filters["grid"] = _grid_for(self.request, filters.pop("grid", None))
        return selectors.source_list(user=self.request.user, **filters)

    @extend_schema(
        request=SourceWriteSerializer, responses={201: SourceSerializer}, tags=["sources"]
    )
    def post(self, request):
        data = SourceWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        grid = _grid_for(request, values.pop("grid"))
        source = services.source_create(
            grid=grid, data=services.SourceInput(**values), actor=request.user
        )
        return Response(SourceSerializer(source).data, status=status.HTTP_201_CREATED)


class SourceDetailApi(APIView):
    @extend_schema(responses=SourceSerializer, tags=["sources"])
    def get(self, request, pk: int):
        return Response(SourceSerializer(selectors.source_get(user=request.user, pk=pk)).data)

    @extend_schema(
        request=SourceWriteSerializer(partial=True), responses=SourceSerializer, tags=["sources"]
    )
    def patch(self, request, pk: int):
        source = selectors.source_get(user=request.user, pk=pk)
        data = SourceWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        if "grid" in changes:
            changes["grid"] = _grid_for(request, changes["grid"])
        source = services.source_update(source=source, actor=request.user, changes=changes)
        return Response(SourceSerializer(source).data)


class SourceConfirmApi(APIView):
    @extend_schema(request=None, responses=SourceSerializer, tags=["sources"])
    def post(self, request, pk: int):
        source = services.source_confirm(
            source=selectors.source_get(user=request.user, pk=pk), actor=request.user
        )
        return Response(SourceSerializer(source).data)


class SourceCloseSerializer(serializers.Serializer):
    closed_on = serializers.DateField(required=False)
    reason = serializers.CharField(max_length=300)


class SourceCloseApi(APIView):
    @extend_schema(request=SourceCloseSerializer, responses=SourceSerializer, tags=["sources"])
    def post(self, request, pk: int):
        data = SourceCloseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        source = services.source_close(
            source=selectors.source_get(user=request.user, pk=pk),
            actor=request.user,
            on=data.validated_data.get("closed_on") or date.today(),
            reason=data.validated_data["reason"],
        )
        return Response(SourceSerializer(source).data)


class PatrolListApi(ListAPIView):
    serializer_class = PatrolSerializer
    filter_backends: list = []
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(parameters=[OpenApiParameter("source", OpenApiTypes.INT)], tags=["patrols"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        source_id = self.request.query_params.get("source")
        source = None
        if source_id:
            if not source_id.isdigit():
                raise serializers.ValidationError({"source": [_("A source id is a number.")]})
            source = selectors.source_get(user=self.request.user, pk=int(source_id))
        return selectors.patrol_list(user=self.request.user, source=source)

    @extend_schema(
        request={
            "multipart/form-data": PatrolWriteSerializer,
            "application/json": PatrolWriteSerializer,
        },
        responses={201: PatrolSerializer},
        tags=["patrols"],
    )
    def post(self, request):
        data = PatrolWriteSerializer(data=_patrol_payload(request))
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        source = selectors.source_get(user=request.user, pk=values.pop("source"))
        patrol = services.patrol_record(
            source=source,
            data=services.PatrolInput(photos=values.pop("photos", []), **values),
            actor=request.user,
        )
        patrol = selectors.patrol_list(user=request.user).get(pk=patrol.pk)
        return Response(
            PatrolSerializer(patrol, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )


def _patrol_payload(request) -> dict:
    """Multipart forms repeat ``officers`` and ``photos``; JSON sends lists."""
    if hasattr(request.data, "getlist"):
        payload = {k: request.data.get(k) for k in request.data if k not in ("officers", "photos")}
        payload["officers"] = request.data.getlist("officers")
        payload["photos"] = request.FILES.getlist("photos")
        if isinstance(payload.get("checklist"), str):
            import json

            try:
                payload["checklist"] = json.loads(payload["checklist"])
            except ValueError:
                raise serializers.ValidationError({"checklist": [_("Not valid JSON.")]}) from None
        return payload
    return request.data


class PatrolAlarmListApi(ListAPIView):
    serializer_class = PatrolAlarmSerializer
    filter_backends: list = []

    @extend_schema(
        parameters=[OpenApiParameter("status", OpenApiTypes.STR, enum=PatrolAlarm.Status.values)],
        tags=["patrols"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        value = self.request.query_params.get("status")
        if value and value not in PatrolAlarm.Status.values:
            raise serializers.ValidationError({"status": [_("One of open, cleared.")]})
        return selectors.patrol_alarm_list(user=self.request.user, status=value)
