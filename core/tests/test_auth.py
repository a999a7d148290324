from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from core import services
from core.models import ApiToken
from core.tests.factories import UserFactory

pytestmark = pytest.mark.usefixtures("english")

PASSWORD = "secret-pass-123"


@pytest.fixture(autouse=True)
def _no_cache_between_tests():
    from django.core.cache import cache

    cache.clear()


def obtain(username, password, ip="10.0.0.1"):
    return APIClient(REMOTE_ADDR=ip).post(
        "/api/v1/auth/token/", {"username": username, "password": password}, format="json"
    )


def test_token_is_issued_expires_and_only_its_digest_is_stored(db):
    user = UserFactory(username="inspector1")
    response = obtain("inspector1", PASSWORD)
    assert response.status_code == 201
    raw = response.json()["token"]
    token = ApiToken.objects.get(user=user)
    assert token.digest != raw and token.digest == services.token_digest(raw)
    assert token.expires_at - token.created_at == timedelta(hours=8)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/v1/grids/").status_code == 200


def test_machine_clients_get_an_hour(db):
    UserFactory(username="platform1", is_machine=True)
    token = obtain("platform1", PASSWORD).json()
    t = ApiToken.objects.get(user__username="platform1")
    assert t.expires_at - t.created_at == timedelta(hours=1)
    assert token["expires_at"]


def test_expired_and_revoked_tokens_are_refused(db):
    user = UserFactory()
    raw, token = services.api_token_issue(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/v1/grids/").status_code == 200
    assert client.delete("/api/v1/auth/token/current/").status_code == 204
    assert client.get("/api/v1/grids/").status_code == 401

    raw2, token2 = services.api_token_issue(user=user, now=timezone.now() - timedelta(days=1))
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw2}")
    response = client.get("/api/v1/grids/")
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


@pytest.mark.parametrize("header", ["Bearer", "Bearer a b", "Bearer nonsense"])
def test_malformed_bearer_headers_are_401(db, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    assert client.get("/api/v1/grids/").status_code == 401


def test_purge_removes_long_expired_tokens_only(db):
    user = UserFactory()
    services.api_token_issue(user=user, now=timezone.now() - timedelta(days=3))
    services.api_token_issue(user=user)
    assert services.api_tokens_purge() == 1
    assert ApiToken.objects.count() == 1


def test_wrong_password_is_401_and_bad_body_is_400(db):
    UserFactory(username="someone")
    assert obtain("someone", "wrong").status_code == 401
    response = APIClient().post(
        "/api/v1/auth/token/", data="{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert APIClient().post("/api/v1/auth/token/", {}, format="json").json().keys() == {
        "username",
        "password",
    }


def test_lockout_after_five_failures_for_that_username_and_address_only(db, settings):
    UserFactory(username="target")
    for _ in range(4):
        assert obtain("target", "wrong", ip="10.0.0.9").status_code == 401
    # the fifth failure locks the pair …
    assert obtain("target", "wrong", ip="10.0.0.9").status_code == 429
    # … and the right password no longer helps from that address, for a finite time
    locked = obtain("target", PASSWORD, ip="10.0.0.9")
    assert locked.status_code == 429
    assert locked["Retry-After"] == "900"
    assert "15 minutes" in locked.json()["detail"]
    # … but the same user from another address, and another user from that address, still log in
    UserFactory(username="colleague")
    assert obtain("target", PASSWORD, ip="10.0.0.10").status_code == 201
    assert obtain("colleague", PASSWORD, ip="10.0.0.9").status_code == 201


def test_lockout_cools_off(db, settings):
    from axes.models import AccessAttempt

    UserFactory(username="target")
    for _ in range(5):
        obtain("target", "wrong", ip="10.0.0.9")
    assert timedelta(minutes=15) == settings.AXES_COOLOFF_TIME
    # when the cool-off has passed (simulated by ageing the failures)
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert obtain("target", PASSWORD, ip="10.0.0.9").status_code == 201


def test_login_page_lockout(db, client):
    UserFactory(username="webuser")
    for _ in range(5):
        client.post("/login/", {"username": "webuser", "password": "wrong"}, REMOTE_ADDR="10.1.1.1")
    response = client.post(
        "/login/", {"username": "webuser", "password": PASSWORD}, REMOTE_ADDR="10.1.1.1"
    )
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
