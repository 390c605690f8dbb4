"""Core ORM on the in-memory backend against plain pydantic and dict floors."""

from __future__ import annotations

from statistics import median

from _harness import Row, Table, flat_row, side_by_side
from pydantic import BaseModel

from restmachine_orm import Field, InMemoryBackend, Model

#: The in-memory goals: time per operation at most this many times the floor's.
CREATE_GOAL = 2.0
GET_GOAL = 3.0
WHERE_GOAL = 1.5


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

    times = side_by_side({"orm": orm, "floor": floor}, rounds=rounds, ops=ops)
    return Row(label, median(times["orm"]), median(times["floor"]), goal=CREATE_GOAL)


def _get(rows: int, rounds: int) -> dict[str, list[float]]:
    """Each round's seconds per ``get`` on a store of ``rows`` rows, by the ORM and the floor."""
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

    return side_by_side({"orm": orm, "floor": floor}, rounds=rounds, ops=ops)


def _where(rounds: int) -> Row:
    rows = 10_000
    User.model_backend = InMemoryBackend()
    User.create_many([user_data(i) for i in range(rows)])
    raw = [user_data(i) for i in range(rows)]

    def orm(_: int) -> None:
        User.where(age__gte=45).all()

    def floor(_: int) -> None:
        [PlainUser.model_validate(r) for r in raw if r["age"] >= 45]  # type: ignore[operator]

    times = side_by_side({"orm": orm, "floor": floor}, rounds=rounds, ops=1)
    return Row(
        "where(age__gte).all(), 10k rows",
        median(times["orm"]),
        median(times["floor"]),
        goal=WHERE_GOAL,
        unit="ms",
    )


def run(quick: bool) -> list[Table]:
    rounds = 5 if quick else 21
    table = Table("Core, in-memory backend", "ORM", "floor (pydantic + dict)")
    table.rows.append(_create(User, "create (with a unique field)", rounds))
    table.rows.append(_create(Note, "create (no unique field)", rounds))
    sizes = (1_000, 100_000)
    small, large = (_get(rows, rounds) for rows in sizes)
    for rows, times in zip(sizes, (small, large), strict=True):
        label = f"get by key, {rows:,} rows"
        table.rows.append(Row(label, median(times["orm"]), median(times["floor"]), goal=GET_GOAL))
    # Flat: going from 1k to 100k rows may add to get's own cost (beyond the floor's, which
    # pays the same cache misses on a larger dict) no more than FLAT_GOAL.
    own = f"get's own cost (ORM - floor), {sizes[1]:,} vs {sizes[0]:,} rows"
    table.rows.append(flat_row(own, (small["orm"], small["floor"]), (large["orm"], large["floor"])))
    table.rows.append(_where(rounds))
    return [table]
