"""A Django app for tests/test_integration_django.py (models built from the corpus catalog)."""
