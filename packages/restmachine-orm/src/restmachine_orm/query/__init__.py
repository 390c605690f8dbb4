"""The query language: filter trees, the builder, and helpers backends share."""

from __future__ import annotations

from .builder import Page, Query
from .execution import select_rows
from .filters import (
    And,
    Condition,
    Filter,
    Not,
    Or,
    conjuncts,
    pinned_values,
    split_filter,
    walk,
)
from .ordering import OrderBy
from .predicate import Predicate, compile_filter
from .q import Q, WriteCondition
from .spec import QuerySpec

__all__ = [
    "And",
    "Condition",
    "Filter",
    "Not",
    "Or",
    "OrderBy",
    "Page",
    "Predicate",
    "Q",
    "Query",
    "QuerySpec",
    "WriteCondition",
    "compile_filter",
    "conjuncts",
    "pinned_values",
    "select_rows",
    "split_filter",
    "walk",
]
