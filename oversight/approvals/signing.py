"""Reviewer credentials: Ed25519 keys, and signatures over canonical payloads.

A reviewer's private key lives in a file outside the agent's environment (or in a passkey, see
`passkeys.py`); the store holds only public keys. A vote counts only when its signature verifies
against a registered reviewer's key over exactly (approval id, step digest, decision, reviewer):
a row written straight into the database, or a vote for a different call, does not verify.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from oversight.approvals import passkeys
from oversight.canonical import canonical_bytes
from oversight.errors import ConfigError


def new_private_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def public_hex(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return raw.hex()


def write_private_key(
    key: Ed25519PrivateKey, path: Path, *, passphrase: bytes | None = None
) -> None:
    """Write a PEM key readable by its owner only (encrypted when a passphrase is given);
    refuses to overwrite an existing file."""
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase)
        if passphrase
        else serialization.NoEncryption()
    )
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ConfigError(f"key file {str(path)!r} already exists; choose another path") from None
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)


_ENCRYPTED = b"-----BEGIN ENCRYPTED PRIVATE KEY-----"


def _read_key_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read reviewer key {str(path)!r}: {exc.strerror}") from None


def key_is_encrypted(path: Path) -> bool:
    """Whether the key file needs a passphrase (PKCS#8 ENCRYPTED PRIVATE KEY)."""
    return _ENCRYPTED in _read_key_file(path)


def load_private_key(path: Path, *, passphrase: bytes | None = None) -> Ed25519PrivateKey:
    data = _read_key_file(path)
    encrypted = _ENCRYPTED in data
    if encrypted and not passphrase:
        raise ConfigError(f"reviewer key {str(path)!r} is protected by a passphrase; none given")
    try:
        key = serialization.load_pem_private_key(data, password=passphrase if encrypted else None)
    except ValueError:
        if encrypted:
            raise ConfigError(f"wrong passphrase for reviewer key {str(path)!r}") from None
        raise ConfigError(f"{str(path)!r} is not a PEM private key") from None
    except TypeError:
        raise ConfigError(f"{str(path)!r} is not a PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"{str(path)!r} is not an Ed25519 key")
    return key


def sign(key: Ed25519PrivateKey, payload: dict[str, Any]) -> str:
    return key.sign(canonical_bytes(payload)).hex()


def verify(public_key: str, payload: dict[str, Any], signature: str) -> bool:
    """True only for a well-formed signature by this key over exactly this payload: a passkey's
    WebAuthn assertion for a `webauthn:` key, else an Ed25519 signature (hex) by a hex key."""
    if passkeys.is_passkey(public_key):
        return passkeys.verify_assertion(public_key, payload, signature)
    return _verify_ed25519(public_key, payload, signature)


def _verify_ed25519(public_key_hex: str, payload: dict[str, Any], signature_hex: str) -> bool:
    try:
        public = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex))
        public.verify(bytes.fromhex(signature_hex), canonical_bytes(payload))
    except (ValueError, InvalidSignature):
        return False
    return True


def vote_payload(
    approval_id: str,
    args_digest: str,
    decision: str,
    reviewer: str,
    reason: str,
    args_patch: str | None = None,
) -> dict[str, Any]:
    """What a reviewer signs: the approval, the exact call (by digest) and their answer; for a
    modification, also the exact edit (so nobody can change what the reviewer wrote)."""
    payload = {
        "approval_id": approval_id,
        "args_digest": args_digest,
        "decision": decision,
        "reviewer": reviewer,
        "reason": reason,
    }
    if args_patch is not None:
        payload["args_patch"] = args_patch
    return payload


def endorsement_payload(name: str, role: str, public_key: str) -> dict[str, Any]:
    """What an admin signs to register a reviewer."""
    return {"name": name, "role": role, "public_key": public_key}
