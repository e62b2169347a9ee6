-- barong-rs schema, SQLite flavour. Times are unix seconds (INTEGER) so both backends agree.
CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uid TEXT NOT NULL UNIQUE,
    username TEXT UNIQUE,
    email TEXT NOT NULL,
    email_key TEXT NOT NULL UNIQUE, -- lower-cased email: uniqueness must not depend on collation
    password_digest TEXT NOT NULL,
    role TEXT NOT NULL DEFAULT 'member',
    data TEXT,
    level INTEGER NOT NULL DEFAULT 0,
    otp INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL DEFAULT 'pending',
    referral_id INTEGER REFERENCES users(id),
    language TEXT NOT NULL DEFAULT 'en',
    otp_secret_sealed TEXT,
    otp_last_step INTEGER,
    claims_version INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE levels (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    description TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (key, value)
);

CREATE TABLE labels (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    scope TEXT NOT NULL DEFAULT 'public',
    description TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (user_id, key, scope)
);

CREATE TABLE permissions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    action TEXT NOT NULL,
    role TEXT NOT NULL,
    verb TEXT NOT NULL,
    path TEXT NOT NULL,
    topic TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (role, verb, path, action)
);
CREATE INDEX index_permissions_on_topic ON permissions (topic);

CREATE TABLE restrictions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    category TEXT NOT NULL,
    scope TEXT NOT NULL,
    value TEXT NOT NULL,
    code INTEGER,
    state TEXT NOT NULL DEFAULT 'enabled',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (category, scope, value)
);

CREATE TABLE profiles (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    author TEXT,
    applicant_id TEXT,
    first_name_sealed TEXT,
    last_name_sealed TEXT,
    dob_sealed TEXT,
    address_sealed TEXT,
    postcode TEXT,
    city TEXT,
    country TEXT,
    state INTEGER NOT NULL DEFAULT 0,
    metadata TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX index_profiles_on_user_id ON profiles (user_id);

CREATE TABLE documents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    upload TEXT NOT NULL,
    doc_type TEXT,
    doc_expire TEXT,
    doc_number_sealed TEXT,
    doc_number_index TEXT,
    doc_issue TEXT,
    doc_category TEXT,
    identificator TEXT,
    metadata TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX index_documents_on_user_id ON documents (user_id);
CREATE INDEX index_documents_on_doc_number_index ON documents (doc_number_index);

CREATE TABLE phones (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    country TEXT NOT NULL,
    code TEXT,
    code_expires_at INTEGER,
    code_attempts INTEGER NOT NULL DEFAULT 0,
    number_sealed TEXT NOT NULL,
    number_index TEXT NOT NULL,
    validated_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX index_phones_on_user_id ON phones (user_id);
CREATE INDEX index_phones_on_number_index ON phones (number_index);

CREATE TABLE service_accounts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uid TEXT NOT NULL UNIQUE,
    owner_id INTEGER REFERENCES users(id),
    email TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL DEFAULT 'service_account',
    level INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL DEFAULT 'active',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE api_keys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key_holder_account_id INTEGER NOT NULL,
    key_holder_account_type TEXT NOT NULL,
    kid TEXT NOT NULL UNIQUE,
    algorithm TEXT NOT NULL,
    scope TEXT NOT NULL DEFAULT '[]', -- JSON array of strings
    secret_sealed TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'active',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX index_api_keys_on_holder ON api_keys (key_holder_account_type, key_holder_account_id);

CREATE TABLE data_storages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    data TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (user_id, title)
);

CREATE TABLE activities (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER,
    target_uid TEXT,
    category TEXT NOT NULL,
    user_ip TEXT NOT NULL,
    user_ip_country TEXT,
    user_agent TEXT,
    topic TEXT NOT NULL,
    action TEXT NOT NULL,
    result TEXT NOT NULL,
    data TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX index_activities_on_user_id ON activities (user_id, id);

CREATE TABLE comments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    author_uid TEXT NOT NULL,
    title TEXT NOT NULL,
    data TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX index_comments_on_user_id ON comments (user_id);

-- What Barong kept in Redis. Session ids are stored as SHA-256 hex: a database copy holds no live session.
CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    user_ip TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    absolute_expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX index_sessions_on_user_id ON sessions (user_id);
CREATE INDEX index_sessions_on_expires_at ON sessions (expires_at);

CREATE TABLE used_tokens (
    jti TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL
);

CREATE TABLE reset_tokens (
    user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    reset_token TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);

CREATE TABLE whitelinks (
    token_hash TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE api_key_nonces (
    kid TEXT NOT NULL,
    nonce INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (kid, nonce)
);

-- Failed-attempt counters for brute-force protection, shared by every daemon on the database.
CREATE TABLE throttles (
    bucket TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    window_started_at INTEGER NOT NULL
);

CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY,
    algorithm TEXT NOT NULL,
    private_sealed TEXT NOT NULL,
    public_pem TEXT NOT NULL,
    state TEXT NOT NULL, -- active | previous | retired
    created_at INTEGER NOT NULL
);

-- Outgoing mail waiting for (re)delivery; a message leaves the table only once delivered.
CREATE TABLE mail_queue (
    id TEXT PRIMARY KEY,
    recipient TEXT NOT NULL,
    message BLOB NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX index_mail_queue_on_next_attempt_at ON mail_queue (next_attempt_at);

-- Change feed: every daemon polls it to drop cached sessions, users, permissions and keys.
CREATE TABLE changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
