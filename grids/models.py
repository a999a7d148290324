"""The grid tree (网格), its levels, its responsible people, departments and division plans.

Only ``grids.services`` writes these tables, and only this app reads the tree's nested-set
columns, so the tree library can be swapped without touching the other apps.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from mptt.models import MPTTModel, TreeForeignKey


class GridLevel(models.Model):
    """A level of the tree as a city configures it (default 市 / 县(市、区) / 乡镇(街道) / 村(社区))."""

    number = models.PositiveSmallIntegerField(_("level"), unique=True)
    name = models.CharField(_("name"), max_length=40)
    name_en = models.CharField(_("English name"), max_length=40, blank=True)
    required_roles = models.JSONField(
        _("required roles"),
        default=list,
        blank=True,
        help_text=_("Roles every grid of this level must have named (grid health)."),
    )

    class Meta:
        ordering = ["number"]
        verbose_name = _("grid level")
        verbose_name_plural = _("grid levels")

    def __str__(self) -> str:
        return f"{self.number} {self.name}"


class GridKind(models.TextChoices):
    ADMINISTRATIVE = "administrative", _("Administrative division")
    DEVELOPMENT_ZONE = "development_zone", _("Development zone")
    INDUSTRIAL_PARK = "industrial_park", _("Industrial park")
    KEY_AREA = "key_area", _("Key area")
    INDUSTRY = "industry", _("Industry group")
    OTHER = "other", _("Other")


class Grid(MPTTModel):
    code = models.CharField(_("code"), max_length=15, unique=True)
    name = models.CharField(_("name"), max_length=100)
    level = models.PositiveSmallIntegerField(_("level"))
    kind = models.CharField(
        _("kind"), max_length=20, choices=GridKind.choices, default=GridKind.ADMINISTRATIVE
    )
    parent = TreeForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent grid"),
    )
    boundary = models.JSONField(_("boundary"), null=True, blank=True)
    # Bounding box of the boundary, kept by the services, so that locating a point is an
    # indexed range query before the exact polygon test.
    min_lng = models.FloatField(null=True, blank=True, editable=False)
    min_lat = models.FloatField(null=True, blank=True, editable=False)
    max_lng = models.FloatField(null=True, blank=True, editable=False)
    max_lat = models.FloatField(null=True, blank=True, editable=False)
    active_from = models.DateField(_("active from"), null=True, blank=True)
    active_until = models.DateField(_("active until"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class MPTTMeta:
        order_insertion_by = ["code"]
        level_attr = "depth"

    class Meta:
        verbose_name = _("grid")
        verbose_name_plural = _("grids")
        indexes = [
            models.Index(fields=["level", "code"]),
            models.Index(fields=["min_lng", "max_lng", "min_lat", "max_lat"], name="grid_bbox_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        today = timezone.localdate()
        if self.active_from and self.active_from > today:
            return False
        return not (self.active_until and self.active_until < today)


class GridChange(models.Model):
    """The tree's history: who changed which grid, when, from what to what. Never edited."""

    class Action(models.TextChoices):
        CREATE = "create", _("Created")
        UPDATE = "update", _("Updated")
        MOVE = "move", _("Moved")
        DEACTIVATE = "deactivate", _("Deactivated")
        LOAD = "load", _("Loaded from divisions")

    grid = models.ForeignKey(Grid, on_delete=models.CASCADE, related_name="changes")
    action = models.CharField(max_length=20, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    at = models.DateTimeField(default=timezone.now)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("grid change")
        verbose_name_plural = _("grid changes")
        indexes = [models.Index(fields=["grid", "-at"])]

    def __str__(self) -> str:
        return f"{self.grid_id} {self.action} {self.at:%Y-%m-%d}"


class DivisionPlan(models.Model):
    """A version of a grid's division plan (网格划分方案), filed upward (备案) and published."""

    grid = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="division_plans")
    version = models.PositiveIntegerField(_("version"))
    title = models.CharField(_("title"), max_length=200)
    adopted_on = models.DateField(_("adopted on"))
    filed_on = models.DateField(_("filed upward on"), null=True, blank=True)
    filed_with = models.CharField(_("filed with"), max_length=100, blank=True)
    published_on = models.DateField(_("published on"), null=True, blank=True)
    published_url = models.URLField(_("published at (URL)"), blank=True)
    document = models.FileField(_("document"), upload_to="division_plans/", blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["grid", "-version"]
        verbose_name = _("grid division plan")
        verbose_name_plural = _("grid division plans")
        constraints = [
            models.UniqueConstraint(fields=["grid", "version"], name="division_plan_version_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.title} v{self.version}"


class Sector(models.Model):
    """A line of government work (生态环境, 城管, 住建 …); the duty matrix names sectors."""

    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=40)
    name_en = models.CharField(_("English name"), max_length=60, blank=True)
    environmental_duties = models.BooleanField(_("has environmental duties"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("sector")
        verbose_name_plural = _("sectors")

    def __str__(self) -> str:
        return self.name


class Department(models.Model):
    """A functional department (职能部门) of one government level, belonging to one grid."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    sector = models.ForeignKey(Sector, on_delete=models.PROTECT, related_name="departments")
    level = models.PositiveSmallIntegerField(_("level"))
    grid = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="departments")
    active = models.BooleanField(_("active"), default=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="DepartmentMembership", related_name="departments"
    )

    class Meta:
        ordering = ["level", "code"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        constraints = [
            models.UniqueConstraint(fields=["grid", "sector"], name="department_grid_sector_uniq")
        ]

    def __str__(self) -> str:
        return self.name


class DepartmentMembership(models.Model):
    class Position(models.TextChoices):
        HEAD = "head", _("Head")
        HANDLER = "handler", _("Case handler")
        OFFICER = "officer", _("Enforcement officer")
        STAFF = "staff", _("Staff")

    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="department_memberships"
    )
    position = models.CharField(_("position"), max_length=20, choices=Position.choices)
    starts_on = models.DateField(_("starts on"), default=timezone.localdate)
    ends_on = models.DateField(_("ends on"), null=True, blank=True)

    class Meta:
        verbose_name = _("department membership")
        verbose_name_plural = _("department memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["department", "user", "position", "starts_on"],
                name="department_membership_uniq",
            )
        ]
        indexes = [models.Index(fields=["user", "ends_on"])]

    def __str__(self) -> str:
        return f"{self.user} @ {self.department}"


class Role(models.TextChoices):
    LEADER = "leader", _("Grid leader")
    DEPUTY_LEADER = "deputy_leader", _("Deputy leader")
    PRINCIPAL = "principal", _("Principal")
    DIRECT_RESPONSIBLE = "direct_responsible", _("Direct responsible officer")
    OFFICER = "officer", _("Stationed enforcement officer")
    INSPECTOR = "inspector", _("Grid inspector")
    SUPERVISOR = "supervisor", _("Supervisor")
    OFFICE = "office", _("Leadership-group office")
    DISPATCHER = "dispatcher", _("Platform dispatcher")
    PLATFORM = "platform", _("Platform client")


# Roles held by enforcement officers (for "two officers per base grid").
OFFICER_ROLES = (Role.DIRECT_RESPONSIBLE, Role.OFFICER)
# The responsible people of a grid (三级/四级责任主体) plus its inspectors and supervisors.
RESPONSIBLE_ROLES = (
    Role.LEADER,
    Role.DEPUTY_LEADER,
    Role.PRINCIPAL,
    Role.DIRECT_RESPONSIBLE,
    Role.OFFICER,
    Role.INSPECTOR,
    Role.SUPERVISOR,
)


class GridRole(models.Model):
    """A person's role on a grid, with dates. Holding any role shows the grid's whole subtree."""

    class Employment(models.TextChoices):
        FULL_TIME = "full_time", _("Full-time")
        PART_TIME = "part_time", _("Part-time")

    grid = models.ForeignKey(Grid, on_delete=models.CASCADE, related_name="roles")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="grid_roles"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    employment = models.CharField(
        _("employment"), max_length=10, choices=Employment.choices, blank=True
    )
    department = models.ForeignKey(
        Department,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="stationed_roles",
        help_text=_("The department the person is stationed from, if any."),
    )
    starts_on = models.DateField(_("starts on"), default=timezone.localdate)
    ends_on = models.DateField(_("ends on"), null=True, blank=True)

    class Meta:
        verbose_name = _("grid role")
        verbose_name_plural = _("grid roles")
        constraints = [
            models.UniqueConstraint(
                fields=["grid", "user", "role", "starts_on"], name="grid_role_uniq"
            ),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="grid_role_dates",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "ends_on"]),
            models.Index(fields=["grid", "role"]),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.get_role_display()} @ {self.grid}"


class GridHealthSnapshot(models.Model):
    """The daily count of grid-health problems, for the trend on the grid page."""

    taken_on = models.DateField(unique=True)
    counts = models.JSONField(default=dict)

    class Meta:
        ordering = ["-taken_on"]

    def __str__(self) -> str:
        return f"{self.taken_on}: {self.counts}"
