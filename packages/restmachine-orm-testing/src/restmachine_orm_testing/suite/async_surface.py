"""Every suite test again, through the async surface (suite 1.3; later classes alike).

Each ``<Class>Async`` runs ``<Class>``'s tests unchanged, with ids of its own
(``TestCrudAsync::test_create_stores_exactly_the_row[mybackend]``): the models' sync calls
(``Member.create(...)``, ``query.all()``, ``row.save()``) run the backend's awaitable twins
on an event loop the driver owns, in a thread of its own, and the DSL's steps run the
model's async API (``await Member.acreate(...)``) on that loop. So eight threads racing
through ``create`` are eight tasks on one loop, and a backend's async side meets every
case its sync side does. A blocking network call on that loop fails the test (see
``forbid_blocking_io``). The differential machine already mixes awaited steps into its
sequences; here both its kinds of steps reach the backend through the twins.
"""

from __future__ import annotations

from ._base import through_async
from .access import TestAccessPaths, TestScanRefusal
from .atomic import TestAtomicUpdates
from .bad_input import TestBadInput
from .collection import TestCollections
from .concurrency import TestConcurrentWrites, TestOptimisticLocking
from .conditions import TestConditionalWrites
from .crud import TestCrud, TestUniqueValues
from .differential import TestDifferential
from .expiry import TestExpiry
from .faults import TestClock, TestFaults
from .helpers import TestQueryHelpers
from .lifecycle import TestExpirationMixin, TestHookDecorators, TestMixins
from .pipeline import TestWritePipeline
from .queries import TestLogic, TestLookups, TestOrdering, TestPagination
from .single_table import TestKeyTemplates, TestSecondaryIndexes
from .transactions import TestTransactions
from .values import TestHooks, TestText, TestTimestamps, TestTypes

__all__ = [
    "TestAccessPathsAsync",
    "TestAtomicUpdatesAsync",
    "TestBadInputAsync",
    "TestClockAsync",
    "TestCollectionsAsync",
    "TestConcurrentWritesAsync",
    "TestConditionalWritesAsync",
    "TestCrudAsync",
    "TestDifferentialAsync",
    "TestExpirationMixinAsync",
    "TestExpiryAsync",
    "TestFaultsAsync",
    "TestHookDecoratorsAsync",
    "TestHooksAsync",
    "TestKeyTemplatesAsync",
    "TestLogicAsync",
    "TestLookupsAsync",
    "TestMixinsAsync",
    "TestOptimisticLockingAsync",
    "TestOrderingAsync",
    "TestPaginationAsync",
    "TestQueryHelpersAsync",
    "TestScanRefusalAsync",
    "TestSecondaryIndexesAsync",
    "TestTextAsync",
    "TestTimestampsAsync",
    "TestTransactionsAsync",
    "TestTypesAsync",
    "TestUniqueValuesAsync",
    "TestWritePipelineAsync",
]


@through_async("1.4")
class TestAtomicUpdatesAsync(TestAtomicUpdates):
    """``TestAtomicUpdates``'s tests, every backend call made through the awaitable twins."""


@through_async("1.3")
class TestBadInputAsync(TestBadInput):
    """``TestBadInput``'s tests, every backend call made through the awaitable twins."""


@through_async("1.3")
class TestConcurrentWritesAsync(TestConcurrentWrites):
    """``TestConcurrentWrites``'s tests, every backend call made through the awaitable twins."""


@through_async("1.4")
class TestConditionalWritesAsync(TestConditionalWrites):
    """``TestConditionalWrites``'s tests, every backend call made through the awaitable twins."""


@through_async("1.3")
class TestCrudAsync(TestCrud):
    """``TestCrud``'s tests, every backend call made through the awaitable twins."""


@through_async("1.3")
class TestDifferentialAsync(TestDifferential):
    """``TestDifferential``'s tests, every backend call made through the awaitable twins."""


@through_async("1.3")
class TestHooksAsync(TestHooks):
    """``TestHooks``'s tests, every backend call made through the awaitable twins."""


@through_async("1.3")
class TestLogicAsync(TestLogic):
    """``TestLogic``'s tests, every backend call made through the awaitable twins."""


@through_async("1.3")
class TestLookupsAsync(TestLookups):
    """``TestLookups``'s tests, every backend call made through the awaitable twins."""


@through_async("1.3")
class TestOptimisticLockingAsync(TestOptimisticLocking):
    """``TestOptimisticLocking``'s tests, every backend call made through the awaitable twins."""


@through_async("1.3")
class TestOrderingAsync(TestOrdering):
    """``TestOrdering``'s tests, every backend call made through the awaitable twins."""


@through_async("1.3")
class TestPaginationAsync(TestPagination):
    """``TestPagination``'s tests, every backend call made through the awaitable twins."""


@through_async("1.3")
class TestTextAsync(TestText):
    """``TestText``'s tests, every backend call made through the awaitable twins."""


@through_async("1.3")
class TestTimestampsAsync(TestTimestamps):
    """``TestTimestamps``'s tests, every backend call made through the awaitable twins."""


@through_async("1.5")
class TestTransactionsAsync(TestTransactions):
    """``TestTransactions``'s tests, every backend call made through the awaitable twins."""


@through_async("1.3")
class TestTypesAsync(TestTypes):
    """``TestTypes``'s tests, every backend call made through the awaitable twins."""


@through_async("1.3")
class TestUniqueValuesAsync(TestUniqueValues):
    """``TestUniqueValues``'s tests, every backend call made through the awaitable twins."""


@through_async("1.3")
class TestWritePipelineAsync(TestWritePipeline):
    """``TestWritePipeline``'s tests, every backend call made through the awaitable twins."""


@through_async("1.6")
class TestExpiryAsync(TestExpiry):
    """``TestExpiry``'s tests, every backend call made through the awaitable twins."""


@through_async("1.7")
class TestHookDecoratorsAsync(TestHookDecorators):
    """``TestHookDecorators``'s tests, every backend call made through the awaitable twins."""


@through_async("1.7")
class TestMixinsAsync(TestMixins):
    """``TestMixins``'s tests, every backend call made through the awaitable twins."""


@through_async("1.7")
class TestExpirationMixinAsync(TestExpirationMixin):
    """``TestExpirationMixin``'s tests, every backend call made through the awaitable twins."""


@through_async("1.7")
class TestQueryHelpersAsync(TestQueryHelpers):
    """``TestQueryHelpers``'s tests, every backend call made through the awaitable twins."""


@through_async("1.8")
class TestKeyTemplatesAsync(TestKeyTemplates):
    """``TestKeyTemplates``'s tests, every backend call made through the awaitable twins."""


@through_async("1.8")
class TestSecondaryIndexesAsync(TestSecondaryIndexes):
    """``TestSecondaryIndexes``'s tests, every backend call made through the awaitable twins."""


@through_async("1.8")
class TestCollectionsAsync(TestCollections):
    """``TestCollections``'s tests, every backend call made through the awaitable twins."""


@through_async("1.8")
class TestAccessPathsAsync(TestAccessPaths):
    """``TestAccessPaths``'s tests, every backend call made through the awaitable twins."""


@through_async("1.8")
class TestScanRefusalAsync(TestScanRefusal):
    """``TestScanRefusal``'s tests, every backend call made through the awaitable twins."""


@through_async("1.9")
class TestFaultsAsync(TestFaults):
    """``TestFaults``'s tests, every backend call made through the awaitable twins."""


@through_async("1.9")
class TestClockAsync(TestClock):
    """``TestClock``'s tests, every backend call made through the awaitable twins."""
