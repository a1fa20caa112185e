"""Garbage collection for batch work (replay, import): collect rarely, then restore.

Reading transcripts allocates millions of short-lived containers (parsed JSON, trace lines,
records) that form no cycles; the collector's default (a pass every 700 net allocations, and a
full pass over every tracked object now and then) cost about a tenth of an import. A batch
collects every 50,000 allocations instead; reference counting still frees everything at once.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

BATCH_THRESHOLD = (50_000, 20, 20)


@contextmanager
def collect_rarely() -> Iterator[None]:
    """Raise the collector's thresholds for the block; nested blocks restore what they found."""
    before = gc.get_threshold()
    gc.set_threshold(*BATCH_THRESHOLD)
    try:
        yield
    finally:
        gc.set_threshold(*before)


@contextmanager
def frozen_for_fork() -> Iterator[None]:
    """Move what exists now out of the collector's sight before forking workers: they share
    the parent's pages, and a collection walking (and so writing to) them would copy each one."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
