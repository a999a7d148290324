from django.urls import path

from grids import views

urlpatterns = [
    path("", views.grid_index, name="grid-index"),
    path("<str:code>/", views.grid_detail, name="grid-detail"),
]
