"""The conformance suite: prove a backend behaves like the in-memory reference.

Run all of it on your backend in one command, with no test module of yours::

    pytest --pyargs restmachine_orm_testing.suite --orm-backend mybackend

That collects ``test_all``, which runs every class below on the run's selected backends
(``ENABLED_BACKENDS = SELECTED``). To pick classes, subclass them in your own test module
and name your backend::

    from restmachine_orm_testing import suite

    class TestCrud(suite.TestCrud):
        ENABLED_BACKENDS = ["inmemory", "mybackend"]

Import the module, not the classes, so that only your subclasses are collected. Test ids
(``TestCrud::test_create_stores_exactly_the_row[mybackend]``) never change; ``SUITE_TESTS``
maps each to the ``SUITE_VERSION`` that added it, so an upgrade shows what is new. Tests that
need an optional feature are marked ``requires(...)`` and skipped, with the reason in the
report, on backends whose capabilities lack it.

Since 1.3, each class ``TestX`` has a twin ``TestXAsync`` running the same tests through
the backend's awaitable twins (``async_surface``), ``TestConcurrentTasks`` races tasks on
one event loop and ``TestCancelledTasks`` cancels writes in flight; subclass them alike.
Suite 1.4 adds ``TestConditionalWrites`` and ``TestAtomicUpdates`` (and their ``Async``
twins), for backends with the ``conditions`` and ``atomic_updates`` capabilities; suite
1.5 adds ``TestTransactions`` (and ``TestTransactionsAsync``), for backends that also have
``transactions``; suite 1.6 adds ``TestExpiry`` (and ``TestExpiryAsync``), for backends with
``ttl``. Suite 1.7 adds what users of the earlier restmachine-python bring:
``TestHookDecorators``, ``TestMixins``, ``TestExpirationMixin`` (``ttl``) and
``TestQueryHelpers``, each with its ``Async`` twin, and ``TestAwaitedHelpers`` (the
awaitable API on the test's event loop). Suite 1.8 adds single-table design (models with
``model_keys``, ``suite.models.SINGLE_TABLE_MODELS``): ``TestKeyTemplates``,
``TestSecondaryIndexes``, ``TestCollections``, ``TestAccessPaths`` (``explain()``) and
``TestScanRefusal`` (``allow_scan=False``), each with its ``Async`` twin, and
``TestAwaitedSingleTable``; the differential machine gains a machine of its own for them.
Suite 1.9 makes failure and time test inputs: ``TestFaults`` (backends with the ``faults``
capability; the ``orm_faults`` fixture: throttling and failures retried within the retry
config, batch leftovers, lost answers and exactly-once writes) and ``TestClock`` (stamps
and expiry follow the ``orm_clock`` fixture), each with its ``Async`` twin.
"""

from __future__ import annotations

from ._base import SUITE_TESTS, SUITE_VERSION, SuiteBase
from .access import TestAccessPaths, TestScanRefusal
from .async_surface import (
    TestAccessPathsAsync,
    TestAtomicUpdatesAsync,
    TestBadInputAsync,
    TestClockAsync,
    TestCollectionsAsync,
    TestConcurrentWritesAsync,
    TestConditionalWritesAsync,
    TestCrudAsync,
    TestDifferentialAsync,
    TestExpirationMixinAsync,
    TestExpiryAsync,
    TestFaultsAsync,
    TestHookDecoratorsAsync,
    TestHooksAsync,
    TestKeyTemplatesAsync,
    TestLogicAsync,
    TestLookupsAsync,
    TestMixinsAsync,
    TestOptimisticLockingAsync,
    TestOrderingAsync,
    TestPaginationAsync,
    TestQueryHelpersAsync,
    TestScanRefusalAsync,
    TestSecondaryIndexesAsync,
    TestTextAsync,
    TestTimestampsAsync,
    TestTransactionsAsync,
    TestTypesAsync,
    TestUniqueValuesAsync,
    TestWritePipelineAsync,
)
from .atomic import TestAtomicUpdates
from .bad_input import TestBadInput
from .cancellation import TestCancelledTasks
from .collection import TestAwaitedSingleTable, TestCollections
from .concurrency import TestConcurrentWrites, TestOptimisticLocking
from .conditions import TestConditionalWrites
from .crud import TestCrud, TestUniqueValues
from .differential import TestDifferential, run_differential
from .expiry import TestExpiry
from .faults import TestClock, TestFaults
from .helpers import TestAwaitedHelpers, TestQueryHelpers
from .lifecycle import TestExpirationMixin, TestHookDecorators, TestMixins
from .pipeline import TestWritePipeline
from .queries import TestLogic, TestLookups, TestOrdering, TestPagination
from .single_table import TestKeyTemplates, TestSecondaryIndexes
from .tasks import TestConcurrentTasks
from .transactions import TestTransactions
from .values import TestHooks, TestText, TestTimestamps, TestTypes

__all__ = [
    "SUITE_TESTS",
    "SUITE_VERSION",
    "SuiteBase",
    "TestAccessPaths",
    "TestAccessPathsAsync",
    "TestAtomicUpdates",
    "TestAtomicUpdatesAsync",
    "TestAwaitedHelpers",
    "TestAwaitedSingleTable",
    "TestBadInput",
    "TestBadInputAsync",
    "TestCancelledTasks",
    "TestClock",
    "TestClockAsync",
    "TestCollections",
    "TestCollectionsAsync",
    "TestConcurrentTasks",
    "TestConcurrentWrites",
    "TestConcurrentWritesAsync",
    "TestConditionalWrites",
    "TestConditionalWritesAsync",
    "TestCrud",
    "TestCrudAsync",
    "TestDifferential",
    "TestDifferentialAsync",
    "TestExpirationMixin",
    "TestExpirationMixinAsync",
    "TestExpiry",
    "TestExpiryAsync",
    "TestFaults",
    "TestFaultsAsync",
    "TestHookDecorators",
    "TestHookDecoratorsAsync",
    "TestHooks",
    "TestHooksAsync",
    "TestKeyTemplates",
    "TestKeyTemplatesAsync",
    "TestLogic",
    "TestLogicAsync",
    "TestLookups",
    "TestLookupsAsync",
    "TestMixins",
    "TestMixinsAsync",
    "TestOptimisticLocking",
    "TestOptimisticLockingAsync",
    "TestOrdering",
    "TestOrderingAsync",
    "TestPagination",
    "TestPaginationAsync",
    "TestQueryHelpers",
    "TestQueryHelpersAsync",
    "TestScanRefusal",
    "TestScanRefusalAsync",
    "TestSecondaryIndexes",
    "TestSecondaryIndexesAsync",
    "TestText",
    "TestTextAsync",
    "TestTimestamps",
    "TestTimestampsAsync",
    "TestTransactions",
    "TestTransactionsAsync",
    "TestTypes",
    "TestTypesAsync",
    "TestUniqueValues",
    "TestUniqueValuesAsync",
    "TestWritePipeline",
    "TestWritePipelineAsync",
    "run_differential",
]
