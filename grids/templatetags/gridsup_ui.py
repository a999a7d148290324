"""Small template helpers for the web pages (no business rules here)."""

from datetime import timedelta

from django import template
from django.utils.translation import get_language

register = template.Library()


def localized_name(obj) -> str:
    """``name_en`` when the page is in English and the row has one, else the Chinese ``name``.

    Levels, sectors and categories carry both names as data (they are configured per city).
    """
    if obj is None:
        return ""
    language = get_language() or ""
    english = getattr(obj, "name_en", "")
    if language.startswith("en") and english:
        return english
    return getattr(obj, "name", str(obj))


register.filter("localized_name", localized_name)


@register.simple_tag(takes_context=True)
def lockout_minutes(context) -> int:
    """Whole minutes of the login lockout's cool-off (0 when it has none). GridSup's lockout
    response passes ``cooloff_minutes``; django-axes' own passes ``cooloff_timedelta``."""
    value = context.get("cooloff_minutes") or context.get("cooloff_timedelta")
    if isinstance(value, timedelta):
        return max(1, int(value.total_seconds() // 60))
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return 0


@register.filter
def percent_of(part, whole) -> int:
    """``part`` as a whole percentage of ``whole`` (0 when there is nothing to divide)."""
    try:
        part, whole = int(part), int(whole)
    except (TypeError, ValueError):
        return 0
    if whole <= 0:
        return 0
    return round(100 * part / whole)
