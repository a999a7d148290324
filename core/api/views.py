"""``POST /api/v1/auth/token/``: username + password → an expiring bearer token."""

from django.contrib.auth import authenticate
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from core import services
from core.models import ApiToken


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, trim_whitespace=False)


TokenResponse = inline_serializer(
    "TokenResponse",
    fields={"token": serializers.CharField(), "expires_at": serializers.DateTimeField()},
)


class TokenObtainApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "token"

    @extend_schema(request=TokenRequestSerializer, responses={201: TokenResponse}, tags=["auth"])
    def post(self, request):
        data = TokenRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # Passing the request lets django-axes count failures per username + address.
        user = authenticate(
            request._request,
            username=data.validated_data["username"],
            password=data.validated_data["password"],
        )
        if user is None:
            return Response(
                {"detail": _("Unable to log in with the given username and password.")},
                status=status.HTTP_401_UNAUTHORIZED,
            )
        raw, token = services.api_token_issue(user=user)
        return Response(
            {"token": raw, "expires_at": token.expires_at}, status=status.HTTP_201_CREATED
        )


class TokenRevokeApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None}, tags=["auth"])
    def delete(self, request):
        """Revoke the bearer token this request was made with."""
        if isinstance(request.auth, ApiToken):
            services.api_token_revoke(token=request.auth)
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(
            {"detail": _("This request was not made with a bearer token.")},
            status=status.HTTP_400_BAD_REQUEST,
        )
