import pytest

from inspections.demo import demo_sources_seed
from inspections.models import Patrol, PatrolAlarm, PollutionSource

pytestmark = pytest.mark.usefixtures("demo_city")


def test_demo_sources_give_the_pages_something_to_show_and_a_rerun_changes_nothing(db):
    counts = demo_sources_seed(count=40)
    assert counts["sources"] == 40
    assert PollutionSource.objects.filter(status="active").count() == 40
    assert Patrol.objects.count() > 40
    assert PollutionSource.objects.filter(grid__code="371302001001").count() == 12
    assert PatrolAlarm.objects.filter(status="open").exists()
    before = (PollutionSource.objects.count(), Patrol.objects.count(), PatrolAlarm.objects.count())
    demo_sources_seed(count=40)
    assert (
        PollutionSource.objects.count(),
        Patrol.objects.count(),
        PatrolAlarm.objects.count(),
    ) == before
