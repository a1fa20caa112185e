"""The two triggers `oversight pg setup` installs, and how `verify` knows them from an attack.

Under the roles of an adversarial deployment the agent's role may append records and move the
chain head, and may mark approvals decided and used; it may not UPDATE or DELETE anything else.
Two rules privileges cannot express are kept by triggers the admin role owns (the agent can
neither drop nor disable them): the chain head only moves forward, onto a stored record (so the
tail cannot be cut off by moving the head back), and an approval once used stays used (so it
runs at most one step even for an agent that can write the row).

Any other trigger on oversight's tables is a problem (`SQLStore.foreign_schema_objects`); these
two are accepted only with exactly this name, table, function name and function body.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Guard:
    name: str
    """The trigger's name, and its function's."""
    table: str
    body: str
    """The PL/pgSQL source, exactly as PostgreSQL stores it (`pg_proc.prosrc`)."""


CHAIN_HEAD_GUARD = Guard(
    "oversight_guard_chain_head",
    "oversight_chain_head",
    """
BEGIN
  IF NEW.id <> OLD.id OR NEW.seq < OLD.seq THEN
    RAISE EXCEPTION 'oversight: the chain head only moves forward (from % to %)', OLD.seq, NEW.seq
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF NEW.seq > 0 AND NOT EXISTS (
      SELECT 1 FROM oversight_records r WHERE r.seq = NEW.seq AND r.hash = NEW.hash) THEN
    RAISE EXCEPTION 'oversight: the chain head must name a stored record (seq %)', NEW.seq
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END
""",
)

APPROVAL_GUARD = Guard(
    "oversight_guard_approvals",
    "oversight_approvals",
    """
BEGIN
  IF OLD.consumed_by IS NOT NULL AND (NEW.consumed_by IS DISTINCT FROM OLD.consumed_by
      OR NEW.consumed_at IS DISTINCT FROM OLD.consumed_at) THEN
    RAISE EXCEPTION 'oversight: approval % was used by step %; it stays used', OLD.id,
      OLD.consumed_by USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END
""",
)

GUARDS: tuple[Guard, ...] = (CHAIN_HEAD_GUARD, APPROVAL_GUARD)


def is_our_guard(trigger: str, table: str, function: str, source: str) -> bool:
    """True only for one of `GUARDS`, unchanged."""
    return any(
        g.name == trigger == function and g.table == table and g.body == source for g in GUARDS
    )
