from __future__ import annotations

import types

import restmachine_orm_testing

REQUIRED = {
    "AsyncOrmClient",
    "BlockingCallError",
    "forbid_blocking_io",
    "MultiBackendTestBase",
    "skip_backend",
    "only_backends",
    "xfail_backend",
    "requires",
    "DriverInterface",
    "InMemoryDriver",
    "CreateOperation",
    "OperationResult",
    "OrmClient",
    "hookimpl",
    "GetOperation",
    "UpdateOperation",
    "DeleteOperation",
    "UpsertOperation",
    "QueryOperation",
    "CountOperation",
    "ExistsOperation",
    "AllOperation",
}


def isort_order(name):
    kind = 0 if name.isupper() else 1 if name[0].isupper() else 2
    return kind, name


def test_all_is_sorted_and_lists_exactly_the_public_names():
    exported = restmachine_orm_testing.__all__
    assert exported == sorted(exported, key=isort_order)
    public = {
        name
        for name, value in vars(restmachine_orm_testing).items()
        if not name.startswith(("_", "@")) and not isinstance(value, types.ModuleType)
    } - {"annotations"}
    assert set(exported) == public | {"__version__"}
    assert set(exported) >= REQUIRED


def test_python_dash_m_lists_the_inmemory_driver(pytester):
    result = pytester.run("python", "-m", "restmachine_orm_testing")
    assert result.ret == 0
    result.stdout.re_match_lines(
        [
            r"backend +package +version +capabilities$",
            r"inmemory +restmachine-orm-testing +\S+ +atomic_updates, conditions, faults, offset, "
            r"order_by_any_field, sort_key_range, transactions, ttl$",
        ]
    )
