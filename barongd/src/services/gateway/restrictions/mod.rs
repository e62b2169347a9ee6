//! Restrictions (whitelist, maintenance, blacklist, blocklogin) checked first by the gateway, from
//! an in-memory snapshot kept in step with the database; and whitelink tokens.

pub mod cache;
pub mod geo;
pub mod refresh;
pub mod rules;
#[cfg(test)]
mod tests;
pub mod whitelinks;
