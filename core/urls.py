from django.contrib.auth import views as auth_views
from django.urls import path, re_path

from core import views

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/read-all/", views.inbox_mark_all_read, name="inbox-read-all"),
    re_path(r"^inbox/(?P<pk>[0-9]{1,18})/$", views.inbox_open, name="inbox-open"),
    path("public/random-draws/", views.random_draws_public, name="public-random-draws"),
]
