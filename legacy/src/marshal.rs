//! The part of Ruby's Marshal format 4.8 that Barong's encrypted columns hold (migration spec §1.4):
//! a String (with its encoding instance variable) or a `Date` user-marshalled as an array of
//! numbers. Anything else is reported as `Other`, never guessed at.

/// A loaded value, reduced to what the importer can carry.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A String whose bytes are valid UTF-8 under its declared encoding.
    Text(String),
    /// A Gregorian `Date`, as `YYYY-MM-DD`.
    Date(String),
    /// Any other class, encoding or shape.
    Other,
}

/// Why bytes are not a Marshal dump at all (as opposed to a dump of an unexpected class).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Malformed;

/// The Julian Day of 1582-10-15, Ruby's default `Date::ITALY` switch: earlier days are Julian
/// calendar dates, which no date of birth or document date is.
const GREGORIAN_START_JD: i64 = 2_299_161;

/// Loads one Marshal dump (`04 08` + one object).
pub fn load(bytes: &[u8]) -> Result<Value, Malformed> {
    let mut r = Reader { bytes, pos: 0, symbols: Vec::new() };
    if r.byte()? != 4 || r.byte()? != 8 {
        return Err(Malformed);
    }
    let value = r.value()?;
    if r.pos != bytes.len() {
        return Err(Malformed);
    }
    Ok(value)
}

/// An object as read, before it is reduced to a `Value`.
enum Object {
    Str(Vec<u8>),
    Int(i64),
    Float(String),
    Array(Vec<Object>),
    Symbol(String),
    Nil,
    Bool(bool),
    /// A String with its instance variables: encoding decides how its bytes read.
    Encoded(Vec<u8>, Encoding),
    /// A user-marshalled object: class name and its dumped data.
    User(String, Box<Object>),
}

enum Encoding {
    Utf8,
    Ascii,
    Named(String),
    Unknown,
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    symbols: Vec<String>,
}

/// Nesting is tiny in the formats Barong wrote; a hostile dump must not recurse without bound.
const MAX_DEPTH: usize = 8;

impl Reader<'_> {
    fn byte(&mut self) -> Result<u8, Malformed> {
        let b = *self.bytes.get(self.pos).ok_or(Malformed)?;
        self.pos += 1;
        Ok(b)
    }

    fn take(&mut self, n: usize) -> Result<&[u8], Malformed> {
        let end = self.pos.checked_add(n).ok_or(Malformed)?;
        let slice = self.bytes.get(self.pos..end).ok_or(Malformed)?;
        self.pos = end;
        Ok(slice)
    }

    /// Ruby's `w_long`: small values in one byte, others as 1–4 little-endian bytes.
    fn long(&mut self) -> Result<i64, Malformed> {
        let c = self.byte()? as i8;
        Ok(match c {
            0 => 0,
            5..=127 => i64::from(c) - 5,
            -128..=-5 => i64::from(c) + 5,
            1..=4 => {
                let mut x: i64 = 0;
                for i in 0..c {
                    x |= i64::from(self.byte()?) << (8 * i64::from(i));
                }
                x
            }
            -4..=-1 => {
                let mut x: i64 = -1;
                for i in 0..(-c) {
                    let shift = 8 * i64::from(i);
                    x &= !(0xff << shift);
                    x |= i64::from(self.byte()?) << shift;
                }
                x
            }
        })
    }

    fn len(&mut self) -> Result<usize, Malformed> {
        usize::try_from(self.long()?).map_err(|_| Malformed)
    }

    fn value(&mut self) -> Result<Value, Malformed> {
        Ok(match self.object(0)? {
            Object::Encoded(bytes, encoding) => text(bytes, &encoding),
            // A String without instance variables is binary (ASCII-8BIT): text only if it reads as UTF-8.
            Object::Str(bytes) => String::from_utf8(bytes).map(Value::Text).unwrap_or(Value::Other),
            Object::User(class, data) if class == "Date" => date(&data),
            _ => Value::Other,
        })
    }

    fn object(&mut self, depth: usize) -> Result<Object, Malformed> {
        if depth > MAX_DEPTH {
            return Err(Malformed);
        }
        match self.byte()? {
            b'0' => Ok(Object::Nil),
            b'T' => Ok(Object::Bool(true)),
            b'F' => Ok(Object::Bool(false)),
            b'i' => Ok(Object::Int(self.long()?)),
            b'"' => {
                let n = self.len()?;
                Ok(Object::Str(self.take(n)?.to_vec()))
            }
            b'f' => {
                let n = self.len()?;
                let s = std::str::from_utf8(self.take(n)?).map_err(|_| Malformed)?;
                Ok(Object::Float(s.to_string()))
            }
            b':' => {
                let n = self.len()?;
                let s = std::str::from_utf8(self.take(n)?).map_err(|_| Malformed)?.to_string();
                self.symbols.push(s.clone());
                Ok(Object::Symbol(s))
            }
            b';' => {
                let i = self.len()?;
                Ok(Object::Symbol(self.symbols.get(i).cloned().ok_or(Malformed)?))
            }
            b'[' => {
                let n = self.len()?;
                // Each element is at least one byte: a length beyond the input is a lie.
                if n > self.bytes.len() - self.pos {
                    return Err(Malformed);
                }
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    items.push(self.object(depth + 1)?);
                }
                Ok(Object::Array(items))
            }
            b'I' => {
                let inner = self.object(depth + 1)?;
                let n = self.len()?;
                let mut encoding = Encoding::Unknown;
                for _ in 0..n {
                    let Object::Symbol(name) = self.object(depth + 1)? else { return Err(Malformed) };
                    let value = self.object(depth + 1)?;
                    encoding = match (name.as_str(), value) {
                        ("E", Object::Bool(true)) => Encoding::Utf8,
                        ("E", Object::Bool(false)) => Encoding::Ascii,
                        ("encoding", Object::Str(name)) => {
                            Encoding::Named(String::from_utf8(name).map_err(|_| Malformed)?)
                        }
                        _ => encoding,
                    };
                }
                match inner {
                    Object::Str(bytes) => Ok(Object::Encoded(bytes, encoding)),
                    _ => Ok(Object::Nil),
                }
            }
            b'U' => {
                let Object::Symbol(class) = self.object(depth + 1)? else { return Err(Malformed) };
                let data = self.object(depth + 1)?;
                Ok(Object::User(class, Box::new(data)))
            }
            _ => Err(Malformed),
        }
    }
}

fn text(bytes: Vec<u8>, encoding: &Encoding) -> Value {
    let utf8_compatible = match encoding {
        Encoding::Utf8 => true,
        Encoding::Ascii => bytes.is_ascii(),
        Encoding::Named(name) => name.eq_ignore_ascii_case("UTF-8") || name.eq_ignore_ascii_case("UTF8-MAC"),
        Encoding::Unknown => false,
    };
    if !utf8_compatible {
        return Value::Other;
    }
    String::from_utf8(bytes).map(Value::Text).unwrap_or(Value::Other)
}

/// Ruby's `Date#marshal_dump`: `[nth, jd, df, sf, of, sg]`. Only plain civil dates are accepted.
fn date(data: &Object) -> Value {
    let Object::Array(items) = data else { return Value::Other };
    let [Object::Int(0), Object::Int(jd), Object::Int(0), sf, of, _sg] = items.as_slice() else {
        return Value::Other;
    };
    let zero = |o: &Object| matches!(o, Object::Int(0)) || matches!(o, Object::Float(f) if f == "0");
    if !zero(sf) || !zero(of) || *jd < GREGORIAN_START_JD {
        return Value::Other;
    }
    let (y, m, d) = civil_from_jd(*jd);
    Value::Date(format!("{y:04}-{m:02}-{d:02}"))
}

/// Gregorian calendar date of a Julian Day Number (Richards' algorithm).
fn civil_from_jd(jd: i64) -> (i64, i64, i64) {
    let f = jd + 1401 + (((4 * jd + 274_277) / 146_097) * 3) / 4 - 38;
    let e = 4 * f + 3;
    let g = (e % 1461) / 4;
    let h = 5 * g + 2;
    let day = (h % 153) / 5 + 1;
    let month = ((h / 153 + 2) % 12) + 1;
    let year = e / 1461 - 4716 + (14 - month) / 12;
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        hex::decode(s).expect("hex")
    }

    #[test]
    fn spec_marshal_bytes() {
        assert_eq!(load(&hex("040849220a416c696365063a064554")), Ok(Value::Text("Alice".into())));
        assert_eq!(load(&hex("04084922095a6fc3ab063a064554")), Ok(Value::Text("Zoë".into())));
        assert_eq!(
            load(&hex("0408553a09446174655b0b690069039d5a25690069006900660c32323939313631")),
            Ok(Value::Date("1990-05-17".into()))
        );
    }

    #[test]
    fn julian_days() {
        assert_eq!(civil_from_jd(2_448_029), (1990, 5, 17));
        assert_eq!(civil_from_jd(2_299_161), (1582, 10, 15));
        assert_eq!(civil_from_jd(2_451_545), (2000, 1, 1));
        assert_eq!(civil_from_jd(2_442_778), (1975, 12, 31));
    }

    #[test]
    fn longs_in_every_width() {
        let read = |b: &[u8]| Reader { bytes: b, pos: 0, symbols: Vec::new() }.long();
        assert_eq!(read(&[0x00]), Ok(0));
        assert_eq!(read(&[0x06]), Ok(1));
        assert_eq!(read(&[0x7f]), Ok(122));
        assert_eq!(read(&[0x01, 0x7b]), Ok(123));
        assert_eq!(read(&[0x02, 0x00, 0x01]), Ok(256));
        assert_eq!(read(&[0xfa]), Ok(-1));
        assert_eq!(read(&[0xff, 0x84]), Ok(-124));
        assert_eq!(read(&[0x03, 0x9d, 0x5a, 0x25]), Ok(2_448_029));
    }

    #[test]
    fn encodings_and_other_classes() {
        // US-ASCII (`:E` false), binary (no ivars), another named encoding, an Integer.
        assert_eq!(load(&hex("04084922076162063a064546")), Ok(Value::Text("ab".into())));
        assert_eq!(load(&hex("0408220661")), Ok(Value::Text("a".into())));
        assert_eq!(load(&hex("04084922076162063a0d656e636f64696e67220f53686966745f4a4953")), Err(Malformed));
        assert_eq!(load(&hex("04084922076162063a0d656e636f64696e67220e53686966745f4a4953")), Ok(Value::Other));
        assert_eq!(load(&hex("0408690a")), Ok(Value::Other));
    }

    #[test]
    fn garbage_is_malformed_not_a_panic() {
        for bad in ["", "0408", "0409220661", "04085b7f", "04084922ff", "0408223f61", "04083b00", "040822066161"] {
            assert_eq!(load(&hex(bad)), Err(Malformed), "{bad}");
        }
        // Deep nesting stops at the bound.
        let mut deep = vec![4u8, 8];
        deep.extend(std::iter::repeat_n([b'[', 6], 50).flatten());
        assert_eq!(load(&deep), Err(Malformed));
    }

    #[test]
    fn dates_outside_the_plain_form_are_other() {
        // nth = 1 and a Julian-calendar day.
        assert_eq!(load(&hex("0408553a09446174655b0b690669039d5a25690069006900660c32323939313631")), Ok(Value::Other));
        assert_eq!(load(&hex("0408553a09446174655b0b690069030a1822690069006900660c32323939313631")), Ok(Value::Other));
    }
}
