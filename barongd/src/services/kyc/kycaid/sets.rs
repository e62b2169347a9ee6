//! Which identity documents KYCAID checks, and when a set is complete.

/// Barong's `REQUIRED_DOC_AMOUNT`: files of one identificator that complete a set.
pub fn required_files(doc_type: &str) -> Option<usize> {
    match doc_type {
        "Passport" => Some(2),
        "Identity card" | "Driver license" => Some(3),
        _ => None,
    }
}
