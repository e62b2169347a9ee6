#!/usr/bin/env python3
"""Checks what barongd signs with jwcrypto, a strict JOSE library independent of barongd's code.

Reads one JSON document on stdin:
  {"jwks": <the daemon's JWKS>, "now": <unix seconds>,
   "items": [{"kind": "event", "message": "<the AMQP body as received>"},
             {"kind": "jwt", "token": "<compact JWT>", "audience": "peatio"}, ...]}
and prints {"jwks": [<problem>, ...], "items": [{"ok": true, "alg", "kid", "claims"} or
{"ok": false, "error"}, ...]} on stdout.

An event is verified as a consumer holding the JWKS would: the message is parsed whole, as
received, with the JWKS key its protected `jwks_kid` names (jwcrypto refuses a header name
present in both the protected and the unprotected header, RFC 7515 section 7.2.1); its one
signature must be by signer `barong` (the unprotected `kid`, jwt-multisig's form) and its
protected header exactly `alg` and `jwks_kid`, as Barong's held only `alg`.
A JWT is verified with the whole JWKS (the key named by its `kid`).
"""

import base64
import json
import sys

from jwcrypto import jwk, jws, jwt

# The JWK members each algorithm's key has, and nothing else (no private part).
SHAPES = {
    "RS256": ("RSA", None, {"alg", "e", "kid", "kty", "n", "use"}),
    "ES256": ("EC", "P-256", {"alg", "crv", "kid", "kty", "use", "x", "y"}),
    "EdDSA": ("OKP", "Ed25519", {"alg", "crv", "kid", "kty", "use", "x"}),
}


def b64_len(text):
    return len(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))


def jwks_problems(document):
    """Every way the JWKS falls short of RFC 7517/7518/8037 and of what consumers rely on."""
    problems = []
    for raw in document.get("keys", []):
        name = raw.get("kid", "<no kid>")
        alg = raw.get("alg")
        if alg not in SHAPES:
            problems.append(f"{name}: alg {alg!r} is not RS256, ES256 or EdDSA")
            continue
        kty, crv, members = SHAPES[alg]
        if set(raw) != members:
            problems.append(f"{name}: members {sorted(raw)} instead of {sorted(members)}")
        if raw.get("kty") != kty or raw.get("crv") != crv or raw.get("use") != "sig":
            problems.append(f"{name}: kty/crv/use {raw.get('kty')}/{raw.get('crv')}/{raw.get('use')} for {alg}")
        try:
            key = jwk.JWK(**raw)
            public = key.get_op_key("verify")  # builds the key: an EC point off the curve fails here
        except Exception as e:  # noqa: BLE001 - any refusal is the finding
            problems.append(f"{name}: jwcrypto refuses the key: {e}")
            continue
        if key.has_private:
            problems.append(f"{name}: holds a private part")
        if key.thumbprint() != raw.get("kid"):
            problems.append(f"{name}: kid is not the RFC 7638 thumbprint {key.thumbprint()}")
        if kty == "RSA":
            if public.key_size < 2048:
                problems.append(f"{name}: RSA key of {public.key_size} bits")
            if b64_len(raw["n"]) * 8 != public.key_size:
                problems.append(f"{name}: n is not the minimal big-endian modulus")
        elif kty == "EC" and (b64_len(raw["x"]), b64_len(raw["y"])) != (32, 32):
            problems.append(f"{name}: P-256 coordinates must be 32 bytes each")
        elif kty == "OKP" and b64_len(raw["x"]) != 32:
            problems.append(f"{name}: an Ed25519 key is 32 bytes")
    if not document.get("keys"):
        problems.append("the JWKS has no key")
    return problems


def check_claims(claims, now):
    if claims.get("iss") != "barong":
        raise ValueError(f"iss {claims.get('iss')!r}")
    if not isinstance(claims.get("exp"), int) or claims["exp"] <= now:
        raise ValueError(f"exp {claims.get('exp')!r} is not in the future")


def verify_event(message, keyset, now):
    token = jws.JWS()
    token.deserialize(message)
    signatures = json.loads(message)["signatures"]
    if len(signatures) != 1:
        raise ValueError(f"{len(signatures)} signatures")
    protected = json.loads(base64.urlsafe_b64decode(signatures[0]["protected"] + "==="))
    # A consumer of the JWKS takes the key the protected header names (older messages named it
    # `kid`); jwcrypto then checks the headers while verifying.
    kid = protected.get("jwks_kid") or protected.get("kid")
    key = keyset.get_key(kid) if kid else None
    if key is None:
        raise ValueError(f"no JWKS key named by the protected header {protected!r}")
    token.allowed_algs = [key["alg"]]
    token.verify(key, alg=key["alg"])
    if signatures[0].get("header") != {"kid": "barong"}:
        raise ValueError(f"unprotected header {signatures[0].get('header')!r}, not signer barong")
    if set(protected) != {"alg", "jwks_kid"} or protected["alg"] != key["alg"]:
        raise ValueError(f"protected header {protected!r} for a {key['alg']} key")
    claims = json.loads(token.payload)
    check_claims(claims, now)
    return protected["alg"], kid, claims


def verify_jwt(token, audience, keyset, now):
    algs = sorted({k["alg"] for k in keyset})
    checks = {"iss": "barong", "exp": None, "sub": None, "jti": None}
    if audience:
        checks["aud"] = audience
    parsed = jwt.JWT(jwt=token, key=keyset, algs=algs, check_claims=checks, expected_type="JWS")
    header = json.loads(parsed.header)
    claims = json.loads(parsed.claims)
    check_claims(claims, now)
    return header["alg"], header.get("kid"), claims


def main():
    request = json.load(sys.stdin)
    keyset = jwk.JWKSet.from_json(json.dumps(request["jwks"]))
    now = request["now"]
    results = []
    for item in request["items"]:
        try:
            if item["kind"] == "event":
                alg, kid, claims = verify_event(item["message"], keyset, now)
            else:
                alg, kid, claims = verify_jwt(item["token"], item.get("audience"), keyset, now)
            results.append({"ok": True, "alg": alg, "kid": kid, "claims": claims})
        except Exception as e:  # noqa: BLE001 - reported to the test, which decides
            results.append({"ok": False, "error": f"{type(e).__name__}: {e}"})
    print(json.dumps({"jwks": jwks_problems(request["jwks"]), "items": results}))


if __name__ == "__main__":
    main()
