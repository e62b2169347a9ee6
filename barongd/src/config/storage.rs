//! Barong's `storage_*` settings: whether KYC files stay in `uploads_dir` (`local`) or go to a
//! bucket, and the checks that stop start-up when a bucket is half configured.

use crate::config::settings::Config;

/// Where KYC files live, from `storage_provider` (case-insensitive: Barong wrote `AWS`,
/// `Google`, `AliCloud`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    Local,
    /// Amazon S3 or any S3-compatible server (MinIO, Ceph, moto, …).
    Aws,
    /// Google Cloud Storage through its S3-compatible XML API with HMAC keys (Barong's fog
    /// Google provider used the same keys).
    Google,
    /// Alibaba Cloud OSS, which speaks the S3 protocol at its regional endpoint.
    AliCloud,
}

impl Provider {
    pub fn parse(raw: &str) -> Option<Provider> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "" | "local" | "file" => Some(Provider::Local),
            "aws" | "s3" => Some(Provider::Aws),
            "google" | "gcs" | "gcp" => Some(Provider::Google),
            "alicloud" | "aliyun" | "oss" => Some(Provider::AliCloud),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Local => "local",
            Provider::Aws => "aws",
            Provider::Google => "google",
            Provider::AliCloud => "alicloud",
        }
    }

    /// The endpoint used when `storage_endpoint` is empty (`None`: the S3 default of the region).
    pub fn default_endpoint(self) -> Option<&'static str> {
        match self {
            Provider::Google => Some("https://storage.googleapis.com"),
            _ => None,
        }
    }
}

/// The provider `c` names (`Local` when the name is unknown: [`storage_errors`] refuses it).
pub fn provider(c: &Config) -> Provider {
    Provider::parse(&c.storage_provider).unwrap_or(Provider::Local)
}

/// The endpoint in effect, empty for S3's own.
pub fn endpoint(c: &Config) -> String {
    let p = provider(c);
    if c.storage_endpoint.trim().is_empty() {
        p.default_endpoint().unwrap_or_default().to_string()
    } else {
        c.storage_endpoint.trim().trim_end_matches('/').to_string()
    }
}

/// Each problem as `KEY: what is wrong`; nothing is checked while the provider is `local`.
pub fn storage_errors(c: &Config, errors: &mut Vec<String>) {
    let Some(p) = Provider::parse(&c.storage_provider) else {
        errors.push(format!(
            "storage_provider: unknown `{}`; expected local, aws (S3-compatible), google or alicloud",
            c.storage_provider
        ));
        return;
    };
    if p == Provider::Local {
        return;
    }
    let name = p.as_str();
    for (key, missing) in [
        ("storage_bucket_name", c.storage_bucket_name.trim().is_empty()),
        ("storage_access_key", c.storage_access_key.trim().is_empty()),
        ("storage_secret_key", c.storage_secret_key.is_empty()),
    ] {
        if missing {
            errors.push(format!("{key}: required when storage_provider is {name}"));
        }
    }
    let bucket = c.storage_bucket_name.trim();
    if !bucket.is_empty() && !bucket.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b)) {
        errors.push("storage_bucket_name: letters, digits, `-`, `.` and `_` only".into());
    }
    let endpoint = endpoint(c);
    if p == Provider::AliCloud && endpoint.is_empty() {
        errors.push(
            "storage_endpoint: required when storage_provider is alicloud (https://oss-REGION.aliyuncs.com)".into(),
        );
    } else if !endpoint.is_empty() && host_of(&endpoint).is_none() {
        errors.push(format!("storage_endpoint: `{endpoint}` is not an http:// or https:// address with a host"));
    }
    if c.storage_signature_version != 4 {
        errors.push(format!(
            "storage_signature_version: {} is not supported; only 4 (AWS Signature Version 4)",
            c.storage_signature_version
        ));
    }
}

/// `(scheme, host[:port])` of an endpoint URL without a path.
pub fn host_of(endpoint: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = endpoint.split_once("://")?;
    if !(scheme == "http" || scheme == "https") || rest.is_empty() || rest.contains(['/', '?', '#', '@', ' ']) {
        return None;
    }
    Some((scheme, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(f: impl FnOnce(&mut Config)) -> Vec<String> {
        let mut c = Config::default();
        f(&mut c);
        let mut e = Vec::new();
        storage_errors(&c, &mut e);
        e
    }

    #[test]
    fn local_needs_nothing_and_a_bucket_needs_its_keys() {
        assert!(errors(|_| {}).is_empty());
        assert!(errors(|c| c.storage_provider = "Local".into()).is_empty());
        let e = errors(|c| c.storage_provider = "AWS".into());
        assert_eq!(
            e,
            [
                "storage_bucket_name: required when storage_provider is aws",
                "storage_access_key: required when storage_provider is aws",
                "storage_secret_key: required when storage_provider is aws"
            ]
        );
        let e = errors(|c| c.storage_provider = "dropbox".into());
        assert!(e.len() == 1 && e[0].starts_with("storage_provider: unknown `dropbox`"), "{e:?}");
        let full = |c: &mut Config| {
            c.storage_provider = "AliCloud".into();
            c.storage_bucket_name = "kyc".into();
            c.storage_access_key = "a".into();
            c.storage_secret_key = crate::config::Secret("s".into());
        };
        assert_eq!(errors(full).len(), 1, "alicloud needs an endpoint");
        assert!(
            errors(|c| {
                full(c);
                c.storage_endpoint = "https://oss-cn-hangzhou.aliyuncs.com/".into();
            })
            .is_empty()
        );
        let e = errors(|c| {
            full(c);
            c.storage_endpoint = "ftp://x".into();
            c.storage_signature_version = 2;
        });
        assert!(e[0].starts_with("storage_endpoint:") && e[1].starts_with("storage_signature_version: 2"), "{e:?}");
    }

    #[test]
    fn google_defaults_to_its_xml_api() {
        let c = Config { storage_provider: "Google".into(), ..Default::default() };
        assert_eq!(endpoint(&c), "https://storage.googleapis.com");
        assert_eq!(host_of("http://127.0.0.1:9000"), Some(("http", "127.0.0.1:9000")));
        assert_eq!(host_of("http://127.0.0.1:9000/bucket"), None);
    }
}
