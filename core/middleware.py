"""The project's middleware: the language of a request (Chinese unless the user chose English),
and the security policy and flash messages, which the API's JSON answers do without.

Django's LocaleMiddleware would follow the browser's Accept-Language, so an office PC with an
English browser would get English pages. GridSup speaks Chinese by default: pages take the
language cookie set by the language switch and nothing else; API clients may still ask for
English with Accept-Language.
"""

from csp.constants import HEADER
from csp.middleware import CSPMiddleware
from django.conf import settings
from django.contrib.messages.middleware import MessageMiddleware
from django.middleware.locale import LocaleMiddleware
from django.utils import translation


class ChineseFirstLocaleMiddleware(LocaleMiddleware):
    def process_request(self, request):
        supported = {code for code, _name in settings.LANGUAGES}
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if chosen not in supported:
            chosen = None
        if chosen is None and request.path.startswith("/api/"):
            chosen = translation.get_language_from_request(request, check_path=False)
        language = chosen or settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()


# --- the API's answers: no per-answer work for what a JSON document does not use -----------------

API_PREFIX = "/api/v1/"
# A JSON document loads nothing and is framed by nothing: the strictest policy there is.
API_JSON_POLICY = "default-src 'none'; frame-ancestors 'none'"


class PagesCSPMiddleware(CSPMiddleware):
    """django-csp's configured policy (``CONTENT_SECURITY_POLICY``) on pages; on JSON answers
    the fixed ``API_JSON_POLICY``, set without building a policy from the settings on every
    answer (a twentieth of an API call's CPU). Pages, the browsable API and the API's docs
    are not JSON and keep the configured policy."""

    def process_response(self, request, response):
        if response.get("Content-Type", "").startswith("application/json"):
            if HEADER not in response:
                response[HEADER] = API_JSON_POLICY
            return response
        return super().process_response(request, response)


class PagesMessageMiddleware(MessageMiddleware):
    """Django's flash messages for pages. Calls to the API (which shows none) do not make a
    message store; a message added there would fail loudly (``MessageFailure``)."""

    def process_request(self, request):
        if request.path_info.startswith(API_PREFIX):
            return
        super().process_request(request)
