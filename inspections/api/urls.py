from django.urls import path

from inspections.api import views

urlpatterns = [
    path("sources/", views.SourceListApi.as_view(), name="api-source-list"),
    path("sources/<int:pk>/", views.SourceDetailApi.as_view(), name="api-source-detail"),
    path("sources/<int:pk>/confirm/", views.SourceConfirmApi.as_view(), name="api-source-confirm"),
    path("sources/<int:pk>/close/", views.SourceCloseApi.as_view(), name="api-source-close"),
    path("patrols/", views.PatrolListApi.as_view(), name="api-patrol-list"),
    path("patrol-alarms/", views.PatrolAlarmListApi.as_view(), name="api-patrol-alarm-list"),
]
