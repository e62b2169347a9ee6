-- KYCAID work (issue 15): applicants, documents, addresses and verification look-ups waiting
-- to be sent to KYCAID. Durable like mail_queue: a restart or a KYCAID outage loses nothing;
-- a worker claims a job by moving next_attempt_at forward (a lease), so two daemons sharing a
-- database never run one job at once. payload_sealed holds the job's inputs (an address's text
-- is PII) sealed under the master key.
CREATE TABLE kycaid_jobs (
    id TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    payload_sealed TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX index_kycaid_jobs_on_next_attempt_at ON kycaid_jobs (next_attempt_at);
CREATE INDEX index_profiles_on_applicant_id ON profiles (applicant_id);
