"""The project's routes plus the assessment API, for tests that run before
``assessment.api.urls`` is included in ``gridsup/api_urls.py``."""

from django.urls import include, path

from gridsup.urls import urlpatterns as project_urlpatterns

urlpatterns = [
    path("api/v1/", include("assessment.api.urls")),
    *project_urlpatterns,
]
