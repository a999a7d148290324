"""Template context for every page."""

from django.utils.functional import SimpleLazyObject


def inbox(request) -> dict:
    """``inbox_unread``: how many of the user's notifications are unread, for the header's
    badge. One COUNT on the (user, read_at) index, and only when a template reads it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def unread() -> int:
        from core.models import Notification

        return Notification.objects.filter(user=user, read_at__isnull=True).count()

    return {"inbox_unread": SimpleLazyObject(unread)}
