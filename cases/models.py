"""Problem categories and the duty matrix. The case workflow itself arrives with its own issue."""

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from grids.models import Sector


class ProblemCategory(models.Model):
    """A kind of problem (扬尘, 焚烧, 小煤炉 …). Data, editable by the office."""

    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=40)
    name_en = models.CharField(_("English name"), max_length=60, blank=True)
    handling_limit_days = models.DecimalField(
        _("handling limit (working days)"),
        max_digits=5,
        decimal_places=1,
        default=Decimal("5"),
    )
    is_emergency = models.BooleanField(_("emergency"), default=False)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("problem category")
        verbose_name_plural = _("problem categories")

    def __str__(self) -> str:
        return self.name


class DutyRule(models.Model):
    """One cell of the duty matrix: at this level, this category is this sector's legal duty."""

    category = models.ForeignKey(
        ProblemCategory, on_delete=models.CASCADE, related_name="duty_rules"
    )
    level = models.PositiveSmallIntegerField(_("level"))
    sector = models.ForeignKey(Sector, on_delete=models.PROTECT, related_name="duty_rules")

    class Meta:
        ordering = ["category", "level"]
        verbose_name = _("duty matrix entry")
        verbose_name_plural = _("duty matrix")
        constraints = [models.UniqueConstraint(fields=["category", "level"], name="duty_rule_uniq")]

    def __str__(self) -> str:
        return f"{self.category} L{self.level} → {self.sector}"
