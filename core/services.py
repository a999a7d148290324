"""Writes for accounts and tokens."""

import hashlib
import secrets
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.models import ApiToken, User


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def api_token_issue(*, user: User, now: datetime | None = None) -> tuple[str, ApiToken]:
    """Issue a new bearer token; the raw value is returned once and never stored."""
    now = now or timezone.now()
    ttl = settings.API_TOKEN_TTL_MACHINE if user.is_machine else settings.API_TOKEN_TTL
    raw = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, digest=token_digest(raw), prefix=raw[:8], created_at=now, expires_at=now + ttl
    )
    return raw, token


def api_token_revoke(*, token: ApiToken, now: datetime | None = None) -> None:
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=now or timezone.now()
    )


def api_tokens_purge(*, now: datetime | None = None) -> int:
    """Delete tokens that expired more than a day ago (they can no longer authenticate)."""
    now = now or timezone.now()
    deleted, _ = ApiToken.objects.filter(expires_at__lt=now - settings.API_TOKEN_TTL).delete()
    return deleted


def notify(*, user: User, kind: str, title: str, dedupe_key: str, body: str = "", url: str = ""):
    """Put a message in a user's inbox once (a repeat with the same key changes nothing); the
    e-mail copy, when e-mail is configured, leaves after the transaction commits."""
    from core.models import Notification

    notification, created = Notification.objects.get_or_create(
        user=user,
        dedupe_key=dedupe_key,
        defaults={"kind": kind, "title": title[:300], "body": body, "url": url},
    )
    if created:
        notifications_email_after_commit()
    return notification


def notifications_email_after_commit() -> None:
    if not settings.NOTIFY_BY_EMAIL:
        return
    from core.tasks import notifications_email_send

    transaction.on_commit(notifications_email_send.delay)


def notifications_email_send(*, now: datetime | None = None, batch: int = 500) -> int:
    """E-mail the inbox entries not yet e-mailed to users with an address; marks them sent."""
    from django.core.mail import send_mail

    from core.models import Notification

    now = now or timezone.now()
    sent = 0
    pending = (
        Notification.objects.filter(emailed_at__isnull=True)
        .exclude(user__email="")
        .select_related("user")
        .order_by("id")[:batch]
    )
    for note in pending:
        # Claim the row first so that two workers never send the same mail twice.
        if Notification.objects.filter(pk=note.pk, emailed_at__isnull=True).update(emailed_at=now):
            send_mail(note.title, note.body or note.title, None, [note.user.email])
            sent += 1
    return sent


def notification_mark_read(*, user: User, ids: list[int], now: datetime | None = None) -> int:
    from core.models import Notification

    return Notification.objects.filter(user=user, pk__in=ids, read_at__isnull=True).update(
        read_at=now or timezone.now()
    )
