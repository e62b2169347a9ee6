//! Fresh PostgreSQL databases, one per test daemon, from `BARONG_TEST_PG_URL`.

/// `BARONG_TEST_PG_URL`, e.g. `postgres://postgres@127.0.0.1:5432/postgres`.
pub fn pg_url() -> Option<String> {
    std::env::var("BARONG_TEST_PG_URL").ok().filter(|s| !s.is_empty())
}

/// A PostgreSQL database made for one test and dropped after it (when the last daemon using it,
/// through an `Arc`, is dropped).
pub struct PgDatabase {
    admin_url: String,
    name: String,
}

impl PgDatabase {
    pub async fn create(admin_url: &str) -> PgDatabase {
        use sqlx::Connection;
        let name = format!("barong_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = sqlx::PgConnection::connect(admin_url)
            .await
            .unwrap_or_else(|e| panic!("BARONG_TEST_PG_URL is set but PostgreSQL does not answer: {e}"));
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("create test database");
        PgDatabase { admin_url: admin_url.to_string(), name }
    }

    pub fn url(&self) -> String {
        match self.admin_url.rfind('/') {
            Some(i) => format!("{}/{}", &self.admin_url[..i], self.name),
            None => self.admin_url.clone(),
        }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let admin = self.admin_url.clone();
        let name = self.name.clone();
        // Drop runs outside async context: a short-lived runtime on its own thread.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
            rt.block_on(async move {
                use sqlx::Connection;
                if let Ok(mut c) = sqlx::PgConnection::connect(&admin).await {
                    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
                        .execute(&mut c)
                        .await;
                }
            });
        })
        .join();
    }
}
