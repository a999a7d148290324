"""Every REST route under /api/v1/, each app contributing its own."""

from django.urls import include, path

# (the cases first: the platform's intake is the busiest route; every app's routes begin with
# their own words, so the order changes no match)
urlpatterns = [
    path("", include("cases.api.urls")),
    path("", include("core.api.urls")),
    path("", include("grids.api.urls")),
    path("", include("inspections.api.draw_urls")),
    path("", include("inspections.api.excel_urls")),
    path("", include("inspections.api.urls")),
    path("", include("assessment.api.urls")),
]
