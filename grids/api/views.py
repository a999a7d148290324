"""Thin API views: validate the query, call one selector, serialize."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from grids import selectors
from grids.api.serializers import (
    DepartmentSerializer,
    GridDetailSerializer,
    GridListQuerySerializer,
    GridListSerializer,
    LocateQuerySerializer,
)


class GridListApi(ListAPIView):
    serializer_class = GridListSerializer
    filter_backends: list = []

    @extend_schema(
        parameters=[
            OpenApiParameter("level", OpenApiTypes.INT),
            OpenApiParameter("parent", OpenApiTypes.STR, description="parent grid code"),
            OpenApiParameter("q", OpenApiTypes.STR, description="part of the name"),
        ],
        tags=["grids"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        query = GridListQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return selectors.grid_list(user=self.request.user, **query.validated_data)


def _detail(request, grid):
    roles = selectors.grid_roles_current(grids=[grid])
    return Response(GridDetailSerializer(grid, context={"roles": roles}).data)


class GridDetailApi(APIView):
    @extend_schema(responses=GridDetailSerializer, tags=["grids"])
    def get(self, request, code: str):
        return _detail(request, selectors.grid_get(user=request.user, code=code))


class GridLocateApi(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("lat", OpenApiTypes.FLOAT, required=True),
            OpenApiParameter("lng", OpenApiTypes.FLOAT, required=True),
        ],
        responses=GridDetailSerializer,
        tags=["grids"],
    )
    def get(self, request):
        query = LocateQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        grid = selectors.grid_locate(user=request.user, **query.validated_data)
        return _detail(request, selectors.grid_get(user=request.user, code=grid.code))


class DepartmentListApi(ListAPIView):
    serializer_class = DepartmentSerializer
    filter_backends: list = []

    @extend_schema(tags=["reference"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return selectors.department_list(user=self.request.user)
