//! Barong 2.7's stored formats, as the importer meets them (migration spec §1): Rails-encrypted PII
//! columns with their Ruby Marshal payloads, Vault's API-key ciphertexts and the answers of Vault's API, the CRC32 lookup
//! indexes, exported secrets files, `apikeys.scope` YAML and Barong's environment files.
//! Pure functions, no I/O: the daemon decides what to do with every failure.

pub mod env_file;
pub mod index;
pub mod marshal;
pub mod pii;
pub mod scope;
pub mod secrets_file;
pub mod vault;
pub mod vault_api;
