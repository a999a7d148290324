"""Thin API views for the Excel import and export of the source register, the inspection
ledger (检查台账) and the plans with their computed completion (issue 3, items 4 and 6).

Each view validates its input, calls one service or selector of ``inspections.excel``,
``inspections.ledger`` or ``inspections.plans``, and serializes. Workbooks are written to a
temporary file and streamed from it. Errors are JSON whatever ``Accept`` or ``?format=`` say.
"""

import re
import tempfile
from collections.abc import Callable
from typing import IO

from django.http import FileResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from core.models import User
from grids import selectors as grid_selectors
from grids.models import Department
from inspections import excel, ledger, plans
from inspections.api.views import SOURCE_FILTERS, SourceFilterSerializer
from inspections.models import Patrol, PatrolPlan, SupervisionPlan

MAX_IMPORT_BYTES = 10 * 1024 * 1024
XLSX = OpenApiResponse(OpenApiTypes.BINARY, description="an .xlsx workbook")


class JsonNegotiation(DefaultContentNegotiation):
    """Always the view's first renderer (JSON): ``?format=xlsx`` is the view's own parameter,
    not DRF's format override, and an ``Accept`` asking for a workbook is not refused."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class FileApiView(APIView):
    renderer_classes = [JSONRenderer]
    content_negotiation_class = JsonNegotiation


def xlsx_response(write: Callable[[IO[bytes]], object], filename: str) -> FileResponse:
    out = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes (and so deletes) it
    try:
        write(out)
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return FileResponse(
        out, as_attachment=True, filename=filename, content_type=excel.XLSX_CONTENT_TYPE
    )


# --- lookups shared by the inputs ------------------------------------------------------------


def _grid_in_scope(user: User, code: str):
    grid = grid_selectors.grids_visible(user=user).filter(code=code).first()
    if grid is None:
        raise serializers.ValidationError(_("Unknown grid, or it lies outside your area."))
    return grid


def _department_in_scope(user: User, code: str) -> Department:
    department = (
        Department.objects.filter(grid_selectors.department_scope_q(user=user), code=code)
        .select_related("grid")
        .first()
    )
    if department is None:
        raise serializers.ValidationError(_("Unknown department, or outside your area."))
    return department


def _active_user(username: str) -> User:
    user = User.objects.filter(username=username, is_active=True).first()
    if user is None:
        raise serializers.ValidationError(_("Unknown user %(name)s.") % {"name": username})
    return user


GRID_CODE = r"^\d{12,15}$"
DEPARTMENT_CODE_MAX = Department._meta.get_field("code").max_length


class MonthField(serializers.DateField):
    """``2026-03`` or ``2026-03-01``."""

    def to_internal_value(self, value):
        if isinstance(value, str) and re.fullmatch(r"\s*\d{4}-\d{2}\s*", value):
            value = f"{value.strip()}-01"
        return super().to_internal_value(value)


# --- sources: import, template, export -------------------------------------------------------


class SourceImportSerializer(serializers.Serializer):
    file = serializers.FileField()

    def validate_file(self, upload):
        if upload.size is not None and upload.size > MAX_IMPORT_BYTES:
            raise serializers.ValidationError(
                _("The file is larger than %(mb)s MB.") % {"mb": MAX_IMPORT_BYTES // 2**20}
            )
        return upload


ImportRejected = inline_serializer(
    "SourceImportRejected",
    fields={
        "detail": serializers.CharField(),
        "rows": inline_serializer(
            "SourceImportRowError",
            fields={
                "row": serializers.IntegerField(),
                "field": serializers.CharField(),
                "column": serializers.CharField(),
                "message": serializers.CharField(),
            },
            many=True,
        ),
        "errors_total": serializers.IntegerField(),
    },
)


class SourceImportApi(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request={"multipart/form-data": SourceImportSerializer},
        responses={
            201: inline_serializer("SourceImported", {"created": serializers.IntegerField()}),
            400: ImportRejected,
        },
        tags=["sources"],
        description=(
            "Register the sources of an .xlsx list (columns as in the import template). All or "
            "nothing: any bad row stores nothing and the answer lists every row's problems."
        ),
    )
    def post(self, request):
        data = SourceImportSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        created = excel.source_import(
            workbook_bytes=data.validated_data["file"].read(),
            actor=request.user,
            grid_scope_user=request.user,
        )
        return Response({"created": created}, status=status.HTTP_201_CREATED)


class SourceImportTemplateApi(FileApiView):
    @extend_schema(request=None, responses={200: XLSX}, tags=["sources"])
    def get(self, request):
        return xlsx_response(
            lambda out: excel.source_template_write(user=request.user, out=out),
            "污染源导入模板.xlsx",
        )


class SourceExportApi(FileApiView):
    @extend_schema(parameters=SOURCE_FILTERS, responses={200: XLSX}, tags=["sources"])
    def get(self, request):
        query = SourceFilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        filters = dict(query.validated_data)
        code = filters.pop("grid", None)
        # As in the source list: a grid outside the user's area is a 404.
        filters["grid"] = grid_selectors.grid_get(user=request.user, code=code) if code else None
        return xlsx_response(
            lambda out: excel.source_export_write(user=request.user, out=out, **filters),
            f"污染源清单-{timezone.localdate():%Y%m%d}.xlsx",
        )


# --- the inspection ledger -------------------------------------------------------------------


class LedgerQuerySerializer(serializers.Serializer):
    department = serializers.CharField(required=False, max_length=DEPARTMENT_CODE_MAX)
    grid = serializers.RegexField(GRID_CODE, required=False)
    start = serializers.DateField()
    end = serializers.DateField()
    kind = serializers.ChoiceField(choices=Patrol.Kind.choices, required=False)
    format = serializers.ChoiceField(choices=["json", "xlsx"], default="json")

    def validate_department(self, code):
        return _department_in_scope(self.context["user"], code)

    def validate_grid(self, code):
        return _grid_in_scope(self.context["user"], code)

    def validate(self, attrs):
        if attrs["start"] > attrs["end"]:
            raise serializers.ValidationError({"end": [_("The end comes before the start.")]})
        if not attrs.get("department") and not attrs.get("grid"):
            raise serializers.ValidationError({"detail": [_("Give a department, a grid or both.")]})
        return attrs


class OfficerSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["username", "full_name", "enforcement_certificate"]
        read_only_fields = fields


class LedgerRowSerializer(serializers.ModelSerializer):
    source_name = serializers.CharField(source="source.name")
    credit_code = serializers.CharField(source="source.credit_code")
    grid = serializers.CharField(source="source.grid.code")
    grid_name = serializers.CharField(source="source.grid.name")
    department = serializers.CharField(source="department.code", allow_null=True)
    department_name = serializers.CharField(source="department.name", allow_null=True)
    officers = OfficerSerializer(many=True)

    class Meta:
        model = Patrol
        fields = [
            "id",
            "patrolled_at",
            "kind",
            "source",
            "source_name",
            "credit_code",
            "grid",
            "grid_name",
            "department",
            "department_name",
            "officers",
            "person_present",
            "findings",
            "outcome",
            "rectification_deadline",
            "case_reference",
        ]
        read_only_fields = fields


class LedgerApi(FileApiView, ListAPIView):
    serializer_class = LedgerRowSerializer
    filter_backends: list = []

    @extend_schema(
        parameters=[
            OpenApiParameter("department", OpenApiTypes.STR, description="department code"),
            OpenApiParameter("grid", OpenApiTypes.STR, description="grid code: its subtree"),
            OpenApiParameter("start", OpenApiTypes.DATE, required=True),
            OpenApiParameter("end", OpenApiTypes.DATE, required=True, description="included"),
            OpenApiParameter(
                "kind",
                OpenApiTypes.STR,
                enum=Patrol.Kind.values,
                description="default: on-site patrols and inspections",
            ),
            OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "xlsx"]),
        ],
        responses={200: LedgerRowSerializer(many=True), (200, excel.XLSX_CONTENT_TYPE): XLSX},
        tags=["patrols"],
    )
    def get(self, request, *args, **kwargs):
        query = LedgerQuerySerializer(data=request.query_params, context={"user": request.user})
        query.is_valid(raise_exception=True)
        params = dict(query.validated_data)
        wanted = params.pop("format")
        kind = params.pop("kind", None)
        params["kinds"] = [kind] if kind else ledger.ON_SITE_KINDS
        if wanted == "xlsx":
            return xlsx_response(
                lambda out: excel.ledger_export_write(user=request.user, out=out, **params),
                f"检查台账-{params['start']:%Y%m%d}-{params['end']:%Y%m%d}.xlsx",
            )
        self.ledger_params = params
        response = self.list(request, *args, **kwargs)
        response.data["title"] = ledger.ledger_title(
            start=params["start"],
            end=params["end"],
            department=params.get("department"),
            grid=params.get("grid"),
        )
        return response

    def get_queryset(self):
        return ledger.ledger_rows(user=self.request.user, **self.ledger_params)


# --- plans -----------------------------------------------------------------------------------


class CompletionSerializer(serializers.Serializer):
    planned = serializers.IntegerField()
    done = serializers.IntegerField()
    ratio = serializers.FloatField(allow_null=True)


def _completion_data(completion: ledger.Completion) -> dict:
    return {"planned": completion.planned, "done": completion.done, "ratio": completion.ratio}


class SupervisionPlanSerializer(serializers.ModelSerializer):
    department = serializers.CharField(source="department.code")
    department_name = serializers.CharField(source="department.name")
    grid = serializers.CharField(source="grid.code")
    grid_name = serializers.CharField(source="grid.name")
    created_by = serializers.CharField(source="created_by.username", allow_null=True)
    completion = serializers.SerializerMethodField()

    class Meta:
        model = SupervisionPlan
        fields = [
            "id",
            "department",
            "department_name",
            "grid",
            "grid_name",
            "year",
            "title",
            "content",
            "inspections_planned",
            "created_by",
            "created_at",
            "completion",
        ]
        read_only_fields = fields

    @extend_schema_field(CompletionSerializer)
    def get_completion(self, plan) -> dict:
        return _completion_data(self.context["completion"][plan.pk])


class SupervisionPlanWriteSerializer(serializers.Serializer):
    department = serializers.CharField(max_length=DEPARTMENT_CODE_MAX)
    grid = serializers.RegexField(GRID_CODE)
    year = serializers.IntegerField(min_value=plans.MIN_YEAR, max_value=plans.MAX_YEAR)
    title = serializers.CharField(max_length=200)
    content = serializers.CharField(required=False, allow_blank=True, default="")
    inspections_planned = serializers.IntegerField(min_value=1, max_value=100_000)

    def validate_department(self, code):
        return _department_in_scope(self.context["user"], code)

    def validate_grid(self, code):
        return _grid_in_scope(self.context["user"], code)


class SupervisionPlanFilterSerializer(serializers.Serializer):
    year = serializers.IntegerField(
        required=False, min_value=plans.MIN_YEAR, max_value=plans.MAX_YEAR
    )
    department = serializers.CharField(required=False, max_length=DEPARTMENT_CODE_MAX)
    grid = serializers.RegexField(GRID_CODE, required=False)

    def validate_department(self, code):
        return _department_in_scope(self.context["user"], code)

    def validate_grid(self, code):
        return _grid_in_scope(self.context["user"], code)


class SupervisionPlanListApi(ListAPIView):
    serializer_class = SupervisionPlanSerializer
    filter_backends: list = []

    @extend_schema(
        parameters=[
            OpenApiParameter("year", OpenApiTypes.INT),
            OpenApiParameter("department", OpenApiTypes.STR, description="department code"),
            OpenApiParameter("grid", OpenApiTypes.STR, description="grid code: its subtree"),
        ],
        tags=["plans"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        query = SupervisionPlanFilterSerializer(
            data=self.request.query_params, context={"user": self.request.user}
        )
        query.is_valid(raise_exception=True)
        return ledger.supervision_plan_list(user=self.request.user, **query.validated_data)

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        completion = ledger.supervision_plan_completion(plans=page)
        data = SupervisionPlanSerializer(page, many=True, context={"completion": completion}).data
        return self.get_paginated_response(data)

    @extend_schema(
        request=SupervisionPlanWriteSerializer,
        responses={201: SupervisionPlanSerializer},
        tags=["plans"],
    )
    def post(self, request):
        data = SupervisionPlanWriteSerializer(data=request.data, context={"user": request.user})
        data.is_valid(raise_exception=True)
        plan = plans.supervision_plan_create(actor=request.user, **data.validated_data)
        plan = ledger.supervision_plan_list(user=request.user).get(pk=plan.pk)
        completion = ledger.supervision_plan_completion(plans=[plan])
        return Response(
            SupervisionPlanSerializer(plan, context={"completion": completion}).data,
            status=status.HTTP_201_CREATED,
        )


class ItemProgressSerializer(serializers.Serializer):
    source = serializers.IntegerField(source="source_id")
    source_name = serializers.CharField()
    visits = serializers.IntegerField()
    done = serializers.IntegerField(help_text="on-site patrols of the month, all of them")
    counted = serializers.IntegerField(help_text="done, at most visits")


class PatrolPlanSerializer(serializers.ModelSerializer):
    grid = serializers.CharField(source="grid.code")
    grid_name = serializers.CharField(source="grid.name")
    inspector = serializers.CharField(source="inspector.username", allow_null=True)
    created_by = serializers.CharField(source="created_by.username", allow_null=True)
    items = serializers.SerializerMethodField()
    completion = serializers.SerializerMethodField()

    class Meta:
        model = PatrolPlan
        fields = [
            "id",
            "grid",
            "grid_name",
            "inspector",
            "month",
            "created_by",
            "created_at",
            "items",
            "completion",
        ]
        read_only_fields = fields

    @extend_schema_field(ItemProgressSerializer(many=True))
    def get_items(self, plan) -> list:
        return ItemProgressSerializer(self.context["progress"][plan.pk].items, many=True).data

    @extend_schema_field(CompletionSerializer)
    def get_completion(self, plan) -> dict:
        return _completion_data(self.context["progress"][plan.pk].completion)


class PatrolPlanItemSerializer(serializers.Serializer):
    source = serializers.IntegerField(min_value=1)
    visits = serializers.IntegerField(min_value=1, max_value=plans.MAX_VISITS, default=1)


class PatrolPlanWriteSerializer(serializers.Serializer):
    grid = serializers.RegexField(GRID_CODE)
    month = MonthField(help_text="YYYY-MM or the first day of the month")
    inspector = serializers.CharField(required=False, allow_null=True, max_length=150)
    items = PatrolPlanItemSerializer(many=True)

    def validate_grid(self, code):
        return _grid_in_scope(self.context["user"], code)

    def validate_inspector(self, username):
        return _active_user(username) if username else None

    def validate_items(self, items):
        return [plans.PatrolPlanItemInput(source_id=i["source"], visits=i["visits"]) for i in items]


class PatrolPlanFilterSerializer(serializers.Serializer):
    month = MonthField(required=False)
    grid = serializers.RegexField(GRID_CODE, required=False)
    inspector = serializers.CharField(required=False, max_length=150)

    def validate_grid(self, code):
        return _grid_in_scope(self.context["user"], code)

    def validate_inspector(self, username):
        return _active_user(username)


class PatrolPlanListApi(ListAPIView):
    serializer_class = PatrolPlanSerializer
    filter_backends: list = []

    @extend_schema(
        parameters=[
            OpenApiParameter("month", OpenApiTypes.STR, description="YYYY-MM"),
            OpenApiParameter("grid", OpenApiTypes.STR, description="grid code: its subtree"),
            OpenApiParameter("inspector", OpenApiTypes.STR, description="username"),
        ],
        tags=["plans"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        query = PatrolPlanFilterSerializer(
            data=self.request.query_params, context={"user": self.request.user}
        )
        query.is_valid(raise_exception=True)
        return ledger.patrol_plan_list(user=self.request.user, **query.validated_data)

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        progress = ledger.patrol_plan_progress(plans=page)
        data = PatrolPlanSerializer(page, many=True, context={"progress": progress}).data
        return self.get_paginated_response(data)

    @extend_schema(
        request=PatrolPlanWriteSerializer, responses={201: PatrolPlanSerializer}, tags=["plans"]
    )
    def post(self, request):
        data = PatrolPlanWriteSerializer(data=request.data, context={"user": request.user})
        data.is_valid(raise_exception=True)
        plan = plans.patrol_plan_create(actor=request.user, **data.validated_data)
        plan = ledger.patrol_plan_list(user=request.user).get(pk=plan.pk)
        progress = ledger.patrol_plan_progress(plans=[plan])
        return Response(
            PatrolPlanSerializer(plan, context={"progress": progress}).data,
            status=status.HTTP_201_CREATED,
        )
