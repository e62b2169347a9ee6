//! `/admin/profiles`: every user's profiles for review, and the review itself. PII is masked for
//! roles outside `admin_unmasked_pii_roles` (Barong showed it to every admin role, W8); the
//! review goes through the KYC service, so barongctl and the Admin API agree.

use common::entities::Profile;

use crate::model::ProfileState;
use crate::services::App;
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::kyc::display::{mask_after, profile_masked};
use crate::services::kyc::profiles::{self, ProfileInput};
use crate::store::UserRow;

/// Whether `role` sees clear PII in Admin API responses.
pub fn unmasked(app: &App, role: &str) -> bool {
    app.config.admin_unmasked_pii_roles.iter().any(|r| r == "*" || r == role)
}

/// A profile as the Admin API shows it to `role`: the user-API masks outside
/// `admin_unmasked_pii_roles`, and `metadata` as the stored JSON text (Barong's admin entity
/// returns it as a string, unlike the resource API).
pub(crate) fn shown(app: &App, role: &str, p: Profile) -> Profile {
    shown_as(unmasked(app, role), p)
}

/// As [`shown`], masked unless `clear`.
pub(crate) fn shown_as(clear: bool, mut p: Profile) -> Profile {
    if !clear {
        p.last_name = p.last_name.map(|n| mask_after(&n, 1));
        p.dob = p.dob.map(|d| mask_after(&d, 8));
    }
    p.metadata = p.metadata.map(|m| serde_json::Value::String(m.to_string()));
    p
}

/// A page of every profile by id, masked for `role`, and the total.
pub async fn list(app: &App, role: &str, page: i64, limit: i64) -> ServiceResult<(Vec<Profile>, i64)> {
    let (rows, total) = app.store.profiles_page(limit, (page - 1) * limit).await?;
    Ok((rows.iter().map(|r| shown(app, role, profile_masked(app, r, false))).collect(), total))
}

/// `PUT /admin/profiles`: verify or reject `uid`'s submitted profile. Guards in Appendix B's
/// order: unknown user, superadmin target, the caller's own profile (W10), the profile, then
/// `profile_double_verification` (the profile's author may not approve it alone).
pub async fn review(app: &App, caller: &UserRow, uid: &str, state: &str) -> ServiceResult<Profile> {
    let not_found = || ServiceError::not_found("admin.profiles.doesnt_exist_or_not_editable");
    let user = app.store.user_by_uid(uid).await?.ok_or_else(not_found)?;
    if user.role.as_str() == "superadmin" && caller.role.as_str() != "superadmin" {
        return Err(ServiceError::invalid("admin.profiles.superadmin_change"));
    }
    if user.id == caller.id {
        return Err(ServiceError::invalid("admin.profiles.update_himself"));
    }
    let author = app.store.submitted_profile_author(user.id).await?.ok_or_else(not_found)?;
    let roles = &app.config.profile_verification_roles;
    if app.config.profile_double_verification
        && author.as_deref() == Some(caller.uid.as_str())
        && !roles.iter().any(|r| r == caller.role.as_str())
    {
        return Err(ServiceError::invalid("admin.profiles.second_admin_approval"));
    }
    let verdict = match state {
        "verified" => ProfileState::Verified,
        "rejected" => ProfileState::Rejected,
        // Barong raised (500) on a state outside its list; drafted and submitted are not
        // review outcomes either.
        _ => return Err(ServiceError::invalid("state.inclusion")),
    };
    let p = profiles::review(app, &user, verdict, &caller.uid, None).await?;
    Ok(shown(app, caller.role.as_str(), p))
}

/// `POST /admin/profiles`: a submitted profile for `uid`, authored by the caller (Barong: no
/// ability check and a 500 for an unknown uid, W6/W17).
pub async fn create(app: &App, caller: &UserRow, uid: &str, input: ProfileInput) -> ServiceResult<Profile> {
    let user = app.store.user_by_uid(uid).await?;
    let user = user.ok_or_else(|| ServiceError::not_found("admin.user.doesnt_exist"))?;
    let p = profiles::create_submitted(app, &user, input, &caller.uid).await?;
    Ok(shown(app, caller.role.as_str(), p))
}
