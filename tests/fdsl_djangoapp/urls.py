from django.urls import path

from .views import CatalogRecords, ComboList, DataList, DrfErrors, RecordList

urlpatterns = [
    path("<str:alias>/records/", RecordList.as_view()),
    path("<str:alias>/databases/<str:database_id>/data", DataList.as_view()),
    path("<str:alias>/combo/<str:combo>/", ComboList.as_view()),
    path("<str:alias>/drf-errors/", DrfErrors.as_view()),
    path("<str:alias>/orders/", CatalogRecords.as_view()),
]
