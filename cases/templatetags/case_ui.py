"""Template helpers of the case pages: labels of states and actions, and the time left.

The countdown's words are the same as static/js/case-countdown.js writes every second, so
the page reads the same before and after the script runs.
"""

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from cases import labels

register = template.Library()


@register.filter
def state_label(value: str) -> str:
    return labels.state_label(value)


@register.filter
def action_label(value: str) -> str:
    return labels.action_label(value)


def duration_text(seconds: float) -> str:
    """A countdown clock, ``03:12:45``, with the days in front when there are any
    (``2d 03:12:45``): it visibly moves every second."""
    seconds = int(abs(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    clock = f"{hours:02d}:{minutes:02d}:{secs:02d}"
    if days:
        return f"{days}{pgettext('time unit', 'd')} {clock}"
    return clock


@register.simple_tag
def time_left(due: datetime, now: datetime | None = None) -> str:
    now = now or timezone.now()
    seconds = (due - now).total_seconds()
    if seconds >= 0:
        return _("%(t)s left") % {"t": duration_text(seconds)}
    return _("%(t)s overdue") % {"t": duration_text(seconds)}


@register.filter
def short_hash(value: str) -> str:
    return (value or "")[:12]


@register.filter
def get_item(mapping, key):
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.filter
def iso(value: datetime | None) -> str:
    """An ISO 8601 instant without microseconds, for scripts to parse."""
    if not value:
        return ""
    return value.replace(microsecond=0).isoformat()


TONES = {
    "reject": "danger",
    "void": "danger",
    "return": "warn",
    "rework": "warn",
    "escalate": "warn",
    "extend": "warn",
    "suspend": "warn",
}


@register.filter
def action_tone(action: str) -> str:
    return TONES.get(action, "go")
