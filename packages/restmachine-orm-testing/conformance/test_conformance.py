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


# Suite 1.4: conditional writes and atomic updates (backends with the "conditions" and
# "atomic_updates" capabilities).


class TestConditionalWrites(suite.TestConditionalWrites):
    ENABLED_BACKENDS = BACKENDS


class TestAtomicUpdates(suite.TestAtomicUpdates):
    ENABLED_BACKENDS = BACKENDS


# Suite 1.5: transactions (backends with the "transactions" capability, and the two above).


class TestTransactions(suite.TestTransactions):
    ENABLED_BACKENDS = BACKENDS


class TestExpiry(suite.TestExpiry):
    ENABLED_BACKENDS = BACKENDS


# Suite 1.3: every test above again, through the backend's awaitable twins; tasks racing
# on one event loop; writes cancelled in flight.


class TestCrudAsync(suite.TestCrudAsync):
    ENABLED_BACKENDS = BACKENDS


class TestUniqueValuesAsync(suite.TestUniqueValuesAsync):
    ENABLED_BACKENDS = BACKENDS


class TestLookupsAsync(suite.TestLookupsAsync):
    ENABLED_BACKENDS = BACKENDS


class TestLogicAsync(suite.TestLogicAsync):
    ENABLED_BACKENDS = BACKENDS


class TestOrderingAsync(suite.TestOrderingAsync):
    ENABLED_BACKENDS = BACKENDS


class TestPaginationAsync(suite.TestPaginationAsync):
    ENABLED_BACKENDS = BACKENDS


class TestTypesAsync(suite.TestTypesAsync):
    ENABLED_BACKENDS = BACKENDS


class TestTimestampsAsync(suite.TestTimestampsAsync):
    ENABLED_BACKENDS = BACKENDS


class TestHooksAsync(suite.TestHooksAsync):
    ENABLED_BACKENDS = BACKENDS


class TestTextAsync(suite.TestTextAsync):
    ENABLED_BACKENDS = BACKENDS


class TestDifferentialAsync(suite.TestDifferentialAsync):
    ENABLED_BACKENDS = BACKENDS


class TestConcurrentWritesAsync(suite.TestConcurrentWritesAsync):
    ENABLED_BACKENDS = BACKENDS


class TestOptimisticLockingAsync(suite.TestOptimisticLockingAsync):
    ENABLED_BACKENDS = BACKENDS


class TestBadInputAsync(suite.TestBadInputAsync):
    ENABLED_BACKENDS = BACKENDS


class TestWritePipelineAsync(suite.TestWritePipelineAsync):
    ENABLED_BACKENDS = BACKENDS


class TestConditionalWritesAsync(suite.TestConditionalWritesAsync):
    ENABLED_BACKENDS = BACKENDS


class TestAtomicUpdatesAsync(suite.TestAtomicUpdatesAsync):
    ENABLED_BACKENDS = BACKENDS


class TestTransactionsAsync(suite.TestTransactionsAsync):
    ENABLED_BACKENDS = BACKENDS


class TestExpiryAsync(suite.TestExpiryAsync):
    ENABLED_BACKENDS = BACKENDS


class TestConcurrentTasks(suite.TestConcurrentTasks):
    ENABLED_BACKENDS = BACKENDS


class TestCancelledTasks(suite.TestCancelledTasks):
    ENABLED_BACKENDS = BACKENDS


# Suite 1.7: what users of the earlier restmachine-python bring (hooks by decorator, mixins,
# find_by, last, text lookups, Q objects, values), sync and through the awaitable twins.


class TestHookDecorators(suite.TestHookDecorators):
    ENABLED_BACKENDS = BACKENDS


class TestMixins(suite.TestMixins):
    ENABLED_BACKENDS = BACKENDS


class TestExpirationMixin(suite.TestExpirationMixin):
    ENABLED_BACKENDS = BACKENDS


class TestQueryHelpers(suite.TestQueryHelpers):
    ENABLED_BACKENDS = BACKENDS


class TestHookDecoratorsAsync(suite.TestHookDecoratorsAsync):
    ENABLED_BACKENDS = BACKENDS


class TestMixinsAsync(suite.TestMixinsAsync):
    ENABLED_BACKENDS = BACKENDS


class TestExpirationMixinAsync(suite.TestExpirationMixinAsync):
    ENABLED_BACKENDS = BACKENDS


class TestQueryHelpersAsync(suite.TestQueryHelpersAsync):
    ENABLED_BACKENDS = BACKENDS


class TestAwaitedHelpers(suite.TestAwaitedHelpers):
    ENABLED_BACKENDS = BACKENDS


# Suite 1.8: single-table design (key templates, declared indexes, collections, explain(),
# allow_scan=False), sync, through the awaitable twins, and awaited on the test's loop.


class TestKeyTemplates(suite.TestKeyTemplates):
    ENABLED_BACKENDS = BACKENDS


class TestSecondaryIndexes(suite.TestSecondaryIndexes):
    ENABLED_BACKENDS = BACKENDS


class TestCollections(suite.TestCollections):
    ENABLED_BACKENDS = BACKENDS


class TestAccessPaths(suite.TestAccessPaths):
    ENABLED_BACKENDS = BACKENDS


class TestScanRefusal(suite.TestScanRefusal):
    ENABLED_BACKENDS = BACKENDS


class TestKeyTemplatesAsync(suite.TestKeyTemplatesAsync):
    ENABLED_BACKENDS = BACKENDS


class TestSecondaryIndexesAsync(suite.TestSecondaryIndexesAsync):
    ENABLED_BACKENDS = BACKENDS


class TestCollectionsAsync(suite.TestCollectionsAsync):
    ENABLED_BACKENDS = BACKENDS


class TestAccessPathsAsync(suite.TestAccessPathsAsync):
    ENABLED_BACKENDS = BACKENDS


class TestScanRefusalAsync(suite.TestScanRefusalAsync):
    ENABLED_BACKENDS = BACKENDS


class TestAwaitedSingleTable(suite.TestAwaitedSingleTable):
    ENABLED_BACKENDS = BACKENDS
