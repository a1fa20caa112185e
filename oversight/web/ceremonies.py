"""The server's side of the two WebAuthn ceremonies, with the `webauthn` package.

Registration: options for `navigator.credentials.create` (this origin's host as the relying
party, user verification required, ES256, EdDSA and RS256 offered) and the check of what the
browser returns (`verify_registration_response`), giving the `Passkey` a pending registration
keeps. Assertion: options for `navigator.credentials.get` over a given challenge (UV required,
optionally limited to one credential), and the browser's answer read into the signature text
`passkeys.assertion_signature` writes, which `signing.verify` checks like any signature. The
server never makes a signature itself: it only asks the browser for one and passes it on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_registration_response,
)
from webauthn.helpers import (
    decode_credential_public_key,
    decoded_public_key_to_cryptography,
)
from webauthn.helpers.cose import COSEAlgorithmIdentifier
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from oversight.approvals.passkeys import (
    Passkey,
    assertion_signature,
    from_b64url,
    parse_public_key,
    passkey_public_key,
)
from oversight.errors import ConfigError
from oversight.web.access import AccessConfig

RP_NAME = "agent-oversight review"
TIMEOUT_MS = 120_000
ALGORITHMS = [
    COSEAlgorithmIdentifier.ECDSA_SHA_256,
    COSEAlgorithmIdentifier.EDDSA,
    COSEAlgorithmIdentifier.RSASSA_PKCS1_v1_5_SHA_256,
]


class CeremonyFailed(Exception):
    """What the browser sent is not a valid answer; the message says why, for the person."""


def registration_options(
    config: AccessConfig, name: str, user_id: bytes, challenge: bytes
) -> dict[str, Any]:
    """The JSON `navigator.credentials.create({publicKey})` takes (binary fields base64url)."""
    options = generate_registration_options(
        rp_id=config.rp_id,
        rp_name=RP_NAME,
        user_name=name,
        user_id=user_id,
        user_display_name=name,
        challenge=challenge,
        timeout=TIMEOUT_MS,
        attestation=AttestationConveyancePreference.NONE,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        supported_pub_key_algs=ALGORITHMS,
    )
    created: dict[str, Any] = json.loads(options_to_json(options))
    return created


def verify_registration(config: AccessConfig, credential: object, challenge: bytes) -> Passkey:
    """The passkey the browser made for this challenge, at this origin, with the user verified;
    `CeremonyFailed` naming what is wrong otherwise."""
    if not isinstance(credential, dict):
        raise CeremonyFailed("the browser sent no credential")
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=config.rp_id,
            expected_origin=config.exact_origin,
            require_user_verification=True,
            supported_pub_key_algs=ALGORITHMS,
        )
        decoded = decode_credential_public_key(verified.credential_public_key)
        spki = decoded_public_key_to_cryptography(decoded).public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        alg = int(decoded.alg)
    except WebAuthnException as exc:
        raise CeremonyFailed(f"the passkey was not accepted: {exc}") from None
    except (ValueError, TypeError, KeyError) as exc:
        raise CeremonyFailed(f"the passkey could not be read: {exc}") from None
    try:
        text = passkey_public_key(
            rp_id=config.rp_id,
            origin=config.exact_origin,
            credential_id=verified.credential_id,
            spki=spki,
            alg=alg,
        )
    except ConfigError as exc:
        raise CeremonyFailed(str(exc)) from None
    passkey = parse_public_key(text)
    assert passkey is not None
    return passkey


def assertion_options(
    config: AccessConfig, challenge: bytes, credential_ids: list[bytes] | None = None
) -> dict[str, Any]:
    """The JSON `navigator.credentials.get({publicKey})` takes: this challenge, user
    verification required, only these credentials (None: any passkey for this site)."""
    options = generate_authentication_options(
        rp_id=config.rp_id,
        challenge=challenge,
        timeout=TIMEOUT_MS,
        allow_credentials=[PublicKeyCredentialDescriptor(id=c) for c in credential_ids or []],
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    asked: dict[str, Any] = json.loads(options_to_json(options))
    return asked


@dataclass(frozen=True)
class BrowserAssertion:
    credential_id: bytes
    signature: str
    """The signature text stored with a vote (or endorsement, grant)."""


def read_assertion(credential: object) -> BrowserAssertion:
    """The assertion in what the browser posted (PublicKeyCredential as JSON, binary fields
    base64url); `CeremonyFailed` when it is not one. Whether it verifies is for
    `signing.verify`, the check every monitor makes."""
    if not isinstance(credential, dict) or credential.get("type") != "public-key":
        raise CeremonyFailed("the browser sent no passkey assertion")
    response = credential.get("response")
    if not isinstance(response, dict):
        raise CeremonyFailed("the passkey assertion has no response")
    raw_id = from_b64url(credential.get("rawId"))
    parts = {
        name: from_b64url(response.get(field))
        for name, field in (
            ("authenticator_data", "authenticatorData"),
            ("client_data_json", "clientDataJSON"),
            ("signature", "signature"),
        )
    }
    missing = sorted(name for name, value in parts.items() if not value)
    if not raw_id or missing:
        raise CeremonyFailed(
            "the passkey assertion is incomplete: " + ", ".join(missing or ["rawId"])
        )
    return BrowserAssertion(
        credential_id=raw_id,
        signature=assertion_signature(
            authenticator_data=parts["authenticator_data"] or b"",
            client_data_json=parts["client_data_json"] or b"",
            signature=parts["signature"] or b"",
        ),
    )
