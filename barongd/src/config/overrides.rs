//! What the command line can override (a leaf, so that knowing where a value came from does not
//! depend on loading).

use std::path::PathBuf;

/// What the command line can override.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub config: Option<PathBuf>,
    pub listen: Option<String>,
    pub data_dir: Option<String>,
    pub database_url: Option<String>,
    pub log_level: Option<String>,
}
