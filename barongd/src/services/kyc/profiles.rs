//! KYC profiles (`resource/profiles`) and the profile step of the KYC flow: a user
//! drafts a profile, edits it while drafted, and submits it (`confirm`); an operator then
//! verifies or rejects it. The private label `profile` mirrors the state after every change.
//!
//! Names, birth date and address are sealed at rest; postcode, city and country stay searchable.

use std::sync::LazyLock;

use chrono::NaiveDate;
use common::entities::Profile;
use regex::Regex;

use crate::model::labels::keys as label_keys;
use crate::model::{LabelScope, ProfileState};
use crate::services::App;
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::events::event_api;
use crate::services::kyc::kycaid::{self, queue};
use crate::services::kyc::levels::{LabelChange, Reviewer};
use crate::services::kyc::{display, review};
use crate::store::profiles::{ProfileChange, ProfileFields, ProfileRow};
use crate::store::{LabelRow, PendingEvent, StoreError, UserRow};

/// `metadata` as sent: JSON text, or something that is not JSON.
#[derive(Debug, Clone, PartialEq)]
pub enum Metadata {
    Json(String),
    Invalid,
}

/// The parameters of `POST`/`PUT profiles`. `None` = not sent (PUT keeps the stored value);
/// `Some("")` = sent blank (stored as absent).
#[derive(Debug, Clone, Default)]
pub struct ProfileInput {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub dob: Option<NaiveDate>,
    pub dob_blank: bool,
    pub address: Option<String>,
    pub postcode: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub metadata: Option<Metadata>,
    pub confirm: bool,
}

static NAME: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^[\w\s\-']+$").expect("static regex"));
static CITY: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^[\w\s\-–.~']+$").expect("static regex"));
static POSTCODE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^[\w\s\-]+$").expect("static regex"));
static ADDRESS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"^[\p{L}\p{N}\s\-–,.~;/:#"\\&'()]+$"#).expect("static regex"));

/// Rails' `squish`: trimmed, inner whitespace runs collapsed to one space.
fn squish(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl ProfileInput {
    /// Squishes the fields Barong squishes (names, city, postcode).
    fn normalized(mut self) -> Self {
        for f in [&mut self.first_name, &mut self.last_name, &mut self.city, &mut self.postcode] {
            if let Some(v) = f.as_mut() {
                *v = squish(v);
            }
        }
        if let Some(v) = self.address.as_mut() {
            *v = v.trim().to_string();
        }
        self
    }
}

/// The model's errors (`<attribute>.<error>`) for the fields present and not blank, in the
/// model's order. `today` bounds the birth date.
pub fn field_errors(input: &ProfileInput, today: NaiveDate) -> Vec<String> {
    let mut errors = Vec::new();
    let mut check = |name: &str, value: &Option<String>, min: usize, pattern: &Regex| {
        let Some(v) = value.as_deref().filter(|v| !v.is_empty()) else { return };
        let len = v.chars().count();
        if len < min {
            errors.push(format!("{name}.too_short"));
        } else if len > 255 {
            errors.push(format!("{name}.too_long"));
        }
        if !pattern.is_match(v) {
            errors.push(format!("{name}.invalid"));
        }
    };
    check("first_name", &input.first_name, 1, &NAME);
    check("last_name", &input.last_name, 1, &NAME);
    check("city", &input.city, 1, &CITY);
    check("postcode", &input.postcode, 2, &POSTCODE);
    check("address", &input.address, 1, &ADDRESS);
    if let Some(c) = input.country.as_deref().filter(|c| !c.is_empty()) {
        let known = isocountry::CountryCode::for_alpha2_caseless(c).is_ok()
            || isocountry::CountryCode::for_alpha3_caseless(c).is_ok();
        if !known {
            // Barong's free-text message is the key clients match on
            // (docs/compatibility.md#free-text-error-keys).
            errors.push("country.must have alpha2 or alpha3 format".to_string());
        }
    }
    if input.dob.is_some_and(|d| d > today) {
        errors.push("dob.invalid".to_string());
    }
    if input.metadata == Some(Metadata::Invalid) {
        errors.push("metadata.invalid_format".to_string());
    }
    errors
}

fn exists() -> ServiceError {
    ServiceError::conflict("state.exists")
}

fn not_editable() -> ServiceError {
    ServiceError::not_found("resource.profile.doesnt_exist_or_not_editable")
}

fn today(app: &App) -> NaiveDate {
    chrono::DateTime::from_timestamp(app.clock.now(), 0).map(|t| t.date_naive()).unwrap_or(NaiveDate::MIN)
}

/// Seals a sent value; blank becomes absent.
fn seal_text(app: &App, v: &str) -> Option<String> {
    if v.is_empty() { None } else { Some(app.sealer.seal(v.as_bytes())) }
}

fn plain(v: &str) -> Option<String> {
    if v.is_empty() { None } else { Some(v.to_string()) }
}

/// `base` with every sent field of `input` applied.
fn merge(app: &App, mut base: ProfileFields, input: &ProfileInput) -> ProfileFields {
    if let Some(v) = &input.first_name {
        base.first_name_sealed = seal_text(app, v);
    }
    if let Some(v) = &input.last_name {
        base.last_name_sealed = seal_text(app, v);
    }
    if let Some(d) = input.dob {
        base.dob_sealed = seal_text(app, &d.format("%Y-%m-%d").to_string());
    } else if input.dob_blank {
        base.dob_sealed = None;
    }
    if let Some(v) = &input.address {
        base.address_sealed = seal_text(app, v);
    }
    if let Some(v) = &input.postcode {
        base.postcode = plain(v);
    }
    if let Some(v) = &input.city {
        base.city = plain(v);
    }
    if let Some(v) = &input.country {
        base.country = plain(v);
    }
    if let Some(Metadata::Json(m)) = &input.metadata {
        base.metadata = plain(m);
    }
    base
}

fn fields_of(row: &ProfileRow) -> ProfileFields {
    ProfileFields {
        first_name_sealed: row.first_name_sealed.clone(),
        last_name_sealed: row.last_name_sealed.clone(),
        dob_sealed: row.dob_sealed.clone(),
        address_sealed: row.address_sealed.clone(),
        postcode: row.postcode.clone(),
        city: row.city.clone(),
        country: row.country.clone(),
        metadata: row.metadata.clone(),
    }
}

/// `POST profiles` → the new profile, drafted, or submitted when `confirm` is true.
pub async fn create(app: &App, user: &UserRow, input: ProfileInput) -> ServiceResult<Profile> {
    let input = input.normalized();
    let mut errors = field_errors(&input, today(app));
    let open = [ProfileState::Drafted, ProfileState::Submitted];
    for state in open {
        if app.store.profile_in_state(user.id, state).await?.is_some() {
            errors.push("state.exists".to_string());
            break;
        }
    }
    if !errors.is_empty() {
        return Err(ServiceError::invalid_all(errors));
    }
    let state = if input.confirm { ProfileState::Submitted } else { ProfileState::Drafted };
    let fields = merge(app, ProfileFields::default(), &input);
    let change = ProfileChange::Insert { user_id: user.id, fields: &fields, state, author: None };
    // `None` only if a concurrent create won the one-open-profile index (then the store said
    // `Unique`, answered as `state.exists` by `save`).
    let row = save(app, user, change, state, None, None).await?.ok_or_else(exists)?;
    Ok(display::profile(app, &row))
}

/// `POST /admin/profiles`: a submitted profile for `user` written by the admin `author` (the
/// resource API's rules; a drafted or submitted profile already there is `state.exists`).
/// Returned unmasked: the Admin API masks per role.
pub async fn create_submitted(app: &App, user: &UserRow, input: ProfileInput, author: &str) -> ServiceResult<Profile> {
    let row = create_in_state(app, user, input, ProfileState::Submitted, Some(author)).await?;
    Ok(display::profile_masked(app, &row, false))
}

/// A new profile in `state` written by an operator (`author`, when known): the resource API's
/// rules, `state.exists` when a drafted or submitted profile is already there; the `profile`
/// label follows `state`.
pub async fn create_in_state(
    app: &App,
    user: &UserRow,
    input: ProfileInput,
    state: ProfileState,
    author: Option<&str>,
) -> ServiceResult<ProfileRow> {
    let input = input.normalized();
    let mut errors = field_errors(&input, today(app));
    for open in [ProfileState::Drafted, ProfileState::Submitted] {
        if app.store.profile_in_state(user.id, open).await?.is_some() {
            errors.push("state.exists".to_string());
            break;
        }
    }
    if !errors.is_empty() {
        return Err(ServiceError::invalid_all(errors));
    }
    let fields = merge(app, ProfileFields::default(), &input);
    let change = ProfileChange::Insert { user_id: user.id, fields: &fields, state, author };
    save(app, user, change, state, None, None).await?.ok_or_else(exists)
}

/// The stored fields of a new profile of a user who does not exist yet (`/users/import`
/// writes them with the user), or the model's errors.
pub fn new_fields(app: &App, input: ProfileInput) -> Result<ProfileFields, Vec<String>> {
    let input = input.normalized();
    let errors = field_errors(&input, today(app));
    if errors.is_empty() { Ok(merge(app, ProfileFields::default(), &input)) } else { Err(errors) }
}

/// `PUT profiles`: edits the drafted profile only.
pub async fn update(app: &App, user: &UserRow, input: ProfileInput) -> ServiceResult<Profile> {
    let input = input.normalized();
    let drafted = ProfileState::Drafted;
    let current = app.store.profile_in_state(user.id, drafted).await?.ok_or_else(not_editable)?;
    let errors = field_errors(&input, today(app));
    if !errors.is_empty() {
        return Err(ServiceError::invalid_all(errors));
    }
    let state = if input.confirm { ProfileState::Submitted } else { ProfileState::Drafted };
    let fields = merge(app, fields_of(&current), &input);
    let change = ProfileChange::Edit { id: current.id, from: drafted, fields: &fields, state };
    let row = save(app, user, change, state, Some(&current), None).await?.ok_or_else(not_editable)?;
    Ok(display::profile(app, &row))
}

/// `GET profiles/me`: every profile of the user, oldest first (an empty list when none).
pub async fn of_user(app: &App, user: &UserRow) -> ServiceResult<Vec<Profile>> {
    Ok(app.store.profiles_of(user.id).await?.iter().map(|p| display::profile(app, p)).collect())
}

/// An operator's decision on a submitted profile (`barongctl kyc profile verify|reject`).
pub async fn review(
    app: &App,
    user: &UserRow,
    verdict: ProfileState,
    author: &str,
    reason: Option<&str>,
) -> ServiceResult<Profile> {
    if !matches!(verdict, ProfileState::Verified | ProfileState::Rejected) {
        return Err(ServiceError::invalid("state.inclusion"));
    }
    let submitted = ProfileState::Submitted;
    let not_found = || ServiceError::not_found("admin.profiles.doesnt_exist_or_not_editable");
    let current = app.store.profile_in_state(user.id, submitted).await?.ok_or_else(not_found)?;
    let change = ProfileChange::Review { id: current.id, from: submitted, state: verdict, author: Some(author) };
    let reviewer = Reviewer { author: author.to_string(), reason: reason.map(str::to_string) };
    let row = save(app, user, change, verdict, Some(&current), Some(reviewer)).await?.ok_or_else(not_found)?;
    review::notify(app, user, label_keys::PROFILE, verdict.name(), reason).await;
    Ok(display::profile_masked(app, &row, false))
}

/// KYCAID's outcome for submitted profile `id` (`verified`: the applicant exists; `rejected`:
/// KYCAID refused it), recorded as a decision by `kycaid`. `false` when the profile was no
/// longer submitted (an operator decided first).
pub(crate) async fn provider_decision(
    app: &App,
    user: &UserRow,
    id: i64,
    verdict: ProfileState,
    reason: Option<String>,
) -> ServiceResult<bool> {
    let submitted = ProfileState::Submitted;
    let previous = app.store.profiles_of(user.id).await?.into_iter().find(|p| p.id == id);
    let Some(previous) = previous.filter(|p| p.state == submitted) else { return Ok(false) };
    let change = ProfileChange::Review { id, from: submitted, state: verdict, author: None };
    let reviewer = Reviewer { author: kycaid::AUTHOR.to_string(), reason };
    Ok(save(app, user, change, verdict, Some(&previous), Some(reviewer)).await?.is_some())
}

/// Saves `change` together with the KYC profile step (the private label `profile` follows
/// the state; Barong looked it up in any scope, this only writes the private one; with KYCAID a
/// submitted profile also queues its applicant) and the events of both, in one transaction. `None` when the profile was no longer in
/// the state the change expected. `previous` is the profile as it was before an edit or review
/// (`model.profile.updated`); none for a new one (`model.profile.created`). A `reviewer` makes
/// the step an operator's decision, recorded in the review history.
async fn save(
    app: &App,
    user: &UserRow,
    change: ProfileChange<'_>,
    state: ProfileState,
    previous: Option<&ProfileRow>,
    reviewer: Option<Reviewer>,
) -> ServiceResult<Option<ProfileRow>> {
    let mut step = LabelChange::prepare(app, user, label_keys::PROFILE, state.name(), LabelScope::Private).await?;
    if let Some(reviewer) = reviewer {
        step = step.decided_by(reviewer);
    }
    let events = |row: &ProfileRow, label: Option<&LabelRow>| {
        let mut events = profile_events(app, user, step.referral.as_deref(), row, previous);
        events.extend(label.map(|l| step.events(app, user, l)).unwrap_or_default());
        events
    };
    let row = match app.store.save_profile(change, app.clock.now(), Some(&step.write()), &events).await {
        Ok(Some(row)) => row,
        Ok(None) => return Ok(None),
        Err(StoreError::Unique(_)) => return Err(exists()),
        Err(e) => return Err(e.into()),
    };
    step.finish(app, user).await?;
    // KYCAID's profile step (Barong's ApplicantWorker): a submitted profile gets an applicant.
    if state == ProfileState::Submitted {
        let job = queue::Job::Applicant { profile_id: row.id };
        queue::enqueue_logged(app, user.id, &job).await;
    }
    Ok(Some(row))
}

/// `model.profile.created`, or `model.profile.updated` with the `changes` from `previous`. The
/// record is Barong's: names, birth date and address in clear, masked only when
/// `event_api_mask_profile_pii` is set (docs/compatibility.md#profile-events), and no `state`, so
/// a review alone carries `changes: {}`.
pub(crate) fn profile_events(
    app: &App,
    user: &UserRow,
    referral: Option<&str>,
    row: &ProfileRow,
    previous: Option<&ProfileRow>,
) -> Vec<PendingEvent> {
    if !event_api::enabled(app) {
        return Vec::new();
    }
    let record = profile_record(app, user, referral, row);
    match previous {
        None => event_api::pending(app, "model.profile.created", &serde_json::json!({ "record": record })),
        Some(before) => {
            let changes = event_api::record_changes(&profile_record(app, user, referral, before), &record, &[]);
            event_api::pending(
                app,
                "model.profile.updated",
                &serde_json::json!({ "record": record, "changes": changes }),
            )
        }
    }
}

/// A profile's compacted event record: `{user, first_name, last_name, dob, address, postcode,
/// city, country, metadata, created_at, updated_at}`.
fn profile_record(app: &App, user: &UserRow, referral: Option<&str>, row: &ProfileRow) -> serde_json::Value {
    let p = display::profile_masked(app, row, app.config.event_api_mask_profile_pii);
    event_api::compact(serde_json::json!({
        "user": event_api::user_record(user, referral),
        "first_name": p.first_name,
        "last_name": p.last_name,
        "dob": p.dob,
        "address": p.address,
        "postcode": p.postcode,
        "city": p.city,
        "country": p.country,
        "metadata": p.metadata,
        "created_at": p.created_at,
        "updated_at": p.updated_at,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    fn errors_of(input: ProfileInput) -> Vec<String> {
        field_errors(&input.normalized(), day("2026-11-27"))
    }

    #[test]
    fn states_keep_barongs_codes() {
        for s in [ProfileState::Drafted, ProfileState::Submitted, ProfileState::Verified, ProfileState::Rejected] {
            assert_eq!(ProfileState::from_code(s.code()), s);
            assert_eq!(ProfileState::parse(s.name()), Some(s));
        }
        assert_eq!(ProfileState::Verified.code(), 3);
        assert_eq!(ProfileState::parse("pending"), None);
    }

    #[test]
    fn valid_international_fields_pass() {
        let input = ProfileInput {
            first_name: Some("  Jean-Luc   O'Neil ".into()),
            last_name: Some("Müller Ñúñez".into()),
            dob: Some(day("1990-05-17")),
            address: Some(r#"12/3 Rue de l'Église, "B" (2nd floor) #4; Apt: 5 & 6 \ 7"#.into()),
            postcode: Some("SW1A 1AA".into()),
            city: Some("Saint-Étienne–du–Rouvray ~ St. Louis".into()),
            country: Some("fra".into()),
            metadata: Some(Metadata::Json(r#"{"k":"v"}"#.into())),
            ..Default::default()
        };
        assert_eq!(errors_of(input.clone()), Vec::<String>::new());
        assert_eq!(input.normalized().first_name.as_deref(), Some("Jean-Luc O'Neil"));
    }

    #[test]
    fn each_rule_gives_barongs_key_in_model_order() {
        let input = ProfileInput {
            first_name: Some("Bob<script>".into()),
            last_name: Some("x".repeat(256)),
            city: Some("Paris!".into()),
            postcode: Some("1".into()),
            address: Some("a@b".into()),
            country: Some("Atlantis".into()),
            dob: Some(day("2027-01-01")),
            metadata: Some(Metadata::Invalid),
            ..Default::default()
        };
        assert_eq!(
            errors_of(input),
            vec![
                "first_name.invalid",
                "last_name.too_long",
                "city.invalid",
                "postcode.too_short",
                "address.invalid",
                "country.must have alpha2 or alpha3 format",
                "dob.invalid",
                "metadata.invalid_format",
            ]
        );
    }

    #[test]
    fn blank_fields_are_not_validated() {
        let input = ProfileInput { first_name: Some("   ".into()), country: Some(String::new()), ..Default::default() };
        assert_eq!(errors_of(input), Vec::<String>::new());
        assert_eq!(
            errors_of(ProfileInput { dob: Some(day("2026-11-27")), ..Default::default() }),
            Vec::<String>::new()
        );
    }
}
