from django.urls import path
from records.views import DataList, RecordList

urlpatterns = [
    path("api/databases/<str:database_id>/records/", RecordList.as_view()),  # PixieBrix params (GET)
    path("api/databases/<str:database_id>/data", DataList.as_view()),  # Pitchly variables (POST)
]
