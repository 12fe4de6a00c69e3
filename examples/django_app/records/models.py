"""One model per database of examples/catalog.json, in filterdsl's JSON document layout."""

from django.db import models

from filterdsl.integrations.django import UnicodeJSONEncoder


class RecordBase(models.Model):
    id = models.CharField(primary_key=True, max_length=64)
    created_at = models.CharField(max_length=40)  # canonical UTC text, e.g. 2021-01-01T00:00:00.000000Z
    updated_at = models.CharField(max_length=40, null=True)
    removed_at = models.CharField(max_length=40, null=True)
    data = models.JSONField(encoder=UnicodeJSONEncoder)  # keys unescaped: SQLite's JSON paths need it

    class Meta:
        abstract = True


class Client(RecordBase):
    pass


class Order(RecordBase):
    pass


class Product(RecordBase):
    pass


#: database id -> model
MODELS = {"uJL9XrebupC7eWvM3": Client, "ixuPJwBRqtRP3GpoM": Order, "LkfjQ9pq9f48K2vD8": Product}
