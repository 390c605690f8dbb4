from __future__ import annotations

import pytest
from models import User

from restmachine_orm import QueryError


@pytest.fixture(autouse=True)
def people(backend):
    for i, age in enumerate([30, 20, 30, 40, 20, 30, 50]):
        User.create(id=f"u{i}", email=f"u{i}@x.io", name=f"N{i % 3}", age=age)


def walk(query, size):
    seen, cursor, pages = [], None, 0
    while True:
        page = query.paginate(size, cursor)
        seen += [u.id for u in page.items]
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            return seen, pages


@pytest.mark.parametrize("size", [1, 2, 3, 7, 10])
def test_pages_cover_every_row_once_in_order(size):
    seen, pages = walk(User.where(), size)
    assert seen == sorted(f"u{i}" for i in range(7))
    assert pages == max(1, -(-7 // size))


def test_pages_follow_descending_order_with_ties():
    expected = [u.id for u in User.where().order_by("-age", "id")]
    seen, _ = walk(User.where().order_by("-age"), 2)
    assert seen == expected


def test_rows_written_between_pages_do_not_shift_the_cursor():
    page = User.where().order_by("age").paginate(3)
    User.create(id="u00", email="early@x.io", name="Early", age=1)
    following = User.where().order_by("age").paginate(10, page.next_cursor)
    first_ids = [u.id for u in page.items]
    assert not set(first_ids) & {u.id for u in following.items}
    assert "u00" not in {u.id for u in following.items}  # it sorts before the cursor
    assert len(first_ids) + len(following.items) == 7


def test_bad_cursors_and_arguments():
    cursor = User.where().order_by("age").paginate(2).next_cursor
    with pytest.raises(QueryError, match="made for ordering"):
        User.where().order_by("name").paginate(2, cursor)
    with pytest.raises(QueryError, match="malformed"):
        User.where().paginate(2, "not-a-cursor!")
    with pytest.raises(QueryError, match="page_size"):
        User.where().paginate(0)
    with pytest.raises(QueryError, match="drop limit"):
        User.where().limit(3).paginate(2)
