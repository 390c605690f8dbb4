"""``Collection``: models that share a partition, read together in one pass.

In single-table design an order and its lines live in one partition
(``pk="ORDER#{order_id}"`` on both models, distinct sort key templates), so that one
request reads the order with its lines. A ``Collection`` names such models; ``read`` returns
each model's typed instances of one partition, grouped by model.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, TypeVar

from .backends.base import Backend, Row
from .errors import ModelDefinitionError, QueryError
from .model import Model
from .query.builder import Query
from .query.spec import QuerySpec

__all__ = ["Collection", "CollectionRows"]

M = TypeVar("M", bound=Model)


class CollectionRows(Mapping[type[Model], list[Any]]):
    """A partition's instances, by model: ``rows[Order]`` is a ``list[Order]``.

    Every model of the collection is a key, with an empty list when the partition holds
    none of its rows. Each list is in sort key order.
    """

    def __init__(self, groups: dict[type[Model], list[Any]]) -> None:
        """Hold the instances found, by model."""
        self._groups = groups

    def __getitem__(self, model: type[M]) -> list[M]:
        """The instances of ``model`` (a ``KeyError`` for a model not in the collection)."""
        return self._groups[model]

    def __iter__(self) -> Iterator[type[Model]]:
        """The collection's models, in the order it names them."""
        return iter(self._groups)

    def __len__(self) -> int:
        """How many models the collection has."""
        return len(self._groups)

    def __repr__(self) -> str:
        """The number of instances of each model."""
        counts = ", ".join(f"{model.__name__}: {len(rows)}" for model, rows in self.items())
        return f"CollectionRows({counts})"


class Collection:
    """Models sharing their partition key template, read a partition at a time.

    ``Collection(Order, OrderLine).read(order_id="o1")`` returns the order and its lines:
    one request per page on DynamoDB, the same instances on every backend.
    """

    def __init__(self, *models: type[Model]) -> None:
        """Name the models; they must declare ``model_keys`` with the same ``pk`` template.

        Raises:
            ModelDefinitionError: No model is given, a model is given twice, declares no
                ``model_keys``, or has another partition key template than the first.
        """
        if not models:
            raise ModelDefinitionError("Collection() needs at least one model")
        if len(set(models)) != len(models):
            raise ModelDefinitionError(
                f"Collection({', '.join(m.__name__ for m in models)}) names a model twice"
            )
        first = None
        for model in models:
            layout = model.orm_schema().layout
            if layout is None or not layout.declared:
                raise ModelDefinitionError(
                    f"Collection: {model.__name__} declares no model_keys; a collection reads "
                    "models whose model_keys share one pk template"
                )
            if first is None:
                first = (model, layout.pk)
            elif layout.pk.parts != first[1].parts:
                raise ModelDefinitionError(
                    f"Collection: {model.__name__}'s pk template {layout.pk.text!r} is not "
                    f"{first[0].__name__}'s {first[1].text!r}; a collection's models share "
                    "one partition key template"
                )
        self.models: tuple[type[Model], ...] = models
        self._partition_fields = first[1].fields if first is not None else ()

    def read(self, **partition: Any) -> CollectionRows:
        """The instances of each model in one partition, by model, in sort key order.

        Args:
            **partition: The fields of the partition key template, e.g. ``order_id="o1"``.

        Raises:
            QueryError: The fields given are not those of the partition key, a value does
                not fit its field, or the models are bound to different backends.
        """
        backend, specs = self._plan(partition, "read")
        return self._grouped(backend.collect(specs))

    async def aread(self, **partition: Any) -> CollectionRows:
        """Awaitable ``read``: the same instances, errors and requests."""
        backend, specs = self._plan(partition, "aread")
        return self._grouped(await backend.acollect(specs))

    def _plan(self, partition: dict[str, Any], method: str) -> tuple[Backend, list[QuerySpec]]:
        names = ", ".join(model.__name__ for model in self.models)
        wanted = self._partition_fields
        if sorted(partition) != sorted(wanted):
            raise QueryError(
                f"Collection({names}).{method}() takes the partition key fields "
                f"({', '.join(wanted) or 'none'}), not {', '.join(partition) or 'nothing'}"
            )
        backends = {id(model.model_backend): model.model_backend for model in self.models}
        if len(backends) > 1:
            raise QueryError(
                f"Collection({names}).{method}(): the models are bound to different "
                "backends; a collection reads one partition of one store"
            )
        specs = [Query(model).where(**partition).spec for model in self.models]
        return next(iter(backends.values())), specs

    def _grouped(self, rows: Sequence[list[Row]]) -> CollectionRows:
        return CollectionRows(
            {
                model: model._orm_load_all(found)
                for model, found in zip(self.models, rows, strict=True)
            }
        )
