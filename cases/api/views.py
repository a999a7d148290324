from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.generics import ListAPIView

from cases import selectors
from cases.api.serializers import CategorySerializer
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
