from celery import shared_task

from inspections import services


@shared_task
def patrol_alarms_sweep() -> dict:
    """Raise, escalate and clear patrol-frequency alarms (idempotent; safe to retry)."""
    result = services.patrol_alarms_sweep()
    return result.__dict__
