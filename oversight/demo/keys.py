"""The demo's own reviewers: a root admin and one approver, their keys beside the demo store.

A demo store and its keys belong together. A store with no reviewers yet (the first run, or the
store was deleted to start over) gets fresh keys, replacing any an earlier store left behind. A
store whose reviewers do not match the keys on disk cannot be repaired (nobody can endorse a new
reviewer without the old admin's key), so the demo says so, and `oversight demo --reset` starts
afresh. This is a demo, not a deployment: real reviewer keys never sit next to the store.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from oversight._known_stores import KnownStores
from oversight.approvals.registry import trusted_reviewers
from oversight.approvals.signing import (
    endorsement_payload,
    load_private_key,
    new_private_key,
    public_hex,
    sign,
    write_private_key,
)
from oversight.errors import ConfigError, StoreError
from oversight.store import SQLStore, open_store

DEMO_DB = Path(".oversight") / "demo.db"
DEMO_ADMIN = "demo-admin"
REVIEWER = "demo-reviewer"
_SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


def keys_dir(db_path: Path) -> Path:
    return db_path.parent / f"{db_path.stem}-keys"


def demo_reviewer_key(db_path: Path, *, reset_command: str = "oversight demo --reset") -> Path:
    """The demo reviewer's key file for the store at `db_path`, registering the demo's
    reviewers (with fresh keys) when the store has none. `reset_command` is what the error for
    a store that cannot be repaired tells the viewer to run."""
    keys = keys_dir(db_path)
    reviewer_key = keys / f"{REVIEWER}.pem"
    if not db_path.exists():
        _remove_side_files(db_path)  # a stale WAL must not be replayed into the new store
    with open_store(f"sqlite:///{db_path}") as store:
        rows = store.reviewers()
        if not rows:
            _register_fresh(store, keys, reviewer_key)
            return reviewer_key
        entry = trusted_reviewers(rows)[0].get(REVIEWER)
        if entry is not None and _key_matches(reviewer_key, entry.public_key):
            return reviewer_key
    raise ConfigError(
        f"the demo store {db_path} has reviewers, but {keys} does not hold the matching "
        f"{REVIEWER} key; run `{reset_command}` to start the demo afresh (it deletes "
        f"{db_path} and {keys}), or give the demo another --db"
    )


def reset_demo_store(db_path: Path) -> list[Path]:
    """Delete a demo store and its keys; the paths removed. Refuses a store that is not a
    demo's (its root admin is not the demo's), so a mistyped --db cannot wipe a real one."""
    if db_path.exists() and not _is_demo_store(db_path):
        raise ConfigError(
            f"{db_path} is not a demo store (its root reviewer is not {DEMO_ADMIN!r}); "
            "--reset deletes only stores the demo created"
        )
    removed = [p for p in (db_path, *_side_files(db_path)) if p.exists()]
    for path in removed:
        path.unlink()
    KnownStores().forget_file(db_path)  # retired on purpose: no refusal next run
    keys = keys_dir(db_path)
    if keys.exists():
        shutil.rmtree(keys)
        removed.append(keys)
    return removed


def _register_fresh(store: SQLStore, keys: Path, reviewer_key: Path) -> None:
    root, reviewer = new_private_key(), new_private_key()
    # Keys first: a run that dies before registering leaves a store with no reviewers, which
    # the next run simply sets up again.
    _replace_key(root, keys / f"{DEMO_ADMIN}.pem")
    _replace_key(reviewer, reviewer_key)
    for name, role, key in ((DEMO_ADMIN, "admin", root), (REVIEWER, "approver", reviewer)):
        public = public_hex(key)
        store.add_reviewer(
            {
                "name": name,
                "role": role,
                "public_key": public,
                "endorsed_by": DEMO_ADMIN,
                "endorsement": sign(root, endorsement_payload(name, role, public)),
            }
        )


def _replace_key(key: Ed25519PrivateKey, path: Path) -> None:
    """Write a key file, replacing one an earlier demo store left (useless without it)."""
    fresh = path.with_name(path.name + ".new")
    with contextlib.suppress(FileNotFoundError):
        fresh.unlink()
    write_private_key(key, fresh)
    os.replace(fresh, path)


def _key_matches(path: Path, public_key: str) -> bool:
    if not path.is_file():
        return False
    try:
        return public_hex(load_private_key(path)) == public_key
    except ConfigError:
        return False


def _is_demo_store(db_path: Path) -> bool:
    try:
        with open_store(f"sqlite:///{db_path}") as store:
            rows = store.reviewers()
            empty = not rows and store.count() == 0
    except StoreError:
        # Unreadable: only the demo's default store may be deleted without looking inside.
        return db_path.resolve() == DEMO_DB.resolve()
    return empty or str(rows[0]["name"]) == DEMO_ADMIN


def _side_files(db_path: Path) -> list[Path]:
    return [db_path.with_name(db_path.name + suffix) for suffix in _SQLITE_SIDE_FILES]


def _remove_side_files(db_path: Path) -> None:
    for path in _side_files(db_path):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
