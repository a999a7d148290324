"""The OpenAPI description of the bearer token, and the API docs page under a strict CSP."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.views import SpectacularSwaggerSplitView


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "core.api.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A token from POST /api/v1/auth/token/ (expires; can be revoked).",
        }


class ApiDocsView(SpectacularSwaggerSplitView):
    """Swagger UI with its init script served as a separate file (no inline script)."""

    template_name = "core/swagger_ui.html"
