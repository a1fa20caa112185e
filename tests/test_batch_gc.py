"""Batch work collects garbage rarely and gives the process its settings back."""

from __future__ import annotations

import gc

import pytest

from oversight._batch_gc import BATCH_THRESHOLD, collect_rarely, frozen_for_fork


def test_thresholds_are_raised_inside_and_restored_after_an_error() -> None:
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), collect_rarely():
        assert gc.get_threshold() == BATCH_THRESHOLD
        with collect_rarely():
            assert gc.get_threshold() == BATCH_THRESHOLD
        assert gc.get_threshold() == BATCH_THRESHOLD
        raise RuntimeError("a failing import")
    assert gc.get_threshold() == before


def test_frozen_objects_return_to_the_collector() -> None:
    before = gc.get_freeze_count()
    with frozen_for_fork():
        assert gc.get_freeze_count() > before
    assert gc.get_freeze_count() == 0
