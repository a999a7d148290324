"""Celery application. The broker comes from settings (Redis, or kombu's filesystem transport)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gridsup.settings.local")

app = Celery("gridsup")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
