"""Admin for people, machine clients and their API tokens.

People are listed within the admin user's scope (``grids.admin.people_scope_q``); only a
superuser can grant staff, superuser, group or permission rights. Tokens are read-only: the
one action revokes them through ``core.services.api_token_revoke``.
"""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core import services
from core.models import ApiToken, User
from grids.admin import people_scope_q

admin.site.site_header = _("Environmental grid supervision — administration")
admin.site.site_title = _("GridSup administration")
admin.site.index_title = _("Grids, people and rules")

PROFILE_FIELDS = ("full_name", "phone", "is_machine", "enforcement_certificate")
# Rights only a superuser may hand out.
PRIVILEGE_FIELDS = ("is_staff", "is_superuser", "groups", "user_permissions")


@admin.register(User)
class GridSupUserAdmin(UserAdmin):
    fieldsets = (
        *UserAdmin.fieldsets,
        (_("Grid supervision"), {"fields": PROFILE_FIELDS}),
    )
    add_fieldsets = (
        *UserAdmin.add_fieldsets,
        (_("Grid supervision"), {"classes": ("wide",), "fields": PROFILE_FIELDS}),
    )
    list_display = ("username", "full_name", "phone", "is_machine", "is_staff", "is_active")
    list_filter = ("is_machine", "is_staff", "is_superuser", "is_active")
    search_fields = ("username", "full_name", "phone", "email", "enforcement_certificate")
    ordering = ("username",)

    def get_queryset(self, request):
        return super().get_queryset(request).filter(people_scope_q(user=request.user))

    def get_readonly_fields(self, request, obj=None):
        readonly = tuple(super().get_readonly_fields(request, obj))
        if request.user.is_superuser:
            return readonly
        return readonly + PRIVILEGE_FIELDS


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = (
        "prefix",
        "user",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
        "active",
    )
    list_select_related = ("user",)
    list_filter = (("revoked_at", admin.EmptyFieldListFilter), "user__is_machine")
    search_fields = ("prefix", "user__username", "user__full_name")
    fields = ("user", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at")
    readonly_fields = fields
    actions = ["revoke"]
    date_hierarchy = "created_at"

    def get_queryset(self, request):
        return (
            super().get_queryset(request).filter(people_scope_q(user=request.user, prefix="user__"))
        )

    @admin.display(description=_("active"), boolean=True)
    def active(self, token):
        return token.is_active

    def has_add_permission(self, request):
        return False  # tokens are issued through the API's login

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # the hourly purge deletes expired tokens

    def has_revoke_permission(self, request):
        return request.user.has_perm("core.change_apitoken")

    @admin.action(description=_("Revoke the selected tokens"), permissions=["revoke"])
    def revoke(self, request, queryset):
        tokens = list(queryset.filter(revoked_at__isnull=True))
        for token in tokens:
            services.api_token_revoke(token=token)
        self.message_user(
            request,
            ngettext("%(n)d token revoked.", "%(n)d tokens revoked.", len(tokens))
            % {"n": len(tokens)},
            level=messages.SUCCESS,
        )
