"""Random inspection routes, relative to /api/v1/."""

from django.urls import path

from inspections.api import draw_views

urlpatterns = [
    path("random-draws/", draw_views.RandomDrawListApi.as_view(), name="api-random-draw-list"),
    path(
        "random-draws/<int:pk>/",
        draw_views.RandomDrawDetailApi.as_view(),
        name="api-random-draw-detail",
    ),
    path(
        "random-draws/<int:pk>/publish/",
        draw_views.RandomDrawPublishApi.as_view(),
        name="api-random-draw-publish",
    ),
    path(
        "random-draws/<int:pk>/targets/<int:target_id>/result/",
        draw_views.RandomDrawResultApi.as_view(),
        name="api-random-draw-result",
    ),
    path(
        "public/random-draws/",
        draw_views.PublicRandomDrawListApi.as_view(),
        name="api-public-random-draw-list",
    ),
]
