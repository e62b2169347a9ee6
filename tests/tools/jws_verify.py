#!/usr/bin/env python3
"""Verifies one signature of a general JSON JWS with a public JWK, with jwcrypto, independently
of barongd's own code.

Usage: jws_verify.py JWS_JSON JWK_JSON KID

Verifies the message as received, then keeps only the signature whose unprotected header names
KID, verifies it, and prints the
protected header and the payload as JSON; exits non-zero when it does not verify.
"""

import json
import sys

from jwcrypto import jwk, jws


def main(argv):
    if len(argv) != 4:
        sys.exit(__doc__)
    token = json.loads(argv[1])
    key = jwk.JWK(**json.loads(argv[2]))
    # The message whole, as received: a consumer verifying it so refuses a header name present in
    # both the protected and the unprotected header of any signature (RFC 7515 section 7.2.1).
    whole = jws.JWS()
    whole.deserialize(argv[1])
    whole.allowed_algs = [key.get("alg", "RS256")]
    whole.verify(key)
    mine = [s for s in token["signatures"] if s.get("header", {}).get("kid") == argv[3]]
    if len(mine) != 1:
        sys.exit("expected exactly one signature by " + argv[3])
    single = {"payload": token["payload"], **mine[0]}
    verifier = jws.JWS()
    verifier.deserialize(json.dumps(single))
    verifier.allowed_algs = [key.get("alg", "RS256")]
    verifier.verify(key)
    print(json.dumps({"protected": json.loads(verifier.objects["protected"]),
                      "payload": json.loads(verifier.payload)}))


if __name__ == "__main__":
    main(sys.argv)
