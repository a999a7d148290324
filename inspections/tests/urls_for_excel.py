"""The project's routes plus the Excel, ledger and plan routes, for tests that run before
``inspections.api.excel_urls`` is included in ``gridsup/api_urls.py``."""

from django.urls import include, path

from gridsup.urls import urlpatterns as project_urlpatterns

urlpatterns = [
    path("api/v1/", include("inspections.api.excel_urls")),
    *project_urlpatterns,
]
