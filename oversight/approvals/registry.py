"""Which reviewers to trust: registrations whose admin endorsements verify.

The root is an admin endorsing itself. With a pinned root key (`OVERSIGHT_ROOT_KEY`, the root's
public key, set where the agent cannot change it) only that key can be the root, wherever its row
is; without one, the first registration is the root (trust on first use: register it before any
agent runs). Every other reviewer must be endorsed by an already trusted admin. A row written
straight into the database without a valid endorsement is not a reviewer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from oversight.approvals.signing import endorsement_payload, public_hex, verify
from oversight.errors import ConfigError

ROLES = ("viewer", "approver", "admin")
"""A viewer may sign in to the review app and read; only approvers and admins act."""


@dataclass(frozen=True)
class Reviewer:
    name: str
    role: str
    public_key: str

    def may_act_as(self, role: str) -> bool:
        """Whether this reviewer's vote (or grant) counts for an approval needing `role`. A
        viewer's never does, even where a policy names "viewer" as the role."""
        if self.role == "viewer":
            return False
        return self.role == "admin" or self.role == role


def trusted_reviewers(
    rows: Iterable[dict[str, Any]], *, root_key: str | None = None
) -> tuple[dict[str, Reviewer], list[str]]:
    """(trusted reviewers by name, one line per registration that was rejected and why)."""
    trusted: dict[str, Reviewer] = {}
    rejected: list[str] = []
    pinned = root_key.strip().lower() if root_key else None
    for row in rows:
        name, role, key = str(row["name"]), str(row["role"]), str(row["public_key"])
        endorser_name = str(row["endorsed_by"])
        payload = endorsement_payload(name, role, key)
        if not trusted:
            root_ok = role == "admin" and endorser_name == name
            if pinned is not None and key.lower() != pinned:
                rejected.append(f"reviewer {name!r}: not endorsed by the pinned root admin")
            elif root_ok and verify(key, payload, str(row["endorsement"])):
                trusted[name] = Reviewer(name, role, key)
            else:
                rejected.append(
                    f"reviewer {name!r}: the first registration must be a self-endorsed admin"
                )
            continue
        endorser = trusted.get(endorser_name)
        if endorser is None or endorser.role != "admin":
            rejected.append(
                f"reviewer {name!r}: endorsed by {endorser_name!r}, not a trusted admin"
            )
        elif role not in ROLES:
            rejected.append(f"reviewer {name!r}: unknown role {role!r}")
        elif not verify(endorser.public_key, payload, str(row["endorsement"])):
            rejected.append(f"reviewer {name!r}: the endorsement signature does not verify")
        else:
            trusted[name] = Reviewer(name, role, key)
    return trusted, rejected


def authenticate(
    rows: Iterable[dict[str, Any]],
    name: str,
    key: Ed25519PrivateKey,
    *,
    admin: bool = False,
    root_key: str | None = None,
) -> Reviewer:
    """The trusted reviewer `name`, if `key` is theirs (and they are an admin when required)."""
    trusted, _ = trusted_reviewers(rows, root_key=root_key)
    reviewer = trusted.get(name)
    if reviewer is None or (admin and reviewer.role != "admin"):
        raise ConfigError(f"{name!r} is not a registered {'admin' if admin else 'reviewer'}")
    if public_hex(key) != reviewer.public_key:
        raise ConfigError(f"that key is not {name!r}'s")
    return reviewer
