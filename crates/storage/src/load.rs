//! SQL `LOAD`: bringing the points of an external TsFile (V3 or V4) into the engine.
//!
//! The file is read with the bounded reader; for every series missing from the schema a
//! series is created with the type of the file's metadata and the encoding and compressor
//! of its first chunk (aligned devices become aligned). Then, per series:
//!
//! * Chunks placed unchanged: a non-aligned series of a V4 file, or of a V3 file in an
//!   encoding that means the same in V4 (all but GORILLA_V1, FREQ and RLBE on floats; chunk
//!   headers, pages and statistics are identical), with no deletion applying to it, of the type the schema holds, whose chunks do not
//!   overlap and each lie in one time partition. Its chunks are decoded once (a damaged one
//!   fails the LOAD), then copied byte for byte into a new unsequence file per region and
//!   partition, newer than everything written before (memtables are flushed first); the
//!   file is durable (fsync, rename) before it is read. Nothing is re-encoded, so lossy
//!   encodings are not quantised again and a large file costs one copy.
//! * Otherwise (aligned devices, deletions, 1.x-only encodings, type changes, overlapping chunks) the
//!   points are written through the normal insert path, so the WAL covers them and the
//!   next flush places them in the sequence or unsequence space by IoTDB's rule.
//!
//! Deletions recorded beside the file (IoTDB 1.x `<file>.mods`, IoTDB 2.x `<file>.mods2`,
//! read by [`crate::mods::read_load_deletions`]) are honoured: each applies to every series its
//! path pattern matches, and (1.x) only to the chunks whose header lies before the deletion's
//! file offset, as IoTDB's `ModificationUtils` does. Deleted points of a non-aligned series are
//! not inserted; in an aligned device a deleted cell becomes null and a row left with no value
//! is not inserted. The mods are read before anything is written, so a corrupt one fails the
//! LOAD of that file without touching the engine.
//!
//! It must not write the loaded file or its sidecars.

use crate::api::{TimeRange as DelRange, TimeseriesSpec};
use crate::engine::{Engine, PlacedChunk};
use crate::mods::{read_load_deletions, LoadDeletion};
use model::{Bitmap, Column, Error, InsertTablet, PartialPath, Result, TSDataType, TSEncoding};
use std::path::Path;
use tsfile::metadata::{ChunkMetadata, TimeseriesMetadata};
use tsfile::reader::{AlignedData, TimeRange, TsFileReader};

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

/// Where the series and points of a loaded TsFile go: the engine (SQL `LOAD`) or a client
/// session (the `load-tsfile` tool, for files on the client's machine). [`load_file_into`]
/// reads the file, applies its deletions and calls these; nothing else about TsFiles is
/// the target's business.
pub trait LoadTarget {
    /// The target's error (engine errors, or a session's errors with their status codes).
    type Error: From<Error>;
    /// The data type of an existing series, `None` when it does not exist.
    fn series_type(
        &mut self,
        path: &PartialPath,
    ) -> std::result::Result<Option<TSDataType>, Self::Error>;
    /// Creates the missing series of one device (all aligned, or all not).
    fn create_series(
        &mut self,
        device: &PartialPath,
        aligned: bool,
        specs: Vec<TimeseriesSpec>,
    ) -> std::result::Result<(), Self::Error>;
    /// Inserts one tablet of at most [`Self::max_tablet_bytes`] (about) of values.
    fn insert_tablet(&mut self, tablet: InsertTablet) -> std::result::Result<(), Self::Error>;
    /// Bytes of values per tablet; a batch of rows is cut before it would exceed this.
    fn max_tablet_bytes(&self) -> usize {
        usize::MAX
    }
    /// Takes the chunks of a non-aligned series, to which no deletion applies, unchanged
    /// (without decoding them into tablets) if it can; returns the points it brought in so
    /// far, or `None` when the series must be inserted.
    fn place_series(
        &mut self,
        _reader: &TsFileReader<std::fs::File>,
        _device: &PartialPath,
        _series: &TimeseriesMetadata,
        _data_type: TSDataType,
    ) -> std::result::Result<Option<u64>, Self::Error> {
        Ok(None)
    }
    /// Takes the chunk groups of an aligned device, to whose columns (`values`) no deletion
    /// applies, unchanged if it can; returns the points it brought in so far, or `None`
    /// when the device must be inserted.
    fn place_aligned(
        &mut self,
        _reader: &TsFileReader<std::fs::File>,
        _device: &PartialPath,
        _series: &[TimeseriesMetadata],
        _values: &[(&TimeseriesMetadata, TSDataType)],
    ) -> std::result::Result<Option<u64>, Self::Error> {
        Ok(None)
    }
    /// Called once after the last series of a file: brings in what `place_series` and
    /// `place_aligned` kept back; returns those points.
    fn finish_file(
        &mut self,
        _reader: &TsFileReader<std::fs::File>,
    ) -> std::result::Result<u64, Self::Error> {
        Ok(0)
    }
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
    select_rows(c, &idx)
}

/// The rows `idx` (in range, in this order) of a column.
fn select_rows(c: &Column, idx: &[usize]) -> Column {
    let nulls = c.nulls.as_ref().map(|n| {
        let mut b = Bitmap::new(idx.len());
        for (k, i) in idx.iter().enumerate() {
            if n.get(*i) {
                b.set(k);
            }
        }
        b
    });
    Column {
        data: c.data.take(idx),
        nulls,
    }
}

/// True if `t` lies in one of `ranges`.
fn deleted(ranges: &[DelRange], t: i64) -> bool {
    ranges.iter().any(|r| r.contains(t))
}

/// The time ranges of `dels` that apply to the chunk whose header is at `chunk_offset`.
fn ranges_at(dels: &[&LoadDeletion], chunk_offset: u64) -> Vec<DelRange> {
    dels.iter()
        .filter(|d| d.applies_to_chunk(chunk_offset))
        .map(|d| d.range)
        .filter(|r| !r.is_empty())
        .collect()
}

/// The deletions whose pattern matches the series `path`.
fn matching<'a>(dels: &'a [LoadDeletion], path: &PartialPath) -> Vec<&'a LoadDeletion> {
    dels.iter().filter(|d| d.pattern.matches(path)).collect()
}

/// A copy of `meta` keeping only the chunks for which `keep` is true.
fn with_chunks(
    meta: &TimeseriesMetadata,
    keep: impl Fn(&ChunkMetadata) -> bool,
) -> TimeseriesMetadata {
    let mut m = meta.clone();
    m.chunks.retain(|c| keep(c));
    m
}

/// Nulls the cells of aligned `rows` that `ranges` (one list per column) delete, then drops
/// rows left without any value.
fn apply_aligned(rows: AlignedData, ranges: &[Vec<DelRange>]) -> AlignedData {
    if ranges.iter().all(|r| r.is_empty()) {
        return rows;
    }
    let n = rows.times.len();
    let mut columns = rows.columns;
    for (c, rs) in columns.iter_mut().zip(ranges) {
        if rs.is_empty() {
            continue;
        }
        for (i, t) in rows.times.iter().enumerate() {
            if deleted(rs, *t) && !c.is_null(i) {
                c.nulls.get_or_insert_with(|| Bitmap::new(n)).set(i);
            }
        }
    }
    let keep: Vec<usize> = (0..n)
        .filter(|i| columns.iter().any(|c| !c.is_null(*i)))
        .collect();
    if keep.len() == n {
        return AlignedData {
            times: rows.times,
            columns,
        };
    }
    AlignedData {
        times: keep.iter().map(|i| rows.times[*i]).collect(),
        columns: columns.iter().map(|c| select_rows(c, &keep)).collect(),
    }
}

/// The bytes row `i` of `columns` takes in a tablet (8 for its time).
fn row_bytes(columns: &[Column], i: usize) -> usize {
    8 + columns.iter().map(|c| c.data.value_bytes(i)).sum::<usize>()
}

/// Inserts `times`/`columns` in batches of at most [`BATCH_ROWS`] rows and about
/// `target.max_tablet_bytes()`; returns the number of non-null points.
#[allow(clippy::too_many_arguments)]
fn insert<T: LoadTarget + ?Sized>(
    target: &mut T,
    device: &PartialPath,
    measurements: &[String],
    types: &[TSDataType],
    times: &[i64],
    columns: &[Column],
    aligned: bool,
) -> std::result::Result<u64, T::Error> {
    let max_bytes = target.max_tablet_bytes();
    let mut points = 0u64;
    let mut lo = 0;
    while lo < times.len() {
        let mut hi = (lo + BATCH_ROWS).min(times.len());
        if max_bytes != usize::MAX {
            let mut bytes = 0usize;
            for i in lo..hi {
                bytes += row_bytes(columns, i);
                if bytes > max_bytes && i > lo {
                    hi = i;
                    break;
                }
            }
        }
        let cols: Vec<Column> = columns.iter().map(|c| slice(c, lo, hi)).collect();
        points += cols
            .iter()
            .map(|c| (hi - lo - c.nulls.as_ref().map_or(0, |n| n.count())) as u64)
            .sum::<u64>();
        target.insert_tablet(InsertTablet {
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

/// SQL `LOAD` into the engine: missing series created in the schema, chunks placed
/// unchanged where [`copy_plan`] allows, the rest inserted.
struct EngineTarget<'a> {
    engine: &'a Engine,
    /// chunks placed unchanged, in batches of about PLACE_BYTES
    copies: Vec<PlacedChunk>,
    copied_bytes: u64,
}

impl LoadTarget for EngineTarget<'_> {
    type Error = Error;

    fn series_type(&mut self, path: &PartialPath) -> Result<Option<TSDataType>> {
        Ok(self.engine.series_info(path).map(|i| i.schema.data_type))
    }

    fn create_series(
        &mut self,
        device: &PartialPath,
        aligned: bool,
        specs: Vec<TimeseriesSpec>,
    ) -> Result<()> {
        if aligned {
            self.engine.create_aligned_timeseries(device, specs)
        } else {
            specs
                .into_iter()
                .try_for_each(|spec| self.engine.create_timeseries(spec))
        }
    }

    fn insert_tablet(&mut self, tablet: InsertTablet) -> Result<()> {
        self.engine.insert_tablet(&tablet)
    }

    fn place_series(
        &mut self,
        reader: &TsFileReader<std::fs::File>,
        device: &PartialPath,
        s: &TimeseriesMetadata,
        dt: TSDataType,
    ) -> Result<Option<u64>> {
        let Some(plan) = copy_plan(self.engine, reader, device, s, dt)? else {
            return Ok(None);
        };
        self.keep(reader, plan).map(Some)
    }

    fn place_aligned(
        &mut self,
        reader: &TsFileReader<std::fs::File>,
        device: &PartialPath,
        series: &[TimeseriesMetadata],
        values: &[(&TimeseriesMetadata, TSDataType)],
    ) -> Result<Option<u64>> {
        let Some(plan) = aligned_copy_plan(self.engine, reader, device, series, values)? else {
            return Ok(None);
        };
        self.keep(reader, plan).map(Some)
    }

    fn finish_file(&mut self, reader: &TsFileReader<std::fs::File>) -> Result<u64> {
        self.copied_bytes = 0;
        place(self.engine, reader, std::mem::take(&mut self.copies))
    }
}

impl EngineTarget<'_> {
    /// Keeps `plan`'s chunks back for placing; places what is kept once it holds about
    /// [`PLACE_BYTES`]; returns the points placed now.
    fn keep(
        &mut self,
        reader: &TsFileReader<std::fs::File>,
        plan: Vec<PlacedChunk>,
    ) -> Result<u64> {
        self.copied_bytes += plan
            .iter()
            .flat_map(|p| {
                std::iter::once(&p.meta)
                    .filter(|_| p.values.is_empty())
                    .chain(&p.values)
            })
            .map(chunk_extent)
            .sum::<u64>();
        self.copies.extend(plan);
        if self.copied_bytes < PLACE_BYTES {
            return Ok(0);
        }
        self.copied_bytes = 0;
        place(self.engine, reader, std::mem::take(&mut self.copies))
    }
}

/// Loads one file into the engine; returns (devices, points).
pub(crate) fn load_file(engine: &Engine, path: &Path) -> Result<(usize, u64)> {
    let mut target = EngineTarget {
        engine,
        copies: Vec::new(),
        copied_bytes: 0,
    };
    load_file_into(&mut target, path)
}

/// Loads one TsFile (V3 or V4, with the deletions of its `.mods`/`.mods2` sidecar) into
/// `target`: for every series missing there a series is created with the file's type and
/// the encoding and compressor of its first chunk (aligned devices become aligned), then
/// its points are inserted (or placed, see [`LoadTarget::place_series`]). Returns
/// (devices, points).
pub fn load_file_into<T: LoadTarget + ?Sized>(
    target: &mut T,
    path: &Path,
) -> std::result::Result<(usize, u64), T::Error> {
    let reader = TsFileReader::open(path)?;
    let deletions = read_load_deletions(path)?;
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
            if target.series_type(&p)?.is_none() {
                missing.push(spec_of(&reader, &device, s, *dt)?);
            }
        }
        if !missing.is_empty() {
            target.create_series(&device, aligned, missing)?;
        }
        // data
        if aligned {
            let untouched = values
                .iter()
                .all(|(s, _)| matching(&deletions, &device.child(&s.measurement)).is_empty());
            let placed = if untouched {
                target.place_aligned(&reader, &device, &series, &values)?
            } else {
                None
            };
            points += match placed {
                Some(placed) => placed,
                None => load_aligned(target, &reader, &device, &series, &values, &deletions)?,
            };
        } else {
            for (s, dt) in &values {
                let dels = matching(&deletions, &device.child(&s.measurement));
                if dels.is_empty() {
                    if let Some(placed) = target.place_series(&reader, &device, s, *dt)? {
                        points += placed;
                        continue;
                    }
                }
                points += load_series(target, &reader, &device, &series, s, *dt, &deletions)?;
            }
        }
    }
    points += target.finish_file(&reader)?;
    Ok((devices, points))
}

/// Bytes of copied chunks gathered into one placed file (about; a file is closed after
/// the series that crosses it).
const PLACE_BYTES: u64 = 256 << 20;

/// A chunk's size in memory as raw points (16 bytes each), from its statistics: the
/// measure copied chunks are batched by (not its stored size, which the metadata lacks).
fn chunk_extent(c: &ChunkMetadata) -> u64 {
    c.statistics.count.saturating_mul(16)
}

fn place(
    engine: &Engine,
    reader: &TsFileReader<std::fs::File>,
    copies: Vec<PlacedChunk>,
) -> Result<u64> {
    engine.place_chunks(copies, &|cm| reader.read_chunk(cm))
}

/// The chunks of non-aligned series `s` when they can all be placed unchanged (byte for
/// byte, see [`Engine::place_chunks`]) instead of being inserted point by point: the file
/// is of the version our writer produces (or V3 in an encoding that reads the same in V4, see
/// [`same_bytes_in_v4`]), the series
/// holds the type the file's chunks have, its chunks do not overlap each other, and each
/// lies in one time partition. Each chunk is decoded once first, so a damaged one fails
/// the LOAD rather than entering the data directory. `None` when the insert path must
/// be taken.
fn copy_plan(
    engine: &Engine,
    reader: &TsFileReader<std::fs::File>,
    device: &PartialPath,
    s: &TimeseriesMetadata,
    dt: TSDataType,
) -> Result<Option<Vec<PlacedChunk>>> {
    let Some(v3) = copied_version(reader) else {
        return Ok(None);
    };
    match engine.series_info(&device.child(&s.measurement)) {
        Some(info) if info.schema.data_type == dt => {}
        _ => return Ok(None),
    }
    let mut chunks: Vec<&ChunkMetadata> = s.chunks.iter().collect();
    chunks.sort_by_key(|c| (c.statistics.start_time, c.statistics.end_time));
    if chunks
        .windows(2)
        .any(|w| w[1].statistics.start_time <= w[0].statistics.end_time)
    {
        return Ok(None);
    }
    let mut plan = Vec::with_capacity(chunks.len());
    let mut times = Vec::new();
    let mut values = model::ColumnData::empty(dt.physical());
    for cm in chunks {
        let (start, end) = (cm.statistics.start_time, cm.statistics.end_time);
        let Some(partition) = engine.partition_holding(device, start, end)? else {
            return Ok(None);
        };
        let chunk = reader.read_chunk(cm)?;
        if chunk.header.data_type != Some(dt) || chunk.header.is_time() || chunk.header.is_value() {
            return Ok(None);
        }
        if v3 && !same_bytes_in_v4(chunk.header.encoding, dt) {
            return Ok(None);
        }
        times.clear();
        values.truncate(0);
        for page in chunk.pages(&cm.statistics)? {
            chunk.decode_page_into(&page, &mut times, &mut values)?;
        }
        let ordered = times.windows(2).all(|w| w[0] < w[1]);
        if times.len() as u64 != cm.statistics.count
            || times.first() != Some(&start)
            || times.last() != Some(&end)
            || !ordered
        {
            return Err(Error::StorageEngine(format!(
                "corrupt TsFile: chunk of {}.{} at offset {} decodes to {} points that do not \
                 match its statistics ({} points in [{start}, {end}])",
                device,
                s.measurement,
                cm.offset,
                times.len(),
                cm.statistics.count
            )));
        }
        plan.push(PlacedChunk {
            device: device.clone(),
            measurement: s.measurement.clone(),
            partition,
            meta: cm.clone(),
            values: Vec::new(),
        });
    }
    Ok(Some(plan))
}

/// The chunk groups of aligned `device` when they can all be placed unchanged (see
/// [`copy_plan`]; the caller has checked that no deletion applies): the file's version
/// allows it, every column of the device in the file is an aligned series here of the
/// same type, each time chunk's group holds exactly one value chunk per column, the groups
/// do not overlap in time and each lies in one time partition. Each chunk is decoded once first, so a damaged one
/// fails the LOAD. `None` when the insert path must be taken.
fn aligned_copy_plan(
    engine: &Engine,
    reader: &TsFileReader<std::fs::File>,
    device: &PartialPath,
    series: &[TimeseriesMetadata],
    values: &[(&TimeseriesMetadata, TSDataType)],
) -> Result<Option<Vec<PlacedChunk>>> {
    let Some(v3) = copied_version(reader) else {
        return Ok(None);
    };
    let Some(time) = series.iter().find(|s| s.is_aligned_time()) else {
        return Ok(None);
    };
    for (s, dt) in values {
        let path = device.child(&s.measurement);
        match engine.series_info(&path) {
            Some(info) if info.aligned && info.schema.data_type == *dt => {}
            _ => return Ok(None),
        }
    }
    let mut tchunks: Vec<&ChunkMetadata> = time.chunks.iter().collect();
    tchunks.sort_by_key(|c| c.offset);
    let mut plan = Vec::with_capacity(tchunks.len());
    for (g, tc) in tchunks.iter().enumerate() {
        // the group's value chunks lie between its time chunk and the next one
        let (lo, hi) = (tc.offset, tchunks.get(g + 1).map_or(u64::MAX, |n| n.offset));
        let mut columns = Vec::with_capacity(values.len());
        for (s, _) in values {
            let mut inside = s.chunks.iter().filter(|c| c.offset > lo && c.offset < hi);
            let (Some(c), None) = (inside.next(), inside.next()) else {
                return Ok(None);
            };
            columns.push(c.clone());
        }
        let (start, end) = (tc.statistics.start_time, tc.statistics.end_time);
        let Some(partition) = engine.partition_holding(device, start, end)? else {
            return Ok(None);
        };
        let corrupt = |what: &str, offset: u64| {
            Error::StorageEngine(format!(
                "corrupt TsFile: {what} of aligned device {device} at offset {offset} does not                  match its statistics"
            ))
        };
        let chunk = reader.read_chunk(tc)?;
        if !chunk.header.is_time() {
            return Ok(None);
        }
        let mut rows = Vec::new();
        let mut times: Vec<i64> = Vec::new();
        for page in chunk.pages(&tc.statistics)? {
            let t = chunk.decode_time_page(&page)?;
            rows.push(t.len());
            times.extend(t);
        }
        if times.len() as u64 != tc.statistics.count
            || times.first() != Some(&start)
            || times.last() != Some(&end)
            || !times.windows(2).all(|w| w[0] < w[1])
        {
            return Err(corrupt("time chunk", tc.offset));
        }
        for ((_, dt), cm) in values.iter().zip(&columns) {
            let vc = reader.read_chunk(cm)?;
            if vc.header.data_type != Some(*dt) || !vc.header.is_value() {
                return Ok(None);
            }
            if v3 && !same_bytes_in_v4(vc.header.encoding, *dt) {
                return Ok(None);
            }
            let pages = vc.pages(&cm.statistics)?;
            if !pages.is_empty() && pages.len() != rows.len() {
                return Err(corrupt("value chunk", cm.offset));
            }
            let mut present = 0u64;
            for (page, n) in pages.iter().zip(&rows) {
                let (_, nulls) = vc.decode_value_page(page, *n)?;
                present += (*n - nulls.count()) as u64;
            }
            if present != cm.statistics.count {
                return Err(corrupt("value chunk", cm.offset));
            }
        }
        plan.push(PlacedChunk {
            device: device.clone(),
            measurement: String::new(),
            partition,
            meta: (*tc).clone(),
            values: columns,
        });
    }
    plan.sort_by_key(|p| p.meta.statistics.start_time);
    if plan
        .windows(2)
        .any(|w| w[1].meta.statistics.start_time <= w[0].meta.statistics.end_time)
    {
        return Ok(None);
    }
    Ok(Some(plan))
}

/// Whether chunks of `reader`'s file may be copied into ours: `Some(false)` for our own
/// version, `Some(true)` for a V3 file read by our V4 writer (then only in encodings that
/// read the same, see [`same_bytes_in_v4`]), `None` otherwise.
fn copied_version(reader: &TsFileReader<std::fs::File>) -> Option<bool> {
    let ours = tsfile::WriterOptions::default().version;
    let v3 = reader.version() == tsfile::Version::V3 && ours == tsfile::Version::V4;
    (reader.version() == ours || v3).then_some(v3)
}

/// True when a V3 chunk of `encoding` means the same in a V4 file (chunk headers, pages and
/// statistics are identical between the versions): not for GORILLA_V1 and FREQ, which V4
/// readers do not know, nor for RLBE on FLOAT/DOUBLE, whose deltas V4 reads differently.
fn same_bytes_in_v4(encoding: TSEncoding, dt: TSDataType) -> bool {
    match encoding {
        TSEncoding::GorillaV1 | TSEncoding::Freq => false,
        TSEncoding::Rlbe => !matches!(dt.physical(), TSDataType::Float | TSDataType::Double),
        _ => true,
    }
}

/// Loads one non-aligned series with the deletions that match it applied.
fn load_series<T: LoadTarget + ?Sized>(
    target: &mut T,
    reader: &TsFileReader<std::fs::File>,
    device: &PartialPath,
    series: &[TimeseriesMetadata],
    s: &TimeseriesMetadata,
    dt: TSDataType,
    deletions: &[LoadDeletion],
) -> std::result::Result<u64, T::Error> {
    let dels = matching(deletions, &device.child(&s.measurement));
    let mut chunks: Vec<&ChunkMetadata> = s.chunks.iter().collect();
    chunks.sort_by_key(|c| c.offset);
    let per_chunk: Vec<Vec<DelRange>> = chunks.iter().map(|c| ranges_at(&dels, c.offset)).collect();
    // Usually every chunk sees the same deletions (they came after the file was sealed):
    // one merged read. Otherwise chunk by chunk in file order, so a later chunk still
    // overwrites an earlier one at equal times, as the merged read would.
    let pieces: Vec<(Option<u64>, &[DelRange])> = if per_chunk.windows(2).all(|w| w[0] == w[1]) {
        vec![(None, per_chunk.first().map_or(&[][..], |r| &r[..]))]
    } else {
        chunks
            .iter()
            .zip(&per_chunk)
            .map(|(c, r)| (Some(c.offset), &r[..]))
            .collect()
    };
    let mut points = 0;
    for (only, ranges) in pieces {
        let data = match only {
            None => reader.read_series_in(series, &s.measurement, TimeRange::ALL)?,
            Some(off) => {
                let one = with_chunks(s, |c| c.offset == off);
                reader.read_series_in(std::slice::from_ref(&one), &s.measurement, TimeRange::ALL)?
            }
        };
        let Some(d) = data else { continue };
        let (times, values) = if ranges.is_empty() {
            (d.times, d.values)
        } else {
            let keep: Vec<usize> = (0..d.times.len())
                .filter(|i| !deleted(ranges, d.times[*i]))
                .collect();
            let times = keep.iter().map(|i| d.times[*i]).collect();
            (times, select_rows(&d.values, &keep))
        };
        points += insert(
            target,
            device,
            std::slice::from_ref(&s.measurement),
            &[dt],
            &times,
            std::slice::from_ref(&values),
            false,
        )?;
    }
    Ok(points)
}

/// Loads an aligned device with the deletions that match its columns applied.
fn load_aligned<T: LoadTarget + ?Sized>(
    target: &mut T,
    reader: &TsFileReader<std::fs::File>,
    device: &PartialPath,
    series: &[TimeseriesMetadata],
    values: &[(&TimeseriesMetadata, TSDataType)],
    deletions: &[LoadDeletion],
) -> std::result::Result<u64, T::Error> {
    let names: Vec<&str> = values.iter().map(|(s, _)| s.measurement.as_str()).collect();
    let ms: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let types: Vec<TSDataType> = values.iter().map(|(_, t)| *t).collect();
    let dels: Vec<Vec<&LoadDeletion>> = names
        .iter()
        .map(|n| matching(deletions, &device.child(n)))
        .collect();
    let Some(time) = series.iter().find(|s| s.is_aligned_time()) else {
        return Ok(0);
    };
    let mut tchunks: Vec<&ChunkMetadata> = time.chunks.iter().collect();
    tchunks.sort_by_key(|c| c.offset);
    // One chunk group per time chunk: its value chunks lie between it and the next time
    // chunk. Per group, the ranges each column's value chunk is subject to.
    let bounds: Vec<(u64, u64)> = tchunks
        .iter()
        .enumerate()
        .map(|(g, c)| (c.offset, tchunks.get(g + 1).map_or(u64::MAX, |n| n.offset)))
        .collect();
    let per_group: Vec<Vec<Vec<DelRange>>> = bounds
        .iter()
        .map(|(lo, hi)| {
            values
                .iter()
                .zip(&dels)
                .map(|((s, _), d)| {
                    s.chunks
                        .iter()
                        .find(|c| c.offset > *lo && c.offset < *hi)
                        .map(|c| ranges_at(d, c.offset))
                        .unwrap_or_default()
                })
                .collect()
        })
        .collect();
    let mut reads: Vec<(Option<AlignedData>, &[Vec<DelRange>])> = Vec::new();
    if per_group.windows(2).all(|w| w[0] == w[1]) {
        let rows = reader.read_aligned_in(series, &names, TimeRange::ALL)?;
        reads.push((rows, per_group.first().map_or(&[][..], |r| &r[..])));
    } else {
        // group by group in file order (a later group overwrites an earlier one)
        for ((lo, hi), ranges) in bounds.iter().zip(&per_group) {
            let mut part = vec![with_chunks(time, |c| c.offset == *lo)];
            for (s, _) in values {
                part.push(with_chunks(s, |c| c.offset > *lo && c.offset < *hi));
            }
            let rows = reader.read_aligned_in(&part, &names, TimeRange::ALL)?;
            reads.push((rows, &ranges[..]));
        }
    }
    let mut points = 0;
    for (rows, ranges) in reads {
        let Some(rows) = rows else { continue };
        let rows = apply_aligned(rows, ranges);
        points += insert(
            target,
            device,
            &ms,
            &types,
            &rows.times,
            &rows.columns,
            true,
        )?;
    }
    Ok(points)
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::ColumnData;

    #[test]
    fn aligned_cells_deleted_and_empty_rows_dropped() {
        let mut yn = Bitmap::new(4);
        yn.set(0);
        let rows = AlignedData {
            times: vec![1, 2, 3, 4],
            columns: vec![
                Column::new(ColumnData::Int64(vec![10, 20, 30, 40])),
                Column {
                    data: ColumnData::Int32(vec![0, 2, 3, 4]),
                    nulls: Some(yn),
                },
            ],
        };
        // x loses 1..=2, y loses 2..=3: row 1 had only x (now gone), row 2 has nothing left
        let out = apply_aligned(
            rows.clone(),
            &[vec![DelRange::new(1, 2)], vec![DelRange::new(2, 3)]],
        );
        assert_eq!(out.times, vec![3, 4]);
        assert_eq!(out.columns[0].data, ColumnData::Int64(vec![30, 40]));
        assert!(!out.columns[0].is_null(0) && !out.columns[0].is_null(1));
        assert!(out.columns[1].is_null(0) && !out.columns[1].is_null(1));
        assert_eq!(out.columns[1].value(1), Some(model::Value::Int32(4)));
        // no ranges: unchanged
        assert_eq!(apply_aligned(rows.clone(), &[vec![], vec![]]), rows);
        // an empty range deletes nothing
        let d = LoadDeletion {
            pattern: model::PathPattern::parse("root.**").unwrap(),
            range: DelRange::new(5, 1),
            file_offset: None,
        };
        assert!(ranges_at(&[&d], 100).is_empty());
    }
}
