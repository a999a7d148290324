from django.urls import path

from cases.api import open311

urlpatterns = [
    path("services.json", open311.ServicesApi.as_view(), name="open311-services"),
    path("requests.json", open311.RequestsApi.as_view(), name="open311-requests"),
    path("requests/<int:pk>.json", open311.RequestDetailApi.as_view(), name="open311-request"),
]
