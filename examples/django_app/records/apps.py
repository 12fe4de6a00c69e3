from django.apps import AppConfig


class RecordsConfig(AppConfig):
    name = "records"

    def ready(self) -> None:
        from filterdsl.integrations.django import install_sqlite_lower

        install_sqlite_lower()  # SQLite's own lower() folds ASCII only
