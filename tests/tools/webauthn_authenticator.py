#!/usr/bin/env python3
"""A software WebAuthn authenticator and client for barong-rs's tests.

An implementation independent of the daemon's webauthn-rs: python-fido2's data classes build
the authenticator data, attestation object and client data; cryptography's EC P-256 signs.

    webauthn_authenticator.py create --state FILE --origin ORIGIN   < creation options JSON
    webauthn_authenticator.py get    --state FILE --origin ORIGIN   < request options JSON

The options are the `publicKey` objects the server sends (WebAuthn JSON: base64url binaries).
The output is `PublicKeyCredential.toJSON()` of `create()` / `get()`. The state file keeps the
credential's key and signature counter; each `get` raises the counter by one. A copy of a state
file is a cloned authenticator. `--origin` is what the client reports (a phishing page's origin
is written the same way).
"""

import argparse
import hashlib
import json
import os
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fido2.cose import ES256
from fido2.utils import websafe_decode, websafe_encode
from fido2.webauthn import (
    AttestationObject,
    AttestedCredentialData,
    AuthenticatorData,
    CollectedClientData,
)

FLAGS_UP = AuthenticatorData.FLAG.UP
FLAGS_UV = AuthenticatorData.FLAG.UV
FLAGS_AT = AuthenticatorData.FLAG.AT


def b64(data: bytes) -> str:
    return websafe_encode(bytes(data))


def load_state(path):
    with open(path) as f:
        return json.load(f)


def save_state(path, state):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(state, f)
    os.replace(tmp, path)


def flags(uv: bool):
    return FLAGS_UP | FLAGS_UV if uv else FLAGS_UP


def create(args, options):
    rp_id = options["rp"]["id"]
    key = ec.generate_private_key(ec.SECP256R1())
    credential_id = os.urandom(32)
    excluded = {c["id"] for c in options.get("excludeCredentials") or []}
    if b64(credential_id) in excluded:
        sys.exit("credential excluded")
    public = ES256.from_cryptography_key(key.public_key())
    attested = AttestedCredentialData.create(b"\0" * 16, credential_id, public)
    auth_data = AuthenticatorData.create(
        hashlib.sha256(rp_id.encode()).digest(), flags(not args.no_uv) | FLAGS_AT, 0, attested
    )
    attestation = AttestationObject.create("none", auth_data, {})
    client_data = CollectedClientData.create(
        type=CollectedClientData.TYPE.CREATE,
        challenge=websafe_decode(options["challenge"]),
        origin=args.origin,
    )
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    save_state(
        args.state,
        {
            "rp_id": rp_id,
            "credential_id": b64(credential_id),
            "user_handle": options["user"]["id"],
            "private_key": pem.decode(),
            "counter": 0,
        },
    )
    return {
        "id": b64(credential_id),
        "rawId": b64(credential_id),
        "type": "public-key",
        "authenticatorAttachment": "cross-platform",
        "response": {
            "clientDataJSON": b64(client_data),
            "attestationObject": b64(attestation),
            "transports": ["usb"],
        },
        "clientExtensionResults": {},
    }


def get(args, options):
    state = load_state(args.state)
    rp_id = options.get("rpId") or state["rp_id"]
    allowed = [c["id"] for c in options.get("allowCredentials") or []]
    if allowed and state["credential_id"] not in allowed:
        sys.exit("credential not allowed by the request")
    counter = state["counter"] + 1 if args.counter is None else args.counter
    auth_data = AuthenticatorData.create(hashlib.sha256(rp_id.encode()).digest(), flags(not args.no_uv), counter)
    client_data = CollectedClientData.create(
        type=CollectedClientData.TYPE.GET,
        challenge=websafe_decode(options["challenge"]),
        origin=args.origin,
    )
    key = serialization.load_pem_private_key(state["private_key"].encode(), password=None)
    signature = key.sign(bytes(auth_data) + client_data.hash, ec.ECDSA(hashes.SHA256()))
    state["counter"] = counter
    save_state(args.state, state)
    return {
        "id": state["credential_id"],
        "rawId": state["credential_id"],
        "type": "public-key",
        "authenticatorAttachment": "cross-platform",
        "response": {
            "clientDataJSON": b64(client_data),
            "authenticatorData": b64(auth_data),
            "signature": b64(signature),
            "userHandle": state["user_handle"],
        },
        "clientExtensionResults": {},
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["create", "get"])
    parser.add_argument("--state", required=True, help="the authenticator's key and counter")
    parser.add_argument("--origin", required=True, help="the origin the client reports")
    parser.add_argument("--no-uv", action="store_true", help="user present, not verified")
    parser.add_argument("--counter", type=int, help="sign with this counter instead of the next one")
    args = parser.parse_args()
    options = json.load(sys.stdin)
    out = create(args, options) if args.command == "create" else get(args, options)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
