//! Phone lookups by blind index. While a master-key rotation runs, a number may be indexed under
//! the new key (written or re-sealed since) or still under the old one, so every lookup asks for
//! both; new rows are always indexed under the key that seals.

use crate::services::App;
use crate::store::StoreResult;
use crate::store::phones::PhoneRecord;

/// Blind-index domain of phone numbers (`store::master_key` re-indexes under the same name).
pub(crate) const INDEX_DOMAIN: &str = "phone";

/// Whether some user verified `number`.
pub(crate) async fn verified_anywhere(app: &App, number: &str) -> StoreResult<bool> {
    for index in app.sealer.blind_indexes(INDEX_DOMAIN, number) {
        if app.store.verified_number_exists(&index).await? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The user's phone with `number`, if any.
pub(crate) async fn user_phone(app: &App, user_id: i64, number: &str) -> StoreResult<Option<PhoneRecord>> {
    for index in app.sealer.blind_indexes(INDEX_DOMAIN, number) {
        if let Some(p) = app.store.user_phone(user_id, &index).await? {
            return Ok(Some(p));
        }
    }
    Ok(None)
}

/// `(user_id, number_sealed)` of every phone that may hold `number` (the caller opens them).
pub(crate) async fn candidates(app: &App, number: &str) -> StoreResult<Vec<(i64, String)>> {
    let mut all = Vec::new();
    for index in app.sealer.blind_indexes(INDEX_DOMAIN, number) {
        all.extend(app.store.phones_by_index(&index).await?);
    }
    Ok(all)
}
