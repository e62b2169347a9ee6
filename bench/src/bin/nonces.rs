//! The shared nonce store on its own: how many API-key nonces a second the gateway's batched
//! writer records on PostgreSQL, without the HTTP and HMAC work around it, from one or two
//! "daemons" (each its own pool and writer). Then every nonce is replayed once, across daemons,
//! and each replay must be refused. See bench/README.md.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use barong_bench::{ScratchPg, arg, percentile, text_arg};
use barongd::services::gateway::nonce_batch::NonceBatcher;

const KEYS: i64 = 32;

fn now_secs() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs() as i64
}

#[tokio::main]
async fn main() {
    let seconds = arg("--seconds", 10);
    let tasks = arg("--tasks", 256) as usize;
    let daemons = arg("--daemons", 1).max(1) as usize;
    let server = text_arg("--database-url", "postgres://postgres@127.0.0.1:5432/postgres");
    let mut pg = ScratchPg::create(&server, "barong_bench_nonces").await;
    let mut writers = Vec::new();
    for _ in 0..daemons {
        let store = barongd::store::open(&pg.url, 16).await.expect("open the store");
        store.migrate(now_secs()).await.expect("migrate");
        writers.push(Arc::new(NonceBatcher::spawn(store)));
    }
    // Nonces are unique across tasks: (key, millisecond) pairs from one counter.
    let next = Arc::new(AtomicI64::new(now_secs() * 1000));
    let stop = Arc::new(AtomicBool::new(false));
    let accepted = Arc::new(AtomicU64::new(0));
    let refused = Arc::new(AtomicU64::new(0));
    let (c0, r0) = pg.writes().await;
    let started = Instant::now();
    let mut handles = Vec::new();
    for t in 0..tasks {
        let (writer, next, stop) = (writers[t % daemons].clone(), next.clone(), stop.clone());
        let (accepted, refused) = (accepted.clone(), refused.clone());
        handles.push(tokio::spawn(async move {
            let mut used = Vec::new();
            let mut latencies = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let n = next.fetch_add(1, Ordering::Relaxed);
                let kid = format!("kid-{}", n % KEYS);
                let t0 = Instant::now();
                let ok = writer.use_nonce(&kid, n, now_secs() + 7).await.expect("nonce write");
                latencies.push(t0.elapsed());
                if ok { &accepted } else { &refused }.fetch_add(1, Ordering::Relaxed);
                used.push((kid, n));
            }
            (used, latencies)
        }));
    }
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let mut used = Vec::new();
    let mut latencies = Vec::new();
    for h in handles {
        let (u, l) = h.await.expect("task");
        used.extend(u);
        latencies.extend(l);
    }
    let elapsed = started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (c1, r1) = pg.writes().await;
    latencies.sort();
    let ok = accepted.load(Ordering::Relaxed);

    // Every nonce again, each through another daemon than the one that first took it: all refused.
    let replays = Arc::new(AtomicU64::new(0));
    let mut checks = Vec::new();
    for (i, chunk) in used.chunks(used.len().div_ceil(tasks).max(1)).enumerate() {
        let (writer, chunk, replays) = (writers[(i + 1) % daemons].clone(), chunk.to_vec(), replays.clone());
        checks.push(tokio::spawn(async move {
            for (kid, n) in chunk {
                if writer.use_nonce(&kid, n, now_secs() + 7).await.expect("replay") {
                    replays.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for c in checks {
        c.await.expect("replay task");
    }
    drop(writers);
    pg.drop_db().await;

    println!("bench/nonces: {tasks} concurrent writers, {daemons} daemon(s), {seconds} s, PostgreSQL, loopback");
    println!(
        "  {:.0} nonces/s recorded ({ok} accepted, {} wrongly refused), p50 {:.2} ms p99 {:.2} ms per nonce",
        ok as f64 / elapsed,
        refused.load(Ordering::Relaxed),
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99)
    );
    println!(
        "  database: {:.0} commits/s, {:.0} rows written/s ({:.1} nonces per statement) (target >= 20,000 nonces/s)",
        (c1 - c0) as f64 / elapsed,
        (r1 - r0) as f64 / elapsed,
        (r1 - r0) as f64 / ((c1 - c0).max(1)) as f64
    );
    println!(
        "  replays of all {} nonces through another daemon: {} accepted (must be 0)",
        used.len(),
        replays.load(Ordering::Relaxed)
    );
}
