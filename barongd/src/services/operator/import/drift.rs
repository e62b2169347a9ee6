//! The drift rule (migration spec §2.5): Barong stored each user's state and level, recomputed
//! only when a private label changed, and its triggers counted public labels too; an admin could
//! also set a state no label explains. barong-rs's engine counts private labels only, so after an
//! import the stored values are kept and compared with what the labels say. A restriction the
//! labels do not explain gets a private `<first trigger key>=migrated` label, so the next
//! recomputation keeps it; any other difference is only reported, for the operator to decide.

use std::collections::HashMap;

use crate::config::Config;
use crate::model::LabelScope;
use crate::services::kyc::levels::{level_of, state_of};
use crate::store::{LabelRow, LevelRow};

use super::mapping::UserInfo;

/// What the check found for one user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Drift {
    /// A trigger state no private label explains: add `key=migrated` (with `reason`).
    Restrictive { key: String, reason: String },
    /// Another stored state than the labels give.
    State { stored: String, computed: String },
    /// Another stored level than the labels give.
    Level { stored: i64, computed: i64 },
}

/// Every user's findings, by user id (ascending, so reports are stable).
pub fn check(
    config: &Config,
    levels: &[LevelRow],
    users: &HashMap<i64, UserInfo>,
    labels: &HashMap<i64, Vec<LabelRow>>,
) -> Vec<(i64, Drift)> {
    let mut ids: Vec<&i64> = users.keys().collect();
    ids.sort();
    let mut out = Vec::new();
    for id in ids {
        let user = &users[id];
        let own = labels.get(id).map(Vec::as_slice).unwrap_or_default();
        let computed = state_of(config, own).to_string();
        if computed != user.state {
            out.push((*id, state_drift(config, user, own, computed)));
        }
        let level = level_of(levels, own);
        if level != user.level {
            out.push((*id, Drift::Level { stored: user.level, computed: level }));
        }
    }
    out
}

fn state_drift(config: &Config, user: &UserInfo, labels: &[LabelRow], computed: String) -> Drift {
    let Some(trigger) = config.state_triggers.iter().find(|t| t.state == user.state) else {
        return Drift::State { stored: user.state.clone(), computed };
    };
    let Some(first) = trigger.labels.first() else {
        return Drift::State { stored: user.state.clone(), computed };
    };
    // A private label of that key exists but a later trigger wins: a label will not fix that.
    if labels.iter().any(|l| l.scope == LabelScope::Private && &l.key == first) {
        return Drift::State { stored: user.state.clone(), computed };
    }
    let public = labels.iter().find(|l| l.scope == LabelScope::Public && trigger.labels.contains(&l.key));
    let reason = match public {
        Some(l) => format!("{} by public label {}", user.state, l.key),
        None => format!("{} with no label (set by an admin)", user.state),
    };
    Drift::Restrictive { key: first.clone(), reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(user_id: i64, key: &str, value: &str, scope: LabelScope) -> LabelRow {
        LabelRow {
            id: 0,
            user_id,
            key: key.into(),
            value: value.into(),
            scope,
            description: None,
            created_at: 0,
            updated_at: 0,
        }
    }

    fn level(id: i64, key: &str, value: &str) -> LevelRow {
        LevelRow { id, key: key.into(), value: value.into(), description: None }
    }

    #[test]
    fn restrictions_without_a_private_label_gain_one_and_the_rest_is_reported() {
        let config = Config::default();
        let levels = [level(1, "email", "verified"), level(2, "phone", "verified")];
        let user = |state: &str, level: i64| UserInfo { uid: "ID".into(), otp: false, state: state.into(), level };
        let users = HashMap::from([
            (1, user("locked", 1)), // locked by a public label
            (2, user("banned", 1)), // banned by an admin, no label
            (3, user("active", 2)), // active, labels say pending; level 2, labels say 0
            (4, user("banned", 1)), // explained by a private label: nothing
            (5, user("active", 1)), // in step
        ]);
        let email = |u| label(u, "email", "verified", LabelScope::Private);
        let labels = HashMap::from([
            (1, vec![email(1), label(1, "suspicious", "yes", LabelScope::Public)]),
            (2, vec![email(2)]),
            (4, vec![email(4), label(4, "fraud", "yes", LabelScope::Private)]),
            (5, vec![email(5)]),
        ]);
        let found = check(&config, &levels, &users, &labels);
        assert_eq!(
            found,
            vec![
                (
                    1,
                    Drift::Restrictive { key: "suspicious".into(), reason: "locked by public label suspicious".into() }
                ),
                (2, Drift::Restrictive { key: "ban".into(), reason: "banned with no label (set by an admin)".into() }),
                (3, Drift::State { stored: "active".into(), computed: "pending".into() }),
                (3, Drift::Level { stored: 2, computed: 0 }),
            ]
        );
    }
}
