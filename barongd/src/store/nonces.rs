//! Used API-key nonces, shared by the daemons of one database so that a signed request is
//! accepted once however the load balancer spreads its replays. Written in batches (one statement
//! for everything the gateway accepted meanwhile); on PostgreSQL the table is partitioned by the
//! nonce's minute (migration 0016) so old nonces go by TRUNCATE instead of a million-row DELETE.

use std::collections::HashSet;

use super::StoreResult;
use super::postgres::PgStore;
use super::sqlite::SqliteStore;

/// One nonce to record: `expires_at` (unix seconds) is when it may be forgotten.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NonceUse {
    pub kid: String,
    pub nonce: i64,
    pub expires_at: i64,
}

/// Partitions of the PostgreSQL table, a minute of nonces each, reused in a ring.
pub const PARTITIONS: i64 = 6;
const PARTITION_MS: i64 = 60_000;

/// The partition of a nonce (a millisecond timestamp; any i64 maps somewhere).
pub fn partition_of(nonce: i64) -> i16 {
    nonce.div_euclid(PARTITION_MS).rem_euclid(PARTITIONS) as i16
}

/// The partitions that, at `now` (unix seconds), hold no nonce the gateway can still accept when
/// nonces live at most 30 s: those of minutes M-1, M and M+1 are live, the other three are past.
fn past_partitions(now: i64) -> [i16; 3] {
    let minute = now.div_euclid(PARTITION_MS / 1000);
    [2, 3, 4].map(|back| (minute - back).rem_euclid(PARTITIONS) as i16)
}

#[async_trait::async_trait]
pub trait NonceStore {
    /// Records each nonce; for each, `false` when it was used already (a replay) — by another
    /// daemon, an earlier batch, or earlier in this one.
    async fn use_nonces(&self, batch: &[NonceUse]) -> StoreResult<Vec<bool>>;

    /// Records one used nonce; `false` when it was already used.
    async fn use_nonce(&self, kid: &str, nonce: i64, expires_at: i64) -> StoreResult<bool> {
        let one = NonceUse { kid: kid.to_string(), nonce, expires_at };
        Ok(self.use_nonces(std::slice::from_ref(&one)).await?.first().copied().unwrap_or(false))
    }

    /// Forgets nonces that expired by `now` (unix seconds); how many went. On PostgreSQL, only
    /// the past partitions are emptied, so a nonce goes between its expiry and two minutes later.
    async fn purge_nonces(&self, now: i64) -> StoreResult<u64>;
}

/// Indexes of the first use of each (kid, nonce) in `batch`; later repeats are replays.
fn first_uses(batch: &[NonceUse]) -> Vec<usize> {
    let mut seen = HashSet::with_capacity(batch.len());
    (0..batch.len()).filter(|&i| seen.insert((batch[i].kid.as_str(), batch[i].nonce))).collect()
}

#[async_trait::async_trait]
impl NonceStore for SqliteStore {
    async fn use_nonces(&self, batch: &[NonceUse]) -> StoreResult<Vec<bool>> {
        let mut accepted = vec![false; batch.len()];
        let mut tx = self.pool.begin().await?;
        for i in first_uses(batch) {
            let n = &batch[i];
            let r = sqlx::query(
                "INSERT INTO api_key_nonces (kid, nonce, expires_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            )
            .bind(&n.kid)
            .bind(n.nonce)
            .bind(n.expires_at)
            .execute(&mut *tx)
            .await?;
            accepted[i] = r.rows_affected() > 0;
        }
        tx.commit().await?;
        Ok(accepted)
    }

    async fn purge_nonces(&self, now: i64) -> StoreResult<u64> {
        let r = sqlx::query("DELETE FROM api_key_nonces WHERE expires_at <= $1").bind(now).execute(&self.pool).await?;
        Ok(r.rows_affected())
    }
}

/// PostgreSQL's code for a deadlock; two batches can meet on the same keys, and the one chosen
/// as the victim is simply sent again.
const DEADLOCK: &str = "40P01";

#[async_trait::async_trait]
impl NonceStore for PgStore {
    async fn use_nonces(&self, batch: &[NonceUse]) -> StoreResult<Vec<bool>> {
        let firsts = first_uses(batch);
        let mut kids = Vec::with_capacity(firsts.len());
        let mut nonces = Vec::with_capacity(firsts.len());
        let mut expiries = Vec::with_capacity(firsts.len());
        let mut partitions = Vec::with_capacity(firsts.len());
        for &i in &firsts {
            kids.push(batch[i].kid.as_str());
            nonces.push(batch[i].nonce);
            expiries.push(batch[i].expires_at);
            partitions.push(partition_of(batch[i].nonce));
        }
        // Rows go in key order, the same in every batch, so two batches wait on each other's
        // keys in one direction only (a deadlock stays possible against a non-batched writer).
        let sql = "INSERT INTO api_key_nonces (kid, nonce, expires_at, bucket) \
                   SELECT k, n, e, b FROM UNNEST($1::text[], $2::bigint[], $3::bigint[], $4::smallint[]) \
                   AS t(k, n, e, b) ORDER BY k, n \
                   ON CONFLICT DO NOTHING RETURNING kid, nonce";
        let mut attempt = 0;
        let inserted: Vec<(String, i64)> = loop {
            let r = insert_pg(&self.pool, sql, &kids, &nonces, &expiries, &partitions).await;
            match r {
                Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some(DEADLOCK) && attempt < 3 => attempt += 1,
                other => break other?,
            }
        };
        let inserted: HashSet<(&str, i64)> = inserted.iter().map(|(k, n)| (k.as_str(), *n)).collect();
        let mut accepted = vec![false; batch.len()];
        for i in firsts {
            accepted[i] = inserted.contains(&(batch[i].kid.as_str(), batch[i].nonce));
        }
        Ok(accepted)
    }

    async fn purge_nonces(&self, now: i64) -> StoreResult<u64> {
        let mut purged = 0;
        for partition in past_partitions(now) {
            purged += purge_partition(self, partition, now).await?;
        }
        Ok(purged)
    }
}

/// One batch, one statement, committed durably: a PostgreSQL crash loses no used nonce, so no
/// signed request can be replayed after one. bench/nonces: 64,000 nonces/s from one daemon and
/// 50,000 from two; a transaction with `synchronous_commit = off` was slower (48,000: its extra
/// round trips cost more than the WAL flush, which batching already shares).
async fn insert_pg(
    pool: &sqlx::PgPool,
    sql: &'static str,
    kids: &[&str],
    nonces: &[i64],
    expiries: &[i64],
    partitions: &[i16],
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    sqlx::query_as::<_, (String, i64)>(sql)
        .bind(kids)
        .bind(nonces)
        .bind(expiries)
        .bind(partitions)
        .fetch_all(pool)
        .await
}

/// Empties a past partition: TRUNCATE when nothing in it is still live (always, unless nonces
/// were configured to live longer than 30 s), else a DELETE of what expired. Skipped for this
/// round when another daemon holds the partition.
async fn purge_partition(store: &PgStore, partition: i16, now: i64) -> StoreResult<u64> {
    // The table name is built from a partition number below PARTITIONS, never from input.
    let table = format!("api_key_nonces_{partition}");
    let sql = |text: String| sqlx::AssertSqlSafe(text);
    let mut tx = store.pool.begin().await?;
    sqlx::query("SET LOCAL lock_timeout = '1s'").execute(&mut *tx).await?;
    if sqlx::query(sql(format!("LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"))).execute(&mut *tx).await.is_err() {
        return Ok(0);
    }
    let (total, live): (i64, i64) =
        sqlx::query_as(sql(format!("SELECT COUNT(*), COUNT(*) FILTER (WHERE expires_at > $1) FROM {table}")))
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
    let purged = if total == 0 {
        0
    } else if live == 0 {
        sqlx::query(sql(format!("TRUNCATE {table}"))).execute(&mut *tx).await?;
        total as u64
    } else {
        sqlx::query(sql(format!("DELETE FROM {table} WHERE expires_at <= $1")))
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected()
    };
    tx.commit().await?;
    Ok(purged)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nonce_lands_in_its_minutes_partition() {
        assert_eq!(partition_of(0), 0);
        assert_eq!(partition_of(59_999), 0);
        assert_eq!(partition_of(60_000), 1);
        assert_eq!(partition_of(6 * 60_000 + 1), 0);
        assert_eq!(partition_of(-1), 5);
        assert_eq!(partition_of(i64::MAX), (i64::MAX / 60_000 % 6) as i16);
    }

    #[test]
    fn the_partitions_emptied_never_hold_a_nonce_still_acceptable() {
        // Nonces live at most 30 s either side of now: their minutes are M-1..=M+1.
        for now in [0, 59, 60, 61, 1_700_000_000, 1_700_000_059] {
            let past = past_partitions(now);
            for offset_ms in (-30_000..=30_000).step_by(500) {
                let nonce = now * 1000 + offset_ms;
                assert!(!past.contains(&partition_of(nonce)), "now {now}, nonce {nonce}");
            }
        }
    }

    #[test]
    fn repeats_within_a_batch_count_once() {
        let n = |kid: &str, nonce| NonceUse { kid: kid.into(), nonce, expires_at: 0 };
        assert_eq!(first_uses(&[n("a", 1), n("a", 1), n("b", 1), n("a", 2), n("b", 1)]), [0, 2, 3]);
    }
}
