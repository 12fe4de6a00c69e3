"""One visitor over the AST, used by every backend, emitter and walk.

Each node type has an abstract ``visit_*`` method, so a backend that forgets a node type cannot be
instantiated, and mypy reports the class at the place it is built ("Cannot instantiate abstract
class"). Dispatch is by exact class through a table built once per subclass: as fast as an
``isinstance`` chain, without its silent fall-through.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar, Generic, TypeVar

from filterdsl.ast.nodes import (
    And,
    Compare,
    Const,
    CreatedAt,
    FieldState,
    IdIn,
    InTrash,
    ModifiedSince,
    Node,
    Not,
    Or,
    Relation,
    Search,
)

T = TypeVar("T")

#: Every node type and the method that handles it; tests check this covers every ``Node`` subclass.
METHODS: dict[type[Node], str] = {
    Const: "visit_const",
    And: "visit_and",
    Or: "visit_or",
    Not: "visit_not",
    Compare: "visit_compare",
    FieldState: "visit_field_state",
    Relation: "visit_relation",
    Search: "visit_search",
    IdIn: "visit_id_in",
    CreatedAt: "visit_created_at",
    ModifiedSince: "visit_modified_since",
    InTrash: "visit_in_trash",
}


class Visitor(ABC, Generic[T]):
    """Maps a node to a ``T``; subclasses implement one method per node type."""

    _table: ClassVar[dict[type, Callable[[Any, Any], Any]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._table = {kind: getattr(cls, name) for kind, name in METHODS.items()}

    def visit(self, node: Node) -> T:
        fn = self._table.get(type(node))
        if fn is None:  # a subclass of a node type (backends may add private ones) or not a node
            fn = next((self._table[k] for k in type(node).__mro__ if k in self._table), None)
            if fn is None:
                raise TypeError(f"{type(self).__name__} cannot visit {node!r}: not an AST node")
            type(self)._table[type(node)] = fn
        result: T = fn(self, node)
        return result

    @abstractmethod
    def visit_const(self, node: Const) -> T: ...

    @abstractmethod
    def visit_and(self, node: And) -> T: ...

    @abstractmethod
    def visit_or(self, node: Or) -> T: ...

    @abstractmethod
    def visit_not(self, node: Not) -> T: ...

    @abstractmethod
    def visit_compare(self, node: Compare) -> T: ...

    @abstractmethod
    def visit_field_state(self, node: FieldState) -> T: ...

    @abstractmethod
    def visit_relation(self, node: Relation) -> T: ...

    @abstractmethod
    def visit_search(self, node: Search) -> T: ...

    @abstractmethod
    def visit_id_in(self, node: IdIn) -> T: ...

    @abstractmethod
    def visit_created_at(self, node: CreatedAt) -> T: ...

    @abstractmethod
    def visit_modified_since(self, node: ModifiedSince) -> T: ...

    @abstractmethod
    def visit_in_trash(self, node: InTrash) -> T: ...
