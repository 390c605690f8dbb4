"""The spec's "Skip Specific Backends" example, as written (it needs no models)."""

from restmachine_orm_testing import MultiBackendTestBase
from restmachine_orm_testing import skip_backend, only_backends

class TestFeatures(MultiBackendTestBase):
    @skip_backend('dynamodb')
    def test_memory_only(self, orm):
        """Skipped for DynamoDB."""
        pass

    @only_backends('inmemory')
    def test_only_inmemory(self, orm):
        """Only runs for InMemory."""
        pass
