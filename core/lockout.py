"""What a locked-out login gets: JSON (429) on the API, a page (429) in the browser."""

from axes.helpers import get_cool_off, get_failure_limit
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


def lockout_response(request, original_response=None, credentials=None):
    cool_off = get_cool_off(request)
    minutes = int(cool_off.total_seconds() // 60) if cool_off else None
    if request.path.startswith("/api/"):
        response = JsonResponse(
            {
                "detail": _(
                    "Too many failed logins for this account from this address; "
                    "try again in %(minutes)s minutes."
                )
                % {"minutes": minutes}
            },
            status=429,
        )
        if cool_off:
            response["Retry-After"] = str(int(cool_off.total_seconds()))
        return response
    context = {"failure_limit": get_failure_limit(request, credentials), "cooloff_minutes": minutes}
    return render(request, "registration/locked_out.html", context, status=429)
