//! Vault's answers as the importer reads them (migration spec §1.6, §1.7, §2.8): TOTP keys from
//! the openware build's `totp/export`, from stock Vault's raw storage, a mount's UUID, and
//! `transit/decrypt` batch results. Every parser turns an answer into the same verdicts a
//! secrets file gives, so the rest of the import cannot tell where a secret came from.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;
use zeroize::Zeroizing;

use crate::secrets_file::{KeySecret, TotpSecret, totp_from_parts};
use crate::vault::check_secret;

/// `GET totp/export/<name>`: `{"data": {"key", "algorithm", "digits", "period", …}}`.
pub fn totp_export(body: &Value) -> TotpSecret {
    totp_entry(&body["data"])
}

/// `GET sys/raw/logical/<uuid>/key/<name>`: `{"data": {"value": "<the storage entry as JSON>"}}`
/// (older Vaults answer `{"value": …}` at the top). The entry is Go's `keyEntry`: `algorithm` is
/// an enum number (0 SHA1, 1 SHA256, 2 SHA512, 3 MD5) and `period` a `time.Duration`, which Go
/// writes in nanoseconds.
pub fn totp_raw(body: &Value) -> TotpSecret {
    let value = body["data"]["value"].as_str().or_else(|| body["value"].as_str());
    let Some(entry) = value.and_then(|v| serde_json::from_str::<Value>(v).ok()) else { return TotpSecret::Invalid };
    totp_entry(&entry)
}

fn totp_entry(entry: &Value) -> TotpSecret {
    let Some(key) = entry["key"].as_str() else { return TotpSecret::Invalid };
    let key = Zeroizing::new(key.to_string());
    let algorithm = match &entry["algorithm"] {
        Value::Null => "SHA1".to_string(),
        Value::Number(n) => match n.as_u64() {
            Some(0) => "SHA1".into(),
            Some(1) => "SHA256".into(),
            Some(2) => "SHA512".into(),
            _ => "MD5".into(),
        },
        Value::String(s) => s.clone(),
        _ => return TotpSecret::Invalid,
    };
    let digits = match &entry["digits"] {
        Value::Null => "6".to_string(),
        v => text_of(v),
    };
    let period = match &entry["period"] {
        Value::Null => "30".to_string(),
        Value::Number(n) => match n.as_u64() {
            Some(ns) if ns >= 1_000_000_000 && ns % 1_000_000_000 == 0 => (ns / 1_000_000_000).to_string(),
            _ => n.to_string(),
        },
        v => text_of(v),
    };
    totp_from_parts(&key, &algorithm, &digits, &period)
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The UUID of the mount at `path` (`totp/`) in `GET sys/mounts`; newer Vaults wrap the map in
/// `data`, older ones answer it at the top.
pub fn mount_uuid(body: &Value, path: &str) -> Option<String> {
    let mount = format!("{}/", path.trim_end_matches('/'));
    body["data"][&mount]["uuid"]
        .as_str()
        .or_else(|| body[&mount]["uuid"].as_str())
        .filter(|u| !u.is_empty())
        .map(str::to_string)
}

/// `POST transit/decrypt/<name>` with `batch_input`: one verdict per input, in order. An item
/// Vault could not decrypt carries `error` and counts as invalid; an answer with the wrong number
/// of items is refused whole.
pub fn transit_batch(body: &Value, expected: usize) -> Result<Vec<KeySecret>, String> {
    let Some(results) = body["data"]["batch_results"].as_array() else {
        return Err("transit/decrypt answered without data.batch_results".into());
    };
    if results.len() != expected {
        return Err(format!("transit/decrypt answered {} results for {expected} ciphertexts", results.len()));
    }
    Ok(results.iter().map(plaintext_secret).collect())
}

fn plaintext_secret(item: &Value) -> KeySecret {
    let Some(b64) = item["plaintext"].as_str() else { return KeySecret::Invalid };
    let Some(clear) = STANDARD.decode(b64).ok().and_then(|b| String::from_utf8(b).ok()) else {
        return KeySecret::Invalid;
    };
    let clear = Zeroizing::new(clear);
    match check_secret(&clear) {
        Ok(()) => KeySecret::Secret(clear),
        Err(_) => KeySecret::Invalid,
    }
}

/// Vault's own words from an error answer (`{"errors": [...]}`), never echoing anything else.
pub fn errors(body: &Value) -> String {
    body["errors"]
        .as_array()
        .map(|e| e.iter().filter_map(Value::as_str).collect::<Vec<_>>().join("; "))
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "no error text".into())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const KEY: &str = "FLAVOJXOPVVQV5VLCPBY5EWK4DIVAV5R";

    fn is_seed(t: &TotpSecret) -> bool {
        matches!(t, TotpSecret::Seed(s) if s.len() == 20)
    }

    #[test]
    fn export_answers_in_seconds_and_names() {
        let body = json!({"data": {"key": KEY, "issuer": "Barong", "account_name": "a@b.c",
            "period": 30, "algorithm": "SHA1", "digits": 6}});
        assert!(is_seed(&totp_export(&body)));
        let sha256 = json!({"data": {"key": KEY, "period": 30, "algorithm": "SHA256", "digits": 6}});
        assert_eq!(totp_export(&sha256), TotpSecret::Unsupported);
        assert_eq!(totp_export(&json!({"data": {}})), TotpSecret::Invalid);
    }

    #[test]
    fn raw_storage_entries_in_go_units() {
        let entry = json!({"key": KEY, "issuer": "Barong", "account_name": "a@b.c",
            "period": 30_000_000_000u64, "algorithm": 0, "digits": 6, "skew": 1, "qr_size": 300});
        let body = json!({"data": {"value": entry.to_string()}});
        assert!(is_seed(&totp_raw(&body)));
        assert!(is_seed(&totp_raw(&json!({"value": entry.to_string()}))));
        let md5 = json!({"key": KEY, "period": 30_000_000_000u64, "algorithm": 3, "digits": 6});
        assert_eq!(totp_raw(&json!({"data": {"value": md5.to_string()}})), TotpSecret::Unsupported);
        let eight = json!({"key": KEY, "period": 30_000_000_000u64, "algorithm": 0, "digits": 8});
        assert_eq!(totp_raw(&json!({"data": {"value": eight.to_string()}})), TotpSecret::Unsupported);
        assert_eq!(totp_raw(&json!({"data": {"value": "not json"}})), TotpSecret::Invalid);
    }

    #[test]
    fn mounts_old_and_new() {
        let new = json!({"data": {"totp/": {"type": "totp", "uuid": "1f2e"}}, "totp/": {"uuid": "1f2e"}});
        assert_eq!(mount_uuid(&new, "totp").as_deref(), Some("1f2e"));
        let old = json!({"totp/": {"type": "totp", "uuid": "ab"}});
        assert_eq!(mount_uuid(&old, "totp/").as_deref(), Some("ab"));
        assert_eq!(mount_uuid(&json!({"data": {"totp/": {"type": "totp"}}}), "totp"), None);
    }

    #[test]
    fn transit_batches_keep_order_and_flag_bad_items() {
        let good = STANDARD.encode("0123456789abcdef0123456789abcdef");
        let body = json!({"data": {"batch_results": [
            {"plaintext": good}, {"error": "cipher: message authentication failed"}, {"plaintext": STANDARD.encode([0xff, 0xfe])}
        ]}});
        let got = transit_batch(&body, 3).expect("batch");
        assert!(matches!(&got[0], KeySecret::Secret(s) if s.as_str() == "0123456789abcdef0123456789abcdef"));
        assert_eq!(got[1], KeySecret::Invalid);
        assert_eq!(got[2], KeySecret::Invalid);
        assert!(transit_batch(&body, 2).is_err());
        assert!(transit_batch(&json!({"errors": ["permission denied"]}), 1).is_err());
        assert_eq!(errors(&json!({"errors": ["permission denied"]})), "permission denied");
    }
}
