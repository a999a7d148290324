"""One JSON error shape for the API: ``{"detail": ...}`` or ``{"field": [...]}``.

Domain errors raised by services (``core.errors``) become 400/409 here, and Django's own
validation errors become 400, so bad input never surfaces as a 500.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import Conflict, DomainError, Forbidden


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "message_dict"):
            exc = exceptions.ValidationError(exc.message_dict)
        else:
            exc = exceptions.ValidationError({"detail": exc.messages})
    elif isinstance(exc, Conflict):
        body = {"detail": str(exc), **exc.extra}
        return Response(body, status=status.HTTP_409_CONFLICT)
    elif isinstance(exc, Forbidden):
        return Response({"detail": str(exc)}, status=status.HTTP_403_FORBIDDEN)
    elif isinstance(exc, DomainError):
        extra = dict(exc.extra)
        code = extra.pop("status", status.HTTP_400_BAD_REQUEST)
        return Response({"detail": str(exc), **extra}, status=code)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    return drf_exception_handler(exc, context)
