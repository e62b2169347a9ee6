//! Password hashing (argon2id on its own threads, behind a semaphore so a login flood cannot
//! exhaust memory) and Barong's password policy (regexp, then entropy).

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::config::{Argon2Settings, Config};
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{ARGON2ID_IDENT, Algorithm, Argon2, Block, Params, Version};
use tokio::sync::{Semaphore, oneshot};

use crate::services::error::{ServiceError, ServiceResult};
use crate::services::identity::legacy_passwords::{self, bcrypt_input};
use crate::services::identity::password_strength;
use crate::services::telemetry::record;

/// Upper bound on accepted password length, bytes: keeps hashing cost bounded for huge inputs.
pub const MAX_PASSWORD_BYTES: usize = 4096;

enum Work {
    Hash(Vec<u8>),
    Verify(Vec<u8>, String),
    /// A legacy digest imported from Barong, with the bytes of the password bcrypt reads.
    Bcrypt(Vec<u8>, String),
}

struct Job {
    work: Work,
    /// When the job was queued: a worker reports how long it waited.
    queued_at: Instant,
    reply: oneshot::Sender<Result<String, String>>,
}

/// Argon2id (and Barong's legacy bcrypt) on a fixed pool of hashing threads. Each thread allocates one argon2 memory block on
/// its first job and reuses it while work keeps coming (allocating 19 MiB per hash left glibc
/// holding hundreds of MiB after a login flood), and frees it after a few idle seconds. The
/// semaphore bounds jobs in flight, so a flood queues instead of growing memory.
#[derive(Clone)]
pub struct Hasher {
    jobs: flume::Sender<Job>,
    permits: Arc<Semaphore>,
    /// A real hash of a random password: verifying unknown emails against it costs the same as a
    /// real check, so response time does not reveal which emails exist.
    dummy: Arc<String>,
}

impl Hasher {
    pub fn new(s: &Argon2Settings) -> Result<Self, String> {
        let params = Params::new(s.memory_kib, s.iterations, s.parallelism, None)
            .map_err(|e| format!("argon2: invalid parameters: {e}"))?;
        let workers = if s.max_concurrent > 0 {
            s.max_concurrent
        } else {
            let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
            let by_memory = (256 * 1024 / s.memory_kib.max(1) as usize).max(1);
            cores.min(by_memory).max(1)
        };
        // Each worker waits on the queue itself (no shared lock), so each one notices its own
        // idleness and frees its block.
        let (tx, rx) = flume::unbounded::<Job>();
        for i in 0..workers {
            let rx = rx.clone();
            let params = params.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || worker(&rx, &params))
                .map_err(|e| format!("argon2: cannot start a hashing thread: {e}"))?;
        }
        // Twice the workers in flight keeps every thread busy without an unbounded queue.
        let permits = Arc::new(Semaphore::new(workers * 2));
        let mut pw = [0u8; 24];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut pw);
        let mut blocks = vec![Block::default(); params.block_count()];
        let dummy = hash_with(&params, &pw, &mut blocks)?;
        Ok(Hasher { jobs: tx, permits, dummy: Arc::new(dummy) })
    }

    async fn run(&self, work: Work) -> ServiceResult<Result<String, String>> {
        // Counted from before the permit: a flood waits for permits, and that wait is the queue.
        let _queued = record::argon2_queued();
        let queued_at = Instant::now();
        let _permit = self.permits.acquire().await.map_err(ServiceError::internal)?;
        let (reply, answer) = oneshot::channel();
        self.jobs.send(Job { work, queued_at, reply }).map_err(|_| ServiceError::internal("argon2 workers stopped"))?;
        answer.await.map_err(|_| ServiceError::internal("argon2 worker dropped a job"))
    }

    pub async fn hash(&self, password: &str) -> ServiceResult<String> {
        self.run(Work::Hash(password.as_bytes().to_vec())).await?.map_err(ServiceError::internal)
    }

    /// Checks `password` against `digest` (argon2id, or bcrypt imported from Barong); with no
    /// digest, or a bcrypt variant barong-rs refuses (`$2x$`, malformed), burns the work of an
    /// argon2id check and says no, as for a wrong password.
    pub async fn verify(&self, password: &str, digest: Option<&str>) -> ServiceResult<bool> {
        let pw = password.as_bytes();
        let (work, known) = match digest {
            Some(d) if legacy_passwords::accepted(d) => (Work::Bcrypt(bcrypt_input(pw).to_vec(), d.to_string()), true),
            Some(d) if !legacy_passwords::is_legacy(d) => (Work::Verify(pw.to_vec(), d.to_string()), true),
            _ => (Work::Verify(pw.to_vec(), self.dummy.as_str().to_string()), false),
        };
        let ok = self.run(work).await?;
        Ok(ok.is_ok() && known)
    }
}

/// How long a hashing thread keeps its memory block without work. A login flood reuses the
/// blocks; an idle daemon gives the memory back (19 MiB a thread at the default cost).
const KEEP_BLOCKS_IDLE: Duration = Duration::from_secs(5);

fn worker(rx: &flume::Receiver<Job>, params: &Params) {
    let mut blocks: Option<Vec<Block>> = None;
    loop {
        let job = match rx.recv_timeout(KEEP_BLOCKS_IDLE) {
            Ok(job) => job,
            Err(flume::RecvTimeoutError::Timeout) => {
                if blocks.take().is_some() {
                    crate::memory::give_back(true);
                }
                continue;
            }
            Err(flume::RecvTimeoutError::Disconnected) => return,
        };
        record::argon2_waited(job.queued_at.elapsed());
        let blocks = blocks.get_or_insert_with(|| vec![Block::default(); params.block_count()]);
        let result = match job.work {
            Work::Hash(pw) => hash_with(params, &pw, blocks),
            Work::Verify(pw, digest) => verify_with(&pw, &digest, params, blocks).map(|()| String::new()),
            Work::Bcrypt(pw, digest) => match bcrypt::verify(&pw, &digest) {
                Ok(true) => Ok(String::new()),
                _ => Err("mismatch".into()),
            },
        };
        let _ = job.reply.send(result);
    }
}

/// A PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`) for `pw`, computed in `blocks`.
fn hash_with(params: &Params, pw: &[u8], blocks: &mut [Block]) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_buf = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_buf).map_err(|e| format!("argon2 salt: {e}"))?;
    let mut out = [0u8; 32];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password_into_with_memory(pw, salt_bytes, &mut out, blocks)
        .map_err(|e| format!("argon2: {e}"))?;
    let phc = PasswordHash {
        algorithm: ARGON2ID_IDENT,
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(params).map_err(|e| format!("argon2 params: {e}"))?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(|e| format!("argon2 output: {e}"))?),
    };
    Ok(phc.to_string())
}

/// Verifies against a stored PHC string; hashes made with other parameters get their own memory.
fn verify_with(pw: &[u8], digest: &str, ours: &Params, blocks: &mut [Block]) -> Result<(), String> {
    let parsed = PasswordHash::new(digest).map_err(|_| "unreadable digest".to_string())?;
    let algorithm = Algorithm::try_from(parsed.algorithm).map_err(|_| "not argon2".to_string())?;
    let version = parsed.version.map(Version::try_from).transpose().map_err(|_| "bad version".to_string())?;
    let params = Params::try_from(&parsed).map_err(|_| "bad parameters".to_string())?;
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else { return Err("incomplete digest".into()) };
    let mut salt_buf = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_buf).map_err(|_| "bad salt".to_string())?;
    let mut out = vec![0u8; expected.len()];
    let argon = Argon2::new(algorithm, version.unwrap_or(Version::V0x13), params.clone());
    let computed = if params.block_count() == ours.block_count() {
        argon.hash_password_into_with_memory(pw, salt_bytes, &mut out, blocks)
    } else {
        argon.hash_password_into(pw, salt_bytes, &mut out)
    };
    computed.map_err(|_| "argon2 failed".to_string())?;
    let same: bool = subtle::ConstantTimeEq::ct_eq(out.as_slice(), expected.as_bytes()).into();
    if same { Ok(()) } else { Err("mismatch".into()) }
}

/// Barong's `password_regexp` + `password_min_entropy` policy.
pub struct Policy {
    regexp: fancy_regex::Regex,
    /// The configured source, for `/configs` (rendered the Ruby way).
    pub source: String,
    pub min_entropy: f64,
    pub use_dictionary: bool,
}

impl Policy {
    pub fn new(config: &Config) -> Result<Self, String> {
        // Ruby's `^`/`$` are line anchors; here they anchor the whole text, so a multi-line
        // password cannot satisfy the policy with one short line
        // (docs/barong-weaknesses-fixed.md#w-password-anchors).
        let regexp = fancy_regex::Regex::new(&config.password_regexp)
            .map_err(|e| format!("password_regexp: invalid regular expression: {e}"))?;
        Ok(Policy {
            regexp,
            source: config.password_regexp.clone(),
            min_entropy: config.password_min_entropy,
            use_dictionary: config.password_use_dictionary,
        })
    }

    pub fn entropy(&self, password: &str) -> f64 {
        password_strength::entropy(password, self.min_entropy, self.use_dictionary)
    }

    /// Model errors for a new password, in Barong's order: `password.requirements`, `password.weak`.
    pub fn check(&self, password: &str) -> Option<&'static str> {
        if password.len() > MAX_PASSWORD_BYTES || !self.regexp.is_match(password).unwrap_or(false) {
            return Some("password.requirements");
        }
        if self.entropy(password) < self.min_entropy {
            return Some("password.weak");
        }
        None
    }

    /// `(?-mix:<source>)`, as Ruby's `Regexp#to_s` renders it in `/configs`.
    pub fn ruby_source(&self) -> String {
        format!("(?-mix:{})", self.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fast() -> Argon2Settings {
        Argon2Settings { memory_kib: 64, iterations: 1, parallelism: 1, max_concurrent: 2 }
    }

    #[tokio::test]
    async fn hash_then_verify() {
        let h = Hasher::new(&fast()).expect("hasher");
        let d = h.hash("Tecohvi0!x").await.expect("hash");
        assert!(d.starts_with("$argon2id$"));
        assert!(h.verify("Tecohvi0!x", Some(&d)).await.expect("verify"));
        assert!(!h.verify("wrong", Some(&d)).await.expect("verify"));
        assert!(!h.verify("Tecohvi0!x", None).await.expect("dummy"));
        assert!(!h.verify("x", Some("not a hash")).await.expect("garbage digest"));
    }

    #[tokio::test]
    async fn digests_from_the_argon2_crate_and_other_parameters_verify() {
        use argon2::PasswordHasher as _;
        let h = Hasher::new(&fast()).expect("hasher");
        let salt = SaltString::generate(&mut OsRng);
        let other = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(128, 2, 1, None).expect("params"));
        let digest = other.hash_password(b"Tecohvi0!x", &salt).expect("hash").to_string();
        assert!(h.verify("Tecohvi0!x", Some(&digest)).await.expect("verify"));
        assert!(!h.verify("Tecohvi0!y", Some(&digest)).await.expect("verify"));
        let ours = h.hash("pw").await.expect("hash");
        let parsed = PasswordHash::new(&ours).expect("PHC");
        assert!(argon2::PasswordVerifier::verify_password(&Argon2::default(), b"pw", &parsed).is_ok());
    }

    #[tokio::test]
    async fn bcrypt_digests_from_barong_verify_on_their_first_72_bytes() {
        let h = Hasher::new(&fast()).expect("hasher");
        let pw = "Tecohvi0!x".repeat(8); // 80 bytes
        let digest = bcrypt::hash(&pw.as_bytes()[..72], 4).expect("bcrypt");
        assert!(h.verify(&pw, Some(&digest)).await.expect("verify"));
        assert!(h.verify(&pw[..72], Some(&digest)).await.expect("verify 72"));
        assert!(!h.verify(&pw[..71], Some(&digest)).await.expect("verify 71"));
        for variant in ["$2a$", "$2y$"] {
            let d = digest.replacen("$2b$", variant, 1);
            assert!(h.verify(&pw, Some(&d)).await.expect("variant"), "{variant}");
        }
        let x = digest.replacen("$2b$", "$2x$", 1);
        assert!(!h.verify(&pw, Some(&x)).await.expect("2x"), "$2x$ is refused");
    }

    #[test]
    fn default_policy_follows_barong() {
        let p = Policy::new(&Config::default()).expect("policy");
        assert_eq!(p.check("short1A"), Some("password.requirements"));
        assert_eq!(p.check("alllowercase1"), Some("password.requirements"));
        assert_eq!(p.check("Password1"), Some("password.weak"));
        assert_eq!(p.check("ZahSh8ei"), None);
        assert_eq!(p.check("ab\nZahSh8eiQ"), Some("password.requirements"), "multi-line");
        assert!(p.ruby_source().starts_with("(?-mix:^(?=.*[[:lower:]])"));
    }
}
