from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("Accounts and plumbing")

    def ready(self) -> None:
        # Registers the bearer-token scheme with drf-spectacular.
        from core.api import docs  # noqa: F401
