//! The Admin API's logic (Barong's `/api/v2/admin`): abilities, the request pipeline's checks and
//! admin activity rows, and the endpoints' services. Operator-level changes (permissions,
//! restrictions) go through `services/operator`, so barongctl and the Admin API never disagree.

pub mod abilities;
pub mod activities;
pub mod actor;
pub mod comments;
pub mod documents;
pub mod labels;
pub mod levels;
pub mod metrics;
pub mod permissions;
pub mod pipeline;
pub mod profiles;
pub mod restrictions;
pub mod user_changes;
pub mod users;
