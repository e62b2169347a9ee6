//! `/profiles` (spec §4.10 #6): a profile for a user, in the given state (default `drafted`),
//! with the resource API's model rules and KYC step (the `profile` label follows the state).
//! Barong answered 500 for a state outside its enum (W17); here it is a model error.

use serde_json::{Map, Value};

use crate::model::ProfileState;
use crate::services::App;
use crate::services::kyc::documents::parse_date;
use crate::services::kyc::profiles::{self, Metadata, ProfileInput};
use crate::services::management::error::{MgmtError, MgmtResult};
use crate::services::management::params::Grape;
use crate::services::management::{model_errors, user_list};

/// The profile params shared with `/users/import`, each optional and not blank, in declaration
/// order; `dob` is a Grape `Date` (`dob is invalid`).
pub(crate) fn profile_input(p: &mut Grape<'_>) -> ProfileInput {
    let first_name = p.optional("first_name");
    let last_name = p.optional("last_name");
    let dob_text = p.optional("dob");
    let dob = dob_text.as_deref().and_then(parse_date);
    if dob_text.is_some() && dob.is_none() {
        p.error("dob is invalid");
    }
    ProfileInput {
        first_name,
        last_name,
        dob,
        dob_blank: false,
        address: p.optional("address"),
        postcode: p.optional("postcode"),
        city: p.optional("city"),
        country: p.optional("country"),
        metadata: None,
        confirm: false,
    }
}

/// `metadata` as the model reads it: JSON text, or an error.
pub(crate) fn metadata(text: Option<String>) -> Option<Metadata> {
    text.map(|m| if serde_json::from_str::<Value>(&m).is_ok() { Metadata::Json(m) } else { Metadata::Invalid })
}

/// The profile's `state` param: absent → `drafted`; outside the enum → the model's
/// `State is not included in the list`.
pub(crate) fn state_of(state: Option<&str>) -> Result<ProfileState, MgmtError> {
    match state {
        None => Ok(ProfileState::Drafted),
        Some(s) => ProfileState::parse(s.trim()).ok_or_else(|| model_errors::list(&["state.inclusion".to_string()])),
    }
}

pub async fn create(app: &App, data: &Map<String, Value>) -> MgmtResult<String> {
    let mut p = Grape::new(data);
    let uid = p.required("uid");
    let mut input = profile_input(&mut p);
    let state = p.optional("state");
    input.metadata = metadata(p.optional("metadata"));
    p.finish()?;
    let user = app
        .store
        .user_by_uid(&uid)
        .await
        .map_err(MgmtError::internal)?
        .ok_or_else(|| MgmtError::message(422, "user.doesnt_exist"))?;
    let state = state_of(state.as_deref())?;
    profiles::create_in_state(app, &user, input, state, None).await.map_err(model_errors::as_list)?;
    // The label the profile moved may have changed the user's level or state.
    let user = app.store.user_by_id(user.id).await.map_err(MgmtError::internal)?.unwrap_or(user);
    user_list::render_one(app, &user).await
}
