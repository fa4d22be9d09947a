//! SQL `LOAD`: bringing the points of an external TsFile (V3 or V4) into the engine.
//!
//! The file is read with the bounded reader; for every series missing from the schema a
//! series is created with the type of the file's metadata and the encoding and compressor
//! of its first chunk (aligned devices become aligned); the points are then written through
//! the normal insert path, so the WAL covers them and the next flush places them in the
//! sequence or unsequence space by IoTDB's rule.

use crate::api::TimeseriesSpec;
use crate::engine::Engine;
use model::{Bitmap, Column, Error, InsertTablet, PartialPath, Result, TSDataType};
use std::path::Path;
use tsfile::metadata::TimeseriesMetadata;
use tsfile::reader::{TimeRange, TsFileReader};

/// Rows per insert when replaying a loaded series.
const BATCH_ROWS: usize = 64 * 1024;

/// What a LOAD brought in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoadSummary {
    /// Files loaded.
    pub files: usize,
    /// Devices seen.
    pub devices: usize,
    /// Points written.
    pub points: u64,
}

/// Counters of the TsFile layer (summed over all regions).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TsFileStats {
    /// Files in the sequence space.
    pub seq_files: usize,
    /// Files in the unsequence space.
    pub unseq_files: usize,
    /// Chunks a time filter let reads skip by their statistics.
    pub chunks_skipped: u64,
    /// Chunks read.
    pub chunks_read: u64,
    /// Files skipped by their device time range.
    pub files_skipped: u64,
}

fn spec_of(
    reader: &TsFileReader<std::fs::File>,
    device: &PartialPath,
    s: &TimeseriesMetadata,
    dt: TSDataType,
) -> Result<TimeseriesSpec> {
    let mut spec = TimeseriesSpec::new(device.child(&s.measurement), dt);
    if let Some(first) = s.chunks.first() {
        let h = reader.read_chunk(first)?.header;
        spec.encoding = h.encoding;
        spec.compressor = h.compression;
    }
    Ok(spec)
}

/// Rows `lo..hi` of a column.
fn slice(c: &Column, lo: usize, hi: usize) -> Column {
    let idx: Vec<usize> = (lo..hi).collect();
    let nulls = c.nulls.as_ref().map(|n| {
        let mut b = Bitmap::new(hi - lo);
        for i in lo..hi {
            if n.get(i) {
                b.set(i - lo);
            }
        }
        b
    });
    Column {
        data: crate::tsfiles::gather(&c.data, &idx),
        nulls,
    }
}

/// Inserts `times`/`columns` in batches; returns the number of non-null points.
fn insert(
    engine: &Engine,
    device: &PartialPath,
    measurements: &[String],
    types: &[TSDataType],
    times: &[i64],
    columns: &[Column],
    aligned: bool,
) -> Result<u64> {
    let mut points = 0u64;
    let mut lo = 0;
    while lo < times.len() {
        let hi = (lo + BATCH_ROWS).min(times.len());
        let cols: Vec<Column> = columns.iter().map(|c| slice(c, lo, hi)).collect();
        points += cols
            .iter()
            .map(|c| (hi - lo - c.nulls.as_ref().map_or(0, |n| n.count())) as u64)
            .sum::<u64>();
        engine.insert_tablet(&InsertTablet {
            device: device.clone(),
            measurements: measurements.to_vec(),
            types: types.to_vec(),
            times: times[lo..hi].to_vec(),
            columns: cols,
            aligned,
        })?;
        lo = hi;
    }
    Ok(points)
}

/// Loads one file; returns (devices, points).
pub(crate) fn load_file(engine: &Engine, path: &Path) -> Result<(usize, u64)> {
    let reader = TsFileReader::open(path)?;
    let mut devices = 0;
    let mut points = 0;
    for (dev, series) in reader.all_series()? {
        let device = PartialPath::parse(&dev.path()).map_err(|e| {
            Error::IllegalParameter(format!(
                "{}: device {} is not a valid path: {e}",
                path.display(),
                dev.path()
            ))
        })?;
        devices += 1;
        let aligned = series.iter().any(|s| s.is_aligned_time());
        let values: Vec<(&TimeseriesMetadata, TSDataType)> = series
            .iter()
            .filter(|s| !s.is_aligned_time())
            .filter_map(|s| s.data_type.map(|t| (s, t)))
            .collect();
        // schema
        let mut missing = Vec::new();
        for (s, dt) in &values {
            let p = device.child(&s.measurement);
            if engine.series_info(&p).is_none() {
                missing.push(spec_of(&reader, &device, s, *dt)?);
            }
        }
        if !missing.is_empty() {
            if aligned {
                engine.create_aligned_timeseries(&device, missing)?;
            } else {
                for spec in missing {
                    engine.create_timeseries(spec)?;
                }
            }
        }
        // data
        if aligned {
            let names: Vec<&str> = values.iter().map(|(s, _)| s.measurement.as_str()).collect();
            if let Some(rows) = reader.read_aligned(&dev, &names, TimeRange::ALL)? {
                let ms: Vec<String> = names.iter().map(|n| n.to_string()).collect();
                let types: Vec<TSDataType> = values.iter().map(|(_, t)| *t).collect();
                points += insert(
                    engine,
                    &device,
                    &ms,
                    &types,
                    &rows.times,
                    &rows.columns,
                    true,
                )?;
            }
        } else {
            for (s, dt) in &values {
                if let Some(d) = reader.read_series(&dev, &s.measurement, TimeRange::ALL)? {
                    points += insert(
                        engine,
                        &device,
                        std::slice::from_ref(&s.measurement),
                        &[*dt],
                        &d.times,
                        std::slice::from_ref(&d.values),
                        false,
                    )?;
                }
            }
        }
    }
    Ok((devices, points))
}
