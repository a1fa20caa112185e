"""Reviewers and approvals: `oversight reviewer add|list`, `approvals`, `approve`, `deny`.

`approvals` shows where each approval stands (`oversight/approvals/state.py`): expiry is
derived from the deadline on read, so an approval whose agent died is never left "pending".

Every vote is signed with the reviewer's own Ed25519 key (a file outside the agent's reach) or,
from the browser, their passkey (`reviewer add NAME --passkey FILE` registers one); the waiting
monitor verifies it against the registered public key before it counts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from rich.table import Table
from rich.text import Text

from oversight.approvals.passkeys import read_pending_registration
from oversight.approvals.registry import ROLES, authenticate, trusted_reviewers
from oversight.approvals.signing import (
    endorsement_payload,
    new_private_key,
    public_hex,
    sign,
    write_private_key,
)
from oversight.approvals.state import approval_state
from oversight.approvals.votes import cast_vote, ensure_open
from oversight.cli import app
from oversight.cli.common import (
    DbOption,
    JsonOption,
    console,
    load_reviewer_key,
    open_cli_store,
    root_key,
)
from oversight.errors import ConfigError

reviewer_app = typer.Typer(help="Register and list reviewers.", no_args_is_help=True)
app.add_typer(reviewer_app, name="reviewer")

AsOption = Annotated[str, typer.Option("--as", help="Your reviewer name.")]
KeyOption = Annotated[Path, typer.Option("--key", help="Your private key file (PEM).")]
DEFAULT_KEY_OUT = Path("reviewer.pem")


@reviewer_app.command("add")
def reviewer_add(
    name: Annotated[str, typer.Argument(help="The new reviewer's name.")],
    role: Annotated[
        str | None,
        typer.Option(
            help="viewer, approver or admin [default: approver, or the role a passkey registration "
            "asks for]."
        ),
    ] = None,
    key_out: Annotated[
        Path | None,
        typer.Option(
            "--key-out",
            help="Where to write the new reviewer's private key [default: reviewer.pem].",
        ),
    ] = None,
    passkey: Annotated[
        Path | None,
        typer.Option(
            "--passkey",
            metavar="FILE",
            help="Register the passkey in this pending registration (written by the web app) "
            "instead of making a key file; the reviewer then votes from the browser.",
        ),
    ] = None,
    admin: Annotated[str | None, typer.Option("--as", help="Endorsing admin's name.")] = None,
    admin_key: Annotated[
        Path | None, typer.Option("--key", help="Endorsing admin's private key file.")
    ] = None,
    passphrase: Annotated[
        bool,
        typer.Option(
            "--passphrase",
            help="Protect the new key with a passphrase (asked on the terminal). Needed for "
            "answering approvals at an agent's own terminal prompt.",
        ),
    ] = False,
    db: DbOption = None,
) -> None:
    """Register a reviewer. The first must be an admin (it endorses itself); later ones need an
    admin's endorsement (--as ADMIN --key ADMIN_KEY). With --passkey FILE, the reviewer is the
    passkey a person registered in the browser, endorsed the same way."""
    role, public, key = _new_credential(name, role, passkey, key_out, passphrase)
    with open_cli_store(db, create=True) as store:
        trusted, _ = trusted_reviewers(store.reviewers(), root_key=root_key())
        if name in trusted:
            raise ConfigError(f"reviewer {name!r} is already registered")
        payload = endorsement_payload(name, role, public)
        if not trusted:
            if role != "admin":
                raise ConfigError("the first reviewer must be an admin (--role admin)")
            if key is None:
                raise ConfigError(
                    "the first reviewer (the root of trust) endorses itself with a key file; "
                    "register it without --passkey, then endorse passkeys with its key"
                )
            endorser, endorsement = name, sign(key, payload)
        else:
            if admin is None or admin_key is None:
                raise ConfigError("an admin must endorse new reviewers: pass --as ADMIN --key FILE")
            signing_key = load_reviewer_key(admin_key)
            authenticate(store.reviewers(), admin, signing_key, admin=True, root_key=root_key())
            endorser, endorsement = admin, sign(signing_key, payload)
        if key is not None:
            _write_new_key(name, key, key_out or DEFAULT_KEY_OUT, passphrase)
        store.add_reviewer(
            {
                "name": name,
                "role": role,
                "public_key": public,
                "endorsed_by": endorser,
                "endorsement": endorsement,
            }
        )
    if key is None:
        console.print(Text(f"registered {role} {name} with a passkey; they vote from the browser"))
        return
    console.print(
        Text(
            f"registered {role} {name}; private key written to {key_out or DEFAULT_KEY_OUT} "
            "(keep it away from agents)"
        )
    )
    if endorser == name:
        console.print(
            Text(
                "this is the root of trust. Pin it where agents cannot change it, so nobody who "
                f"can write the database can replace it:\n  OVERSIGHT_ROOT_KEY={public}"
            )
        )


def _new_credential(
    name: str, role: str | None, passkey: Path | None, key_out: Path | None, passphrase: bool
) -> tuple[str, str, Ed25519PrivateKey | None]:
    """(role, public key text, new private key) of a new reviewer: a fresh Ed25519 key, or
    the passkey in a pending registration (no private key here: it never leaves the device)."""
    registration = None
    if passkey is not None:
        if key_out is not None or passphrase:
            raise ConfigError("--passkey registers a browser passkey: no --key-out or --passphrase")
        registration = read_pending_registration(passkey)
        if registration.name != name:
            raise ConfigError(
                f"{str(passkey)!r} registers {registration.name!r}, not {name!r}; "
                f"run: oversight reviewer add {registration.name} --passkey {passkey}"
            )
    if role is None:
        role = (registration.role if registration else None) or "approver"
    if role not in ROLES:
        raise ConfigError(f"role {role!r} is not one of {', '.join(ROLES)}")
    if registration is not None:
        return role, registration.public_key, None
    key = new_private_key()
    return role, public_hex(key), key


def _write_new_key(name: str, key: Ed25519PrivateKey, path: Path, passphrase: bool) -> None:
    secret = (
        typer.prompt(
            f"passphrase for {name}'s new key", hide_input=True, confirmation_prompt=True
        ).encode("utf-8")
        if passphrase
        else None
    )
    write_private_key(key, path, passphrase=secret)


@reviewer_app.command("list")
def reviewer_list(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Trusted reviewers, and registrations that are not trusted (and why)."""
    with open_cli_store(db) as store:
        trusted, rejected = trusted_reviewers(store.reviewers(), root_key=root_key())
    if as_json:
        print(
            json.dumps({"trusted": {n: r.role for n, r in trusted.items()}, "rejected": rejected})
        )
        return
    for reviewer in trusted.values():
        console.print(Text(f"{reviewer.name}  {reviewer.role}"))
    for line in rejected:
        console.print(Text(f"NOT TRUSTED: {line}", style="bold red"))


@app.command(name="approvals")
def approvals_list(
    db: DbOption = None,
    show_all: Annotated[
        bool,
        typer.Option(
            "--all", help="Also decided, expired and used approvals, each with where it stands."
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Approvals waiting for a reviewer's decision: the exact call, and why it was gated.

    Approvals already decided by verified votes but not yet claimed by their agent, and those
    whose deadline passed (expired: the step was not run), are shown with --all."""
    with open_cli_store(db) as store:
        rows = store.approvals(status=None if show_all else "pending")
        trusted, _ = trusted_reviewers(store.reviewers(), root_key=root_key())
        states = [(row, approval_state(row, store.votes(str(row["id"])), trusted)) for row in rows]
    shown = [(row, state) for row, state in states if show_all or state.status == "pending"]
    listed = [
        {**row, "status": state.status, "stored_status": row["status"], "open": state.open,
         "note": state.note}
        for row, state in shown
    ]  # fmt: skip
    if as_json:
        print(json.dumps(listed, default=str))
        return
    if not listed:
        console.print(
            "no approvals waiting for a reviewer"
            + ("" if show_all else " (--all shows decided and expired ones)")
        )
        return
    table = Table()
    columns = ["id", "session", "kind", "call", "why", "needs", "deadline", "status"]
    for col in columns + (["used by"] if show_all else []):
        table.add_column(col, overflow="fold")
    for r, state in shown:
        cells = [
            r["id"],
            r["session_id"],
            r["kind"],
            f"{r['name']} {r['args']}",
            f"{r['reason']} (rule {r['rule']})",
            f"{r['quorum']} x {r['role']}",
            r["deadline"],
            state.label or state.status,
        ]
        if show_all:
            cells.append(r.get("consumed_by") or "-")
        table.add_row(*(Text(str(v)) for v in cells))
    console.print(table)


def _vote(
    approval_id: str,
    decision: str,
    reviewer: str,
    key_file: Path,
    reason: str,
    db: str | None,
    patch: dict[str, object] | None = None,
) -> None:
    with open_cli_store(db) as store:
        approval = store.approval(approval_id)
        if approval is None:
            raise ConfigError(f"no approval {approval_id!r}; `oversight approvals` lists them")
        # Refused before the key is unlocked: no passphrase prompt for a vote that cannot count.
        ensure_open(store, approval_id, root_key=root_key())
        if patch is not None:
            known = json.loads(str(approval["args"]))
            unknown = sorted(set(patch) - set(known))
            if unknown:
                raise ConfigError(f"the call has no argument(s) {unknown}; it has {sorted(known)}")
        key = load_reviewer_key(key_file)
        authenticate(store.reviewers(), reviewer, key, root_key=root_key())
        cast_vote(
            store, approval, reviewer, key, decision, reason, args_patch=patch, root_key=root_key()
        )
    console.print(Text(f"{decision} recorded for {approval_id} by {reviewer}"))


@app.command()
def approve(
    approval_id: Annotated[str, typer.Argument(metavar="ID")],
    reviewer: AsOption,
    key: KeyOption,
    reason: Annotated[str, typer.Option(help="Optional note.")] = "",
    db: DbOption = None,
) -> None:
    """Approve a pending step (signed with your key)."""
    _vote(approval_id, "approve", reviewer, key, reason, db)


@app.command()
def deny(
    approval_id: Annotated[str, typer.Argument(metavar="ID")],
    reviewer: AsOption,
    key: KeyOption,
    reason: Annotated[str, typer.Option(help="What the agent is told.")] = "denied by a reviewer",
    db: DbOption = None,
) -> None:
    """Deny a pending step (signed with your key); the reason reaches the agent."""
    _vote(approval_id, "deny", reviewer, key, reason, db)


def _parse_sets(sets: list[str], args_json: str | None) -> tuple[dict[str, object], set[str]]:
    """`--set name=value` pairs (values read as JSON when they parse, else as text) and/or one
    `--args-json` object, merged: the edit the reviewer signs; and the names whose value was
    taken as text only because it is not JSON (`gpus=eight`)."""
    patch: dict[str, object] = {}
    as_text: set[str] = set()
    if args_json is not None:
        try:
            loaded = json.loads(args_json)
        except ValueError as exc:
            raise ConfigError(f"--args-json is not valid JSON: {exc}") from None
        if not isinstance(loaded, dict):
            raise ConfigError("--args-json must be a JSON object of argument names to values")
        patch.update(loaded)
    for item in sets:
        name, sep, raw = item.partition("=")
        if not sep or not name:
            raise ConfigError(f"--set {item!r} is not NAME=VALUE")
        try:
            patch[name] = json.loads(raw)
            as_text.discard(name)
        except ValueError:
            patch[name] = raw
            as_text.add(name)
    if not patch:
        raise ConfigError("say what to change: --set NAME=VALUE (repeatable) or --args-json")
    return patch, as_text


_JSON_KINDS: tuple[tuple[type, str, str], ...] = (
    (bool, "true or false", "true"),
    (int, "an integer", "8"),
    (float, "a number", "0.5"),
    (list, "a list", '["a", "b"]'),
    (dict, "an object", '{"key": "value"}'),
)


def _refuse_text_for_typed(patch: dict[str, object], as_text: set[str], recorded: object) -> None:
    """`--set gpus=eight` where the call's gpus was 64: almost surely a typo, not a wish to pass
    the text "eight" (the agent's monitor would refuse it anyway). Say so before anything is
    signed, and how to send text deliberately."""
    if not isinstance(recorded, dict):
        return
    for name in sorted(as_text):
        original = recorded.get(name)
        for kind, label, example in _JSON_KINDS:
            if isinstance(original, kind):
                raise ConfigError(
                    f"--set {name}={patch[name]}: the call's {name} is {label} "
                    f"({json.dumps(original)[:40]}), and {str(patch[name])!r} is not JSON; pass "
                    f"{label} (e.g. --set {name}={example}), or, to send the text deliberately, "
                    f"quote it as JSON: --set '{name}=\"{patch[name]}\"'"
                )


@app.command()
def modify(
    approval_id: Annotated[str, typer.Argument(metavar="ID")],
    reviewer: AsOption,
    key: KeyOption,
    sets: Annotated[
        list[str] | None,
        typer.Option("--set", help="NAME=VALUE: the argument's new value (JSON or text)."),
    ] = None,
    args_json: Annotated[
        str | None, typer.Option("--args-json", help="A JSON object of arguments to replace.")
    ] = None,
    reason: Annotated[str, typer.Option(help="Why; shown to the agent and in the log.")] = "",
    db: DbOption = None,
) -> None:
    """Edit a pending call (signed): the edited call is checked against the policy again and,
    if it may run, runs instead of the original. Your edit counts as your approval of it."""
    patch, as_text = _parse_sets(sets or [], args_json)
    if as_text:
        with open_cli_store(db) as store:
            approval = store.approval(approval_id)
        if approval is not None:
            _refuse_text_for_typed(patch, as_text, json.loads(str(approval["args"])))
    _vote(approval_id, "modify", reviewer, key, reason, db, patch)


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _duration(text: str) -> float:
    unit = text[-1:].lower()
    try:
        if unit in _UNITS:
            return float(text[:-1]) * _UNITS[unit]
        return float(text)
    except ValueError:
        raise ConfigError(f"duration {text!r} is not like 90s, 30m, 2h or 1d") from None


@app.command()
def grant(
    kind: Annotated[str, typer.Option(help="Step kind the grant covers, e.g. train.launch.")],
    reviewer: AsOption,
    key: KeyOption,
    duration: Annotated[str, typer.Option("--for", help="How long: 90s, 30m, 2h, 1d.")] = "1h",
    session: Annotated[str | None, typer.Option(help="Only this session (default: any).")] = None,
    max_gpu_hours: Annotated[
        float | None, typer.Option(help="Only steps whose GPU-hours are known and at most this.")
    ] = None,
    reason: Annotated[str, typer.Option(help="Why; shown with every step it covers.")] = "",
    db: DbOption = None,
) -> None:
    """Approve a class of steps for a while (signed; recorded; expires)."""
    import time

    from oversight.approvals.grants import grant_payload
    from oversight.canonical import new_id
    from oversight.kinds import parse_kind

    parse_kind(kind)
    seconds = _duration(duration)
    with open_cli_store(db) as store:
        private = load_reviewer_key(key)
        authenticate(store.reviewers(), reviewer, private, root_key=root_key())
        row = {
            "id": new_id(),
            "kind": kind,
            "session_id": session,
            "max_gpu_hours": max_gpu_hours,
            "expires_at": time.time() + seconds,
            "granted_by": reviewer,
            "reason": reason or f"standing approval by {reviewer}",
        }
        store.add_grant({**row, "signature": sign(private, grant_payload(row))})
    console.print(Text(f"grant {row['id']}: {kind} for {duration} by {reviewer}"))


@app.command(name="grants")
def grants_list(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Grants, with whether each is still in force."""
    import time

    with open_cli_store(db) as store:
        rows = store.grants()
    now = time.time()
    for r in rows:
        r["active"] = float(r["expires_at"]) > now
    if as_json:
        print(json.dumps(rows, default=str))
        return
    if not rows:
        console.print("no grants")
        return
    table = Table()
    for col in ("id", "kind", "session", "max GPU-h", "by", "expires in", "reason"):
        table.add_column(col, overflow="fold")
    for r in rows:
        left = float(r["expires_at"]) - now
        table.add_row(
            *(
                Text(str(v))
                for v in (
                    r["id"],
                    r["kind"],
                    r["session_id"] or "any",
                    r["max_gpu_hours"] if r["max_gpu_hours"] is not None else "-",
                    r["granted_by"],
                    f"{left / 60:.0f} min" if left > 0 else "expired",
                    r["reason"],
                )
            )
        )
    console.print(table)
