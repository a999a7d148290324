from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView

from core.api.docs import ApiDocsView
from gridsup.dashboard import home

urlpatterns = [
    # first: Django tries the patterns in order, and the machine clients' calls are most of the
    # traffic (no other pattern begins with api/v1/, so the order changes no match)
    path("api/v1/", include("gridsup.api_urls")),
    path("", home, name="home"),
    path("", include("core.urls")),
    path("grids/", include("grids.urls")),
    path("cases/", include("cases.urls")),
    path("", include("inspections.urls")),
    path("", include("assessment.urls")),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("open311/v2/", include("cases.api.open311_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", ApiDocsView.as_view(url_name="api-schema"), name="api-docs"),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
