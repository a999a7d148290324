from django.urls import path

from cases.api import views

urlpatterns = [
    path("categories/", views.CategoryListApi.as_view(), name="api-category-list"),
    path("cases/", views.CaseListApi.as_view(), name="api-case-list"),
    path("cases/<int:pk>/", views.CaseDetailApi.as_view(), name="api-case-detail"),
    path(
        "cases/<int:pk>/actions/<str:action>/",
        views.CaseActionApi.as_view(),
        name="api-case-action",
    ),
    path(
        "cases/<int:pk>/attachments/",
        views.CaseAttachmentApi.as_view(),
        name="api-case-attachments",
    ),
    path(
        "cases/<int:pk>/return-visits/",
        views.ReturnVisitApi.as_view(),
        name="api-case-return-visits",
    ),
    path(
        "cases/<int:pk>/photos/<int:photo_pk>/",
        views.CasePhotoApi.as_view(),
        name="api-case-photo",
    ),
    path("cases/<int:pk>/parts/", views.CasePartApi.as_view(), name="api-case-parts"),
    path("callback/", views.CallbackEndpointApi.as_view(), name="api-callback"),
]
