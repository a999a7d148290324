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
