-- The KYC review history (issue 14): every decision on a user's profile, documents or address,
-- with the reviewer's reason, written in the transaction that moves the label. The label keeps
-- only the latest decision (its description holds the reason); this keeps them all, so support
-- can answer "why was I rejected, and by whom" after a later resubmission.
CREATE TABLE kyc_reviews (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    check_key TEXT NOT NULL,
    verdict TEXT NOT NULL,
    reason TEXT,
    author TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX index_kyc_reviews_on_user_id ON kyc_reviews (user_id, id);
CREATE INDEX index_kyc_reviews_on_created_at ON kyc_reviews (created_at);
