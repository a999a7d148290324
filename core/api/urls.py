from django.urls import path

from core.api.views import TokenObtainApi, TokenRevokeApi

urlpatterns = [
    path("auth/token/", TokenObtainApi.as_view(), name="api-token"),
    path("auth/token/current/", TokenRevokeApi.as_view(), name="api-token-current"),
]
