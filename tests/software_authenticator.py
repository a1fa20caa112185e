"""A software passkey: the authenticator and the browser's part of a WebAuthn assertion.

It does the real cryptography a platform authenticator does (a key pair per credential,
authenticatorData with the relying party's id hash, flags and sign count, a signature over
authenticatorData || SHA-256(clientDataJSON)) and writes clientDataJSON as Chromium does, so
the monitor's checks run against the same bytes a browser would send. Each keyword of `get`
lets a test make one thing wrong (another origin, a cleared flag) and see it refused.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from oversight.approvals.passkeys import (
    EDDSA,
    ES256,
    FLAG_UP,
    FLAG_UV,
    RS256,
    Passkey,
    assertion_signature,
    b64url,
    challenge_for,
    pending_registration,
)

RP_ID = "oversight.example"
ORIGIN = "https://oversight.example"


def _new_key(alg: int) -> PrivateKeyTypes:
    if alg == ES256:
        return ec.generate_private_key(ec.SECP256R1())
    if alg == EDDSA:
        return Ed25519PrivateKey.generate()
    if alg == RS256:
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    raise ValueError(f"no software authenticator for COSE alg {alg}")


@dataclass(frozen=True)
class Assertion:
    authenticator_data: bytes
    client_data_json: bytes
    signature: bytes

    def text(self) -> str:
        """As the web server stores it: the vote's signature."""
        return assertion_signature(
            authenticator_data=self.authenticator_data,
            client_data_json=self.client_data_json,
            signature=self.signature,
        )


@dataclass
class SoftwareAuthenticator:
    """One discoverable credential, made for `rp_id` at `origin`."""

    alg: int = ES256
    rp_id: str = RP_ID
    origin: str = ORIGIN
    credential_id: bytes = field(default_factory=lambda: os.urandom(16))
    sign_count: int = 0
    key: PrivateKeyTypes = field(init=False)

    def __post_init__(self) -> None:
        self.key = _new_key(self.alg)

    @property
    def spki(self) -> bytes:
        return self.key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    @property
    def passkey(self) -> Passkey:
        return Passkey(self.rp_id, self.origin, self.credential_id, self.spki, self.alg)

    @property
    def public_key(self) -> str:
        """The reviewer row's `public_key` for this credential."""
        return self.passkey.public_key_text()

    def write_registration(self, path: Path, name: str, role: str | None = None) -> Path:
        """The pending registration the web app writes once the browser made the credential."""
        path.write_text(json.dumps(pending_registration(name, role, self.passkey)))
        return path

    def get(
        self,
        challenge: bytes,
        *,
        origin: str | None = None,
        rp_id: str | None = None,
        flags: int = FLAG_UP | FLAG_UV,
        type_: str = "webauthn.get",
        cross_origin: bool = False,
    ) -> Assertion:
        """navigator.credentials.get() with this challenge: the browser writes clientDataJSON,
        the authenticator signs authenticatorData || SHA-256(clientDataJSON)."""
        client_data = {
            "type": type_,
            "challenge": b64url(challenge),
            "origin": origin or self.origin,
            "crossOrigin": cross_origin,
        }
        client_data_json = json.dumps(client_data, separators=(",", ":")).encode("utf-8")
        self.sign_count += 1
        rp_id_hash = hashlib.sha256((rp_id or self.rp_id).encode("utf-8")).digest()
        authenticator_data = rp_id_hash + struct.pack(">BI", flags, self.sign_count)
        signed = authenticator_data + hashlib.sha256(client_data_json).digest()
        return Assertion(authenticator_data, client_data_json, self.signed_by_key(signed))

    def sign(self, payload: dict[str, Any], **wrong: Any) -> str:
        """The signature text of an assertion over `challenge_for(payload)`."""
        return self.get(challenge_for(payload), **wrong).text()

    def signed_by_key(self, data: bytes) -> bytes:
        """The credential key's signature over any bytes (what the authenticator signs)."""
        key = self.key
        if isinstance(key, ec.EllipticCurvePrivateKey):
            return key.sign(data, ec.ECDSA(hashes.SHA256()))
        if isinstance(key, Ed25519PrivateKey):
            return key.sign(data)
        if isinstance(key, rsa.RSAPrivateKey):
            return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        raise TypeError(f"cannot sign with {type(key).__name__}")
