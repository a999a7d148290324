"""``Idempotency-Key`` for case intake (the IETF httpapi Idempotency-Key draft).

The first request with a key claims it in a committed row; the same key with the same body
later gets the first answer again (200); with another body, 422; while the first is still
running, later requests wait a moment for its answer and get 409 only if it does not come.
A request that fails releases its key, so nothing of it is stored.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import IdempotencyRecord
from core.errors import Conflict, DomainError
from core.models import User

KEEP_FOR = timedelta(hours=48)


class KeyMismatch(DomainError):
    """The key was used with another body (422)."""


def request_fingerprint(*, data, files) -> str:
    """A hash of what was sent, independent of multipart boundaries and key order."""
    fields = {}
    for key in sorted(data.keys()):
        if hasattr(data, "getlist"):
            fields[key] = [str(v) for v in data.getlist(key)]
        else:
            fields[key] = data[key]
    digests = {}
    for key in sorted(files.keys()):
        digests[key] = []
        for upload in files.getlist(key):
            h = hashlib.sha256()
            for chunk in upload.chunks():
                h.update(chunk)
            upload.seek(0)
            digests[key].append(h.hexdigest())
    canonical = json.dumps(
        {"data": fields, "files": digests}, sort_keys=True, default=str, ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def with_idempotency(
    *,
    client: User,
    key: str,
    fingerprint: str,
    run: Callable[[], tuple[int, dict]],
    wait_seconds: float = 8.0,
) -> tuple[int, dict]:
    """Run ``run`` once per (client, key); ``run`` returns (status, body) of the first answer."""
    if not key or len(key) > 200:
        raise DomainError(_("The Idempotency-Key header must be 1 to 200 characters."))
    IdempotencyRecord.objects.filter(created_at__lt=timezone.now() - KEEP_FOR).delete()
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(client=client, key=key, body_hash=fingerprint)
    except IntegrityError:
        return _replay(client=client, key=key, fingerprint=fingerprint, wait_seconds=wait_seconds)
    try:
        status, body = run()
    except Exception:
        IdempotencyRecord.objects.filter(pk=record.pk).delete()
        raise
    IdempotencyRecord.objects.filter(pk=record.pk).update(status_code=status, response=body)
    return status, body


def _replay(*, client: User, key: str, fingerprint: str, wait_seconds: float) -> tuple[int, dict]:
    deadline = time.monotonic() + wait_seconds
    while True:
        record = IdempotencyRecord.objects.filter(client=client, key=key).first()
        if record is None:  # the first request failed and released the key
            raise Conflict(_("A request with this Idempotency-Key failed; send it again."))
        if record.body_hash != fingerprint:
            raise KeyMismatch(
                _("This Idempotency-Key was used with a different request body."), status=422
            )
        if record.status_code is not None:
            return 200, record.response
        if time.monotonic() >= deadline:
            raise Conflict(_("A request with this Idempotency-Key is still being processed."))
        time.sleep(0.05)
