from celery import shared_task

from core import services


@shared_task
def api_tokens_purge() -> int:
    return services.api_tokens_purge()


@shared_task
def notifications_email_send() -> int:
    return services.notifications_email_send()
