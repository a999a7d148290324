from django.urls import path

from grids.api import views

urlpatterns = [
    path("grids/", views.GridListApi.as_view(), name="api-grid-list"),
    path("grids/locate/", views.GridLocateApi.as_view(), name="api-grid-locate"),
    path("grids/<str:code>/", views.GridDetailApi.as_view(), name="api-grid-detail"),
    path("departments/", views.DepartmentListApi.as_view(), name="api-department-list"),
]
