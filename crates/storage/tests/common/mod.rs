#![allow(dead_code)]
//! Helpers shared by the storage integration tests.

use model::{
    Column, ColumnData, InsertRow, InsertRows, InsertTablet, PartialPath, PathPattern, RowValues,
    TSDataType, Value,
};
use storage::{Engine, StorageConfig, WalMode};

pub fn p(s: &str) -> PartialPath {
    PartialPath::parse(s).unwrap()
}

pub fn pat(s: &str) -> PathPattern {
    PathPattern::parse(s).unwrap()
}

pub fn config(dir: &std::path::Path, mode: WalMode) -> StorageConfig {
    StorageConfig {
        wal_mode: mode,
        ..StorageConfig::with_data_dir(dir)
    }
}

pub fn open(dir: &std::path::Path) -> Engine {
    Engine::open(config(dir, WalMode::Sync)).unwrap()
}

pub fn names(v: &[storage::SeriesInfo]) -> Vec<String> {
    v.iter().map(|s| s.path.to_string()).collect()
}

pub fn doubles(device: &str, ms: &[&str], times: Vec<i64>, cols: Vec<Vec<f64>>) -> InsertTablet {
    InsertTablet {
        device: p(device),
        measurements: ms.iter().map(|s| s.to_string()).collect(),
        types: vec![TSDataType::Double; ms.len()],
        times,
        columns: cols
            .into_iter()
            .map(|c| Column::new(ColumnData::Double(c)))
            .collect(),
        aligned: false,
    }
}

pub fn str_row(device: &str, time: i64, ms: &[&str], vals: &[&str]) -> InsertRow {
    InsertRow {
        device: p(device),
        time,
        measurements: ms.iter().map(|s| s.to_string()).collect(),
        values: RowValues::Strings(vals.iter().map(|s| s.to_string()).collect()),
        aligned: false,
    }
}

pub fn typed_row(device: &str, time: i64, ms: &[&str], vals: Vec<Option<Value>>) -> InsertRow {
    InsertRow {
        device: p(device),
        time,
        measurements: ms.iter().map(|s| s.to_string()).collect(),
        values: RowValues::physical(vals),
        aligned: false,
    }
}

pub fn rows(v: Vec<InsertRow>) -> InsertRows {
    InsertRows { rows: v }
}

/// The `*.tsfile` files under the given spaces (`sequence`, `unsequence`) of `dir`, sorted.
pub fn tsfiles_in(dir: &std::path::Path, spaces: &[&str]) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack: Vec<_> = spaces.iter().map(|s| dir.join(s)).collect();
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "tsfile") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}
