//! activities: the audit trail of what users did and what was refused.

use std::borrow::Cow;

use async_trait::async_trait;

use super::StoreResult;

#[derive(Debug, Clone)]
pub struct NewActivity {
    pub user_id: Option<i64>,
    pub target_uid: Option<String>,
    pub category: &'static str,
    pub user_ip: String,
    pub user_ip_country: Option<String>,
    pub user_agent: Option<String>,
    /// Fixed for user activities; a permission's topic (from the database) for admin ones.
    pub topic: Cow<'static, str>,
    pub action: &'static str,
    pub result: &'static str,
    pub data: Option<String>,
    pub created_at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ActivityRow {
    pub id: i64,
    pub user_id: Option<i64>,
    pub category: String,
    pub user_ip: String,
    pub user_ip_country: Option<String>,
    pub user_agent: Option<String>,
    pub topic: String,
    pub action: String,
    pub result: String,
    pub data: Option<String>,
    pub created_at: i64,
}

#[async_trait]
pub trait ActivityStore {
    async fn insert_activity(&self, a: &NewActivity) -> StoreResult<()>;
    /// A user's activities, newest first.
    async fn activities_of(&self, user_id: i64, limit: i64) -> StoreResult<Vec<ActivityRow>>;
}

macro_rules! impl_activity_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::activities::ActivityStore for $store {
            async fn insert_activity(
                &self,
                a: &$crate::store::activities::NewActivity,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query::<$db>(
                    "INSERT INTO activities (user_id, target_uid, category, user_ip, user_ip_country, user_agent, \
                     topic, action, result, data, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                )
                .bind(a.user_id)
                .bind(&a.target_uid)
                .bind(a.category)
                .bind(&a.user_ip)
                .bind(&a.user_ip_country)
                .bind(&a.user_agent)
                .bind(a.topic.as_ref())
                .bind(a.action)
                .bind(a.result)
                .bind(&a.data)
                .bind(a.created_at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn activities_of(
                &self,
                user_id: i64,
                limit: i64,
            ) -> $crate::store::StoreResult<Vec<$crate::store::activities::ActivityRow>> {
                Ok(sqlx::query_as::<$db, $crate::store::activities::ActivityRow>(
                    "SELECT id, user_id, category, user_ip, user_ip_country, user_agent, topic, action, result, data, \
                     created_at FROM activities WHERE user_id = $1 ORDER BY id DESC LIMIT $2",
                )
                .bind(user_id)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?)
            }
        }
    };
}
pub(crate) use impl_activity_store;
