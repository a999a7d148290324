from django.urls import path

from cases.api import views

urlpatterns = [
    path("categories/", views.CategoryListApi.as_view(), name="api-category-list"),
]
