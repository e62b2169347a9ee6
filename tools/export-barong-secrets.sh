#!/usr/bin/env bash
# Exports the secrets Barong kept in Vault (API-key secrets through transit/decrypt, TOTP seeds
# through the openware build's totp/export or, with TOTP_MODE=raw, stock Vault's sys/raw) into
# barong-secrets.json for `barongctl import barong --secrets-file`. Needs curl, jq and the mysql client,
# VAULT_ADDR/VAULT_TOKEN and Barong's DATABASE_* variables. The output is 0600; delete it after the import.
set -euo pipefail; : "${VAULT_ADDR:?}" "${VAULT_TOKEN:?}"; APP="${BARONG_VAULT_APP_NAME:-barong}"
SQL=(mysql -N -B -h "${DATABASE_HOST:-127.0.0.1}" -P "${DATABASE_PORT:-3306}" -u "${DATABASE_USER:-root}" "${DATABASE_NAME:-barong_production}")
get() { curl -fsS -H "X-Vault-Token: $VAULT_TOKEN" "$VAULT_ADDR/v1/$1"; }
umask 077; w=$(mktemp -d); trap 'rm -rf "$w"' EXIT
# API-key secrets: one batch through transit/decrypt (the barong-authz token may do this)
"${SQL[@]}" -e "SELECT kid, secret_encrypted FROM apikeys WHERE secret_encrypted LIKE 'vault:v%' ORDER BY id" > "$w/k.tsv"
jq -R -n -c '{batch_input: [inputs | split("\t") | {ciphertext: .[1]}]}' "$w/k.tsv" > "$w/b.json"
curl -fsS -H "X-Vault-Token: $VAULT_TOKEN" -X POST --data @"$w/b.json" \
  "$VAULT_ADDR/v1/transit/decrypt/${APP}_apikeys_secret" > "$w/p.json"
jq -R -n -c --slurpfile d "$w/p.json" '[inputs | split("\t") | .[0]] as $kids | [range(0; $kids | length)
  | {kid: $kids[.], plaintext_b64: $d[0].data.batch_results[.].plaintext} | select(.plaintext_b64 != null)]' \
  "$w/k.tsv" > "$w/a.json"
# TOTP seeds of users with 2FA on
"${SQL[@]}" -e "SELECT uid FROM users WHERE otp = 1 ORDER BY id" > "$w/u.txt"
[ "${TOTP_MODE:-export}" = raw ] && uuid=$(get sys/mounts | jq -r '(.data // .)["totp/"].uuid')
while read -r uid; do
  if [ "${TOTP_MODE:-export}" = raw ]; then
    get "sys/raw/logical/$uuid/key/${APP}_$uid" | jq -c --arg uid "$uid" '(.data.value // .value) | fromjson
      | {uid: $uid, key, algorithm: (["SHA1","SHA256","SHA512","MD5"][.algorithm]), digits, period}' \
      || echo "no TOTP key for $uid" >&2
  else
    get "totp/export/${APP}_$uid" | jq -c --arg uid "$uid" '.data | {uid: $uid, key, algorithm, digits, period}' \
      || echo "no TOTP key for $uid" >&2
  fi
done < "$w/u.txt" > "$w/t.jsonl"
jq -n --arg app "$APP" --slurpfile k "$w/a.json" --slurpfile t "$w/t.jsonl" \
  '{format: "barong-secrets", version: 1, vault_app_name: $app, exported_at: (now | todate), totp: $t, api_keys: $k[0]}' \
  > barong-secrets.json
