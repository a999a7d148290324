"""The office's admin: rule sets editable until their year is locked; records read-only."""

import pytest
from django.test import Client

from assessment import services
from assessment.models import RuleItem, RuleSet
from assessment.tests.conftest import RUN_AT, YEAR
from core.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(db):
    user = UserFactory(username="root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(user)
    return client


def test_pages_open(admin_client, county, office):
    services.assessment_run(year=YEAR, actor=office, now=RUN_AT)
    for url in (
        "/admin/assessment/ruleset/",
        "/admin/assessment/ruleitem/",
        "/admin/assessment/scoresheet/",
        "/admin/assessment/jointmeeting/",
        "/admin/assessment/supervision/",
        "/admin/assessment/halfyearreport/",
        "/admin/assessment/assessmentlog/",
    ):
        assert admin_client.get(url).status_code == 200, url


def test_a_locked_year_s_rules_cannot_be_changed(admin_client, county, office):
    item = RuleItem.objects.get(rule_set__year=YEAR, code="3.4")
    page = f"/admin/assessment/ruleitem/{item.pk}/change/"
    assert b'name="_save"' in admin_client.get(page).content
    services.assessment_run(year=YEAR, actor=office, now=RUN_AT)
    services.assessment_lock(year=YEAR, actor=office)
    assert RuleSet.objects.get(year=YEAR).locked_at
    assert b'name="_save"' not in admin_client.get(page).content
    response = admin_client.post(page, {"title": "changed"})
    assert response.status_code == 403
    assert RuleItem.objects.get(pk=item.pk).title != "changed"
