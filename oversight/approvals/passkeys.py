"""Passkey reviewers: a WebAuthn credential as a reviewer's key, an assertion as a signature.

A reviewer who answers from the browser holds a passkey; the store keeps only its public key
(SubjectPublicKeyInfo), the relying party id and the origin it was made for, as the reviewer's
`public_key` text, which an admin's endorsement signs like any other key. A vote's signature is
the assertion the authenticator made over `challenge_for(payload)`, so the agent's monitor
checks it as it checks an Ed25519 signature: the web server only relays assertions and holds no
key that can approve. The checks follow WebAuthn Level 2, section 7.2, with user verification
required. The sign count is not checked: an assertion binds one payload (approval, call digest,
decision, reviewer), so replaying it only repeats the same reviewer's same vote.

Only `cryptography` is needed here; the server side of the ceremonies (the `webauthn` package)
stays in `oversight/web`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

from oversight.canonical import canonical_bytes, canonical_json
from oversight.errors import ConfigError

PREFIX = "webauthn:"
"""What a passkey's public key text, and an assertion's signature text, start with."""

ES256, EDDSA, RS256 = -7, -8, -257
ALGORITHMS = {ES256: "ES256", EDDSA: "EdDSA", RS256: "RS256"}
"""COSE algorithm ids accepted for a passkey."""

MIN_RSA_BITS = 2048

FLAG_UP, FLAG_UV = 0x01, 0x04
"""authenticatorData flags: user present, user verified (both required)."""

_KEY_FIELDS = frozenset({"rp_id", "origin", "credential_id", "spki", "alg"})
_ASSERTION_FIELDS = frozenset({"authenticator_data", "client_data_json", "signature"})
_B64URL = re.compile(r"[A-Za-z0-9_-]*")


def b64url(data: bytes) -> str:
    """Base64url without padding, as WebAuthn writes binary fields."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def from_b64url(text: object) -> bytes | None:
    """The bytes of strict base64url text (padding optional), or None."""
    if not isinstance(text, str) or _B64URL.fullmatch(text.rstrip("=")) is None:
        return None
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None


def challenge_for(payload: dict[str, Any]) -> bytes:
    """The WebAuthn challenge for a payload (a vote, an endorsement): SHA-256 of its canonical
    bytes. The browser writes it base64url-encoded into clientDataJSON."""
    return hashlib.sha256(canonical_bytes(payload)).digest()


@dataclass(frozen=True)
class Passkey:
    """A registered passkey: where it may be used and the key its assertions verify with."""

    rp_id: str
    origin: str
    credential_id: bytes
    spki: bytes
    alg: int

    def public_key_text(self) -> str:
        """The reviewer row's `public_key` (what an endorsement signs): one text per passkey."""
        fields = {
            "rp_id": self.rp_id,
            "origin": self.origin,
            "credential_id": b64url(self.credential_id),
            "spki": b64url(self.spki),
            "alg": self.alg,
        }
        return PREFIX + canonical_json(fields)


def is_passkey(public_key: object) -> bool:
    return isinstance(public_key, str) and public_key.startswith(PREFIX)


def passkey_public_key(
    *, rp_id: str, origin: str, credential_id: bytes, spki: bytes, alg: int
) -> str:
    """The `public_key` text for a new passkey; `ConfigError` naming the field when the key is
    not one this module can verify with (unknown algorithm, key of another type, weak RSA)."""
    for field, value in (("rp_id", rp_id), ("origin", origin)):
        if not isinstance(value, str) or not value:
            raise ConfigError(f"passkey {field} must be non-empty text, got {value!r}")
    if not credential_id:
        raise ConfigError("passkey credential_id is empty")
    if type(alg) is not int or alg not in ALGORITHMS:
        accepted = ", ".join(f"{n} ({a})" for n, a in ALGORITHMS.items())
        raise ConfigError(f"passkey alg {alg!r} is not one of {accepted}")
    if _load_key(spki, alg) is None:
        raise ConfigError(
            f"passkey spki is not a DER SubjectPublicKeyInfo for {ALGORITHMS[alg]}"
            + (f" (RSA keys need at least {MIN_RSA_BITS} bits)" if alg == RS256 else "")
        )
    return Passkey(rp_id, origin, credential_id, spki, alg).public_key_text()


def parse_public_key(text: str) -> Passkey | None:
    """The passkey a `public_key` text names, or None unless it is exactly the text
    `Passkey.public_key_text` writes (so one passkey has one text, compared exactly)."""
    fields = _prefixed_object(text, _KEY_FIELDS)
    if fields is None:
        return None
    rp_id, origin, alg = fields["rp_id"], fields["origin"], fields["alg"]
    credential_id, spki = from_b64url(fields["credential_id"]), from_b64url(fields["spki"])
    if not (isinstance(rp_id, str) and isinstance(origin, str) and rp_id and origin):
        return None
    if credential_id is None or spki is None or type(alg) is not int:
        return None
    passkey = Passkey(rp_id, origin, credential_id, spki, alg)
    return passkey if passkey.public_key_text() == text else None


def assertion_signature(
    *, authenticator_data: bytes, client_data_json: bytes, signature: bytes
) -> str:
    """The signature text of a vote (or endorsement) made with a passkey: the assertion's
    three parts, as the browser returned them."""
    fields = {
        "authenticator_data": b64url(authenticator_data),
        "client_data_json": b64url(client_data_json),
        "signature": b64url(signature),
    }
    return PREFIX + canonical_json(fields)


@dataclass(frozen=True)
class _Assertion:
    authenticator_data: bytes
    client_data_json: bytes
    signature: bytes


def _parse_assertion(text: object) -> _Assertion | None:
    fields = _prefixed_object(text, _ASSERTION_FIELDS)
    if fields is None:
        return None
    authenticator_data = from_b64url(fields["authenticator_data"])
    client_data_json = from_b64url(fields["client_data_json"])
    signature = from_b64url(fields["signature"])
    if authenticator_data is None or client_data_json is None or signature is None:
        return None
    return _Assertion(authenticator_data, client_data_json, signature)


def verify_assertion(public_key: str, payload: dict[str, Any], signature: str) -> bool:
    """True only for an assertion by this passkey, made with the user present and verified, at
    its origin, over `challenge_for(payload)`. Anything malformed is False, never an error."""
    passkey = parse_public_key(public_key)
    assertion = _parse_assertion(signature)
    if passkey is None or assertion is None:
        return False
    key = _load_key(passkey.spki, passkey.alg)
    if key is None:
        return False
    expected = b64url(challenge_for(payload))
    if not _client_data_ok(assertion.client_data_json, expected, passkey.origin):
        return False
    if not _authenticator_data_ok(assertion.authenticator_data, passkey.rp_id):
        return False
    signed = assertion.authenticator_data + hashlib.sha256(assertion.client_data_json).digest()
    return _signature_ok(key, passkey.alg, assertion.signature, signed)


def _client_data_ok(raw: bytes, challenge: str, origin: str) -> bool:
    """Section 7.2 steps 10-14: a `webauthn.get` over this challenge, at this origin, not
    embedded in another site's frame."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return False
    if not isinstance(data, dict):
        return False
    return (
        data.get("type") == "webauthn.get"
        and data.get("challenge") == challenge
        and data.get("origin") == origin
        and data.get("crossOrigin", False) is False
    )


def _authenticator_data_ok(data: bytes, rp_id: str) -> bool:
    """Section 7.2 steps 15-17: made for this relying party, with the user present and
    verified."""
    if len(data) < 37:
        return False
    flags = data[32]
    return (
        data[:32] == hashlib.sha256(rp_id.encode("utf-8")).digest()
        and bool(flags & FLAG_UP)
        and bool(flags & FLAG_UV)
    )


def _load_key(spki: bytes, alg: int) -> PublicKeyTypes | None:
    """The public key, if the SPKI holds one of the kind `alg` names."""
    try:
        key = serialization.load_der_public_key(spki)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return None
    if alg == ES256:
        fits = isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1)
    elif alg == EDDSA:
        fits = isinstance(key, Ed25519PublicKey)
    elif alg == RS256:
        fits = isinstance(key, RSAPublicKey) and key.key_size >= MIN_RSA_BITS
    else:
        fits = False
    return key if fits else None


def _signature_ok(key: PublicKeyTypes, alg: int, signature: bytes, data: bytes) -> bool:
    try:
        if alg == ES256 and isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        elif alg == EDDSA and isinstance(key, Ed25519PublicKey):
            key.verify(signature, data)
        elif alg == RS256 and isinstance(key, RSAPublicKey):
            key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        else:
            return False
    except (InvalidSignature, ValueError):
        return False
    return True


def _prefixed_object(text: object, fields: frozenset[str]) -> dict[str, Any] | None:
    """The JSON object after PREFIX, if it has exactly these fields."""
    if not isinstance(text, str) or not text.startswith(PREFIX):
        return None
    try:
        value = json.loads(text[len(PREFIX) :])
    except (ValueError, RecursionError):
        return None
    if not isinstance(value, dict) or set(value) != fields:
        return None
    return value


@dataclass(frozen=True)
class PendingRegistration:
    """A passkey made in the browser, waiting for an admin's endorsement (the file the web
    app writes; `oversight reviewer add NAME --passkey FILE` reads it)."""

    name: str
    role: str | None
    public_key: str


def pending_registration(name: str, role: str | None, passkey: Passkey) -> dict[str, Any]:
    """The JSON document of a pending registration."""
    document: dict[str, Any] = {
        "name": name,
        "rp_id": passkey.rp_id,
        "origin": passkey.origin,
        "credential_id": b64url(passkey.credential_id),
        "spki": b64url(passkey.spki),
        "alg": passkey.alg,
    }
    if role is not None:
        document["role"] = role
    return document


def read_pending_registration(path: Path) -> PendingRegistration:
    """The registration in a file; `ConfigError` naming the file and field when it is not one."""
    where = f"passkey registration {str(path)!r}"
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read {where}: {exc.strerror}") from None
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ConfigError(f"{where} is not a JSON document") from None
    if not isinstance(document, dict):
        raise ConfigError(f"{where} is not a JSON object")
    missing = sorted({"name", *_KEY_FIELDS} - set(document))
    if missing:
        raise ConfigError(f"{where} has no {', '.join(missing)}")
    name, role = document["name"], document.get("role")
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{where}: name must be non-empty text, got {name!r}")
    if role is not None and not isinstance(role, str):
        raise ConfigError(f"{where}: role must be text, got {role!r}")
    binary = {}
    for field in ("credential_id", "spki"):
        binary[field] = from_b64url(document[field])
        if binary[field] is None:
            raise ConfigError(f"{where}: {field} is not base64url text")
    try:
        public_key = passkey_public_key(
            rp_id=document["rp_id"],
            origin=document["origin"],
            credential_id=binary["credential_id"] or b"",
            spki=binary["spki"] or b"",
            alg=document["alg"],
        )
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    return PendingRegistration(name, role, public_key)
