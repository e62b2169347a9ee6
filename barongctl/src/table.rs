//! The one table style every printer uses, so all of barongctl's tables look alike. A leaf: it
//! knows nothing of barongctl's nouns.

use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};

pub fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Dynamic).set_header(header.to_vec());
    t
}
