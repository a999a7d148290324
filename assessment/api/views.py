"""Thin API views of the assessment app: validate → one service or selector → serialize.

``GET /api/v1/assessments/{year}/`` lists the year's score sheets exactly as API.md
"Assessment" (paginated like every list), scoped: a county's people see their county's sheet,
the city office all of them. Running, locking and entering facts are the office's. The public
disclosure lists need no login.
"""

from __future__ import annotations

import tempfile

from django.http import FileResponse, Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from assessment import excel, performance, selectors, services
from assessment.api import serializers as s
from assessment.models import AssessmentFact, PerformanceFigure, PerformancePeriod
from core.errors import DomainError
from core.models import User
from grids import selectors as grid_selectors
from grids.models import Department, Grid

PARSERS = [MultiPartParser, FormParser, JSONParser]
YEAR_MIN, YEAR_MAX = 2000, 2100


# --- lookups -----------------------------------------------------------------------------------


def _year(year: int) -> int:
    if not YEAR_MIN <= year <= YEAR_MAX:
        raise DomainError(_("Give a year between 2000 and 2100."), year=[_("Out of range.")])
    return year


def _grid(user: User, code: str | None, *, field: str = "grid") -> Grid | None:
    """The grid with this code if the user may see it; a 400 naming the field otherwise."""
    if not code:
        return None
    grid = grid_selectors.grids_visible(user=user).filter(code=code).first()
    if grid is None and selectors.is_city_office(user=user):
        grid = Grid.objects.filter(code=code).first()
    if grid is None:
        raise serializers.ValidationError(
            {field: [_("Unknown grid, or it lies outside your area.")]}
        )
    return grid


def _grid_of_department(department: Department | None, user: User, code: str, field: str) -> Grid:
    """A grid named for a department's record: any grid (the service checks that it lies in
    the department's area), or one the user may see when no department is named."""
    if department is None:
        return _grid(user, code, field=field)
    grid = Grid.objects.filter(code=code).first()
    if grid is None:
        raise serializers.ValidationError({field: [_("Unknown grid.")]})
    return grid


def _department(user: User, code: str | None) -> Department | None:
    if not code:
        return None
    dept = (
        Department.objects.filter(grid_selectors.department_scope_q(user=user), code=code)
        .select_related("grid")
        .first()
    )
    if dept is None:
        raise serializers.ValidationError(
            {"department": [_("Unknown department, or outside your area.")]}
        )
    return dept


def _filters(request) -> dict:
    """``grid`` (code: its subtree) and ``year`` query parameters of the record lists."""
    out = {"grid": None, "year": None}
    code = request.query_params.get("grid")
    if code:
        out["grid"] = grid_selectors.grid_get(user=request.user, code=code)
    year = request.query_params.get("year")
    if year:
        if not year.isdigit():
            raise serializers.ValidationError({"year": [_("A year is a number.")]})
        out["year"] = _year(int(year))
    return out


def _payload(request, lists: tuple[str, ...] = ()) -> dict:
    """Multipart forms repeat list fields (``attendees``) and carry JSON in ``decisions``."""
    if not hasattr(request.data, "getlist"):
        return request.data
    data = {k: request.data.get(k) for k in request.data if k not in lists}
    for name in lists:
        values = request.data.getlist(name)
        if values:
            data[name] = values
    if isinstance(data.get("decisions"), str):
        import json

        try:
            data["decisions"] = json.loads(data["decisions"])
        except ValueError:
            raise serializers.ValidationError({"decisions": [_("Not valid JSON.")]}) from None
    return data


GRID_YEAR = [
    OpenApiParameter("grid", OpenApiTypes.STR, description="grid code: its subtree"),
    OpenApiParameter("year", OpenApiTypes.INT),
]


class _RecordListApi(ListAPIView):
    # A mechanism record list, filtered by ``grid`` (subtree) and ``year`` and scoped by its
    # selector; the subclass's POST takes JSON or a multipart form carrying a document.
    filter_backends: list = []
    parser_classes = PARSERS
    list_selector = None

    def get_queryset(self):
        return self.list_selector(user=self.request.user, **_filters(self.request))


# --- score sheets ------------------------------------------------------------------------------


class SheetListApi(ListAPIView):
    serializer_class = s.ScoreSheetSerializer
    filter_backends: list = []

    @extend_schema(
        parameters=[
            OpenApiParameter("grid", OpenApiTypes.STR, description="a county-level grid code")
        ],
        tags=["assessment"],
        description="One score sheet per county-level grid for the year, best first.",
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        year = _year(self.kwargs["year"])
        code = self.request.query_params.get("grid")
        grid = grid_selectors.grid_get(user=self.request.user, code=code) if code else None
        return selectors.sheet_list(user=self.request.user, year=year, grid=grid)


class SheetDetailApi(APIView):
    @extend_schema(responses=s.ScoreSheetSerializer, tags=["assessment"])
    def get(self, request, year: int, grid: str):
        sheet = selectors.sheet_get(user=request.user, year=_year(int(year)), grid_code=grid)
        return Response(s.ScoreSheetSerializer(sheet).data)


class RankingApi(APIView):
    @extend_schema(responses=s.RankingRowSerializer(many=True), tags=["assessment"])
    def get(self, request, year: int):
        rows = selectors.ranking(user=request.user, year=_year(year))
        return Response(s.RankingRowSerializer(rows, many=True).data)


class RuleSetApi(APIView):
    @extend_schema(responses=s.RuleSetSerializer, tags=["assessment"])
    def get(self, request, year: int):
        rule_set = selectors.rule_set_get(year=_year(year))
        if rule_set is None:
            raise Http404
        return Response(s.RuleSetSerializer(rule_set).data)


class RunApi(APIView):
    @extend_schema(request=None, responses={200: s.RunResultSerializer}, tags=["assessment"])
    def post(self, request, year: int):
        """Compute every county-level grid's sheet (office only; 409 once the year is locked)."""
        sheets = services.assessment_run(year=_year(year), actor=request.user)
        return Response({"year": year, "sheets": len(sheets), "locked": False})


class LockApi(APIView):
    @extend_schema(request=None, responses={200: s.RunResultSerializer}, tags=["assessment"])
    def post(self, request, year: int):
        """Lock the year's sheets for good (office only; 409 if already locked)."""
        count = services.assessment_lock(year=_year(year), actor=request.user)
        return Response({"year": year, "sheets": count, "locked": True})


class JsonNegotiation(DefaultContentNegotiation):
    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class ExportApi(APIView):
    renderer_classes = [JSONRenderer]
    content_negotiation_class = JsonNegotiation

    @extend_schema(
        parameters=[OpenApiParameter("grid", OpenApiTypes.STR, description="one county's sheet")],
        responses={200: OpenApiResponse(OpenApiTypes.BINARY, description="an .xlsx workbook")},
        tags=["assessment"],
    )
    def get(self, request, year: int):
        """The year's sheets as a workbook laid out like the notice's table, with a ranking."""
        year = _year(year)
        code = request.query_params.get("grid")
        grid = grid_selectors.grid_get(user=request.user, code=code) if code else None
        sheets = list(selectors.sheet_list(user=request.user, year=year, grid=grid))
        if not sheets:
            raise Http404
        out = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes (and deletes) it
        excel.sheets_write(
            sheets=sheets, ranking=selectors.ranking(user=request.user, year=year), out=out
        )
        out.seek(0)
        name = f"{year}年度环境监管网格化考核{'-' + grid.name if grid else ''}.xlsx"
        return FileResponse(
            out, as_attachment=True, filename=name, content_type=excel.XLSX_CONTENT_TYPE
        )


# --- facts -------------------------------------------------------------------------------------


@extend_schema_view(
    get=extend_schema(parameters=[OpenApiParameter("grid", OpenApiTypes.STR)], tags=["assessment"])
)
class FactListApi(ListAPIView):
    serializer_class = s.FactSerializer
    filter_backends: list = []
    parser_classes = PARSERS

    def get_queryset(self):
        code = self.request.query_params.get("grid")
        grid = _grid(self.request.user, code) if code else None
        return selectors.fact_list(
            user=self.request.user, year=_year(self.kwargs["year"]), grid=grid
        )

    @extend_schema(
        request={"multipart/form-data": s.FactWriteSerializer},
        responses={201: s.FactSerializer},
        tags=["assessment"],
        description=(
            "The office enters one instance of a fact rule (rule code, points within the "
            "rule's range — default its own points —, a note and the document)."
        ),
    )
    def post(self, request, year: int):
        data = s.FactWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        fact = services.fact_enter(
            year=_year(year),
            grid=_grid(request.user, v["grid"]),
            rule_code=v["rule"],
            points=v.get("points"),
            occurred_on=v.get("occurred_on"),
            note=v["note"],
            document=v["document"],
            actor=request.user,
        )
        return Response(s.FactSerializer(fact).data, status=status.HTTP_201_CREATED)


def _fact(request, pk: int) -> AssessmentFact:
    fact = AssessmentFact.objects.filter(pk=pk).first()
    if (
        fact is None
        or not selectors.fact_list(user=request.user, year=fact.year).filter(pk=pk).exists()
    ):
        raise Http404
    return selectors.fact_list(user=request.user, year=fact.year).get(pk=pk)


class FactDetailApi(APIView):
    @extend_schema(responses=s.FactSerializer, tags=["assessment"])
    def get(self, request, pk: int):
        return Response(s.FactSerializer(_fact(request, pk)).data)


class FactWithdrawApi(APIView):
    @extend_schema(request=s.WithdrawSerializer, responses=s.FactSerializer, tags=["assessment"])
    def post(self, request, pk: int):
        data = s.WithdrawSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fact = services.fact_withdraw(
            fact=_fact(request, pk), actor=request.user, reason=data.validated_data["reason"]
        )
        return Response(s.FactSerializer(_fact(request, fact.pk)).data)


# --- joint meetings ----------------------------------------------------------------------------


@extend_schema_view(get=extend_schema(parameters=GRID_YEAR, tags=["mechanisms"]))
class MeetingListApi(_RecordListApi):
    serializer_class = s.MeetingSerializer
    list_selector = staticmethod(selectors.meeting_list)

    @extend_schema(
        request={
            "application/json": s.MeetingWriteSerializer,
            "multipart/form-data": s.MeetingWriteSerializer,
        },
        responses={201: s.MeetingSerializer},
        tags=["mechanisms"],
    )
    def post(self, request):
        data = s.MeetingWriteSerializer(data=_payload(request, lists=("attendees",)))
        data.is_valid(raise_exception=True)
        v = data.validated_data
        decisions = [
            services.DecisionInput(
                text=d["text"],
                issued_as=d["issued_as"],
                letter_number=d.get("letter_number", ""),
                department=_department(request.user, d.get("department")),
                due_on=d.get("due_on"),
            )
            for d in v["decisions"]
        ]
        meeting = services.joint_meeting_record(
            grid=_grid(request.user, v["grid"]),
            held_on=v["held_on"],
            kind=v["kind"],
            title=v["title"],
            chaired_by=v["chaired_by"],
            attendees=v["attendees"],
            minutes=v["minutes"],
            decisions=decisions,
            document=v.get("document"),
            actor=request.user,
        )
        return Response(
            s.MeetingSerializer(selectors.meeting_get(user=request.user, pk=meeting.pk)).data,
            status=status.HTTP_201_CREATED,
        )


class MeetingDetailApi(APIView):
    @extend_schema(responses=s.MeetingSerializer, tags=["mechanisms"])
    def get(self, request, pk: int):
        return Response(s.MeetingSerializer(selectors.meeting_get(user=request.user, pk=pk)).data)


class DecisionFollowUpApi(APIView):
    @extend_schema(
        request=s.FollowUpSerializer, responses=s.DecisionSerializer, tags=["mechanisms"]
    )
    def post(self, request, pk: int):
        data = s.FollowUpSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        decision = services.meeting_decision_follow_up(
            decision=selectors.decision_get(user=request.user, pk=pk),
            actor=request.user,
            follow_up=data.validated_data["follow_up"],
            done_on=data.validated_data.get("done_on"),
        )
        return Response(
            s.DecisionSerializer(selectors.decision_get(user=request.user, pk=decision.pk)).data
        )


# --- half-year reports -------------------------------------------------------------------------


@extend_schema_view(get=extend_schema(parameters=GRID_YEAR, tags=["mechanisms"]))
class ReportListApi(_RecordListApi):
    serializer_class = s.ReportSerializer
    list_selector = staticmethod(selectors.report_list)

    @extend_schema(
        request={
            "multipart/form-data": s.ReportWriteSerializer,
            "application/json": s.ReportWriteSerializer,
        },
        responses={201: s.ReportSerializer},
        tags=["mechanisms"],
        description="A county-level grid's half-yearly report (or, with department, a "
        "department's ledger report to its grid's office). Due 10 July and 10 January; "
        "a late report is accepted and marked late.",
    )
    def post(self, request):
        data = s.ReportWriteSerializer(data=_payload(request))
        data.is_valid(raise_exception=True)
        v = data.validated_data
        department = _department(request.user, v.get("department"))
        report = services.half_year_report_submit(
            grid=_grid_of_department(department, request.user, v["grid"], "grid"),
            department=department,
            year=v["year"],
            half=v["half"],
            summary=v["summary"],
            document=v.get("document"),
            actor=request.user,
        )
        return Response(
            s.ReportSerializer(selectors.report_get(user=request.user, pk=report.pk)).data,
            status=status.HTTP_201_CREATED,
        )


class ReportDetailApi(APIView):
    @extend_schema(responses=s.ReportSerializer, tags=["mechanisms"])
    def get(self, request, pk: int):
        return Response(s.ReportSerializer(selectors.report_get(user=request.user, pk=pk)).data)


# --- requests for help -------------------------------------------------------------------------


@extend_schema_view(get=extend_schema(parameters=[GRID_YEAR[0]], tags=["mechanisms"]))
class HelpRequestListApi(ListAPIView):
    serializer_class = s.HelpRequestSerializer
    filter_backends: list = []
    parser_classes = PARSERS

    def get_queryset(self):
        return selectors.help_request_list(
            user=self.request.user, grid=_filters(self.request)["grid"]
        )

    @extend_schema(
        request={
            "multipart/form-data": s.HelpRequestWriteSerializer,
            "application/json": s.HelpRequestWriteSerializer,
        },
        responses={201: s.HelpRequestSerializer},
        tags=["mechanisms"],
    )
    def post(self, request):
        data = s.HelpRequestWriteSerializer(data=_payload(request))
        data.is_valid(raise_exception=True)
        v = data.validated_data
        case = None
        if v.get("case"):
            from cases.selectors import case_list

            case = case_list(user=request.user).filter(pk=v["case"]).first()
            if case is None:
                raise serializers.ValidationError(
                    {"case": [_("Unknown case, or outside your area.")]}
                )
        to_grid = None
        if v.get("to_grid"):
            to_grid = Grid.objects.filter(code=v["to_grid"]).first()
            if to_grid is None:
                raise serializers.ValidationError({"to_grid": [_("Unknown grid.")]})
        found = services.help_request_make(
            from_grid=_grid(request.user, v["from_grid"], field="from_grid"),
            to_grid=to_grid,
            subject=v["subject"],
            body=v["body"],
            case=case,
            document=v.get("document"),
            actor=request.user,
        )
        return Response(
            s.HelpRequestSerializer(
                selectors.help_request_get(user=request.user, pk=found.pk)
            ).data,
            status=status.HTTP_201_CREATED,
        )


class HelpRequestAnswerApi(APIView):
    @extend_schema(
        request=s.AnswerSerializer, responses=s.HelpRequestSerializer, tags=["mechanisms"]
    )
    def post(self, request, pk: int):
        data = s.AnswerSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        found = services.help_request_answer(
            request=selectors.help_request_get(user=request.user, pk=pk),
            actor=request.user,
            answer=data.validated_data["answer"],
        )
        return Response(
            s.HelpRequestSerializer(selectors.help_request_get(user=request.user, pk=found.pk)).data
        )


# --- supervisions ------------------------------------------------------------------------------


@extend_schema_view(get=extend_schema(parameters=GRID_YEAR, tags=["mechanisms"]))
class SupervisionListApi(_RecordListApi):
    serializer_class = s.SupervisionSerializer
    list_selector = staticmethod(selectors.supervision_list)

    @extend_schema(
        request={
            "multipart/form-data": s.SupervisionWriteSerializer,
            "application/json": s.SupervisionWriteSerializer,
        },
        responses={201: s.SupervisionSerializer},
        tags=["mechanisms"],
    )
    def post(self, request):
        data = s.SupervisionWriteSerializer(data=_payload(request))
        data.is_valid(raise_exception=True)
        v = data.validated_data
        department = _department(request.user, v.get("department"))
        supervision = services.supervision_record(
            supervisor_grid=_grid_of_department(
                department, request.user, v["supervisor_grid"], "supervisor_grid"
            ),
            target_grid=_grid_of_department(
                department, request.user, v["target_grid"], "target_grid"
            ),
            department=department,
            held_on=v["held_on"],
            topic=v["topic"],
            findings=v["findings"],
            rectification_due=v.get("rectification_due"),
            document=v.get("document"),
            actor=request.user,
        )
        return Response(
            s.SupervisionSerializer(
                selectors.supervision_get(user=request.user, pk=supervision.pk)
            ).data,
            status=status.HTTP_201_CREATED,
        )


class SupervisionDetailApi(APIView):
    @extend_schema(responses=s.SupervisionSerializer, tags=["mechanisms"])
    def get(self, request, pk: int):
        return Response(
            s.SupervisionSerializer(selectors.supervision_get(user=request.user, pk=pk)).data
        )


class SupervisionRectificationApi(APIView):
    @extend_schema(
        request=s.RectificationSerializer, responses=s.SupervisionSerializer, tags=["mechanisms"]
    )
    def post(self, request, pk: int):
        data = s.RectificationSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        supervision = services.supervision_rectification_record(
            supervision=selectors.supervision_get(user=request.user, pk=pk),
            actor=request.user,
            rectification=data.validated_data["rectification"],
            rectified_on=data.validated_data.get("rectified_on"),
        )
        return Response(
            s.SupervisionSerializer(
                selectors.supervision_get(user=request.user, pk=supervision.pk)
            ).data
        )


class SupervisionPublishApi(APIView):
    @extend_schema(request=None, responses=s.SupervisionSerializer, tags=["mechanisms"])
    def post(self, request, pk: int):
        supervision = services.supervision_publish(
            supervision=selectors.supervision_get(user=request.user, pk=pk), actor=request.user
        )
        return Response(
            s.SupervisionSerializer(
                selectors.supervision_get(user=request.user, pk=supervision.pk)
            ).data
        )


# --- penalty decisions -------------------------------------------------------------------------


@extend_schema_view(get=extend_schema(parameters=GRID_YEAR, tags=["mechanisms"]))
class PenaltyListApi(_RecordListApi):
    serializer_class = s.PenaltySerializer
    list_selector = staticmethod(selectors.penalty_list)

    @extend_schema(
        request=s.PenaltyWriteSerializer, responses={201: s.PenaltySerializer}, tags=["mechanisms"]
    )
    def post(self, request):
        data = s.PenaltyWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = dict(data.validated_data)
        department = _department(request.user, v.pop("department"))
        decision = services.penalty_decision_record(
            department=department,
            grid=_grid_of_department(department, request.user, v.pop("grid"), "grid"),
            actor=request.user,
            **v,
        )
        return Response(
            s.PenaltySerializer(selectors.penalty_get(user=request.user, pk=decision.pk)).data,
            status=status.HTTP_201_CREATED,
        )


class PenaltyPublishApi(APIView):
    @extend_schema(request=None, responses=s.PenaltySerializer, tags=["mechanisms"])
    def post(self, request, pk: int):
        decision = services.penalty_decision_publish(
            decision=selectors.penalty_get(user=request.user, pk=pk), actor=request.user
        )
        return Response(
            s.PenaltySerializer(selectors.penalty_get(user=request.user, pk=decision.pk)).data
        )


# --- self-evaluations --------------------------------------------------------------------------


@extend_schema_view(get=extend_schema(parameters=GRID_YEAR, tags=["mechanisms"]))
class SelfEvaluationListApi(_RecordListApi):
    serializer_class = s.SelfEvaluationSerializer
    list_selector = staticmethod(selectors.self_evaluation_list)

    @extend_schema(
        request={
            "multipart/form-data": s.SelfEvaluationWriteSerializer,
            "application/json": s.SelfEvaluationWriteSerializer,
        },
        responses={201: s.SelfEvaluationSerializer},
        tags=["mechanisms"],
    )
    def post(self, request):
        data = s.SelfEvaluationWriteSerializer(data=_payload(request))
        data.is_valid(raise_exception=True)
        v = data.validated_data
        evaluation = services.self_evaluation_submit(
            grid=_grid(request.user, v["grid"]),
            year=v["year"],
            score=v.get("score"),
            summary=v["summary"],
            problems=v["problems"],
            document=v.get("document"),
            actor=request.user,
        )
        evaluation = selectors.self_evaluation_list(user=request.user).get(pk=evaluation.pk)
        return Response(s.SelfEvaluationSerializer(evaluation).data, status=status.HTTP_201_CREATED)


# --- public disclosure -------------------------------------------------------------------------


def _public_grid(request) -> Grid | None:
    code = request.query_params.get("grid")
    if not code:
        return None
    grid = Grid.objects.filter(code=code).first()
    if grid is None:
        raise Http404
    return grid


@extend_schema_view(get=extend_schema(parameters=[GRID_YEAR[0]], tags=["disclosure"], auth=[]))
class PublicSupervisionListApi(ListAPIView):
    """Published supervision findings and rectification (信息公开); no login."""

    serializer_class = s.PublicSupervisionSerializer
    permission_classes = [AllowAny]
    authentication_classes: list = []
    filter_backends: list = []

    def get_queryset(self):
        return selectors.disclosure_supervisions(grid=_public_grid(self.request))


@extend_schema_view(get=extend_schema(parameters=[GRID_YEAR[0]], tags=["disclosure"], auth=[]))
class PublicPenaltyListApi(ListAPIView):
    """Published penalty decisions (信息公开); no login."""

    serializer_class = s.PublicPenaltySerializer
    permission_classes = [AllowAny]
    authentication_classes: list = []
    filter_backends: list = []

    def get_queryset(self):
        return selectors.disclosure_penalties(grid=_public_grid(self.request))


# --- performance periods -----------------------------------------------------------------------


@extend_schema_view(get=extend_schema(tags=["performance"]))
class PeriodListApi(ListAPIView):
    serializer_class = s.PeriodSerializer
    filter_backends: list = []

    def get_queryset(self):
        return selectors.performance_period_list()

    @extend_schema(
        request=s.PeriodWriteSerializer,
        responses={200: s.PeriodSerializer},
        tags=["performance"],
        description="Compute (or recompute) a month, quarter or year (office only).",
    )
    def post(self, request):
        data = s.PeriodWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        period = performance.performance_period_compute(actor=request.user, **data.validated_data)
        return Response(s.PeriodSerializer(period).data)


def _period(pk: int) -> PerformancePeriod:
    period = selectors.performance_period_list().filter(pk=pk).first()
    if period is None:
        raise Http404
    return period


class PeriodFigureListApi(ListAPIView):
    serializer_class = s.FigureSerializer
    filter_backends: list = []

    @extend_schema(
        parameters=[
            OpenApiParameter("subject", OpenApiTypes.STR, enum=PerformanceFigure.Subject.values)
        ],
        tags=["performance"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        subject = self.request.query_params.get("subject")
        if subject and subject not in PerformanceFigure.Subject.values:
            raise serializers.ValidationError(
                {"subject": [_("One of inspector, department, grid.")]}
            )
        return selectors.performance_figures(
            user=self.request.user, period=_period(self.kwargs["pk"]), subject=subject
        )


class PeriodLockApi(APIView):
    @extend_schema(request=None, responses=s.PeriodSerializer, tags=["performance"])
    def post(self, request, pk: int):
        """Freeze a finished period (office only); its evaluated cases become ``assessed``."""
        from django.db import transaction

        from assessment import tasks

        period = performance.performance_period_lock(period=_period(pk), actor=request.user)
        transaction.on_commit(lambda: tasks.performance_cases_assess.delay(period.pk))
        return Response(s.PeriodSerializer(_period(period.pk)).data)
