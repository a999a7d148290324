from celery import shared_task

from cases import deadlines, idempotency, services


@shared_task
def case_deadlines_sweep() -> dict:
    """Fire due deadline timers (idempotent; a retry or a second worker does nothing more)."""
    return deadlines.case_deadlines_sweep().__dict__


@shared_task
def callbacks_deliver() -> int:
    """Deliver due status callbacks from the outbox (ordered per case, retried with back-off)."""
    return services.callbacks_deliver()


@shared_task
def idempotency_records_purge() -> int:
    """Delete Idempotency-Key records past their keeping time (hourly; a rerun finds none)."""
    return idempotency.idempotency_records_purge()
