"""The language of a request: Chinese unless the user chose English.

Django's LocaleMiddleware would follow the browser's Accept-Language, so an office PC with an
English browser would get English pages. GridSup speaks Chinese by default: pages take the
language cookie set by the language switch and nothing else; API clients may still ask for
English with Accept-Language.
"""

from django.conf import settings
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
