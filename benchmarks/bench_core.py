"""Core ORM on the in-memory backend against plain pydantic and dict floors."""

from __future__ import annotations

from _harness import Row, Table, side_by_side
from pydantic import BaseModel

from restmachine_orm import Field, InMemoryBackend, Model


class User(Model):
    id: str = Field(primary_key=True)
    email: str = Field(unique=True)
    name: str
    age: int = Field(ge=0, default=0)


class Note(Model):
    id: str = Field(primary_key=True)
    email: str
    name: str
    age: int = Field(ge=0, default=0)


class PlainUser(BaseModel):
    id: str
    email: str
    name: str
    age: int = 0


def user_data(i: int) -> dict[str, object]:
    return {"id": f"u{i}", "email": f"u{i}@example.com", "name": "Name", "age": i % 90}


def _create(model: type[Model], label: str, rounds: int) -> Row:
    ops = 2_000
    model.model_backend = InMemoryBackend()
    store: dict[str, PlainUser] = {}
    batches = [[user_data(r * ops + i) for i in range(ops)] for r in range(rounds)]

    def orm(round_number: int) -> None:
        for data in batches[round_number]:
            model.create(**data)

    def floor(round_number: int) -> None:
        for data in batches[round_number]:
            store[data["id"]] = PlainUser.model_validate(data)  # type: ignore[index]

    medians = side_by_side({"orm": orm, "floor": floor}, rounds=rounds, ops=ops)
    return Row(label, medians["orm"], medians["floor"], goal=2.0)


def _get(rows: int, rounds: int) -> Row:
    ops = 5_000
    User.model_backend = InMemoryBackend()
    User.create_many([user_data(i) for i in range(rows)])
    raw = {f"u{i}": user_data(i) for i in range(rows)}
    keys = [f"u{(i * 7919) % rows}" for i in range(ops)]

    def orm(_: int) -> None:
        for key in keys:
            User.get(id=key)

    def floor(_: int) -> None:
        for key in keys:
            PlainUser.model_validate(raw[key])

    medians = side_by_side({"orm": orm, "floor": floor}, rounds=rounds, ops=ops)
    return Row(f"get by key, {rows:,} rows", medians["orm"], medians["floor"], goal=3.0)


def _where(rounds: int) -> Row:
    rows = 10_000
    User.model_backend = InMemoryBackend()
    User.create_many([user_data(i) for i in range(rows)])
    raw = [user_data(i) for i in range(rows)]

    def orm(_: int) -> None:
        User.where(age__gte=45).all()

    def floor(_: int) -> None:
        [PlainUser.model_validate(r) for r in raw if r["age"] >= 45]  # type: ignore[operator]

    medians = side_by_side({"orm": orm, "floor": floor}, rounds=rounds, ops=1)
    return Row(
        "where(age__gte).all(), 10k rows", medians["orm"], medians["floor"], goal=1.5, unit="ms"
    )


def run(quick: bool) -> list[Table]:
    rounds = 5 if quick else 21
    table = Table("Core, in-memory backend", "ORM", "floor (pydantic + dict)")
    table.rows.append(_create(User, "create (with a unique field)", rounds))
    table.rows.append(_create(Note, "create (no unique field)", rounds))
    small = _get(1_000, rounds)
    large = _get(100_000, rounds)
    table.rows += [small, large]
    # O(1): going from 1k to 100k rows may slow the ORM no more than it slows a dict
    # (both pay the same cache misses); the row compares the two growths.
    growth = Row(
        "get growth 1k -> 100k, ORM vs dict",
        large.contender / small.contender,
        large.floor / small.floor,
        goal=1.2,
        unit="ratio",
    )
    table.rows.append(growth)
    table.rows.append(_where(rounds))
    return [table]
