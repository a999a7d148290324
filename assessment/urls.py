"""The assessment pages, included at the site's root (``path("", include("assessment.urls"))``):
the yearly sheets and the mechanism records under /assessment/, the public disclosure page
under /public/ like the other pages that need no login."""

from django.urls import path, re_path

from assessment import views

YEAR = r"(?P<year>[0-9]{4})"
GRID = r"(?P<code>[0-9]{12,15})"
ROW = r"(?P<pk>[0-9]{1,18})"

urlpatterns = [
    path("assessment/", views.assessment_home, name="assessment-home"),
    re_path(rf"^assessment/{YEAR}/$", views.ranking_page, name="assessment-ranking"),
    re_path(rf"^assessment/{YEAR}/run/$", views.assessment_run, name="assessment-run"),
    re_path(rf"^assessment/{YEAR}/lock/$", views.assessment_lock, name="assessment-lock"),
    re_path(rf"^assessment/{YEAR}/facts/$", views.facts_page, name="assessment-facts"),
    re_path(rf"^assessment/{YEAR}/{GRID}/$", views.sheet_page, name="assessment-sheet"),
    re_path(
        rf"^assessment/{YEAR}/{GRID}/evidence/(?P<rule>[0-9A-Za-z.]{{1,20}})/$",
        views.evidence_page,
        name="assessment-evidence",
    ),
    re_path(rf"^assessment/facts/{ROW}/$", views.fact_page, name="assessment-fact"),
    re_path(
        rf"^assessment/facts/{ROW}/withdraw/$", views.fact_withdraw, name="assessment-fact-withdraw"
    ),
    re_path(
        rf"^assessment/facts/{ROW}/document/$",
        views.fact_document,
        name="assessment-fact-document",
    ),
    path("assessment/meetings/", views.meetings_page, name="assessment-meetings"),
    re_path(rf"^assessment/meetings/{ROW}/$", views.meeting_page, name="assessment-meeting"),
    re_path(
        rf"^assessment/meetings/{ROW}/document/$",
        views.meeting_document,
        name="assessment-meeting-document",
    ),
    path("assessment/reports/", views.reports_page, name="assessment-reports"),
    path("assessment/supervisions/", views.supervisions_page, name="assessment-supervisions"),
    re_path(
        rf"^assessment/supervisions/{ROW}/rectification/$",
        views.supervision_rectify,
        name="assessment-supervision-rectify",
    ),
    re_path(
        rf"^assessment/supervisions/{ROW}/publish/$",
        views.supervision_publish,
        name="assessment-supervision-publish",
    ),
    path("assessment/help-requests/", views.help_requests_page, name="assessment-help-requests"),
    re_path(
        rf"^assessment/help-requests/{ROW}/answer/$",
        views.help_request_answer,
        name="assessment-help-request-answer",
    ),
    path(
        "assessment/self-evaluations/",
        views.self_evaluations_page,
        name="assessment-self-evaluations",
    ),
    path("public/disclosure/", views.disclosure_page, name="public-disclosure"),
]
