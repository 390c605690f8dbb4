"""The spec's old way, patching MultiBackendTestBase.create_driver, keeps working."""

from __future__ import annotations

CONFTEST = """
import pytest
from restmachine_orm import InMemoryBackend
from restmachine_orm_testing import MultiBackendTestBase
from restmachine_orm_testing import DriverInterface, CreateOperation, OperationResult


class MyBackend(InMemoryBackend):
    def __init__(self, config_option):
        super().__init__()
        self.config_option = config_option


class MyBackendDriver(DriverInterface):
    def __init__(self, **config):
        self.backend = MyBackend(**config)

    def execute_create(self, operation: CreateOperation) -> OperationResult:
        try:
            self.setup_backend(operation.model_class)
            instance = operation.model_class.create(**operation.data)
            return OperationResult(
                success=True,
                instance=instance,
                data=instance.model_dump()
            )
        except Exception as e:
            return OperationResult(success=False, error=e)

    def get_backend_name(self) -> str:
        return "mybackend"

    def setup_backend(self, model_class):
        model_class.model_backend = self.backend


original_create_driver = MultiBackendTestBase.create_driver

@classmethod
def patched_create_driver(cls, backend_name: str):
    if backend_name == 'mybackend':
        return MyBackendDriver(config_option="value")
    return original_create_driver(backend_name)

MultiBackendTestBase.create_driver = patched_create_driver
"""

TESTS = """
from restmachine_orm import Field, Model, NotFoundError
from restmachine_orm_testing import MultiBackendTestBase


class User(Model):
    id: str = Field(primary_key=True)
    name: str
    age: int = 0


class TestFeatures(MultiBackendTestBase):
    ENABLED_BACKENDS = ['inmemory', 'mybackend']

    def get_test_models(self):
        return [User]

    def test_everything_through_the_defaults(self, orm):
        orm_client, backend_name = orm
        user = orm_client.create_and_verify(User, id="u1", name="A", age=3)
        orm_client.create_and_verify(User, id="u2", name="B", age=5)
        assert orm_client.get_and_verify_exists(User, id="u1").name == "A"
        orm_client.update_and_verify(user, name="A2")
        assert orm_client.query_and_verify_count(User, 1, filters={"age__gte": 4})[0].id == "u2"
        assert orm_client.count_models(User, age__lt=4) == 1
        assert orm_client.model_exists(User, name="A2")
        upserted = orm_client.upsert_and_verify(User, id="u3", name="C")
        orm_client.delete_and_verify(upserted)
        assert len(orm_client.all_models(User)) == 2
        orm_client.expect_update_failure(User(id="zz", name="Z"), NotFoundError, age=1)
        if backend_name == "mybackend":
            assert User.model_backend.config_option == "value"
"""


def test_the_spec_monkeypatch_registers_a_driver(pytester):
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_features=TESTS)
    result = pytester.runpytest("-v", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*[[]mybackend[]] PASSED*"])


def test_a_name_nothing_resolves_fails_those_tests_clearly(pytester):
    pytester.makepyfile(
        test_typo="""
from restmachine_orm_testing import MultiBackendTestBase

class TestTypo(MultiBackendTestBase):
    ENABLED_BACKENDS = ["inmemory", "nosuchbackend"]

    def test_a(self, orm):
        pass
"""
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*no installed plugin provides a driver for backend 'nosuch*"])
