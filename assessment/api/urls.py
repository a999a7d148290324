"""Routes of the assessment API under /api/v1/ (include from ``gridsup/api_urls.py``)."""

from django.urls import path, re_path

from assessment.api import views

urlpatterns = [
    path("assessments/<int:year>/", views.SheetListApi.as_view(), name="api-assessment-list"),
    path(
        "assessments/<int:year>/ranking/",
        views.RankingApi.as_view(),
        name="api-assessment-ranking",
    ),
    path("assessments/<int:year>/export/", views.ExportApi.as_view(), name="api-assessment-export"),
    path("assessments/<int:year>/rules/", views.RuleSetApi.as_view(), name="api-assessment-rules"),
    path("assessments/<int:year>/run/", views.RunApi.as_view(), name="api-assessment-run"),
    path("assessments/<int:year>/lock/", views.LockApi.as_view(), name="api-assessment-lock"),
    path(
        "assessments/<int:year>/facts/",
        views.FactListApi.as_view(),
        name="api-assessment-fact-list",
    ),
    re_path(
        r"^assessments/(?P<year>[0-9]{4})/(?P<grid>[0-9]{12,15})/$",
        views.SheetDetailApi.as_view(),
        name="api-assessment-detail",
    ),
    path(
        "assessment-facts/<int:pk>/",
        views.FactDetailApi.as_view(),
        name="api-assessment-fact-detail",
    ),
    path(
        "assessment-facts/<int:pk>/withdraw/",
        views.FactWithdrawApi.as_view(),
        name="api-assessment-fact-withdraw",
    ),
    path("joint-meetings/", views.MeetingListApi.as_view(), name="api-assessment-meeting-list"),
    path(
        "joint-meetings/<int:pk>/",
        views.MeetingDetailApi.as_view(),
        name="api-assessment-meeting-detail",
    ),
    path(
        "meeting-decisions/<int:pk>/follow-up/",
        views.DecisionFollowUpApi.as_view(),
        name="api-assessment-decision-follow-up",
    ),
    path("half-year-reports/", views.ReportListApi.as_view(), name="api-assessment-report-list"),
    path(
        "half-year-reports/<int:pk>/",
        views.ReportDetailApi.as_view(),
        name="api-assessment-report-detail",
    ),
    path("help-requests/", views.HelpRequestListApi.as_view(), name="api-assessment-help-list"),
    path(
        "help-requests/<int:pk>/answer/",
        views.HelpRequestAnswerApi.as_view(),
        name="api-assessment-help-answer",
    ),
    path(
        "supervisions/", views.SupervisionListApi.as_view(), name="api-assessment-supervision-list"
    ),
    path(
        "supervisions/<int:pk>/",
        views.SupervisionDetailApi.as_view(),
        name="api-assessment-supervision-detail",
    ),
    path(
        "supervisions/<int:pk>/rectification/",
        views.SupervisionRectificationApi.as_view(),
        name="api-assessment-supervision-rectification",
    ),
    path(
        "supervisions/<int:pk>/publish/",
        views.SupervisionPublishApi.as_view(),
        name="api-assessment-supervision-publish",
    ),
    path("penalty-decisions/", views.PenaltyListApi.as_view(), name="api-assessment-penalty-list"),
    path(
        "penalty-decisions/<int:pk>/publish/",
        views.PenaltyPublishApi.as_view(),
        name="api-assessment-penalty-publish",
    ),
    path(
        "self-evaluations/",
        views.SelfEvaluationListApi.as_view(),
        name="api-assessment-self-evaluation-list",
    ),
    path(
        "disclosure/supervisions/",
        views.PublicSupervisionListApi.as_view(),
        name="api-disclosure-supervisions",
    ),
    path(
        "disclosure/penalties/",
        views.PublicPenaltyListApi.as_view(),
        name="api-disclosure-penalties",
    ),
    path(
        "performance-periods/",
        views.PeriodListApi.as_view(),
        name="api-performance-period-list",
    ),
    path(
        "performance-periods/<int:pk>/figures/",
        views.PeriodFigureListApi.as_view(),
        name="api-performance-figures",
    ),
    path(
        "performance-periods/<int:pk>/lock/",
        views.PeriodLockApi.as_view(),
        name="api-performance-period-lock",
    ),
]
