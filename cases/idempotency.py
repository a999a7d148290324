"""``Idempotency-Key`` for case intake (the IETF httpapi Idempotency-Key draft).

The key is claimed, the case created and the answer recorded in one transaction: the first
request with a key inserts its row, creates the case and writes the answer, and commits all of
it at once, so no crash can leave a key claimed without an answer, and a request that fails
leaves nothing behind, its key included. A later request with the same key and the same body
gets the first answer again (200); with another body, 422. A request that arrives while the
first is still running waits on the key's unique index until the first commits (then it gets
its answer) or rolls back (then it runs itself); after ``WAIT`` it gets 409.

Records are kept ``KEEP_FOR`` (the draft asks for at least 24 hours) and purged by a beat task
(``idempotency_records_purge``), not by the requests.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime, timedelta

from django.db import DEFAULT_DB_ALIAS, OperationalError, connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import IdempotencyRecord
from core import db
from core.errors import Conflict, DomainError
from core.models import User

KEEP_FOR = timedelta(hours=48)
WAIT = timedelta(seconds=8)


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
) -> tuple[int, dict]:
    """Run ``run`` once per (client, key), in the same transaction as the key's claim and its
    answer; ``run`` returns (status, body) of the first answer."""
    if not key or len(key) > 200:
        raise DomainError(_("The Idempotency-Key header must be 1 to 200 characters."))
    record = IdempotencyRecord(client=client, key=key, body_hash=fingerprint)
    try:
        with transaction.atomic():
            # Taken by a committed request: nothing is written, the answer is replayed. A second
            # request with the key waits on the first's uncommitted row at most WAIT (set on
            # PostgreSQL in the claim's round trip).
            claimed = db.insert_one(
                record,
                skip_conflicts=True,
                before=f"SET LOCAL lock_timeout = {int(WAIT.total_seconds() * 1000)}; ",
            )
            if claimed:
                status, body = run()
                _answer_record(record, status=status, body=body)
    except OperationalError as exc:
        cause = exc.__cause__
        code = getattr(cause, "pgcode", None) or getattr(cause, "sqlstate", None)
        if code == "55P03":  # lock_not_available: the first request is still running
            raise Conflict(
                _("A request with this Idempotency-Key is still being processed.")
            ) from exc
        raise
    if claimed:
        return status, body
    return _replay(client=client, key=key, fingerprint=fingerprint)


def _answer_record(record: IdempotencyRecord, *, status: int, body: dict) -> None:
    """Store the answer on the claimed record (written out: one statement per intake)."""
    field = IdempotencyRecord._meta.get_field("response")
    response = field.get_db_prep_save(body, connection=connections[DEFAULT_DB_ALIAS])
    _ANSWER.run([status, response, record.pk])


_ANSWER = db.Prepared(
    "idempotency_answer",
    f"UPDATE {IdempotencyRecord._meta.db_table}"  # noqa: S608 - name from _meta
    " SET status_code = %s, response = %s WHERE id = %s",
    3,
)


def _replay(*, client: User, key: str, fingerprint: str) -> tuple[int, dict]:
    record = IdempotencyRecord.objects.filter(client=client, key=key).first()
    if record is None:  # purged in between: rare, and sending again is safe
        raise Conflict(_("A request with this Idempotency-Key failed; send it again."))
    if record.body_hash != fingerprint:
        raise KeyMismatch(
            _("This Idempotency-Key was used with a different request body."), status=422
        )
    if record.status_code is None:  # a record written before answers shared the transaction
        raise Conflict(_("A request with this Idempotency-Key is still being processed."))
    return 200, record.response


def idempotency_records_purge(*, now: datetime | None = None) -> int:
    """Delete the records older than ``KEEP_FOR`` (beat, hourly)."""
    now = now or timezone.now()
    deleted, _by_model = IdempotencyRecord.objects.filter(created_at__lt=now - KEEP_FOR).delete()
    return deleted
