"""Anchors: chain heads signed by an admin and kept where the agent cannot reach.

The hash chain shows that records were edited, but an agent that can write the database can
also rewrite the whole chain, cut its tail, empty it, or swap in another file, and the chain
alone still verifies. An anchor is the head (seq, hash) at one moment, signed with an admin's
Ed25519 key (which the agent does not hold) and written somewhere an admin chooses: a file on
another machine, a command that ships it to object storage or a ticket. `verify --anchors`
then checks the store against every anchor: the record at each anchored seq must still be
there with the anchored hash, so truncation, rewriting, emptying and swapping are all caught.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from oversight.approvals.signing import sign, verify

KIND = "oversight.anchor/v1"


class AnchoredStore(Protocol):
    @property
    def url_for_display(self) -> str: ...

    def head(self) -> tuple[int, str]: ...

    def hash_at(self, seq: int) -> str | None: ...


@dataclass(frozen=True)
class Anchor:
    store: str
    seq: int
    hash: str
    at: str
    admin: str
    signature: str

    def payload(self) -> dict[str, Any]:
        return {
            "kind": KIND,
            "store": self.store,
            "seq": self.seq,
            "hash": self.hash,
            "at": self.at,
            "admin": self.admin,
        }

    def line(self) -> str:
        return json.dumps({**self.payload(), "signature": self.signature}, sort_keys=True)


def make_anchor(store: AnchoredStore, admin: str, key: Ed25519PrivateKey) -> Anchor:
    """The store's head now, signed by `admin`."""
    seq, head_hash = store.head()
    at = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    unsigned = Anchor(store.url_for_display, seq, head_hash, at, admin, "")
    return Anchor(**{**unsigned.__dict__, "signature": sign(key, unsigned.payload())})


def read_anchors(lines: Iterable[str]) -> tuple[list[Anchor], list[str]]:
    """(anchors, one problem per line that is not a readable anchor, naming the line)."""
    anchors: list[Anchor] = []
    problems: list[str] = []
    for number, raw in enumerate(lines, start=1):
        text = raw.strip()
        if not text:
            continue
        try:
            data = json.loads(text)
            if not isinstance(data, dict) or data.get("kind") != KIND:
                raise ValueError(f"not an {KIND} record")
            anchors.append(
                Anchor(
                    store=str(data["store"]),
                    seq=_int(data["seq"]),
                    hash=str(data["hash"]),
                    at=str(data["at"]),
                    admin=str(data["admin"]),
                    signature=str(data["signature"]),
                )
            )
        except (ValueError, KeyError, TypeError, RecursionError) as exc:
            problems.append(f"line {number}: unreadable anchor ({exc})")
    return anchors, problems


def check_anchors(
    store: AnchoredStore, anchors: Iterable[Anchor], admin_keys: Mapping[str, str]
) -> list[str]:
    """What each anchor says is wrong with the store (empty: every anchor holds).

    `admin_keys` maps an admin's name to the public key (hex) their anchors must verify
    against: from the pinned root key or the trusted admins, never from the anchor itself.
    """
    problems: list[str] = []
    head_seq, _ = store.head()
    for anchor in anchors:
        label = f"anchor of seq {anchor.seq} by {anchor.admin} at {anchor.at}"
        key = admin_keys.get(anchor.admin)
        if key is None:
            problems.append(f"{label}: {anchor.admin!r} is not a trusted admin")
            continue
        if not verify(key, anchor.payload(), anchor.signature):
            problems.append(f"{label}: its signature does not verify")
            continue
        if anchor.seq > head_seq:
            problems.append(
                f"{label}: the store ends at seq {head_seq}: its tail was cut, it was emptied, "
                "or another file was put in its place"
            )
            continue
        if anchor.seq == 0:
            continue
        found = store.hash_at(anchor.seq)
        if found != anchor.hash:
            problems.append(
                f"{label}: the record there is {'missing' if found is None else 'different'}: "
                "the chain was rewritten or the store swapped"
            )
    return problems


def _int(value: Any) -> int:
    if type(value) is not int or value < 0:
        raise ValueError(f"seq must be a non-negative integer, got {value!r}")
    return value
