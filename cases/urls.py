from django.urls import path

from cases import views

urlpatterns = [
    path("", views.case_list, name="case-list"),
    path("queue/", views.case_queue, name="case-queue"),
    path("inbox/", views.case_inbox, name="case-inbox"),
    path("report/", views.case_report, name="case-report"),
    path("verify/", views.case_verify_list, name="case-verify"),
    path("<int:pk>/", views.case_detail, name="case-detail"),
    path("<int:pk>/actions/<str:action>/", views.case_action, name="case-action"),
    path("<int:pk>/return-visits/", views.case_return_visit, name="case-return-visit"),
    path("<int:pk>/part/", views.case_part, name="case-part"),
    path("<int:pk>/photos/<int:photo_pk>/", views.case_photo, name="case-photo"),
]
