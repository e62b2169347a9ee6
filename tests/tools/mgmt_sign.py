#!/usr/bin/env python3
"""Signs Management API requests as Barong's clients do (jwt-multisig's general JSON JWS), with
jwcrypto, independently of barongd's own code.

Usage: mgmt_sign.py CLAIMS_JSON KID:ALG:KEY_FILE [KID:ALG:KEY_FILE ...]

Prints {"payload": ..., "signatures": [{"protected", "header": {"kid"}, "signature"}, ...]}.
KEY_FILE is a private key PEM for RS*/PS*/ES*; for HS* its raw bytes are the HMAC secret (how
Barong's forgeable verification used a public key's PEM text, W2).
"""

import base64
import json
import sys

from jwcrypto import jwk, jws
from jwcrypto.common import json_encode


def key_for(alg, data):
    if alg.startswith("HS"):
        k = base64.urlsafe_b64encode(data).rstrip(b"=").decode()
        return jwk.JWK(kty="oct", k=k)
    return jwk.JWK.from_pem(data)


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    claims = argv[1].encode()
    token = jws.JWS(claims)
    token.allowed_algs = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512",
                          "HS256", "HS384", "HS512"]
    for spec in argv[2:]:
        kid, alg, path = spec.split(":", 2)
        with open(path, "rb") as f:
            key = key_for(alg, f.read())
        token.add_signature(key, alg=None, protected=json_encode({"alg": alg}), header=json_encode({"kid": kid}))
    out = json.loads(token.serialize(compact=False))
    if "signatures" not in out:
        # One signature comes out flattened; jwt-multisig always writes the general form.
        out = {"payload": out["payload"],
               "signatures": [{k: out[k] for k in ("protected", "header", "signature")}]}
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv)
