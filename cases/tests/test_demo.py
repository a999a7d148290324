from datetime import datetime
from zoneinfo import ZoneInfo

from cases.demo import demo_cases_seed
from cases.models import Case, CaseEvent
from grids.models import Role
from grids.tests.conftest import user_with_role


def test_demo_cases_spread_over_the_workflow_and_are_made_once(small_city, crew):
    # given the demo's platform and dispatcher logins
    user_with_role(small_city.city, Role.PLATFORM, username="platform")
    dispatcher = user_with_role(small_city.city, Role.DISPATCHER, username="dispatcher")
    assert dispatcher
    now = datetime(2026, 11, 20, 16, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    # when the demo cases are seeded twice
    first = demo_cases_seed(now=now, count=30)
    second = demo_cases_seed(now=now, count=30)
    # then thirty cases exist, made once, reported within the last 30 days
    assert (first, second) == (30, 0)
    cases = Case.objects.all()
    assert cases.count() == 30
    assert all((now - c.reported_at).days < 30 and c.reported_at <= now for c in cases)
    # and they are spread over the workflow, every change recorded as an event
    statuses = set(cases.values_list("status", flat=True))
    assert len(statuses) >= 4 and "evaluated" in statuses
    evaluated = cases.filter(status="evaluated").first()
    actions = list(
        CaseEvent.objects.filter(case=evaluated)
        .order_by("at", "pk")
        .values_list("action", flat=True)
    )
    assert actions[-1] == "evaluate" and "feedback" in actions and "verify" in actions
