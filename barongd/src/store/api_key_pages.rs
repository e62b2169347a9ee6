//! The columns of `api_keys` as queries name them, and the pages of a holder's key list: the
//! columns a list may be ordered by (never client text in the SQL) and the `SELECT` of one page.

/// The column list of `ApiKeyRow`, as a macro so queries stay `&'static str`.
macro_rules! api_key_columns {
    () => {
        "id, key_holder_account_id, key_holder_account_type, kid, algorithm, scope, secret_sealed, state, \
         created_at, updated_at, secret_unavailable"
    };
}
pub(crate) use api_key_columns;

/// Columns a key list may be ordered by. Barong accepts any `apikeys` column name; the sealed
/// secret is left out (ordering by ciphertext means nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyColumn {
    Id,
    KeyHolderAccountId,
    KeyHolderAccountType,
    Kid,
    Algorithm,
    Scope,
    State,
    CreatedAt,
    UpdatedAt,
}

impl KeyColumn {
    const ALL: [KeyColumn; 9] = [
        KeyColumn::Id,
        KeyColumn::KeyHolderAccountId,
        KeyColumn::KeyHolderAccountType,
        KeyColumn::Kid,
        KeyColumn::Algorithm,
        KeyColumn::Scope,
        KeyColumn::State,
        KeyColumn::CreatedAt,
        KeyColumn::UpdatedAt,
    ];

    /// The column named `name` exactly (Barong compares case-sensitively), if orderable.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.name() == name)
    }

    /// The SQL column name; only these static names ever reach an ORDER BY.
    pub fn name(self) -> &'static str {
        match self {
            KeyColumn::Id => "id",
            KeyColumn::KeyHolderAccountId => "key_holder_account_id",
            KeyColumn::KeyHolderAccountType => "key_holder_account_type",
            KeyColumn::Kid => "kid",
            KeyColumn::Algorithm => "algorithm",
            KeyColumn::Scope => "scope",
            KeyColumn::State => "state",
            KeyColumn::CreatedAt => "created_at",
            KeyColumn::UpdatedAt => "updated_at",
        }
    }
}

/// One page of a key list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyPage {
    pub order_by: KeyColumn,
    pub descending: bool,
    pub limit: i64,
    pub offset: i64,
}

/// `SELECT` of one page of a holder's keys. The ORDER BY pieces are static strings chosen by
/// `KeyColumn`, never client text; `id` breaks ties so pages do not overlap.
pub(crate) fn key_page_sql(page: &KeyPage) -> String {
    let dir = if page.descending { "DESC" } else { "ASC" };
    format!(
        concat!(
            "SELECT ",
            api_key_columns!(),
            " FROM api_keys WHERE key_holder_account_type = $1 AND key_holder_account_id = $2 \
             ORDER BY {col} {dir}, id {dir} LIMIT $3 OFFSET $4"
        ),
        col = page.order_by.name(),
        dir = dir
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_by_accepts_column_names_only() {
        assert_eq!(KeyColumn::from_name("created_at"), Some(KeyColumn::CreatedAt));
        assert_eq!(KeyColumn::from_name("id"), Some(KeyColumn::Id));
        assert_eq!(KeyColumn::from_name("secret_sealed"), None);
        assert_eq!(KeyColumn::from_name("ID"), None);
        assert_eq!(KeyColumn::from_name("id; DROP TABLE users"), None);
        for c in KeyColumn::ALL {
            assert_eq!(KeyColumn::from_name(c.name()), Some(c));
        }
    }

    #[test]
    fn page_sql_uses_the_whitelisted_column_and_a_tie_breaker() {
        let sql = key_page_sql(&KeyPage { order_by: KeyColumn::Kid, descending: true, limit: 10, offset: 0 });
        assert!(sql.contains("ORDER BY kid DESC, id DESC LIMIT $3 OFFSET $4"), "{sql}");
    }
}
