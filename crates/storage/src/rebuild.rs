//! Rebuilding series definitions lost from a damaged schema log: databases from the data
//! directories' names (`sequence|unsequence/<database>/<region id>`), series from the
//! TsFiles' metadata (type; encoding and compressor of the first chunk; aligned devices)
//! and from the WAL records replayed into the memtables (type, with the type's default
//! encoding and the configured compressor). Tags, attributes, aliases and templates are
//! not in the data and cannot be rebuilt; the warning says so.

use crate::region::DataRegion;
use crate::schema::Schema;
use crate::schema_ops::SchemaOp;
use model::{CompressionType, MeasurementSchema, PartialPath};
use std::collections::{BTreeMap, HashSet};
use std::path::Path;

/// `CreateDatabase` ops for the region directories under `data_dir` that no database of
/// `schema` owns.
pub(crate) fn databases(data_dir: &Path, schema: &Schema, interval: i64) -> Vec<SchemaOp> {
    let known: HashSet<u64> = schema.all_databases().iter().map(|d| d.region_id).collect();
    let mut found: BTreeMap<u64, PartialPath> = BTreeMap::new();
    for space in ["sequence", "unsequence"] {
        let Ok(dbs) = std::fs::read_dir(data_dir.join(space)) else {
            continue;
        };
        for db in dbs.flatten() {
            let name = db.file_name().to_string_lossy().to_string();
            for id in std::fs::read_dir(db.path()).into_iter().flatten().flatten() {
                let Some(id) = id.file_name().to_str().and_then(|n| n.parse::<u64>().ok()) else {
                    continue;
                };
                if known.contains(&id) || found.contains_key(&id) {
                    continue;
                }
                match PartialPath::parse(&name) {
                    Ok(path) if schema.database_of(&path).is_none() => {
                        found.insert(id, path);
                    }
                    _ => tracing::warn!(
                        "region {id} under {} names no database that can be rebuilt",
                        db.path().display()
                    ),
                }
            }
        }
    }
    found
        .into_iter()
        .map(|(region_id, path)| SchemaOp::CreateDatabase {
            path,
            region_id,
            ttl: None,
            interval,
        })
        .collect()
}

/// `CreateSeries` ops for the series stored in `region` (files, then memtables) that
/// `schema` does not define.
pub(crate) fn series(
    region: &DataRegion,
    schema: &Schema,
    compressor: CompressionType,
) -> Vec<SchemaOp> {
    let missing = |device: &str, m: &str| {
        PartialPath::parse(&format!("{device}.{m}"))
            .map(|p| schema.resolve(&p).is_none())
            .unwrap_or(false)
    };
    let mut found: BTreeMap<String, (MeasurementSchema, bool)> = BTreeMap::new();
    // newest file first: its chunk header carries the series' latest encoding
    for f in region.files().snapshot().iter().rev() {
        match f.series_schemas(&missing) {
            Ok(list) => {
                for (device, s, aligned) in list {
                    found
                        .entry(format!("{device}.{}", s.name))
                        .or_insert((s, aligned));
                }
            }
            Err(e) => tracing::warn!("{}: cannot read its series: {e}", f.path.display()),
        }
    }
    for (device, m, dt) in region.buffered_series() {
        if missing(&device, &m) {
            found.entry(format!("{device}.{m}")).or_insert((
                MeasurementSchema {
                    name: m.clone(),
                    data_type: dt,
                    encoding: dt.default_encoding(),
                    compressor,
                },
                false,
            ));
        }
    }
    found
        .into_iter()
        .filter_map(|(path, (schema, aligned))| {
            Some(SchemaOp::CreateSeries {
                path: PartialPath::parse(&path).ok()?,
                aligned,
                schema,
                alias: None,
                props: Vec::new(),
                tags: Vec::new(),
                attributes: Vec::new(),
            })
        })
        .collect()
}
