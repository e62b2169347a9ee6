//! A small writer of MaxMind DB files (format 2.0), so GeoIP behaviour is tested against the real
//! `maxminddb` reader the daemon uses, with networks the test chooses — MaxMind's own databases
//! cannot be shipped here.

use std::net::Ipv4Addr;
use std::path::Path;

/// One IPv4 network and where it is.
pub struct GeoEntry<'a> {
    /// `a.b.c.d/len`
    pub network: &'a str,
    pub country_iso: &'a str,
    /// `(language, name)` pairs, e.g. `[("en", "Japan"), ("ru", "Япония")]`.
    pub country_names: &'a [(&'a str, &'a str)],
    pub continent_code: &'a str,
    pub continent_name: &'a str,
}

/// Writes a GeoIP2-Country-shaped IPv4 database with `entries` to `path`.
pub fn write_country_db(path: &Path, entries: &[GeoEntry<'_>]) -> std::io::Result<()> {
    let mut data = Vec::new();
    let mut tree = Tree::default();
    for e in entries {
        let (ip, len) = parse_network(e.network)?;
        let offset = data.len();
        encode_record(&mut data, e);
        tree.insert(u32::from(ip), len, offset);
    }
    let mut out = tree.serialize();
    out.extend_from_slice(&[0u8; 16]);
    out.extend_from_slice(&data);
    out.extend_from_slice(b"\xAB\xCD\xEFMaxMind.com");
    encode_metadata(&mut out, tree.nodes.len());
    std::fs::write(path, out)
}

fn parse_network(s: &str) -> std::io::Result<(Ipv4Addr, u8)> {
    let bad = || std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("not an IPv4 network: {s}"));
    let (ip, len) = s.split_once('/').ok_or_else(bad)?;
    let len: u8 = len.parse().map_err(|_| bad())?;
    if !(1..=32).contains(&len) {
        return Err(bad());
    }
    Ok((ip.parse().map_err(|_| bad())?, len))
}

#[derive(Clone, Copy)]
enum Record {
    Empty,
    Node(usize),
    Data(usize),
}

/// The binary search tree over address bits (24-bit records).
#[derive(Default)]
struct Tree {
    nodes: Vec<[Record; 2]>,
}

impl Tree {
    fn insert(&mut self, ip: u32, len: u8, data_offset: usize) {
        if self.nodes.is_empty() {
            self.nodes.push([Record::Empty; 2]);
        }
        let mut node = 0;
        for depth in 0..len {
            let bit = ((ip >> (31 - depth)) & 1) as usize;
            if depth + 1 == len {
                self.nodes[node][bit] = Record::Data(data_offset);
                return;
            }
            node = match self.nodes[node][bit] {
                Record::Node(next) => next,
                _ => {
                    self.nodes.push([Record::Empty; 2]);
                    let next = self.nodes.len() - 1;
                    self.nodes[node][bit] = Record::Node(next);
                    next
                }
            };
        }
    }

    fn serialize(&self) -> Vec<u8> {
        let n = self.nodes.len();
        let value = |r: Record| match r {
            Record::Empty => n,
            Record::Node(k) => k,
            Record::Data(off) => n + 16 + off,
        };
        let mut out = Vec::with_capacity(n * 6);
        for pair in &self.nodes {
            for r in pair {
                let v = value(*r) as u32;
                out.extend_from_slice(&v.to_be_bytes()[1..]);
            }
        }
        out
    }
}

// Data section encoding: a control byte with the type in its top 3 bits and the size in the low 5.
const STRING: u8 = 2;
const UINT16: u8 = 5;
const UINT32: u8 = 6;
const MAP: u8 = 7;
const UINT64: u8 = 9;
const ARRAY: u8 = 11;

fn control(out: &mut Vec<u8>, kind: u8, size: usize) {
    let (size_bits, extra): (u8, Vec<u8>) = match size {
        0..=28 => (size as u8, vec![]),
        29..=284 => (29, vec![(size - 29) as u8]),
        _ => (30, ((size - 285) as u16).to_be_bytes().to_vec()),
    };
    if kind <= 7 {
        out.push((kind << 5) | size_bits);
    } else {
        out.push(size_bits);
        out.push(kind - 7);
    }
    out.extend_from_slice(&extra);
}

fn string(out: &mut Vec<u8>, s: &str) {
    control(out, STRING, s.len());
    out.extend_from_slice(s.as_bytes());
}

fn uint(out: &mut Vec<u8>, kind: u8, v: u64) {
    let bytes = v.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    control(out, kind, 8 - skip);
    out.extend_from_slice(&bytes[skip..]);
}

fn names(out: &mut Vec<u8>, pairs: &[(&str, &str)]) {
    control(out, MAP, pairs.len());
    for (lang, name) in pairs {
        string(out, lang);
        string(out, name);
    }
}

fn encode_record(out: &mut Vec<u8>, e: &GeoEntry<'_>) {
    control(out, MAP, 2);
    string(out, "continent");
    control(out, MAP, 2);
    string(out, "code");
    string(out, e.continent_code);
    string(out, "names");
    names(out, &[("en", e.continent_name)]);
    string(out, "country");
    control(out, MAP, 2);
    string(out, "iso_code");
    string(out, e.country_iso);
    string(out, "names");
    names(out, e.country_names);
}

fn encode_metadata(out: &mut Vec<u8>, node_count: usize) {
    control(out, MAP, 9);
    string(out, "node_count");
    uint(out, UINT32, node_count as u64);
    string(out, "record_size");
    uint(out, UINT16, 24);
    string(out, "ip_version");
    uint(out, UINT16, 4);
    string(out, "database_type");
    string(out, "GeoIP2-Country");
    string(out, "languages");
    control(out, ARRAY, 2);
    string(out, "en");
    string(out, "ru");
    string(out, "binary_format_major_version");
    uint(out, UINT16, 2);
    string(out, "binary_format_minor_version");
    uint(out, UINT16, 0);
    string(out, "build_epoch");
    uint(out, UINT64, 1_700_000_000);
    string(out, "description");
    control(out, MAP, 1);
    string(out, "en");
    string(out, "barong-rs test database");
}
