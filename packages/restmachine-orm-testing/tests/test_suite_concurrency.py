"""The suite's tests of each guarantee fail on a backend with that guarantee broken.

Each case runs one suite class on a backend of ``broken_backends`` and expects exactly the
tests of the broken guarantee to fail, with the reason; on the real in-memory backend,
the same run passes.
"""

from __future__ import annotations

import pytest

INNER = """
from restmachine_orm_testing import suite
from {module} import {backend}
from broken_backends import driver_of


class {suite_class}(suite.{suite_class}):
    @classmethod
    def create_driver(cls, backend_name):
        return driver_of({backend})()
"""

CASES = [
    (
        "broken_backends.Unlocked",
        "TestConcurrentWrites",
        {
            "test_one_of_eight_creates_of_one_key_wins": "racing writers won",
            "test_one_of_eight_claims_of_one_unique_value_wins": "racing writers won",
        },
        1,
    ),
    (
        "broken_backends.Unlocked",
        "TestOptimisticLocking",
        {
            "test_one_of_eight_writers_from_one_version_wins": "racing writers won",
            "test_writers_that_retry_on_conflict_lose_no_update": "assert",
        },
        4,
    ),
    (
        "broken_backends.TornSaves",
        "TestConcurrentWrites",
        {"test_concurrent_saves_of_one_row_leave_one_write_whole": "is no one write of"},
        2,
    ),
    (
        "broken_backends.VersionBlind",
        "TestOptimisticLocking",
        {
            "test_a_stale_save_is_refused_and_writes_nothing": "expected update to raise",
            "test_a_stale_save_of_a_unique_value_claims_nothing": "expected update to raise",
            "test_a_stale_delete_is_refused_and_keeps_the_row": "was not refused",
            "test_one_of_eight_writers_from_one_version_wins": "8 of 8 racing writers won",
            "test_writers_that_retry_on_conflict_lose_no_update": "0 conflicts",
        },
        1,
    ),
    (
        "broken_backends.ConditionBlind",
        "TestConditionalWrites",
        {
            "test_a_save_whose_condition_fails_raises_and_writes_nothing": "expected update",
            "test_every_where_lookup_decides_a_condition_as_where_would": "expected update",
            "test_a_delete_whose_condition_fails_keeps_the_row": "was not refused",
            "test_a_refused_save_claims_no_unique_value_and_releases_none": "expected update",
            "test_one_of_eight_compare_and_set_writers_wins": "8 of 8 racing writers won",
        },
        4,
    ),
    (
        "broken_backends.LostIncrements",
        "TestAtomicUpdates",
        {
            "test_racing_increments_lose_none": "not 400",
            "test_racing_set_changes_lose_none": "added elements were lost",
        },
        10,
    ),
    (
        "broken_backends.TornTransactions",
        "TestTransactions",
        {
            "test_every_kind_of_action_commits_together": "but it succeeded",
            "test_a_cancelled_transaction_says_why_per_action_and_writes_nothing": (
                "expected the reasons"
            ),
        },
        6,
    ),
    (
        "broken_backends.TransactionConditionsIgnored",
        "TestTransactions",
        {
            "test_a_cancelled_transaction_says_why_per_action_and_writes_nothing": (
                "expected the reasons"
            ),
            "test_concurrent_transfers_conserve_money_and_overdraw_no_account": "overdrawn",
        },
        6,
    ),
    (
        "broken_backends.UnlockedTransactions",
        "TestTransactions",
        {"test_concurrent_transfers_conserve_money_and_overdraw_no_account": "made or lost"},
        7,
    ),
    (
        "broken_backends.ExpiredRowsRead",
        "TestExpiry",
        {
            "test_an_expired_row_is_absent_from_every_read_at_once": "expected no row",
            "test_a_new_expiry_moves_the_row_and_its_unique_values_with_it": "expected no row",
            "test_a_transaction_meets_expired_rows_as_absent": "the cancelled transaction changed",
        },
        4,
    ),
    (
        "broken_backends.ExpiredRowsKept",
        "TestExpiry",
        {
            "test_writes_to_an_expired_row_find_no_row": "expected update to raise",
            "test_a_create_takes_the_key_and_unique_values_of_an_expired_row": "DuplicateKeyError",
            "test_an_upsert_over_an_expired_row_stores_a_new_row": "assert (3",
            "test_a_new_expiry_moves_the_row_and_its_unique_values_with_it": "DuplicateKeyError",
            "test_a_transaction_meets_expired_rows_as_absent": "expected the reasons",
            "test_one_of_eight_creates_over_an_expired_row_wins": "0 of 8 racing writers won",
        },
        1,
    ),
    (
        "broken_backends.Unlocked",
        "TestExpiry",
        {"test_one_of_eight_creates_over_an_expired_row_wins": "8 of 8 racing writers won"},
        6,
    ),
    (
        "broken_backends.TextMatchIgnored",
        "TestQueryHelpers",
        {
            **{
                f"test_text_lookups_match_alike_through_every_read_path"
                f"[inmemory-filters{n}-expected{n}]": "assert"
                for n in range(12)
            },
            "test_text_lookups_on_a_partition_and_in_or_trees": "assert",
            "test_find_by_returns_the_first_match_or_none": "assert",
            "test_values_returns_only_the_fields_asked_for": "assert",
        },
        3,
    ),
    (
        "broken_backends.ExpiredAlwaysHidden",
        "TestExpirationMixin",
        {"test_expired_rows_are_absent_unless_included": "assert"},
        1,
    ),
    (
        "broken_backends.KeyOrderIgnored",
        "TestKeyTemplates",
        {
            "test_a_partition_reads_in_the_text_order_of_its_sort_keys": "assert",
            "test_lookups_on_the_sort_field_select_within_the_partition": "assert",
            "test_a_leading_sort_field_selects_only_its_own_rows": "assert",
            "test_a_partition_key_without_fields_holds_every_row_in_key_order": "assert",
            "test_filters_beyond_the_key_narrow_a_partition_read": "assert",
        },
        5,
    ),
    (
        "broken_backends.KeyOrderIgnored",
        "TestCollections",
        {
            "test_a_read_groups_a_partitions_rows_by_model_in_sort_key_order": "assert",
            "test_a_model_without_rows_in_the_partition_gets_an_empty_list": "assert",
            "test_a_read_sees_what_was_written_since": "assert",
            "test_single_model_collections_and_a_partition_key_without_fields": "assert",
        },
        2,
    ),
    (
        "broken_backends.BlindRetries",
        "TestFaults",
        {
            "test_a_create_whose_answer_is_lost_returns_the_created_row": (
                "a row with stream, seq=('s', 1) already exists"
            ),
            "test_an_increment_whose_answer_is_lost_counts_once": "assert 4 == 1",
            "test_eight_writers_losing_a_fifth_of_their_answers_count_exactly": (
                "assert 500 == (8 * 50)"
            ),
            "test_a_save_whose_answer_is_lost_is_saved_once": "the stored row is at version 2",
            "test_a_delete_whose_answer_is_lost_is_an_unknown_outcome": (
                "no row with stream='s', seq=1"
            ),
            "test_a_write_whose_every_answer_is_lost_is_an_unknown_outcome_applied_once": (
                "assert 6 == 1"
            ),
        },
        6,
    ),
    (
        "broken_backends.NoRetries",
        "TestFaults",
        {
            "test_a_throttled_request_is_retried_to_success": "get of Event failed",
            "test_failures_are_retried_within_the_retry_config": "update of Awkward failed",
            "test_a_persistent_failure_is_a_backend_error_naming_the_operation": (
                "assert (2 - 1) == 6"
            ),
            "test_faults_hit_only_the_operation_and_model_they_aim_at": "assert 5 == 0",
        },
        8,
    ),
    (
        "broken_backends.LeftoversDropped",
        "TestFaults",
        {"test_batch_leftovers_are_sent_again": "assert 1 == (1 + 1)"},
        11,
    ),
    ("restmachine_orm.InMemoryBackend", "TestFaults", {}, 12),
    ("restmachine_orm.InMemoryBackend", "TestKeyTemplates", {}, 10),
    ("restmachine_orm.InMemoryBackend", "TestSecondaryIndexes", {}, 9),
    ("restmachine_orm.InMemoryBackend", "TestCollections", {}, 6),
    ("restmachine_orm.InMemoryBackend", "TestExpiry", {}, 7),
    ("restmachine_orm.InMemoryBackend", "TestQueryHelpers", {}, 18),
    ("restmachine_orm.InMemoryBackend", "TestExpirationMixin", {}, 2),
    ("restmachine_orm.InMemoryBackend", "TestTransactions", {}, 8),
    ("restmachine_orm.InMemoryBackend", "TestConcurrentWrites", {}, 3),
    ("restmachine_orm.InMemoryBackend", "TestAtomicUpdates", {}, 12),
    ("restmachine_orm.InMemoryBackend", "TestConditionalWrites", {}, 9),
    ("restmachine_orm.InMemoryBackend", "TestOptimisticLocking", {}, 6),
]


@pytest.mark.parametrize(
    ("backend", "suite_class", "failing", "passing"),
    CASES,
    ids=[f"{backend.rsplit('.')[-1]}-{suite_class}" for backend, suite_class, *_ in CASES],
)
def test_exactly_the_tests_of_the_broken_guarantee_fail(
    pytester, backend, suite_class, failing, passing
):
    module, name = backend.rsplit(".", 1)
    pytester.makepyfile(
        test_inner=INNER.format(module=module, backend=name, suite_class=suite_class)
    )
    run = pytester.inline_run("-p", "no:cacheprovider")
    run.assertoutcome(passed=passing, failed=len(failing))
    failed = {
        report.nodeid.split("::")[-1].removesuffix("[inmemory]"): report.longreprtext
        for report in run.getreports("pytest_runtest_logreport")
        if report.failed
    }
    assert set(failed) == set(failing)
    for test, reason in failing.items():
        assert reason in failed[test], f"{test} failed for another reason: {failed[test]}"
