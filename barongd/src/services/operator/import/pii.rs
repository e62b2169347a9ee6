//! PII (spec §2.6): Barong's ciphertexts decrypted with `SECRET_KEY_BASE` (keys cached per salt
//! for the run) and resealed under the master key exactly as the API seals them, with
//! barong-rs's own lookup indexes. Clear values live only while a row is mapped and are zeroized
//! after; problems are reported by table, id and column, never by value.

use barong_legacy::index;
use barong_legacy::pii::{self, Clear, KeyCache, PiiError};
use zeroize::Zeroizing;

use super::report::{Item, Report};
use crate::services::seal::Sealer;

/// What a column should hold.
#[derive(Clone, Copy, PartialEq)]
pub enum Kind {
    Text,
    Date,
}

pub struct Pii {
    cache: KeyCache,
    crc32_salt: String,
}

impl Pii {
    pub fn new(secret_key_base: &[u8], crc32_salt: &str) -> Self {
        Pii { cache: KeyCache::new(secret_key_base), crc32_salt: crc32_salt.to_string() }
    }

    pub fn salts(&self) -> usize {
        self.cache.salts()
    }

    /// Whether `stored` decrypts (the SECRET_KEY_BASE check): false only on a failed tag.
    pub fn opens(&mut self, stored: &str) -> bool {
        !matches!(pii::decrypt(&mut self.cache, stored), Err(PiiError::Undecryptable))
    }

    /// The clear value of `stored` (`None`: absent, empty, or unusable and reported).
    pub fn clear(
        &mut self,
        report: &mut Report,
        at: (&str, i64, &str),
        stored: Option<&str>,
        kind: Kind,
    ) -> Option<Zeroizing<String>> {
        let stored = stored.filter(|s| !s.is_empty())?;
        let (table, id, column) = at;
        report.pii.values += 1;
        let clear = match pii::decrypt(&mut self.cache, stored) {
            Ok(c) => c,
            Err(_) => {
                report.pii.undecryptable += 1;
                report.item(Item::new("pii_undecryptable", table, id).detail(column));
                return None;
            }
        };
        let value = match (clear, kind) {
            (Clear::Text(s), Kind::Text) => s,
            (Clear::Date(d), Kind::Date) => d,
            (Clear::Text(s), Kind::Date) if is_date(&s) => s,
            _ => {
                report.pii.bad_type += 1;
                report.item(Item::new("pii_bad_type", table, id).detail(column));
                return None;
            }
        };
        let value = Zeroizing::new(value);
        if value.is_empty() { None } else { Some(value) }
    }

    /// Barong's CRC32 index of a clear value, checked as a checksum of the decryption.
    pub fn check_index(&self, report: &mut Report, at: (&str, i64, &str), clear: &str, stored_index: Option<i64>) {
        let Some(expected) = stored_index else { return };
        if i64::from(index::crc32(clear, &self.crc32_salt)) != expected {
            report.pii.index_mismatch += 1;
            report.item(Item::new("index_mismatch", at.0, at.1).detail(at.2));
        }
    }
}

fn is_date(s: &str) -> bool {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()
}

/// Seals a clear value as the API does.
pub fn seal(sealer: &Sealer, clear: &str) -> String {
    sealer.seal(clear.as_bytes())
}
