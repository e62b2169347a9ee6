//! Barong's environment variables that are not `BARONG_<KEY>` of a setting (migration spec §4):
//! the `DATABASE_*` parts, `PORT`, the `BARONG_SMTP_*`/`BARONG_SENDER_*` mail settings and
//! `LOG_LEVEL`, each turned into the barong-rs setting with Barong's meaning; and the variables
//! barongd has no use for, named (never their values) in one start-up line.

use crate::config::yaml::{Mapping, Value};

/// The `DATABASE_*` parts of Barong's `database.yml`.
const DATABASE_PARTS: [&str; 6] =
    ["DATABASE_ADAPTER", "DATABASE_HOST", "DATABASE_PORT", "DATABASE_USER", "DATABASE_PASS", "DATABASE_NAME"];

/// Barong variables barongd does not read (spec §4: "not applicable", importer-only or "ignored").
const IGNORED: &[&str] = &[
    "BARONG_CRC32_SALT",
    "BARONG_VAULT_ADDRESS",
    "BARONG_VAULT_TOKEN",
    "BARONG_VAULT_APP_NAME",
    "VAULT_ADDR",
    "VAULT_TOKEN",
    "BARONG_REDIS_URL",
    "BARONG_REDIS_CLUSTER",
    "BARONG_REDIS_PASSWORD",
    "BARONG_SEEDS_FILE",
    "BARONG_SMTP_LOGO_LINK",
    "BARONG_SENTRY_DSN_BACKEND",
    "SECRET_KEY_BASE",
    "RAILS_MASTER_KEY",
    "RAILS_ENV",
    "RAILS_MAX_THREADS",
    "RAILS_MIN_THREADS",
    "WEB_CONCURRENCY",
    "RAILS_LOG_TO_STDOUT",
    "RAILS_LOG_TO_STDERR",
    "RAILS_SERVE_STATIC_FILES",
    "TZ",
    "MAXMINDDB_LINK",
    "MAXMINDDB_LICENSE_KEY",
    "JWT_ISSUER",
    "JWT_AUDIENCE",
    "JWT_ALGORITHM",
    "JWT_DEFAULT_LEEWAY",
    "JWT_ISSUED_AT_LEEWAY",
    "JWT_EXPIRATION_LEEWAY",
    "JWT_NOT_BEFORE_LEEWAY",
];

/// Prefixes of variable families read by Barong's gems only.
const IGNORED_PREFIXES: &[&str] = &["VAULT_RAILS_"];

/// The one-line refusal of a MySQL database: barong-rs never runs on Barong's database.
pub fn mysql_refusal(what: &str) -> String {
    format!(
        "{what}: barong-rs does not run on MySQL. Point DATABASE_URL at a new SQLite or PostgreSQL database \
         and copy Barong's data with: barongctl import barong --from-env"
    )
}

/// Sets, in `map`, what Barong's own variables mean. `database_flag`: `--database-url` was given,
/// so the `DATABASE_*` parts do not matter. Returns the warnings to log at start.
pub fn apply(
    map: &mut Mapping,
    env: &dyn Fn(&str) -> Option<String>,
    database_flag: bool,
) -> Result<Vec<String>, String> {
    let warnings = Vec::new();
    if !database_flag
        && env("DATABASE_URL").is_none()
        && let Some(url) = database_url(env)?
    {
        map.insert("database_url".into(), Value::String(url));
    }
    if env("BARONG_LISTEN").is_none()
        && let Some(port) = env("PORT")
    {
        let port: u16 = port.trim().parse().map_err(|_| format!("PORT: expected a port number, got `{port}`"))?;
        map.insert("listen".into(), Value::String(format!("0.0.0.0:{port}")));
    }
    if env("BARONG_LOG_LEVEL").is_none()
        && let Some(level) = env("LOG_LEVEL")
    {
        map.insert("log_level".into(), Value::String(log_level(&level)?));
    }
    mail(map, env)?;
    Ok(warnings)
}

/// Barong's `LOG_LEVEL` (Ruby's logger names) as a log filter.
fn log_level(raw: &str) -> Result<String, String> {
    match raw.trim().to_ascii_lowercase().as_str() {
        l @ ("debug" | "info" | "warn" | "error") => Ok(l.to_string()),
        "fatal" | "unknown" => Ok("error".into()),
        _ => Err(format!("LOG_LEVEL: expected debug, info, warn, error or fatal, got `{raw}`")),
    }
}

/// `postgres://USER:PASS@HOST:PORT/NAME` from Barong's parts, when any is set.
fn database_url(env: &dyn Fn(&str) -> Option<String>) -> Result<Option<String>, String> {
    if !DATABASE_PARTS.iter().any(|v| env(v).is_some()) {
        return Ok(None);
    }
    let adapter = env("DATABASE_ADAPTER").unwrap_or_default();
    match adapter.as_str() {
        "postgresql" | "postgres" => {}
        "" | "mysql2" | "mysql" => return Err(mysql_refusal("DATABASE_ADAPTER=mysql2")),
        other => return Err(format!("DATABASE_ADAPTER={other}: use postgresql, or set DATABASE_URL")),
    }
    let part = |k: &str, default: &str| env(k).filter(|v| !v.is_empty()).unwrap_or_else(|| default.to_string());
    let port = part("DATABASE_PORT", "5432");
    port.parse::<u16>().map_err(|_| format!("DATABASE_PORT: expected a port number, got `{port}`"))?;
    let host = part("DATABASE_HOST", "127.0.0.1");
    let user = encode(&part("DATABASE_USER", "root"));
    let pass = env("DATABASE_PASS").unwrap_or_default();
    let auth = if pass.is_empty() { user } else { format!("{user}:{}", encode(&pass)) };
    let name = encode(&part("DATABASE_NAME", "barong_production"));
    Ok(Some(format!("postgres://{auth}@{host}:{port}/{name}")))
}

/// `BARONG_SMTP_*` as an SMTP transport (unless the file set `mailer.smtp_url`) and
/// `BARONG_SENDER_*` as the From header.
fn mail(map: &mut Mapping, env: &dyn Fn(&str) -> Option<String>) -> Result<(), String> {
    let smtp_host = env("BARONG_SMTP_HOST").filter(|h| !h.is_empty());
    let sender = (env("BARONG_SENDER_EMAIL"), env("BARONG_SENDER_NAME"));
    if smtp_host.is_none() && sender == (None, None) {
        return Ok(());
    }
    let section = map.entry("mailer".into()).or_insert_with(|| Value::Mapping(Mapping::new()));
    let Value::Mapping(mailer) = section else { return Err("mailer: expected a mapping of settings".into()) };
    if let Some(host) = smtp_host {
        let own_url = mailer.get("smtp_url").and_then(Value::as_str).is_some_and(|u| !u.is_empty());
        if !own_url {
            let port = env("BARONG_SMTP_PORT").filter(|p| !p.is_empty()).unwrap_or_else(|| "1025".into());
            port.parse::<u16>().map_err(|_| format!("BARONG_SMTP_PORT: expected a port number, got `{port}`"))?;
            let user = env("BARONG_SMTP_USER").unwrap_or_default();
            let pass = env("BARONG_SMTP_PASSWORD").unwrap_or_default();
            let auth = match (user.is_empty(), pass.is_empty()) {
                (true, true) => String::new(),
                (_, true) => format!("{}@", encode(&user)),
                _ => format!("{}:{}@", encode(&user), encode(&pass)),
            };
            mailer.insert("transport".into(), Value::String("smtp".into()));
            mailer.insert("smtp_url".into(), Value::String(format!("smtp://{auth}{host}:{port}")));
        }
    }
    if sender != (None, None) {
        let email = sender.0.unwrap_or_else(|| "noreply@barong.io".into());
        let name = sender.1.unwrap_or_else(|| "Barong".into());
        let name = name.replace(['"', '\\'], "");
        mailer.insert("from".into(), Value::String(format!("\"{name}\" <{email}>")));
    }
    Ok(())
}

/// Percent-encoding of a URL user, password or path part (everything but unreserved characters).
fn encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, UNRESERVED).to_string()
}

const UNRESERVED: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// The set variables, of `names`, that barongd ignores, in the order of Barong's table.
pub fn ignored(names: &[String]) -> Vec<String> {
    let mut out: Vec<String> =
        IGNORED.iter().filter(|v| names.iter().any(|n| n == *v)).map(|v| v.to_string()).collect();
    let mut family: Vec<String> =
        names.iter().filter(|n| IGNORED_PREFIXES.iter().any(|p| n.starts_with(p))).cloned().collect();
    family.sort();
    out.extend(family);
    out
}

/// The start-up line naming the ignored variables, if any is set.
pub fn ignored_line(names: &[String]) -> Option<String> {
    let ignored = ignored(names);
    (!ignored.is_empty()).then(|| format!("Barong variables ignored by barongd: {}", ignored.join(", ")))
}

#[cfg(test)]
#[path = "barong_env_tests.rs"]
mod tests;
