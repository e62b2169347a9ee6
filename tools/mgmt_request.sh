#!/usr/bin/env bash
# Sends one signed Management API request, as Applogic does: a jwt-multisig JWS (general JSON
# serialisation) over {data, iat, exp = iat + 60, jti, iss}, signed RS256 with one signer's RSA
# private key. Needs bash, openssl and curl.
#
#   tools/mgmt_request.sh URL KID PRIVATE_KEY_PEM [DATA_JSON] [ISS]
#   tools/mgmt_request.sh http://127.0.0.1:3000/api/v2/barong/management/timestamp applogic applogic.pem
#   tools/mgmt_request.sh http://127.0.0.1:3000/api/v2/barong/management/users/get applogic applogic.pem \
#       '{"email":"alice@example.com"}'
#
# The public half goes in management_api.yml (keychain.<KID>.value = base64 of the public PEM):
#   openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out applogic.pem
#   openssl pkey -in applogic.pem -pubout | base64 -w0
set -euo pipefail

if [ $# -lt 3 ]; then
  sed -n '2,15p' "$0" >&2
  exit 64
fi
url=$1 kid=$2 key=$3 data=${4:-{\}} iss=${5:-applogic}

b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }

iat=$(date +%s)
jti=$(openssl rand -hex 12)
claims=$(printf '{"data":%s,"iat":%d,"exp":%d,"jti":"%s","iss":"%s"}' "$data" "$iat" $((iat + 60)) "$jti" "$iss")
payload=$(printf '%s' "$claims" | b64url)
protected=$(printf '{"alg":"RS256"}' | b64url)
signature=$(printf '%s.%s' "$protected" "$payload" | openssl dgst -sha256 -sign "$key" -binary | b64url)
body=$(printf '{"payload":"%s","signatures":[{"protected":"%s","header":{"kid":"%s"},"signature":"%s"}]}' \
  "$payload" "$protected" "$kid" "$signature")

curl -sS -X POST -H 'Content-Type: application/json' --data "$body" "$url"
echo
