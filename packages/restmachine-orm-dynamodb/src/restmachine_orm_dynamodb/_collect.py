"""Collections: one partition shared by several models, read with one Query per page.

Models with the same partition key template store their rows in the same partitions;
reading a partition once and sorting the items out by their entity attribute gives each
model's rows, in sort key order, for the price of one model's query.
"""

from __future__ import annotations

from collections.abc import Sequence

from restmachine_orm.backends.base import Row
from restmachine_orm.query import QuerySpec, compile_filter, pinned_values

from ._expressions import Expressions
from ._flow import Flow
from ._items import Pages
from ._serialize import from_item
from ._table import Table

__all__ = ["collect"]


def collect(table: Table, specs: Sequence[QuerySpec]) -> Flow[list[list[Row]]]:
    """Each spec's rows, from one paged ``Query`` of the partition they all pin.

    The specs (passed through ``live_spec``) pin the same partition key text; each item is
    given to the model its entity attribute names, and kept if that model's filter holds.
    """
    keys = table.keys
    schemas = [spec.schema for spec in specs]
    layout = schemas[0].layout
    assert layout is not None
    ex = Expressions()
    partition = layout.pk.render(pinned_values(specs[0].filter))
    entities = ", ".join(ex.value(schema.name) for schema in schemas)
    request = {
        "KeyConditionExpression": f"{ex.name(keys.pk)} = {ex.value(partition)}",
        "FilterExpression": f"{ex.name(keys.entity)} IN ({entities})",
        "ConsistentRead": True,
        **ex.request(),
    }
    position = {schema.name: i for i, schema in enumerate(schemas)}
    tests = [compile_filter(spec.filter) for spec in specs]
    found: list[list[Row]] = [[] for _ in specs]
    pages = Pages(table, "Query", request)
    while not pages.done:
        for item in (yield from pages.next()).get("Items", ()):
            i = position.get(item[keys.entity]["S"])
            if i is None:
                continue
            row = from_item(schemas[i], item)
            if tests[i](row):
                found[i].append(row)
    return found
