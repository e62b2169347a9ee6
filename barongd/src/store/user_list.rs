//! User lists in SQL (the Admin API's users and pending documents, the Management API's
//! `users/list`): their filters and orders, and the statements that page and count them. The
//! country filter is a subquery on profiles rather than a join, so a user with several profiles
//! is one row and `Total` counts distinct users.

/// Columns a user list may be ordered by (Barong's `users` columns without the digest, which
/// would leak its ordering).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UserColumn {
    #[default]
    Id,
    Uid,
    Username,
    Email,
    Role,
    Data,
    Level,
    Otp,
    State,
    ReferralId,
    CreatedAt,
    UpdatedAt,
}

impl UserColumn {
    /// The column named `name` exactly, if orderable.
    pub fn from_name(name: &str) -> Option<Self> {
        use UserColumn::*;
        [Id, Uid, Username, Email, Role, Data, Level, Otp, State, ReferralId, CreatedAt, UpdatedAt]
            .into_iter()
            .find(|c| c.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            UserColumn::Id => "id",
            UserColumn::Uid => "uid",
            UserColumn::Username => "username",
            UserColumn::Email => "email",
            UserColumn::Role => "role",
            UserColumn::Data => "data",
            UserColumn::Level => "level",
            UserColumn::Otp => "otp",
            UserColumn::State => "state",
            UserColumn::ReferralId => "referral_id",
            UserColumn::CreatedAt => "created_at",
            UserColumn::UpdatedAt => "updated_at",
        }
    }
}

/// `GET /admin/users` filters (each only when given); `from`/`to` are inclusive bounds on
/// `created_at`, or `updated_at` when `by_updated`. `email_key` is the lower-cased e-mail.
#[derive(Debug, Default, Clone)]
pub struct UserFilter {
    pub uid: Option<String>,
    pub email_key: Option<String>,
    pub role: Option<String>,
    pub level: Option<i64>,
    pub state: Option<String>,
    pub country: Option<String>,
    pub by_updated: bool,
    pub from: Option<i64>,
    pub to: Option<i64>,
}

/// One page of a user list.
#[derive(Debug, Clone, Copy, Default)]
pub struct UserOrder {
    pub order_by: UserColumn,
    pub descending: bool,
}

/// The WHERE of a user list over `users u`, and the number of its first free placeholder.
pub(crate) fn user_where(f: &UserFilter) -> (String, usize) {
    let (conditions, next) = user_conditions(f);
    (format!(" FROM users u WHERE {conditions}"), next)
}

/// As `user_where`, for users awaiting a document review (a private `document` label `pending`
/// or `replaced`; one per user, as labels are unique per user, key and scope).
pub(crate) fn pending_where(f: &UserFilter) -> (String, usize) {
    let (conditions, next) = user_conditions(f);
    let from = " FROM users u JOIN labels dl ON dl.user_id = u.id AND dl.key = 'document' AND dl.scope = 'private' \
         AND dl.value IN ('pending', 'replaced')";
    (format!("{from} WHERE {conditions}"), next)
}

/// The conditions of the filters that are set, numbered from `$1` in field order (the order
/// `bind_user_filter!` binds them in), and the next free number. An absent filter leaves no
/// `($n IS NULL OR ...)` behind: SQLite plans a statement without looking at the values bound,
/// so such a test hid every index from it and each list scanned the whole table.
fn user_conditions(f: &UserFilter) -> (String, usize) {
    let col = if f.by_updated { "u.updated_at" } else { "u.created_at" };
    let tests: [(bool, &dyn Fn(usize) -> String); 8] = [
        (f.uid.is_some(), &|n| format!("u.uid = ${n}")),
        (f.email_key.is_some(), &|n| format!("u.email_key = ${n}")),
        (f.role.is_some(), &|n| format!("u.role = ${n}")),
        (f.level.is_some(), &|n| format!("u.level = ${n}")),
        (f.state.is_some(), &|n| format!("u.state = ${n}")),
        // Driven from the profiles' country index; a user with several profiles counts once.
        (f.country.is_some(), &|n| format!("u.id IN (SELECT p.user_id FROM profiles p WHERE p.country = ${n})")),
        (f.from.is_some(), &|n| format!("{col} >= ${n}")),
        (f.to.is_some(), &|n| format!("{col} <= ${n}")),
    ];
    let mut parts = Vec::new();
    for (set, test) in tests {
        if set {
            parts.push(test(parts.len() + 1));
        }
    }
    let next = parts.len() + 1;
    if parts.is_empty() { ("1 = 1".into(), next) } else { (parts.join(" AND "), next) }
}

/// The count of `user_where`'s users. Tower's country search alone is counted from the
/// profiles' country index: every profile has its user (foreign key), and joining users made
/// the planner walk all of them.
pub(crate) fn user_count_sql(f: &UserFilter) -> String {
    let only_country = f.country.is_some()
        && f.uid.is_none()
        && f.email_key.is_none()
        && f.role.is_none()
        && f.level.is_none()
        && f.state.is_none()
        && f.from.is_none()
        && f.to.is_none();
    if only_country {
        return "SELECT COUNT(DISTINCT p.user_id) FROM profiles p WHERE p.country = $1".into();
    }
    format!("SELECT COUNT(*){}", user_where(f).0)
}

/// A page of users awaiting a document review, oldest label first.
pub(crate) fn pending_page_sql(f: &UserFilter) -> String {
    let cols = super::users::user_columns!().split(", ").map(|c| format!("u.{c}")).collect::<Vec<_>>().join(", ");
    let (from, n) = pending_where(f);
    format!("SELECT {cols}{from} ORDER BY dl.updated_at ASC, u.id ASC LIMIT ${n} OFFSET ${}", n + 1)
}

/// A page of users: only static column names and directions enter the text; `id` breaks ties
/// so pages do not overlap.
pub(crate) fn user_page_sql(f: &UserFilter, o: UserOrder) -> String {
    let dir = if o.descending { "DESC" } else { "ASC" };
    let cols = super::users::user_columns!().split(", ").map(|c| format!("u.{c}")).collect::<Vec<_>>().join(", ");
    let (from, n) = user_where(f);
    format!("SELECT {cols}{from} ORDER BY u.{} {dir}, u.id {dir} LIMIT ${n} OFFSET ${}", o.order_by.name(), n + 1)
}

/// Binds the values of the filters that are set, in `user_conditions`' order.
macro_rules! bind_user_filter {
    ($q:expr, $f:expr) => {{
        let mut q = $q;
        if let Some(v) = $f.uid.as_deref() {
            q = q.bind(v);
        }
        if let Some(v) = $f.email_key.as_deref() {
            q = q.bind(v);
        }
        if let Some(v) = $f.role.as_deref() {
            q = q.bind(v);
        }
        if let Some(v) = $f.level {
            q = q.bind(v);
        }
        if let Some(v) = $f.state.as_deref() {
            q = q.bind(v);
        }
        if let Some(v) = $f.country.as_deref() {
            q = q.bind(v);
        }
        if let Some(v) = $f.from {
            q = q.bind(v);
        }
        if let Some(v) = $f.to {
            q = q.bind(v);
        }
        q
    }};
}
pub(crate) use bind_user_filter;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_by_accepts_column_names_only() {
        assert_eq!(UserColumn::from_name("created_at"), Some(UserColumn::CreatedAt));
        assert_eq!(UserColumn::from_name("password_digest"), None);
        assert_eq!(UserColumn::from_name("id; DROP TABLE users"), None);
    }
}
