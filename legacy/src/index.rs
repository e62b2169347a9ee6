//! Barong's `number_index` / `doc_number_index` (`app/helpers/salted_crc32.rb`): an unkeyed 32-bit
//! CRC of the clear value and `BARONG_CRC32_SALT`. barong-rs does not keep them; the importer uses
//! them only to cross-check its decryption.

/// `Zlib.crc32(clear + salt)` over the UTF-8 bytes.
pub fn crc32(clear: &str, salt: &str) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(clear.as_bytes());
    h.update(salt.as_bytes());
    h.finalize()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_vectors() {
        assert_eq!(crc32("447418084106", ""), 6_812_690);
        assert_eq!(crc32("447418084106", "s4lt"), 2_280_502_740);
        assert_eq!(crc32("AB1234567", ""), 2_302_111_899);
    }
}
