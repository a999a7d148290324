"""Thin API views for cases: validate, call one service or selector, serialize."""

import mimetypes

from django.db.models import Prefetch
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.pagination import CursorPagination
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from cases import idempotency, selectors, services
from cases.api.serializers import (
    ActionSerializer,
    AttachmentSerializer,
    CallbackEndpointSerializer,
    CaseDetailSerializer,
    CaseIntakeSerializer,
    CaseSerializer,
    CategorySerializer,
    ReturnVisitSerializer,
    photo_url,
)
from cases.models import CallbackEndpoint, Case, CaseEvent, Channel
from cases.transitions import Action
from grids import selectors as grid_selectors


class CategoryListApi(ListAPIView):
    serializer_class = CategorySerializer
    filter_backends: list = []

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "grid", OpenApiTypes.STR, description="grid code: also propose the department"
            )
        ],
        tags=["reference"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return selectors.category_list()

    def get_serializer_context(self):
        context = super().get_serializer_context()
        code = self.request.query_params.get("grid")
        if code:
            grid = grid_selectors.grid_get(user=self.request.user, code=code)
            context["grid"] = grid
            context["departments"] = selectors.duty_departments_for_grid(grid=grid)
        return context


class CasePagination(CursorPagination):
    """Newest first; a cursor, not a COUNT over the whole city."""

    ordering = ("-reported_at", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class CaseFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Case.Status.choices, required=False)
    grid = serializers.RegexField(r"^\d{12,15}$", required=False)
    category = serializers.CharField(max_length=30, required=False)
    channel = serializers.ChoiceField(choices=Channel.choices, required=False)
    overdue = serializers.BooleanField(required=False, allow_null=True, default=None)
    reported_after = serializers.DateTimeField(required=False)
    reported_before = serializers.DateTimeField(required=False)


def _multi(request, *names) -> dict:
    """Multipart forms repeat list fields; JSON sends lists."""
    if not hasattr(request.data, "getlist"):
        return request.data
    payload = {k: request.data.get(k) for k in request.data if k not in names}
    for name in names:
        values = request.FILES.getlist(name) if name == "photos" else request.data.getlist(name)
        if values:
            payload[name] = values
    return payload


_answer_serializer: CaseSerializer | None = None


def _intake_answer(case: Case) -> dict:
    """``CaseSerializer``'s representation of a new case. Its fields are built once per process
    and reused (``to_representation`` keeps no state): building a ``ModelSerializer``'s fields
    from the model on every request was a tenth of an intake's CPU."""
    global _answer_serializer
    if _answer_serializer is None:
        _answer_serializer = CaseSerializer()
    return _answer_serializer.to_representation(case)


class CaseListApi(ListAPIView):
    serializer_class = CaseSerializer
    pagination_class = CasePagination
    filter_backends: list = []
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    # the platform's intake has its own, contracted rate (core.api.throttles)
    machine_throttle_scopes = {"POST": "intake"}

    @extend_schema(
        parameters=[
            OpenApiParameter("status", OpenApiTypes.STR, enum=Case.Status.values),
            OpenApiParameter("grid", OpenApiTypes.STR, description="grid code: the whole subtree"),
            OpenApiParameter("category", OpenApiTypes.STR),
            OpenApiParameter("channel", OpenApiTypes.STR, enum=Channel.values),
            OpenApiParameter("overdue", OpenApiTypes.BOOL),
            OpenApiParameter("reported_after", OpenApiTypes.DATETIME),
            OpenApiParameter("reported_before", OpenApiTypes.DATETIME),
        ],
        tags=["cases"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        query = CaseFilterSerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        filters = dict(query.validated_data)
        code = filters.pop("grid", None)
        if code:
            filters["grid"] = grid_selectors.grid_get(user=self.request.user, code=code)
        return selectors.case_list(user=self.request.user, **filters)

    @extend_schema(
        request={
            "application/json": CaseIntakeSerializer,
            "multipart/form-data": CaseIntakeSerializer,
        },
        parameters=[OpenApiParameter("Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER)],
        responses={201: CaseSerializer, 200: CaseSerializer},
        tags=["cases"],
    )
    def post(self, request):
        def run():
            data = CaseIntakeSerializer(data=_multi(request, "photos"))
            data.is_valid(raise_exception=True)
            values = dict(data.validated_data)
            case, created = services.case_create(
                data=services.CaseInput(photos=values.pop("photos", []), **values),
                actor=request.user,
            )
            code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
            return code, _intake_answer(case)

        key = request.headers.get("Idempotency-Key")
        if key is None:
            code, body = run()
        else:
            fingerprint = idempotency.request_fingerprint(data=request.data, files=request.FILES)
            code, body = idempotency.with_idempotency(
                client=request.user, key=key, fingerprint=fingerprint, run=run
            )
        return Response(body, status=code)


def _detail_queryset(user):
    return selectors.case_list(user=user).prefetch_related(
        Prefetch("events", queryset=CaseEvent.objects.select_related("actor").order_by("seq")),
        "photos",
        "assignments__department",
        "breaches",
        "return_visits",
    )


def _case_for(request, pk: int) -> Case:
    return selectors.case_get(user=request.user, pk=pk)


class CaseDetailApi(APIView):
    @extend_schema(responses=CaseDetailSerializer, tags=["cases"])
    def get(self, request, pk: int):
        case = _detail_queryset(request.user).filter(pk=pk).first()
        if case is None:
            from django.http import Http404

            raise Http404
        return Response(CaseDetailSerializer(case).data)


class CaseActionApi(APIView):
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(
        request={"application/json": ActionSerializer, "multipart/form-data": ActionSerializer},
        responses=CaseDetailSerializer,
        tags=["cases"],
        parameters=[
            OpenApiParameter(
                "action",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                enum=[a.value for a in Action if a != Action.ASSESS],
            )
        ],
    )
    def post(self, request, pk: int, action: str):
        case = _case_for(request, pk)
        if action == Action.ASSESS or action not in Action.__members__.values():
            from django.http import Http404

            raise Http404
        data = ActionSerializer(data=_multi(request, "photos", "assist_departments"))
        data.is_valid(raise_exception=True)
        services.case_transition(
            case=case,
            action=action,
            actor=request.user,
            data=services.ActionInput(**data.validated_data),
        )
        fresh = _detail_queryset(request.user).filter(pk=case.pk).first()
        if fresh is None:  # e.g. escalated out of the user's scope
            return Response({"id": case.pk, "status": Case.objects.get(pk=case.pk).status})
        return Response(CaseDetailSerializer(fresh).data)


class CaseAttachmentApi(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request={"multipart/form-data": AttachmentSerializer}, responses={201: None}, tags=["cases"]
    )
    def post(self, request, pk: int):
        case = _case_for(request, pk)
        data = AttachmentSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        photo = services.case_photo_add(
            case=case,
            upload=data.validated_data["photo"],
            kind=data.validated_data["kind"],
            actor=request.user,
            lat=data.validated_data.get("lat"),
            lng=data.validated_data.get("lng"),
        )
        return Response(
            {"kind": photo.kind, "sha256": photo.sha256, "url": photo_url(photo)}, status=201
        )


class CasePhotoApi(APIView):
    """A case photo, to clients who may see the case (the phone, the platform)."""

    @extend_schema(responses={(200, "image/*"): OpenApiTypes.BINARY}, tags=["cases"])
    def get(self, request, pk: int, photo_pk: int):
        photo = selectors.case_photo_get(user=request.user, pk=pk, photo_pk=photo_pk)
        content_type = mimetypes.guess_type(photo.image.name)[0] or "application/octet-stream"
        response = FileResponse(photo.image.open("rb"), content_type=content_type)
        response["Cache-Control"] = "private, max-age=3600"
        return response


class ReturnVisitApi(APIView):
    @extend_schema(request=ReturnVisitSerializer, responses={201: None}, tags=["cases"])
    def post(self, request, pk: int):
        case = _case_for(request, pk)
        data = ReturnVisitSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        visit = services.return_visit_record(case=case, actor=request.user, **data.validated_data)
        return Response(
            {"visited_at": visit.visited_at, "satisfaction": visit.satisfaction}, status=201
        )


class CallbackEndpointApi(APIView):
    """The calling client registers (PUT) or removes (DELETE) its status-callback URL."""

    @extend_schema(request=CallbackEndpointSerializer, responses={200: None}, tags=["cases"])
    def put(self, request):
        data = CallbackEndpointSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint, _created = CallbackEndpoint.objects.update_or_create(
            client=request.user, defaults={**data.validated_data, "active": True}
        )
        return Response({"url": endpoint.url, "active": endpoint.active})

    @extend_schema(request=None, responses={204: None}, tags=["cases"])
    def delete(self, request):
        CallbackEndpoint.objects.filter(client=request.user).update(active=False)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PartSerializer(serializers.Serializer):
    department = serializers.CharField(max_length=40)
    part = serializers.CharField(max_length=4000)


class CasePartApi(APIView):
    """Joint enforcement: a department on the case records its own part."""

    @extend_schema(request=PartSerializer, responses={200: None}, tags=["cases"])
    def post(self, request, pk: int):
        from grids.models import Department

        case = _case_for(request, pk)
        data = PartSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        department = Department.objects.filter(code=data.validated_data["department"]).first()
        if department is None:
            raise serializers.ValidationError({"department": ["Unknown department."]})
        assignment = services.assignment_part_record(
            case=case, department=department, actor=request.user, part=data.validated_data["part"]
        )
        return Response(
            {"department": department.code, "role": assignment.role, "part": assignment.part}
        )
