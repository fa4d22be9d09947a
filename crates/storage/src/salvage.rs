//! Salvage of a TsFile whose tail or metadata index is damaged: its chunk groups are read
//! by a sequential scan from the head (checked against the file's chunk checksums when it
//! has them), every chunk that decodes is written into a new file under the same name, and
//! only the damaged chunks are left out (counted in the log). The damaged original is kept
//! in `<data>/corrupted/`.

use crate::api::SeriesData;
use crate::checksums::ChunkChecksums;
use crate::merge::merge_newest_wins;
use crate::tsfiles::{FileBuilder, FlushSeries};
use model::{ColumnData, MeasurementSchema, Result};
use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::path::Path;
use tsfile::reader::{Chunk, ChunkCheck, ReadAt, ReadOptions};
use tsfile::scan::scan_chunk_groups;
use tsfile::statistics::Statistics;

/// The points of a non-aligned chunk.
fn plain_points(c: &Chunk) -> Result<SeriesData> {
    let mut out = SeriesData {
        times: Default::default(),
        values: ColumnData::empty(c.header.data_type.unwrap_or(model::TSDataType::Int64)),
    };
    for p in c.pages(&Statistics::empty(c.header.data_type))? {
        let page = c.decode_page(&p)?;
        out.times.extend(page.times);
        out.values.append(page.values);
    }
    Ok(out)
}

/// The time pages of an aligned time chunk.
fn time_pages(c: &Chunk) -> Result<Vec<Vec<i64>>> {
    c.pages(&Statistics::empty(None))?
        .iter()
        .map(|p| c.decode_time_page(p))
        .collect()
}

/// The non-null points of an aligned value chunk, its pages matched with `times`.
fn value_points(c: &Chunk, times: &[Vec<i64>]) -> Result<SeriesData> {
    let pages = c.pages(&Statistics::empty(c.header.data_type))?;
    if pages.len() != times.len() {
        return Err(model::Error::StorageEngine(format!(
            "value chunk at {} has {} pages, its time chunk {}",
            c.offset,
            pages.len(),
            times.len()
        )));
    }
    let mut out = SeriesData {
        times: Default::default(),
        values: ColumnData::empty(c.header.data_type.unwrap_or(model::TSDataType::Int64)),
    };
    for (p, t) in pages.iter().zip(times) {
        let (values, nulls) = c.decode_value_page(p, t.len())?;
        let keep: Vec<usize> = (0..t.len()).filter(|i| !nulls.get(*i)).collect();
        out.times.extend(keep.iter().map(|i| t[*i]));
        out.values.append(values.take(&keep));
    }
    Ok(out)
}

type Found = BTreeMap<String, BTreeMap<String, (MeasurementSchema, Vec<SeriesData>)>>;

fn add(found: &mut Found, device: &str, c: &Chunk, data: SeriesData) {
    let Some(dt) = c.header.data_type else { return };
    let entry = found
        .entry(device.to_string())
        .or_default()
        .entry(c.header.measurement.clone())
        .or_insert_with(|| {
            (
                MeasurementSchema {
                    name: c.header.measurement.clone(),
                    data_type: dt,
                    encoding: c.header.encoding,
                    compressor: c.header.compression,
                },
                Vec::new(),
            )
        });
    entry.1.push(data);
}

/// What a sequential scan of a damaged file yielded.
pub(crate) struct Salvaged {
    /// Points per device and series, with the schema of the chunks they came from.
    found: Found,
    /// Devices whose chunks were aligned.
    aligned: HashSet<String>,
    /// Chunks kept.
    pub(crate) kept: usize,
    /// Chunks set aside (failing their checksum, unparsable, undecodable).
    pub(crate) damaged: usize,
}

/// Scans the chunk groups of the file in `src` (checked against `check` when given) and
/// decodes every chunk found; the damaged ones are counted, not returned.
pub(crate) fn collect<R: ReadAt>(src: &R, check: Option<&dyn ChunkCheck>) -> Result<Salvaged> {
    let scan = scan_chunk_groups(src, &ReadOptions::default(), check)?;
    let mut out = Salvaged {
        found: Found::new(),
        aligned: HashSet::new(),
        kept: 0,
        damaged: scan.damaged,
    };
    for (dev, chunks) in &scan.groups {
        let device = dev.path();
        match chunks.split_first() {
            Some((time, values)) if time.header.is_time() => {
                let Ok(times) = time_pages(time) else {
                    out.damaged += chunks.len();
                    continue;
                };
                out.kept += 1;
                out.aligned.insert(device.clone());
                for c in values {
                    match value_points(c, &times) {
                        Ok(d) => {
                            out.kept += 1;
                            add(&mut out.found, &device, c, d);
                        }
                        Err(_) => out.damaged += 1,
                    }
                }
            }
            _ => {
                for c in chunks {
                    match plain_points(c) {
                        Ok(d) if !c.header.is_value() => {
                            out.kept += 1;
                            add(&mut out.found, &device, c, d);
                        }
                        _ => out.damaged += 1,
                    }
                }
            }
        }
    }
    Ok(out)
}

impl Salvaged {
    /// The salvaged series of each device, merged (newest chunk wins), and whether the
    /// device is aligned.
    pub(crate) fn into_devices(self) -> Vec<(String, Vec<FlushSeries>, bool)> {
        let aligned = self.aligned;
        self.found
            .into_iter()
            .map(|(device, series)| {
                let out: Vec<FlushSeries> = series
                    .into_values()
                    .map(|(schema, parts)| {
                        let data = merge_newest_wins(parts, schema.data_type.physical());
                        FlushSeries { schema, data }
                    })
                    .collect();
                let a = aligned.contains(&device);
                (device, out, a)
            })
            .collect()
    }
}

/// Rebuilds the TsFile at `path` (which failed to open: `why`) from a sequential scan.
/// Returns false (changing nothing) when no chunk could be salvaged.
pub(crate) fn salvage(path: &Path, corrupted: &Path, why: &str) -> Result<bool> {
    let file = fs::File::open(path)?;
    let size = file.metadata()?.len();
    let sums = ChunkChecksums::load(path, size);
    let check = sums.as_deref().map(|s| s as &dyn ChunkCheck);
    let salvaged = collect(&file, check)?;
    let (kept, damaged) = (salvaged.kept, salvaged.damaged);
    if salvaged.found.is_empty() {
        return Ok(false);
    }
    // keep the damaged original, then write the salvaged points under its name
    fs::create_dir_all(corrupted)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let kept_copy = corrupted.join(format!("{}-{name}", model::time::now_ms()));
    fs::copy(path, &kept_copy)?;
    let mut builder = FileBuilder::create(path)?;
    for (device, out, aligned) in salvaged.into_devices() {
        builder.add_device(&device, &out, aligned)?;
    }
    builder.finish()?;
    tracing::warn!(
        "TsFile {} was unreadable ({why}); rebuilt from a sequential scan of its chunk \
         groups: {kept} chunk(s) kept, {damaged} damaged chunk(s) set aside; the original is \
         {}",
        path.display(),
        kept_copy.display()
    );
    Ok(true)
}
