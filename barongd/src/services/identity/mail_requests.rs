//! Mails anyone can ask for by naming an address: a password reset link, a new confirmation
//! link (docs/barong-weaknesses-fixed.md#w-mail-flood). Limits per address and per client
//! network (`mail_throttle`) stop mail bombing. The reply is the same 201 either way, and the
//! work behind it (the account lookup, token, activity, mail) runs after the reply, so neither a
//! limit nor the existence of the account shows in the answer or in its timing.

use std::future::Future;
use std::sync::Arc;

use crate::services::App;
use crate::services::error::ServiceResult;
use crate::services::identity::attempts::client_net;
use crate::store::throttle::Hit;

const MINUTE: i64 = 60;
const HOUR: i64 = 3600;

/// Counts a request for a mail to the address `key` from `ip`; whether a mail may go. The
/// network is counted first so a flood of invented addresses from one place stops adding rows
/// once it is over its limit; an address's hourly count only counts requests that passed its
/// per-minute limit, so repeated clicks within a minute do not use up the hour.
pub async fn allowed(app: &App, key: &str, ip: &str) -> ServiceResult<bool> {
    let m = &app.config.mail_throttle;
    let net = format!("mail:ip:{}", client_net(ip));
    let minute = format!("mail:address:{key}:minute");
    let hour = format!("mail:address:{key}:hour");
    for (bucket, window, max) in [
        (&net, HOUR, m.max_per_ip_per_hour),
        (&minute, MINUTE, m.max_per_address_per_minute),
        (&hour, HOUR, m.max_per_address_per_hour),
    ] {
        let counts = app.store.hit(&[Hit { bucket, window }], app.clock.now()).await?;
        if counts.first().is_none_or(|n| *n > max) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// How long a job waits before it starts. Spawned at once, it ran while the reply was still being
/// written and, on a small machine, slowed that reply by ~10 % whenever the account existed
/// (bench/reset_timing); started after the reply is on the wire, its cost shows in no reply.
const AFTER_REPLY_DELAY: std::time::Duration = std::time::Duration::from_millis(20);

/// Runs `job` after the reply. A failure is logged with the request id; the client was told
/// 201 already, as it is for an unknown address. The mail itself is queued in the database
/// within the job, so it survives a restart once queued.
pub fn after_reply<F, Fut>(app: &Arc<App>, request_id: &str, what: &'static str, job: F)
where
    F: FnOnce(Arc<App>) -> Fut + Send + 'static,
    Fut: Future<Output = ServiceResult<()>> + Send + 'static,
{
    let (app, request_id) = (app.clone(), request_id.to_string());
    tokio::spawn(async move {
        tokio::time::sleep(AFTER_REPLY_DELAY).await;
        if let Err(e) = job(app).await {
            tracing::warn!(%request_id, error = %e, "{what} not sent");
        }
    });
}
