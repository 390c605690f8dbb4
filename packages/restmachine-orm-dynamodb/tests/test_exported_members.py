from __future__ import annotations

import subprocess
import sys
import types

import restmachine_orm_dynamodb
from restmachine_orm import BackendError
from restmachine_orm_dynamodb import errors


def isort_order(name):
    kind = 0 if name.isupper() else 1 if name[0].isupper() else 2
    return kind, name


def test_all_is_sorted_and_lists_exactly_the_public_names():
    exported = restmachine_orm_dynamodb.__all__
    assert exported == [
        "DEFAULT_CONFIG",
        "Backoff",
        "CapacityUnits",
        "ConsumedCapacity",
        "DynamoDBBackend",
        "DynamoDBError",
        "IncompleteBatchError",
        "RetryConfig",
        "TransactionsUnsupportedError",
        "__version__",
    ]
    assert exported == sorted(exported, key=isort_order)
    public = {
        name
        for name in dir(restmachine_orm_dynamodb)
        if not name.startswith(("_", "@"))
        and not isinstance(getattr(restmachine_orm_dynamodb, name), types.ModuleType)
    } - {"annotations", "TYPE_CHECKING", "Any"}
    assert set(exported) == public | {"__version__"}
    for name in exported:
        assert getattr(restmachine_orm_dynamodb, name) is not None


def test_importing_the_package_or_its_test_driver_does_not_import_boto3():
    code = (
        "import sys, restmachine_orm_dynamodb.testing; "
        "assert 'boto3' not in sys.modules and 'botocore.client' not in sys.modules; "
        "from restmachine_orm_dynamodb import DynamoDBBackend; assert 'boto3' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_backend_errors_subclass_the_core_error_and_are_drawn_in_the_docstring():
    for name in errors.__all__:
        assert issubclass(getattr(errors, name), BackendError)
        assert name in (errors.__doc__ or "")
