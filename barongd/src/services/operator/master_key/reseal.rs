//! The re-seal: every sealed table in batches, by key order. A value already sealed under the
//! new key (a write since the rotation began, or a batch committed before a crash) with its index
//! already under the new key is left alone, so running a stretch again changes nothing.

use std::time::Duration;

use crate::services::App;
use crate::services::seal::Sealer;
use crate::store::master_key::{IndexSpec, Reseal, RotationRow, SEALED_TABLES, SealedRow, SealedTable};

/// The new values of one batch's rows; an error names the row and column, never the value.
pub fn reseal_rows(sealer: &Sealer, table: &SealedTable, rows: &[SealedRow]) -> Result<Vec<Reseal>, String> {
    let mut out = Vec::new();
    for row in rows {
        for (i, column) in table.columns.iter().enumerate() {
            let (Some(sealed), stored_index) = &row.values[i] else { continue };
            // An API key imported without its secret holds '' (migration 0012).
            if sealed.is_empty() {
                continue;
            }
            let clear = zeroize::Zeroizing::new(sealer.open(sealed).map_err(|e| {
                format!("{}.{} of row {}: {e} (neither the old nor the new key)", table.name, column.name, row.key)
            })?);
            let index = column.index.as_ref().and_then(|spec| index_of(sealer, spec, &clear));
            if sealer.opens_with_current(sealed) && (column.index.is_none() || index == *stored_index) {
                continue;
            }
            out.push(Reseal { key: row.key.clone(), column: i, old: sealed.clone(), new: sealer.seal(&clear), index });
        }
    }
    Ok(out)
}

/// The blind index the services keep for this plaintext, under the key that seals now.
fn index_of(sealer: &Sealer, spec: &IndexSpec, clear: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(clear).ok()?;
    match spec.json_field {
        None => Some(sealer.blind_index(spec.domain, text)),
        Some(field) => {
            let doc: serde_json::Value = serde_json::from_str(text).ok()?;
            doc.get(field).and_then(|v| v.as_str()).map(|v| sealer.blind_index(spec.domain, v))
        }
    }
}

/// Re-seals from where `rotation` stands to the end, committing progress with every batch.
pub async fn run_from(app: &App, rotation: &RotationRow) -> Result<(), String> {
    let start = SEALED_TABLES.iter().position(|t| t.name == rotation.table_name).unwrap_or(0);
    let mut position = (rotation.table_name.clone(), rotation.last_key.clone());
    for (i, table) in SEALED_TABLES.iter().enumerate().skip(start) {
        let after = if i == start { rotation.last_key.clone() } else { String::new() };
        position = pass(app, rotation.id, table, after, None).await?.unwrap_or(position);
    }
    // A request that sealed under the old key just before the rotation began may have written
    // after its row was visited: one more look at everything, with the progress left at the end
    // so a crash here comes back to this sweep.
    for table in SEALED_TABLES {
        pass(app, rotation.id, table, String::new(), Some(&position)).await?;
    }
    Ok(())
}

/// One table from `after` on. With `keep`, progress stays there; else it follows the batches.
/// Returns the last position written.
async fn pass(
    app: &App,
    rotation_id: i64,
    table: &SealedTable,
    mut after: String,
    keep: Option<&(String, String)>,
) -> Result<Option<(String, String)>, String> {
    let settings = &app.config.master_key_rotation;
    let mut last = None;
    loop {
        let rows = app
            .store
            .sealed_batch(table, &after, i64::from(settings.batch_size))
            .await
            .map_err(|e| format!("reading {}: {e}", table.name))?;
        let Some(end) = rows.last() else { return Ok(last) };
        after = end.key.clone();
        let reseals = reseal_rows(&app.sealer, table, &rows)?;
        let (t, k) = keep.cloned().unwrap_or_else(|| (table.name.to_string(), after.clone()));
        if keep.is_none() || !reseals.is_empty() {
            app.store
                .write_batch(rotation_id, table, &reseals, &t, &k)
                .await
                .map_err(|e| format!("writing {}: {e}", table.name))?;
        }
        last = Some((t, k));
        if settings.batch_delay_ms > 0 {
            tokio::time::sleep(Duration::from_millis(settings.batch_delay_ms)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(name: &str) -> &'static SealedTable {
        SEALED_TABLES.iter().find(|t| t.name == name).expect("listed")
    }

    #[test]
    fn old_values_are_resealed_with_their_index_and_new_ones_left_alone() {
        let sealer = Sealer::from_key(&[1u8; 32]);
        let old_number = sealer.seal(b"447418084106");
        let old_index = sealer.blind_index("phone", "447418084106");
        sealer.begin_rotation(&[2u8; 32]);
        let new_code = sealer.seal(b"12345");
        let rows = vec![SealedRow {
            key: "7".into(),
            values: vec![(Some(old_number.clone()), Some(old_index.clone())), (Some(new_code), None)],
        }];
        let reseals = reseal_rows(&sealer, table("phones"), &rows).expect("opens");
        assert_eq!(reseals.len(), 1);
        let r = &reseals[0];
        assert_eq!((r.key.as_str(), r.column, r.old.as_str()), ("7", 0, old_number.as_str()));
        assert!(sealer.opens_with_current(&r.new));
        assert_eq!(r.index.as_deref(), Some(sealer.blind_index("phone", "447418084106").as_str()));
        assert_ne!(r.index.as_deref(), Some(old_index.as_str()));
        // Run again over what the batch wrote: nothing left to do.
        let again =
            vec![SealedRow { key: "7".into(), values: vec![(Some(r.new.clone()), r.index.clone()), (None, None)] }];
        assert!(reseal_rows(&sealer, table("phones"), &again).expect("opens").is_empty());
    }

    #[test]
    fn a_new_value_with_a_stale_index_is_reindexed_and_json_fields_are_indexed() {
        let sealer = Sealer::from_key(&[1u8; 32]);
        let stale = sealer.blind_index("document", "AB123");
        sealer.begin_rotation(&[2u8; 32]);
        let rows = vec![SealedRow { key: "1".into(), values: vec![(Some(sealer.seal(b"AB123")), Some(stale))] }];
        let r = reseal_rows(&sealer, table("documents"), &rows).expect("opens");
        assert_eq!(r[0].index, Some(sealer.blind_index("document", "AB123")));
        let inputs = sealer.seal(br#"{"secret_key_base":"skb"}"#);
        let rows = vec![SealedRow { key: "1".into(), values: vec![(Some(inputs), None)] }];
        let r = reseal_rows(&sealer, table("import_jobs"), &rows).expect("opens");
        assert_eq!(r[0].index, Some(sealer.blind_index("import secret_key_base", "skb")));
    }

    #[test]
    fn the_rotation_indexes_phones_under_the_services_domain() {
        let spec = table("phones").columns[0].index.as_ref().expect("indexed");
        assert_eq!(spec.domain, crate::services::kyc::phone_index::INDEX_DOMAIN);
    }

    #[test]
    fn a_value_under_neither_key_stops_the_rotation_without_showing_it() {
        let stranger = Sealer::from_key(&[9u8; 32]).seal(b"secret");
        let sealer = Sealer::from_key(&[1u8; 32]);
        sealer.begin_rotation(&[2u8; 32]);
        let rows = vec![SealedRow { key: "3".into(), values: vec![(Some(stranger), None)] }];
        let e = reseal_rows(&sealer, table("users"), &rows).err().unwrap_or_default();
        assert!(e.starts_with("users.otp_secret_sealed of row 3:"), "{e}");
        assert!(!e.contains("secret\""));
        let empty = vec![SealedRow { key: "4".into(), values: vec![(Some(String::new()), None)] }];
        assert!(reseal_rows(&sealer, table("api_keys"), &empty).expect("skipped").is_empty());
    }
}
