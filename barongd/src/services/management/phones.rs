//! `/phones` and `/phones/delete` (spec §4.10 #13, #14): an operator adds a user's phone as
//! already validated, or removes one. As in Barong, neither touches the `phone` label (level
//! unchanged) nor emits events.

use common::entities::Phone;
use serde_json::{Map, Value};

use crate::services::App;
use crate::services::kyc::phone_number::normalize;
use crate::services::kyc::{display, phone_index, phones};
use crate::services::management::error::{MgmtError, MgmtResult, to_json};
use crate::services::management::params::Grape;
use crate::store::users::PhoneRow;
use crate::store::{StoreError, UserRow};

fn internal<E: std::fmt::Display>(e: E) -> MgmtError {
    MgmtError::internal(e)
}

/// `uid` and `number`, and the user (422 `user.doesnt_exist`).
async fn user_and_number(app: &App, data: &Map<String, Value>) -> MgmtResult<(UserRow, String)> {
    let mut p = Grape::new(data);
    let uid = p.required("uid");
    let number = p.required("number");
    p.finish()?;
    let user = app
        .store
        .user_by_uid(&uid)
        .await
        .map_err(internal)?
        .ok_or_else(|| MgmtError::message(422, "user.doesnt_exist"))?;
    Ok((user, number))
}

/// The management `Phone`: number in clear, `validated_at` with milliseconds.
fn entity(app: &App, row: &PhoneRow, number: &str) -> Phone {
    Phone { number: number.to_string(), ..display::phone(app, row) }
}

/// #13: adds the number to the user, validated now.
pub async fn create(app: &App, data: &Map<String, Value>) -> MgmtResult<String> {
    let (user, raw) = user_and_number(app, data).await?;
    let n = normalize(&raw).ok_or_else(|| MgmtError::message(400, "management.phone.invalid_num"))?;
    let index = app.sealer.blind_index(phones::INDEX_DOMAIN, &n.number);
    let number_exist = || MgmtError::message(400, "management.phone.number_exist");
    if phone_index::verified_anywhere(app, &n.number).await.map_err(internal)? {
        return Err(number_exist());
    }
    let exists = || MgmtError::message(400, "management.phone.exists");
    if phone_index::user_phone(app, user.id, &n.number).await.map_err(internal)?.is_some() {
        return Err(exists());
    }
    let now = app.clock.now();
    let sealed = app.sealer.seal(n.number.as_bytes());
    let phone = match app.store.insert_validated_phone(user.id, &n.country, &sealed, &index, now).await {
        Ok(p) => p,
        // A concurrent request won: another user verified the number, or this one added it.
        Err(StoreError::Unique(_)) if phone_index::verified_anywhere(app, &n.number).await.map_err(internal)? => {
            return Err(number_exist());
        }
        Err(StoreError::Unique(_)) => return Err(exists()),
        Err(e) => return Err(internal(e)),
    };
    let row = PhoneRow {
        id: phone.id,
        user_id: user.id,
        country: n.country,
        number_sealed: sealed,
        validated_at: Some(now),
        created_at: now,
    };
    to_json(&entity(app, &row, &n.number))
}

/// #14: removes the user's phone with this number and answers it as it was.
pub async fn delete(app: &App, data: &Map<String, Value>) -> MgmtResult<String> {
    let (user, raw) = user_and_number(app, data).await?;
    let missing = || MgmtError::message(422, "management.phone.doesnt_exists");
    let n = normalize(&raw).ok_or_else(missing)?;
    let phone = phone_index::user_phone(app, user.id, &n.number).await.map_err(internal)?.ok_or_else(missing)?;
    if !app.store.delete_user_phone(user.id, phone.id).await.map_err(internal)? {
        return Err(missing());
    }
    let row = PhoneRow {
        id: phone.id,
        user_id: user.id,
        country: phone.country,
        number_sealed: phone.number_sealed,
        validated_at: phone.validated_at,
        // The Phone entity shows no creation time.
        created_at: 0,
    };
    to_json(&entity(app, &row, &n.number))
}
