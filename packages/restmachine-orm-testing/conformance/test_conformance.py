"""The conformance suite on the built-in backends (``nox -s conformance``).

This is how a backend author runs it: subclass each suite class, name the backends.
"""

from restmachine_orm_testing import suite

BACKENDS = ["inmemory", "dynamodb"]


class TestCrud(suite.TestCrud):
    ENABLED_BACKENDS = BACKENDS


class TestUniqueValues(suite.TestUniqueValues):
    ENABLED_BACKENDS = BACKENDS


class TestLookups(suite.TestLookups):
    ENABLED_BACKENDS = BACKENDS


class TestLogic(suite.TestLogic):
    ENABLED_BACKENDS = BACKENDS


class TestOrdering(suite.TestOrdering):
    ENABLED_BACKENDS = BACKENDS


class TestPagination(suite.TestPagination):
    ENABLED_BACKENDS = BACKENDS


class TestTypes(suite.TestTypes):
    ENABLED_BACKENDS = BACKENDS


class TestTimestamps(suite.TestTimestamps):
    ENABLED_BACKENDS = BACKENDS


class TestHooks(suite.TestHooks):
    ENABLED_BACKENDS = BACKENDS


class TestText(suite.TestText):
    ENABLED_BACKENDS = BACKENDS


class TestDifferential(suite.TestDifferential):
    ENABLED_BACKENDS = BACKENDS


class TestConcurrentWrites(suite.TestConcurrentWrites):
    ENABLED_BACKENDS = BACKENDS


class TestOptimisticLocking(suite.TestOptimisticLocking):
    ENABLED_BACKENDS = BACKENDS


class TestBadInput(suite.TestBadInput):
    ENABLED_BACKENDS = BACKENDS


class TestWritePipeline(suite.TestWritePipeline):
    ENABLED_BACKENDS = BACKENDS
