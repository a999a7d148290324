"""Random inspection (双随机、一公开): a draw of sources and officers, and its published results.

Imported at the end of ``inspections.models``, so these models belong to the inspections app.
Only ``inspections.draw_services`` writes them: a draw is created once from its inputs and never
edited; its targets take a result from an assigned officer; the organisers publish it.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grids.models import Department, Grid
from inspections.models import Patrol, PollutionSource

__all__ = ["DrawClass", "RandomDraw", "RandomDrawTarget"]


class DrawClass(models.TextChoices):
    """The classes a draw sets a quota for (see ``inspections.random_draw.source_class``)."""

    KEY = "key", _("Key sources (national, provincial, safety-key)")
    OTHER = "other", _("Other sources")


class RandomDraw(models.Model):
    title = models.CharField(_("title"), max_length=200)
    department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        related_name="random_draws",
        verbose_name=_("organising department"),
    )
    grid = models.ForeignKey(
        Grid,
        on_delete=models.PROTECT,
        related_name="random_draws",
        verbose_name=_("grid"),
        help_text=_("The draw covers this grid and every grid below it."),
    )
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    inspection_date = models.DateField(
        _("inspection date"),
        help_text=_("Until this day only the organisers see the list."),
    )
    quotas = models.JSONField(
        _("quotas"), help_text=_('Share drawn per class, e.g. {"key": 0.25}.')
    )
    # How many candidates each class had and how many officers were eligible, for the record.
    pool = models.JSONField(_("candidates"), default=dict)
    seed = models.CharField(_("seed"), max_length=64)
    inputs_hash = models.CharField(_("inputs hash (SHA-256)"), max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("random inspection draw")
        verbose_name_plural = _("random inspection draws")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["grid", "inspection_date"], name="random_draw_grid_date_idx"),
            models.Index(
                fields=["department", "inspection_date"], name="random_draw_dept_date_idx"
            ),
            models.Index(
                fields=["-published_at"],
                name="random_draw_published_idx",
                condition=Q(published_at__isnull=False),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")), name="random_draw_period"
            ),
            models.CheckConstraint(
                condition=Q(inspection_date__gte=F("period_start")),
                name="random_draw_inspection_date",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class RandomDrawTarget(models.Model):
    """A drawn source with its two officers and, after the inspection, its result."""

    draw = models.ForeignKey(RandomDraw, on_delete=models.CASCADE, related_name="targets")
    source = models.ForeignKey(
        PollutionSource, on_delete=models.PROTECT, related_name="random_draw_targets"
    )
    source_class = models.CharField(_("class"), max_length=10, choices=DrawClass.choices)
    officers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="random_draw_targets", verbose_name=_("officers")
    )
    officers_fallback = models.BooleanField(
        _("officers with a role over the source's grid had to be drawn"), default=False
    )
    result = models.TextField(_("result"), blank=True)
    result_outcome = models.CharField(
        _("outcome"), max_length=20, choices=Patrol.Outcome.choices, blank=True
    )
    patrol = models.ForeignKey(
        Patrol,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="random_draw_targets",
        verbose_name=_("inspection record"),
    )
    result_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    result_recorded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("random inspection target")
        verbose_name_plural = _("random inspection targets")
        ordering = ["draw_id", "source_id"]
        constraints = [
            models.UniqueConstraint(fields=["draw", "source"], name="random_draw_target_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.draw_id}:{self.source_id}"
