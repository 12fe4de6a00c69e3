from django.urls import path

from .views import DataList, RecordList

urlpatterns = [
    path("<str:alias>/records/", RecordList.as_view()),
    path("<str:alias>/databases/<str:database_id>/data", DataList.as_view()),
]
