//! GeoIP behind a trait, so the matching is tested with a fake and the MaxMind reader is only one
//! implementation. Countries and continents are known by their ISO codes (`US`, `EU`) and by
//! their names, in `geoip_lang` and in English (Barong matched localized names only:
//! docs/barong-weaknesses-fixed.md#w-geo-names).

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::Deserialize;

/// Where an address is, as lower-case aliases (codes and names) for case-insensitive matching.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Location {
    pub country: Vec<String>,
    pub continent: Vec<String>,
    /// The country's name in `geoip_lang` (English when the database has none), as activities
    /// record it in `user_ip_country`.
    pub country_name: Option<String>,
}

pub trait GeoLookup: Send + Sync {
    fn locate(&self, ip: IpAddr) -> Option<Location>;
}

/// A MaxMind GeoIP2/GeoLite2 Country (or City) database, read into memory once at start-up.
pub struct MaxMind {
    reader: maxminddb::Reader<Vec<u8>>,
    lang: String,
}

impl MaxMind {
    pub fn open(path: &str, lang: &str) -> Result<Self, String> {
        let reader = maxminddb::Reader::open_readfile(path).map_err(|e| format!("maxminddb_path {path}: {e}"))?;
        Ok(MaxMind { reader, lang: lang.to_string() })
    }
}

#[derive(Deserialize, Default)]
struct Record {
    #[serde(default)]
    continent: Option<Place>,
    #[serde(default)]
    country: Option<Place>,
}

#[derive(Deserialize, Default)]
struct Place {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    iso_code: Option<String>,
    #[serde(default)]
    names: BTreeMap<String, String>,
}

impl Place {
    fn name(&self, lang: &str) -> Option<String> {
        self.names.get(lang).or_else(|| self.names.get("en")).cloned()
    }

    fn aliases(&self, lang: &str) -> Vec<String> {
        let names = [self.names.get(lang), self.names.get("en")];
        let mut out: Vec<String> = [self.code.as_ref(), self.iso_code.as_ref()]
            .into_iter()
            .chain(names)
            .flatten()
            .map(|s| s.to_lowercase())
            .collect();
        out.dedup();
        out
    }
}

impl GeoLookup for MaxMind {
    fn locate(&self, ip: IpAddr) -> Option<Location> {
        let found = self.reader.lookup(ip).ok()?;
        let record: Record = match found.decode() {
            Ok(r) => r?,
            Err(e) => {
                tracing::debug!(error = %e, "GeoIP record unreadable");
                return None;
            }
        };
        Some(Location {
            country_name: record.country.as_ref().and_then(|p| p.name(&self.lang)),
            country: record.country.map(|p| p.aliases(&self.lang)).unwrap_or_default(),
            continent: record.continent.map(|p| p.aliases(&self.lang)).unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_database_is_a_clear_error() {
        let Err(e) = MaxMind::open("/nonexistent/GeoLite2-Country.mmdb", "en") else { panic!("opened") };
        assert!(e.starts_with("maxminddb_path /nonexistent/GeoLite2-Country.mmdb:"), "{e}");
    }

    #[test]
    fn a_file_that_is_not_a_database_is_refused() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("bogus.mmdb");
        std::fs::write(&path, b"not a maxmind database").expect("write");
        assert!(MaxMind::open(&path.display().to_string(), "en").is_err());
    }

    #[test]
    fn aliases_are_codes_and_names_in_lower_case() {
        let mut names = BTreeMap::new();
        names.insert("en".to_string(), "Japan".to_string());
        names.insert("de".to_string(), "Japan".to_string());
        names.insert("ru".to_string(), "Япония".to_string());
        let p = Place { code: None, iso_code: Some("JP".into()), names };
        assert_eq!(p.aliases("ru"), vec!["jp", "япония", "japan"]);
        assert_eq!(p.aliases("en"), vec!["jp", "japan"]);
    }
}
