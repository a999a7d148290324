"""Thin API views for random inspection (双随机、一公开): validate, call one service or selector,
serialize. The public list needs no login and shows published draws only, without officers."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from grids import selectors as grid_selectors
from inspections import draw_selectors, draw_services, selectors
from inspections.models import Patrol
from inspections.models_draw import RandomDraw, RandomDrawTarget

# --- serializers -----------------------------------------------------------------------------


class RandomDrawSerializer(serializers.ModelSerializer):
    department = serializers.CharField(source="department.code")
    department_name = serializers.CharField(source="department.name")
    grid = serializers.CharField(source="grid.code")
    grid_name = serializers.CharField(source="grid.name")
    created_by = serializers.CharField(source="created_by.username", allow_null=True)
    published_by = serializers.CharField(source="published_by.username", allow_null=True)
    target_count = serializers.IntegerField()
    results_count = serializers.IntegerField()

    class Meta:
        model = RandomDraw
        fields = [
            "id",
            "title",
            "department",
            "department_name",
            "grid",
            "grid_name",
            "period_start",
            "period_end",
            "inspection_date",
            "quotas",
            "pool",
            "seed",
            "inputs_hash",
            "created_by",
            "created_at",
            "published_at",
            "published_by",
            "target_count",
            "results_count",
        ]
        read_only_fields = fields


class RandomDrawTargetSerializer(serializers.ModelSerializer):
    source_name = serializers.CharField(source="source.name")
    source_grid = serializers.CharField(source="source.grid.code")
    officers = serializers.SlugRelatedField(slug_field="username", many=True, read_only=True)
    outcome = serializers.ChoiceField(
        source="result_outcome", choices=Patrol.Outcome.choices, allow_blank=True, read_only=True
    )
    result_recorded_by = serializers.CharField(
        source="result_recorded_by.username", allow_null=True
    )

    class Meta:
        model = RandomDrawTarget
        fields = [
            "id",
            "source",
            "source_name",
            "source_grid",
            "source_class",
            "officers",
            "officers_fallback",
            "outcome",
            "result",
            "patrol",
            "result_recorded_by",
            "result_recorded_at",
        ]
        read_only_fields = fields


class RandomDrawDetailSerializer(RandomDrawSerializer):
    targets = RandomDrawTargetSerializer(many=True, read_only=True)

    class Meta(RandomDrawSerializer.Meta):
        fields = [*RandomDrawSerializer.Meta.fields, "targets"]
        read_only_fields = fields


class RandomDrawCreateSerializer(serializers.Serializer):
    """Input of POST: types here, rules in ``draw_services``. The seed is always the server's,
    so that nobody can try seeds offline until the draw suits them."""

    title = serializers.CharField(max_length=200)
    department = serializers.CharField(max_length=30)
    grid = serializers.RegexField(r"^\d{12,15}$")
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    inspection_date = serializers.DateField()
    quotas = serializers.DictField(child=serializers.FloatField(), allow_empty=False)


class RandomDrawResultSerializer(serializers.Serializer):
    # The patrols' outcomes; the service refuses the one that is not an on-site finding.
    outcome = serializers.ChoiceField(choices=Patrol.Outcome.choices)
    result = serializers.CharField(max_length=5000)
    patrol = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=2**63 - 1
    )


class PublicTargetSerializer(serializers.ModelSerializer):
    source_name = serializers.CharField(source="source.name")
    credit_code = serializers.CharField(source="source.credit_code")
    grid_name = serializers.CharField(source="source.grid.name")
    outcome = serializers.ChoiceField(
        source="result_outcome", choices=Patrol.Outcome.choices, allow_blank=True, read_only=True
    )
    outcome_display = serializers.CharField(source="get_result_outcome_display")

    class Meta:
        model = RandomDrawTarget
        fields = [
            "source_name",
            "credit_code",
            "grid_name",
            "source_class",
            "outcome",
            "outcome_display",
            "result",
        ]
        read_only_fields = fields


class PublicRandomDrawSerializer(serializers.ModelSerializer):
    department_name = serializers.CharField(source="department.name")
    grid_name = serializers.CharField(source="grid.name")
    targets = PublicTargetSerializer(many=True, read_only=True)

    class Meta:
        model = RandomDraw
        fields = [
            "id",
            "title",
            "department_name",
            "grid_name",
            "period_start",
            "period_end",
            "inspection_date",
            "quotas",
            "pool",
            "seed",
            "inputs_hash",
            "published_at",
            "targets",
        ]
        read_only_fields = fields


# --- views -----------------------------------------------------------------------------------


class RandomDrawListApi(ListAPIView):
    serializer_class = RandomDrawSerializer
    filter_backends: list = []

    @extend_schema(tags=["random-draws"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return draw_selectors.random_draw_list(user=self.request.user)

    @extend_schema(
        request=RandomDrawCreateSerializer,
        responses={201: RandomDrawDetailSerializer},
        tags=["random-draws"],
    )
    def post(self, request):
        data = RandomDrawCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        department = (
            grid_selectors.department_list(user=request.user)
            .filter(code=values.pop("department"))
            .first()
        )
        if department is None:
            raise serializers.ValidationError({"department": [_("Unknown department.")]})
        grid = grid_selectors.grid_list(user=request.user).filter(code=values.pop("grid")).first()
        if grid is None:
            raise serializers.ValidationError({"grid": [_("Unknown grid.")]})
        draw = draw_services.random_draw_create(
            department=department, grid=grid, actor=request.user, **values
        )
        draw = draw_selectors.random_draw_get(user=request.user, pk=draw.pk)
        return Response(RandomDrawDetailSerializer(draw).data, status=status.HTTP_201_CREATED)


class RandomDrawDetailApi(APIView):
    @extend_schema(responses=RandomDrawDetailSerializer, tags=["random-draws"])
    def get(self, request, pk: int):
        draw = draw_selectors.random_draw_get(user=request.user, pk=pk)
        return Response(RandomDrawDetailSerializer(draw).data)


class RandomDrawPublishApi(APIView):
    @extend_schema(request=None, responses=RandomDrawDetailSerializer, tags=["random-draws"])
    def post(self, request, pk: int):
        draw = draw_selectors.random_draw_get(user=request.user, pk=pk)
        draw_services.random_draw_publish(draw=draw, actor=request.user)
        draw = draw_selectors.random_draw_get(user=request.user, pk=pk)
        return Response(RandomDrawDetailSerializer(draw).data)


class RandomDrawResultApi(APIView):
    @extend_schema(
        request=RandomDrawResultSerializer,
        responses=RandomDrawTargetSerializer,
        tags=["random-draws"],
    )
    def post(self, request, pk: int, target_id: int):
        target = draw_selectors.random_draw_target_get(
            user=request.user, draw_pk=pk, target_pk=target_id
        )
        data = RandomDrawResultSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        patrol: Patrol | None = None
        if values.get("patrol"):
            patrol = selectors.patrol_list(user=request.user).filter(pk=values["patrol"]).first()
            if patrol is None:
                raise serializers.ValidationError({"patrol": [_("Unknown inspection record.")]})
        draw_services.random_draw_result_record(
            target=target,
            outcome=values["outcome"],
            result=values["result"],
            patrol=patrol,
            actor=request.user,
        )
        target = draw_selectors.random_draw_target_get(
            user=request.user, draw_pk=pk, target_pk=target_id
        )
        return Response(RandomDrawTargetSerializer(target).data)


class PublicRandomDrawListApi(ListAPIView):
    """Published draws and their results (一公开), for everyone."""

    serializer_class = PublicRandomDrawSerializer
    filter_backends: list = []
    permission_classes = [AllowAny]
    # No authentication at all: a stale token must not turn a public page into a 401.
    authentication_classes: list = []

    @extend_schema(tags=["random-draws"], auth=[])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return draw_selectors.random_draws_published()
