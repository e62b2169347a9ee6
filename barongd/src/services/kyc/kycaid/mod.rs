//! KYCAID as the KYC provider (`kyc_provider: kycaid`, Barong's `KYC::Kycaid` workers).
//!
//! The KYC steps queue durable jobs in `kycaid_jobs` (after the write that caused them); a
//! worker sends them to KYCAID with retries, and KYCAID's signed callback queues a job that
//! re-fetches the verification and moves the labels. What runs when:
//! * profile submitted → [`applicant`]: a KYCAID applicant; the profile becomes `verified`
//!   (Barong's meaning: the applicant exists) or `rejected`;
//! * a complete identity document set → [`documents`]: files, documents and a DOCUMENT+FACIAL
//!   verification; `document=rejected` when KYCAID refuses;
//! * an address → [`address`]: file, address and an ADDRESS verification;
//! * the callback → [`verification`]: `document`/`address` labels `verified` or `rejected`.

pub mod address;
pub mod applicant;
pub mod callback;
pub mod client;
pub mod documents;
pub mod jobs;
pub mod outcome;
pub mod queue;
pub mod sets;
pub mod signature;
pub mod verification;
pub mod worker;

use std::sync::Arc;

use tokio::sync::Notify;

use crate::config::{Config, KycProvider};

/// The author of KYCAID's decisions in the review history (`barongctl kyc history`).
pub const AUTHOR: &str = "kycaid";

/// What a daemon with `kyc_provider: kycaid` holds: the API client and the worker's wake-up.
pub struct Kycaid {
    pub client: client::Client,
    wake: Arc<Notify>,
}

impl Kycaid {
    /// `None` unless `kyc_provider` is `kycaid`.
    pub fn new(c: &Config) -> Result<Option<Kycaid>, String> {
        if c.kyc_provider != KycProvider::Kycaid {
            return Ok(None);
        }
        Ok(Some(Kycaid { client: client::Client::new(c)?, wake: Arc::new(Notify::new()) }))
    }

    /// Tells the worker a job is waiting.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    pub(crate) fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }
}

/// Where KYCAID sends its verdicts: `<domain>/api/v2/barong/public/kyc` (Barong's URL).
pub fn callback_url(c: &Config) -> String {
    format!("{}/api/v2/barong/public/kyc", c.domain.trim_end_matches('/'))
}
