//! Shared API-key nonces, written in batches. One INSERT per signed request makes the database's
//! round trips and commits the ceiling of the API-key flow; instead every nonce waiting while a
//! write is under way goes into the next one, so under load a statement carries hundreds of
//! nonces and a quiet daemon still writes each at once.

use std::sync::Arc;

use tokio::sync::{Semaphore, mpsc, oneshot};

use crate::store::{DynStore, NonceUse, StoreError, StoreResult};

/// Nonces per statement at most.
const MAX_BATCH: usize = 1024;
/// Statements under way at once; the next batch fills while they run.
const IN_FLIGHT: usize = 4;
/// Requests waiting for a slot in a batch; beyond it they wait to queue (backpressure).
const QUEUE: usize = 16 * MAX_BATCH;

struct Pending {
    nonce: NonceUse,
    answer: oneshot::Sender<Result<bool, String>>,
}

pub struct NonceBatcher {
    queue: mpsc::Sender<Pending>,
}

impl NonceBatcher {
    /// Starts the writer task; it ends when the batcher is dropped.
    pub fn spawn(store: DynStore) -> Self {
        let (queue, rx) = mpsc::channel(QUEUE);
        tokio::spawn(write_batches(store, rx));
        NonceBatcher { queue }
    }

    /// Records the nonce on the database; `false` when any daemon recorded it before.
    pub async fn use_nonce(&self, kid: &str, nonce: i64, expires_at: i64) -> StoreResult<bool> {
        let (answer, reply) = oneshot::channel();
        let pending = Pending { nonce: NonceUse { kid: kid.to_string(), nonce, expires_at }, answer };
        if self.queue.send(pending).await.is_err() {
            return Err(failed("the nonce writer has stopped"));
        }
        match reply.await {
            Ok(Ok(accepted)) => Ok(accepted),
            Ok(Err(e)) => Err(failed(&e)),
            Err(_) => Err(failed("the nonce writer dropped the request")),
        }
    }
}

fn failed(why: &str) -> StoreError {
    StoreError::Database(sqlx::Error::Protocol(format!("recording an API-key nonce: {why}")))
}

async fn write_batches(store: DynStore, mut rx: mpsc::Receiver<Pending>) {
    let slots = Arc::new(Semaphore::new(IN_FLIGHT));
    while let Some(first) = rx.recv().await {
        // Waiting for a slot first lets the batch grow while the database is busy.
        let Ok(slot) = slots.clone().acquire_owned().await else { return };
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(p) => batch.push(p),
                Err(_) => break,
            }
        }
        let store = store.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let (nonces, answers): (Vec<NonceUse>, Vec<_>) = batch.into_iter().map(|p| (p.nonce, p.answer)).unzip();
            crate::services::telemetry::record::nonce_batch(nonces.len());
            match store.use_nonces(&nonces).await {
                Ok(accepted) => {
                    for (answer, ok) in answers.into_iter().zip(accepted) {
                        let _ = answer.send(Ok(ok));
                    }
                }
                Err(e) => {
                    let why = e.to_string();
                    for answer in answers {
                        let _ = answer.send(Err(why.clone()));
                    }
                }
            }
        });
    }
}
