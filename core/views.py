from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.models import Notification
from core.services import notification_mark_read
from inspections import draw_selectors

INBOX_PAGE_SIZE = 30
PUBLIC_DRAWS_PAGE_SIZE = 10


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True


# --- the inbox ------------------------------------------------------------------------------


@login_required
@require_GET
def inbox(request):
    """The user's own notifications, newest first (a user reads only their own inbox)."""
    notes = Notification.objects.filter(user=request.user).order_by("-created_at", "-id")
    page = Paginator(notes, INBOX_PAGE_SIZE).get_page(request.GET.get("page"))
    has_unread = notes.filter(read_at__isnull=True).exists()
    return render(
        request, "core/inbox.html", {"page": page, "has_unread": has_unread, "nav": "inbox"}
    )


@login_required
@require_GET
def inbox_open(request, pk: int):
    """Open one notification: it counts as read, and the page it points to opens."""
    note = get_object_or_404(Notification, pk=pk, user=request.user)
    notification_mark_read(user=request.user, ids=[note.pk])
    if note.url and url_has_allowed_host_and_scheme(
        note.url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(note.url)
    return redirect("inbox")


@login_required
@require_POST
def inbox_mark_all_read(request):
    unread = list(
        Notification.objects.filter(user=request.user, read_at__isnull=True).values_list(
            "pk", flat=True
        )
    )
    count = notification_mark_read(user=request.user, ids=unread)
    if count:
        messages.success(request, _("All notifications are marked as read."))
    return redirect("inbox")


# --- public disclosure (一公开) ---------------------------------------------------------------


@require_GET
def random_draws_public(request):
    """Published random-inspection draws and their results, for everyone, without a login:
    what was drawn and what the inspection found, never who inspected."""
    page = Paginator(draw_selectors.random_draws_published(), PUBLIC_DRAWS_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "inspections/random_draws_public.html", {"page": page})
