"""The office's admin for the grid tree, its people, departments and plans.

Two rules hold here as everywhere else:

* every queryset — change lists, change forms, autocomplete answers and the choices of every
  foreign key — is filtered by the scope selectors (superusers see everything);
* writes go through ``grids.services``. A form first rehearses the service call in a savepoint
  that is rolled back, so a ``DomainError`` appears as a form error; ``save_model`` then makes
  the call for real. Dragging a grid in the tree calls ``services.grid_move``.
"""

from __future__ import annotations

from functools import partial

from django import forms, http
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from mptt.admin import DraggableMPTTAdmin
from mptt.forms import MPTTAdminForm

from core.errors import DomainError
from core.models import User
from grids import services
from grids.models import (
    Department,
    DepartmentMembership,
    DivisionPlan,
    Grid,
    GridChange,
    GridLevel,
    GridRole,
    Sector,
)
from grids.selectors import department_scope_q, grid_scope_q

# --- scope -----------------------------------------------------------------------------------


def people_scope_q(*, user: User, prefix: str = "") -> Q:
    """People the admin user may see: those holding (or having held) a role on a visible grid or
    belonging to a visible department, the user themself, and accounts not yet placed anywhere
    (so that a new account can be given its first role)."""
    if user.is_superuser:
        return Q()
    roles = GridRole.objects.filter(grid_scope_q(user=user, prefix="grid__")).values("user_id")
    members = DepartmentMembership.objects.filter(
        department_scope_q(user=user, prefix="department__")
    ).values("user_id")
    placed = Q(**{f"{prefix}pk__in": GridRole.objects.values("user_id")}) | Q(
        **{f"{prefix}pk__in": DepartmentMembership.objects.values("user_id")}
    )
    return (
        Q(**{f"{prefix}pk__in": roles})
        | Q(**{f"{prefix}pk__in": members})
        | Q(**{f"{prefix}pk": user.pk})
        | ~placed
    )


class ScopedAdminMixin:
    """Filters the change list by ``scope_q`` and every grid, department or person a form can
    pick by the same scope, so a posted id outside it fails validation."""

    # How a row of this model reaches its grid ("" for Grid itself, None for reference data).
    grid_prefix: str | None = "grid__"

    def scope_q(self, request) -> Q:
        if self.grid_prefix is None:
            return Q()
        return grid_scope_q(user=request.user, prefix=self.grid_prefix)

    def get_queryset(self, request):
        return super().get_queryset(request).filter(self.scope_q(request))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        model = db_field.related_model
        if model is Grid:
            kwargs["queryset"] = Grid.objects.filter(grid_scope_q(user=request.user))
        elif model is Department:
            kwargs["queryset"] = Department.objects.filter(department_scope_q(user=request.user))
        elif model is User:
            kwargs["queryset"] = User.objects.filter(people_scope_q(user=request.user))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


# --- service-backed forms --------------------------------------------------------------------


class _Rehearsal(Exception):
    """Raised to roll back a rehearsed service call."""


class ServiceForm(forms.ModelForm):
    """A model form whose ``clean`` rehearses the service write (``service_write``, set by
    ``ServiceAdminMixin.get_form``) in a savepoint that is always rolled back."""

    service_write = None
    rehearsing = False

    def clean(self):
        cleaned = super().clean()
        if self.errors or self.service_write is None:
            return cleaned
        try:
            with transaction.atomic():
                self.rehearsing = True
                self.service_write(self)
                raise _Rehearsal
        except _Rehearsal:
            pass
        except DomainError as exc:
            for name, problems in exc.extra.items():
                if name in self.fields and isinstance(problems, (list, tuple)):
                    for problem in problems:
                        self.add_error(name, str(problem))
            self.add_error(None, str(exc))
        finally:
            self.rehearsing = False
        return cleaned


class ServiceAdminMixin:
    """``save_model`` calls ``service_write(request, form)``, which returns the saved object."""

    form = ServiceForm

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.service_write = partial(self.service_write, request)
        return form

    def service_write(self, request, form):
        raise NotImplementedError

    def save_model(self, request, obj, form, change):
        saved = self.service_write(request, form)
        # The admin goes on with ``obj`` (logging, redirect): make it the saved row.
        obj.pk = saved.pk
        obj.refresh_from_db()
        obj._state.adding = False


# --- grids -----------------------------------------------------------------------------------


class GridAdminForm(ServiceForm, MPTTAdminForm):
    class Meta:
        model = Grid
        fields = ("code", "name", "parent", "kind", "boundary", "active_from", "active_until")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "code" in self.fields:
            self.fields["code"].required = False
            self.fields["code"].help_text = gettext_lazy(
                "12 digits for an administrative division; leave empty below a village or for "
                "a non-administrative grid to get the parent's code plus a sequence."
            )
        if "boundary" in self.fields:
            self.fields["boundary"].help_text = gettext_lazy(
                "GeoJSON Polygon or MultiPolygon in longitude, latitude (WGS 84)."
            )


@admin.register(Grid)
class GridAdmin(ServiceAdminMixin, ScopedAdminMixin, DraggableMPTTAdmin):
    grid_prefix = ""
    form = GridAdminForm
    list_display = (
        "tree_actions",
        "indented_title",
        "code",
        "level_name",
        "kind",
        "parent",
        "active_until",
    )
    list_display_links = ("indented_title",)
    list_select_related = ("parent",)
    list_filter = ("level", "kind")
    search_fields = ("code", "name")
    list_per_page = 100
    autocomplete_fields = ("parent",)
    mptt_level_indent = 20
    # The list is paginated, so show each page's rows rather than one collapsed root.
    expand_tree_by_default = True

    class Media:
        css = {"all": ["css/admin.css"]}

    def get_queryset(self, request):
        level_name = GridLevel.objects.filter(number=OuterRef("level")).values("name")[:1]
        return super().get_queryset(request).annotate(level_name=Subquery(level_name))

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("code", "name", "parent", "kind", "boundary", "active_from", "active_until")
        return (
            "code",
            "level",
            "name",
            "parent",
            "kind",
            "boundary",
            "active_from",
            "active_until",
        )

    def get_readonly_fields(self, request, obj=None):
        # Codes are stable identifiers and the level follows the parent.
        return ("code", "level") if obj is not None else ()

    def has_delete_permission(self, request, obj=None):
        return False  # grids end (active until), they are never deleted

    @admin.display(description=gettext_lazy("name"), ordering="name")
    def indented_title(self, item):
        # A class instead of mptt's inline style: the content-security policy forbids style="".
        return format_html(
            '<span class="tree-indent tree-indent--{}">{}</span>', min(item.depth, 9), item
        )

    @admin.display(description=gettext_lazy("level"), ordering="level")
    def level_name(self, item):
        return item.level_name or item.level

    def service_write(self, request, form):
        data = form.cleaned_data
        if form.instance.pk is None:
            return services.grid_create(
                parent=data.get("parent"),
                data=services.GridInput(
                    name=data["name"],
                    kind=data["kind"],
                    code=data.get("code") or None,
                    boundary=data.get("boundary"),
                    active_from=data.get("active_from"),
                    active_until=data.get("active_until"),
                ),
                actor=request.user,
            )
        grid = Grid.objects.get(pk=form.instance.pk)
        changed = set(form.changed_data)
        if "parent" in changed:
            if data.get("parent") is None:
                raise DomainError(
                    _("A grid cannot be made a root grid here."), parent=[_("Required.")]
                )
            grid = services.grid_move(grid=grid, new_parent=data["parent"], actor=request.user)
        updates = {name: data.get(name) for name in changed & services.UPDATABLE_FIELDS}
        if updates:
            grid = services.grid_update(grid=grid, actor=request.user, **updates)
        return grid

    @transaction.atomic
    def _move_node(self, request):
        """A drag in the tree. The tree is ordered by code, so only the new parent counts:
        "last-child" hangs the grid below the target, "left"/"right" beside it."""
        position = request.POST.get("position")
        if position not in ("last-child", "left", "right"):
            self.message_user(request, _("Unknown move."), level=messages.ERROR)
            return http.HttpResponse("FAIL, unknown instruction.")
        visible = self.get_queryset(request)
        try:
            grid = visible.get(pk=request.POST.get("cut_item"))
            target = visible.get(pk=request.POST.get("pasted_on"))
        except (Grid.DoesNotExist, TypeError, ValueError):
            self.message_user(
                request, _("The grids have changed meanwhile; try again."), level=messages.ERROR
            )
            return http.HttpResponse("FAIL, invalid objects.")
        if not self.has_change_permission(request, grid):
            self.message_user(request, _("You may not move this grid."), level=messages.ERROR)
            return http.HttpResponse("FAIL, no permission.")
        new_parent = target if position == "last-child" else target.parent
        if new_parent is None:
            self.message_user(
                request, _("A grid cannot be moved to the top of the tree."), level=messages.ERROR
            )
            return http.HttpResponse("FAIL, invalid move.")
        if new_parent.pk == grid.parent_id:
            self.message_user(
                request,
                _("%(grid)s stays below %(parent)s: sub-grids are ordered by code.")
                % {"grid": grid, "parent": new_parent},
                level=messages.WARNING,
            )
            return http.HttpResponse("OK, unchanged.")
        old_parent = grid.parent
        try:
            with transaction.atomic():
                grid = services.grid_move(grid=grid, new_parent=new_parent, actor=request.user)
        except DomainError as exc:
            self.message_user(request, str(exc), level=messages.ERROR)
            return http.HttpResponse("FAIL, invalid move.")
        self.log_change(
            request,
            grid,
            [{"changed": {"fields": ["parent"]}}],
        )
        self.message_user(
            request,
            _("%(grid)s moved from %(old)s to %(new)s.")
            % {"grid": grid, "old": old_parent, "new": new_parent},
        )
        return http.HttpResponse("OK, moved.")


@admin.register(GridLevel)
class GridLevelAdmin(admin.ModelAdmin):
    list_display = ("number", "name", "name_en", "required_roles")
    ordering = ("number",)


@admin.register(Sector)
class SectorAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "name_en", "environmental_duties")
    list_filter = ("environmental_duties",)
    search_fields = ("code", "name", "name_en")


# --- responsible people ----------------------------------------------------------------------


class GridRoleForm(ServiceForm):
    class Meta:
        model = GridRole
        fields = ("grid", "user", "role", "employment", "department", "starts_on", "ends_on")


@admin.register(GridRole)
class GridRoleAdmin(ServiceAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    form = GridRoleForm
    list_display = ("grid", "role", "user", "employment", "department", "starts_on", "ends_on")
    list_select_related = ("grid", "user", "department")
    list_filter = ("role", "employment", ("ends_on", admin.EmptyFieldListFilter), "grid__level")
    search_fields = ("grid__code", "grid__name", "user__username", "user__full_name")
    autocomplete_fields = ("grid", "user", "department")
    list_per_page = 100

    def get_readonly_fields(self, request, obj=None):
        # An assignment is history: once made, only its end can be set.
        if obj is not None:
            return ("grid", "user", "role", "employment", "department", "starts_on")
        return ()

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser  # others end a role instead

    def service_write(self, request, form):
        data = form.cleaned_data
        if form.instance.pk is None:
            return services.grid_role_assign(
                grid=data["grid"],
                user=data["user"],
                role=data["role"],
                starts_on=data.get("starts_on"),
                ends_on=data.get("ends_on"),
                employment=data.get("employment") or "",
                department=data.get("department"),
            )
        assignment = GridRole.objects.get(pk=form.instance.pk)
        if "ends_on" not in form.changed_data:
            return assignment
        if data.get("ends_on") is None:
            raise DomainError(
                _("An ended role cannot be reopened; assign the role again."),
                ends_on=[_("Required.")],
            )
        return services.grid_role_end(assignment=assignment, on=data["ends_on"])


# --- departments -----------------------------------------------------------------------------


class DepartmentMembershipForm(forms.ModelForm):
    class Meta:
        model = DepartmentMembership
        fields = ("user", "position", "starts_on", "ends_on")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # A membership is history: once made, only its end can be set.
            for name in ("user", "position", "starts_on"):
                self.fields[name].disabled = True


class DepartmentMembershipInline(admin.TabularInline):
    model = DepartmentMembership
    form = DepartmentMembershipForm
    extra = 0
    autocomplete_fields = ("user",)
    fields = ("user", "position", "starts_on", "ends_on")
    can_delete = False  # memberships are history: end them

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is User:
            kwargs["queryset"] = User.objects.filter(people_scope_q(user=request.user))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class DepartmentForm(ServiceForm):
    class Meta:
        model = Department
        fields = ("code", "name", "sector", "grid", "active")


@admin.register(Department)
class DepartmentAdmin(ServiceAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    form = DepartmentForm
    inlines = [DepartmentMembershipInline]
    list_display = ("name", "code", "sector", "grid", "level", "active")
    list_select_related = ("sector", "grid")
    list_filter = ("level", "sector", "active")
    search_fields = ("code", "name")
    autocomplete_fields = ("grid",)

    def scope_q(self, request):
        return department_scope_q(user=request.user)

    def get_readonly_fields(self, request, obj=None):
        return ("code", "sector", "grid", "level") if obj is not None else ()

    def service_write(self, request, form):
        data = form.cleaned_data
        if form.instance.pk is None:
            return services.department_create(
                code=data["code"], name=data["name"], sector=data["sector"], grid=data["grid"]
            )
        return services.department_update(
            department=Department.objects.get(pk=form.instance.pk),
            name=data["name"],
            active=data["active"],
        )

    def save_formset(self, request, form, formset, change):
        if formset.model is not DepartmentMembership:
            return super().save_formset(request, form, formset, change)
        # The admin's change message reads these; formset.save() is not called.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for inline_form in formset.forms:
            if not inline_form.has_changed() or not inline_form.cleaned_data:
                continue
            data = inline_form.cleaned_data
            if inline_form.instance.pk is None:
                membership = services.department_member_add(
                    department=form.instance,
                    user=data["user"],
                    position=data["position"],
                    starts_on=data.get("starts_on"),
                    ends_on=data.get("ends_on"),
                )
                formset.new_objects.append(membership)
            elif "ends_on" in inline_form.changed_data:
                membership = services.department_member_end(
                    membership=DepartmentMembership.objects.get(pk=inline_form.instance.pk),
                    on=data.get("ends_on"),
                )
                formset.changed_objects.append((membership, ["ends_on"]))


# --- division plans and history --------------------------------------------------------------


class DivisionPlanForm(ServiceForm):
    published_url = forms.URLField(
        label=gettext_lazy("published at (URL)"), required=False, assume_scheme="https"
    )

    class Meta:
        model = DivisionPlan
        fields = (
            "grid",
            "title",
            "adopted_on",
            "filed_on",
            "filed_with",
            "published_on",
            "published_url",
            "document",
            "notes",
        )


@admin.register(DivisionPlan)
class DivisionPlanAdmin(ServiceAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    form = DivisionPlanForm
    list_display = ("title", "grid", "version", "adopted_on", "filed_on", "published_on")
    list_select_related = ("grid",)
    list_filter = (
        ("filed_on", admin.EmptyFieldListFilter),
        ("published_on", admin.EmptyFieldListFilter),
    )
    search_fields = ("title", "grid__code", "grid__name")
    autocomplete_fields = ("grid",)

    def get_readonly_fields(self, request, obj=None):
        return ("grid", "version", "adopted_on") if obj is not None else ()

    def has_delete_permission(self, request, obj=None):
        return False  # the plan's versions are what the assessment reads

    def service_write(self, request, form):
        data = form.cleaned_data
        if form.instance.pk is None:
            plan = services.division_plan_record(
                grid=data["grid"],
                title=data["title"],
                adopted_on=data["adopted_on"],
                filed_on=data.get("filed_on"),
                filed_with=data.get("filed_with", ""),
                published_on=data.get("published_on"),
                published_url=data.get("published_url", ""),
                actor=request.user,
            )
        else:
            plan = services.division_plan_update(
                plan=DivisionPlan.objects.get(pk=form.instance.pk),
                title=data["title"],
                filed_on=data.get("filed_on"),
                filed_with=data.get("filed_with", ""),
                published_on=data.get("published_on"),
                published_url=data.get("published_url", ""),
                notes=data.get("notes", ""),
            )
        plan.notes = data.get("notes", "")
        if not form.rehearsing:  # a rehearsal must not leave a stored file behind
            if data.get("document") is False:
                plan.document = None
            elif data.get("document"):
                plan.document = data["document"]
        plan.save(update_fields=["notes", "document"])
        return plan


@admin.register(GridChange)
class GridChangeAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ("at", "grid", "action", "actor", "note")
    list_select_related = ("grid", "actor")
    list_filter = ("action",)
    search_fields = ("grid__code", "grid__name", "note")
    date_hierarchy = "at"
    list_per_page = 100

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
