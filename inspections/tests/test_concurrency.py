"""Two workers sweeping at the same moment raise each alarm once (PostgreSQL; runs in CI)."""

import threading
from datetime import date

import pytest
from django.db import connection

from core.models import Notification
from inspections import services
from inspections.models import PatrolAlarm
from inspections.tests.conftest import at

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_workers_at_once_raise_one_alarm_per_source_and_period(make_source, officer):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's concurrent transactions")
    sources = [
        make_source(tier="national", name=f"源{i}", confirmed_on=date(2026, 1, 1))
        for i in range(20)
    ]
    barrier = threading.Barrier(2)
    results, errors = [], []

    def worker(hour):
        try:
            barrier.wait(timeout=10)
            results.append(services.patrol_alarms_sweep(now=at(date(2026, 3, 1), hour)))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(h,)) for h in (9, 10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert sum(r.raised for r in results) == len(sources)
    assert PatrolAlarm.objects.count() == len(sources)
    assert Notification.objects.filter(kind="patrol_alarm").count() == len(sources)
