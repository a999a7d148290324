from celery import shared_task

from grids import services


@shared_task
def grid_health_snapshot() -> dict:
    """Record today's grid-health counts once (a second run the same day changes nothing)."""
    return services.grid_health_snapshot_take().counts
