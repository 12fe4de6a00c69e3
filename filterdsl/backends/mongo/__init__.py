"""The MongoDB backend: ``compiler`` turns a Query into a find spec or pipeline, ``runners`` executes one
on mongomock or on mingo under node (``js/``)."""

from filterdsl.backends.mongo.compiler import lower_regex, relations, to_mongo

__all__ = ["lower_regex", "relations", "to_mongo"]
