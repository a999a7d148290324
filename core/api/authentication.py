"""``Authorization: Bearer <token>`` for the phone client and the city-management platform."""

from datetime import datetime, timedelta
from functools import lru_cache

from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from core import db
from core.models import ApiToken, User
from core.services import token_digest


class BearerTokenAuthentication(BaseAuthentication):
    keyword = b"bearer"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(_("Malformed Authorization header."))
        try:
            raw = parts[1].decode()
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed(_("Malformed token.")) from exc
        now = timezone.now()
        found = _live_token(digest=token_digest(raw), now=now)
        if found is None or not found[0].user.is_active:
            raise exceptions.AuthenticationFailed(_("Invalid, expired or revoked token."))
        token, unused_for_a_minute = found
        if unused_for_a_minute:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


def _live_token(*, digest: str, now: datetime) -> tuple[ApiToken, bool] | None:
    """The unrevoked, unexpired token with this digest and its user, in one statement, and
    whether it went unused for over a minute (then its ``last_used_at`` is brought up).

    Every API request runs this. Written out (and prepared once per database connection)
    because building the ORM's ``select_related("user")`` SQL (some thirty columns) took
    half the CPU of an empty API request, and planning it most of the rest; the rows are the
    same. The token comes back with its id and user loaded and its other fields deferred.
    """
    ops = connections[DEFAULT_DB_ALIAS].ops
    users = db.columns(User, alias="u")
    row = _token_statement().row(
        {
            "digest": digest,
            "now": ops.adapt_datetimefield_value(now),
            "used_after": ops.adapt_datetimefield_value(now - timedelta(seconds=60)),
        }
    )
    if row is None:
        return None
    user = users.instance(row)
    token_id, unused = row[len(users.attnames) :]
    token = ApiToken.from_db(user._state.db, ["id", "user_id"], [token_id, user.pk])
    token.user = user
    return token, bool(unused)


@lru_cache(maxsize=1)
def _token_statement() -> db.Prepared:
    return db.Prepared(
        "live_token",
        f"SELECT {db.columns(User, alias='u').sql}, t.id,"  # noqa: S608 - names from _meta
        " (t.last_used_at IS NULL OR t.last_used_at < %(used_after)s)"
        f" FROM {User._meta.db_table} u JOIN {ApiToken._meta.db_table} t ON t.user_id = u.id"
        " WHERE t.digest = %(digest)s AND t.revoked_at IS NULL AND t.expires_at > %(now)s",
        ("used_after", "digest", "now"),
    )
