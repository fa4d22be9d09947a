//! The sealed TsFiles of a data region: naming and layout, opening and recovery at
//! start-up, reading one series out of a file (deletions applied), and writing flushed
//! memtables and compaction results.
//!
//! Layout (IoTDB's): `<data>/sequence/<db>/<region>/<partition>/<time>-<version>-<inner>-<cross>.tsfile`
//! and the same under `unsequence/`; each file may have a `.mods` sidecar (see [`crate::mods`])
//! and a `.checksums` sidecar (see [`crate::checksums`]).
//! A file is written under a `.tmp` name, fsynced and renamed, so a file with the final name
//! is always complete; leftovers of a crash (`.tmp`) are removed at start-up and files that
//! still fail to open are moved into `<data>/corrupted/` with a warning.

use crate::api::{
    ChunkSummary, PageReduction, SeriesData, SeriesSpan, SummaryPolicy, SummaryUse, TimeRange,
};
use crate::checksums::{self, sidecar_path, ChunkChecksums};
use crate::codec::sync_dir;
use crate::merge::merge_newest_wins;
use crate::mods::{append_mods, mods_path, read_mods, Deletion};
use crate::timeshare::{decode_cut, TimeShare};
use model::{Bitmap, ColumnData, Error, MeasurementSchema, Result, TSDataType, Value};
use parking_lot::RwLock;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tsfile::device::DeviceId;
use tsfile::metadata::{ChunkMetadata, TimeseriesMetadata};
use tsfile::reader::{DeviceIndexRange, TsFileReader};
use tsfile::writer::{AlignedColumn, SeriesInput, Settled, TsFileWriter, WriterOptions};

/// Suffix of files being written.
const TMP_SUFFIX: &str = ".tmp";
/// Suffix of a finished compaction result not yet renamed into place.
const STAGING_SUFFIX: &str = ".staging";
/// Name of the compaction log inside a partition directory.
pub(crate) const COMPACTION_LOG: &str = "compaction.log";

/// The parts of a TsFile name `<time>-<version>-<inner>-<cross>.tsfile`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct FileName {
    /// Creation time (ms).
    pub(crate) time: i64,
    /// Region-wide flush version (orders files by age; a compacted file takes the
    /// largest version of its sources).
    pub(crate) version: u64,
    /// Inner-space compaction count.
    pub(crate) inner: u32,
    /// Cross-space compaction count.
    pub(crate) cross: u32,
}

impl FileName {
    /// Parses a file name; `None` if it is not a TsFile name.
    pub(crate) fn parse(name: &str) -> Option<FileName> {
        let stem = name.strip_suffix(".tsfile")?;
        let mut it = stem.split('-');
        let time = it.next()?.parse().ok()?;
        let version = it.next()?.parse().ok()?;
        let inner = it.next()?.parse().ok()?;
        let cross = it.next()?.parse().ok()?;
        if it.next().is_some() {
            return None;
        }
        Some(FileName {
            time,
            version,
            inner,
            cross,
        })
    }

    /// The file name.
    pub(crate) fn render(&self) -> String {
        format!(
            "{}-{}-{}-{}.tsfile",
            self.time, self.version, self.inner, self.cross
        )
    }

    /// Order of files by age: by version, then compaction counts (a compaction result
    /// replaces its sources, so it sorts after the one whose version it took).
    pub(crate) fn age_key(&self) -> (u64, u32, u32) {
        (self.version, self.inner + self.cross, self.cross)
    }
}

/// Counters of the read path (for tests and diagnostics).
#[derive(Debug, Default)]
pub(crate) struct ReadStats {
    /// Chunks whose statistics lay outside the queried range (never read).
    pub(crate) chunks_skipped: AtomicU64,
    /// Chunks read.
    pub(crate) chunks_read: AtomicU64,
    /// Files skipped by their device time range.
    pub(crate) files_skipped: AtomicU64,
}

/// One sealed TsFile of a region.
pub(crate) struct TsFileHandle {
    /// Where it lives.
    pub(crate) path: PathBuf,
    /// Sequence (true) or unsequence space.
    pub(crate) seq: bool,
    /// Time partition.
    pub(crate) partition: i64,
    /// Parsed name.
    pub(crate) name: FileName,
    /// File size in bytes.
    pub(crate) size: u64,
    reader: TsFileReader<fs::File>,
    /// Device path → its time range and where its index lies.
    devices: HashMap<String, DeviceEntry>,
    mods: RwLock<Vec<Deletion>>,
    /// This opening's key in [`crate::metacache`] (unique in the process).
    cache_id: u64,
}

/// A device of an open TsFile: its time range, id, and where its measurement index lies
/// (so that a series lookup reads one small index node, not the device-level index).
/// A series' chunks in a file (those of a time range) and the deletions the file records
/// for the series.
pub(crate) type SeriesChunks = (Vec<ChunkMetadata>, Vec<TimeRange>);

struct DeviceEntry {
    lo: i64,
    hi: i64,
    id: DeviceId,
    index: DeviceIndexRange,
    aligned: bool,
}

impl std::fmt::Debug for TsFileHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TsFile({})", self.path.display())
    }
}

impl TsFileHandle {
    /// Opens a complete TsFile (reads its metadata and mods); with `verify`, every chunk
    /// read is checked against the file's checksums when it has them.
    pub(crate) fn open(
        path: PathBuf,
        seq: bool,
        partition: i64,
        verify: bool,
    ) -> Result<TsFileHandle> {
        let fname = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(FileName::parse)
            .ok_or_else(|| {
                Error::StorageEngine(format!("not a TsFile name: {}", path.display()))
            })?;
        let mut reader = TsFileReader::open(&path)?;
        let size = reader.file_size();
        if verify {
            if let Some(sums) = ChunkChecksums::load(&path, size) {
                reader.set_chunk_check(sums);
            }
        }
        let mut devices = HashMap::new();
        for (id, index) in reader.device_index()? {
            let series = reader.series_in(index)?;
            let mut lo = i64::MAX;
            let mut hi = i64::MIN;
            for s in &series {
                if s.statistics.count > 0 {
                    lo = lo.min(s.statistics.start_time);
                    hi = hi.max(s.statistics.end_time);
                }
            }
            if lo <= hi {
                let aligned = series.iter().any(|s| s.is_aligned_time());
                let entry = DeviceEntry {
                    lo,
                    hi,
                    id,
                    index,
                    aligned,
                };
                devices.insert(entry.id.path(), entry);
            }
        }
        let mods = read_mods(&mods_path(&path))?;
        Ok(TsFileHandle {
            path,
            seq,
            partition,
            name: fname,
            size,
            reader,
            devices,
            mods: RwLock::new(mods),
            cache_id: crate::metacache::new_file_id(),
        })
    }

    /// Time range of a device in this file.
    pub(crate) fn device_range(&self, device: &str) -> Option<(i64, i64)> {
        self.devices.get(device).map(|d| (d.lo, d.hi))
    }

    /// Devices in the file with their time ranges.
    pub(crate) fn device_ranges(&self) -> impl Iterator<Item = (&str, i64, i64)> + '_ {
        self.devices.iter().map(|(k, d)| (k.as_str(), d.lo, d.hi))
    }

    /// The chunk of a series with the latest end time: its start, its end, and its last
    /// value when the statistics give it and no deletion of this file covers that point.
    pub(crate) fn last_chunk(
        &self,
        device: &str,
        measurement: &str,
    ) -> Result<Option<(i64, i64, Option<Value>)>> {
        let Some(dev) = self.devices.get(device) else {
            return Ok(None);
        };
        let Some(meta) = self.series_meta(device, dev, measurement)? else {
            return Ok(None);
        };
        let Some(st) = meta
            .chunks
            .iter()
            .map(|c| &c.statistics)
            .filter(|s| s.count > 0)
            .max_by_key(|s| s.end_time)
        else {
            return Ok(None);
        };
        let end = st.end_time;
        let deleted = self
            .deletions_of(device, measurement)
            .iter()
            .any(|d| d.start <= end && end <= d.end);
        let last = summary_of(st).map(|s| s.last).filter(|_| !deleted);
        Ok(Some((st.start_time, end, last)))
    }

    /// Spans (time bounds and counts) of the chunks of a series overlapping `range`.
    pub(crate) fn chunk_spans(
        &self,
        device: &str,
        measurement: &str,
        range: TimeRange,
    ) -> Result<Vec<SeriesSpan>> {
        let Some(dev) = self.locate(device, range, None) else {
            return Ok(Vec::new());
        };
        let Some(meta) = self.series_meta(device, dev, measurement)? else {
            return Ok(Vec::new());
        };
        Ok(meta
            .chunks
            .iter()
            .map(|c| &c.statistics)
            .filter(|s| s.count > 0 && s.end_time >= range.start && s.start_time <= range.end)
            .map(|s| SeriesSpan {
                start: s.start_time,
                end: s.end_time,
                count: s.count,
                in_memory: false,
            })
            .collect())
    }

    /// Records deletions (durably) for this file.
    pub(crate) fn add_deletions(&self, dels: Vec<Deletion>) -> Result<()> {
        if dels.is_empty() {
            return Ok(());
        }
        let mut m = self.mods.write();
        append_mods(&mods_path(&self.path), &dels)?;
        m.extend(dels);
        Ok(())
    }

    /// Reads one series in `range` with this file's deletions applied; `None` when the
    /// file has no such series. Values are converted to `phys` when the file holds the
    /// same physical type; a type mismatch (series re-created) yields `None`.
    pub(crate) fn read(
        &self,
        device: &str,
        measurement: &str,
        range: TimeRange,
        phys: TSDataType,
        stats: &ReadStats,
    ) -> Result<Option<SeriesData>> {
        self.read_skipping(device, measurement, range, phys, stats, &|_| false)
    }

    /// The entry of `device` if this file may hold its points in `range` (the device's time
    /// range here says so); a file skipped by its time range is counted in `stats`. The
    /// bloom filter is checked later, before an index read the metadata cache cannot spare.
    fn locate(
        &self,
        device: &str,
        range: TimeRange,
        stats: Option<&ReadStats>,
    ) -> Option<&DeviceEntry> {
        let dev = self.devices.get(device)?;
        if range.start > dev.hi || range.end < dev.lo {
            if let Some(s) = stats {
                s.files_skipped.fetch_add(1, Ordering::Relaxed);
            }
            return None;
        }
        Some(dev)
    }

    /// The chunks of a non-aligned series of type `phys` that overlap `range`, with the
    /// deletions this file records for it; `None` when the file has no such series (or
    /// holds it aligned or with another type).
    pub(crate) fn plain_chunks(
        &self,
        device: &str,
        measurement: &str,
        range: TimeRange,
        phys: TSDataType,
    ) -> Result<Option<SeriesChunks>> {
        match self.locate(device, range, None) {
            Some(dev) if !dev.aligned => {
                self.plain_chunks_of(device, dev, measurement, range, phys)
            }
            _ => Ok(None),
        }
    }

    /// The chunks whose statistics may stand for points of a series in `range`: a
    /// non-aligned series' chunks ([`TsFileHandle::plain_chunks`]) or an aligned series'
    /// value chunks ([`TsFileHandle::aligned_value_chunks`]), with the deletions this file
    /// records for it and whether the series is aligned.
    pub(crate) fn summary_chunks(
        &self,
        device: &str,
        measurement: &str,
        range: TimeRange,
        phys: TSDataType,
    ) -> Result<Option<(SeriesChunks, bool)>> {
        let Some(dev) = self.locate(device, range, None) else {
            return Ok(None);
        };
        let found = if dev.aligned {
            self.aligned_value_chunks(device, dev, measurement, range, phys)?
        } else {
            self.plain_chunks_of(device, dev, measurement, range, phys)?
        };
        Ok(found.map(|f| (f, dev.aligned)))
    }

    /// [`TsFileHandle::plain_chunks`] of a located non-aligned device.
    fn plain_chunks_of(
        &self,
        device: &str,
        dev: &DeviceEntry,
        measurement: &str,
        range: TimeRange,
        phys: TSDataType,
    ) -> Result<Option<SeriesChunks>> {
        let Some(meta) = self.series_meta(device, dev, measurement)? else {
            return Ok(None);
        };
        if meta.is_aligned_value() || meta.data_type.map(|t| t.physical()) != Some(phys) {
            return Ok(None);
        }
        Ok(Some(self.chunks_in(device, measurement, &meta, range)))
    }

    /// The value chunks of an aligned series of type `phys` that overlap `range` (each one's
    /// statistics describe the series' points in its chunk group: the rows where it has a
    /// value), with the deletions this file records for it; `None` when the file holds no
    /// such series, or holds its device's chunk groups overlapping in time (rows of a later
    /// group then replace those of an earlier one, which statistics cannot tell).
    fn aligned_value_chunks(
        &self,
        device: &str,
        dev: &DeviceEntry,
        measurement: &str,
        range: TimeRange,
        phys: TSDataType,
    ) -> Result<Option<SeriesChunks>> {
        if !self.reader.may_contain(&dev.id, measurement) {
            return Ok(None);
        }
        let series = self.reader.series_in(dev.index)?;
        let Some(time) = series.iter().find(|s| s.is_aligned_time()) else {
            return Ok(None);
        };
        let mut spans: Vec<(i64, i64)> = time
            .chunks
            .iter()
            .map(|c| (c.statistics.start_time, c.statistics.end_time))
            .collect();
        spans.sort_unstable();
        if spans.windows(2).any(|w| w[1].0 <= w[0].1) {
            return Ok(None);
        }
        let Some(meta) = series
            .iter()
            .find(|s| s.measurement == measurement && !s.is_aligned_time())
        else {
            return Ok(None);
        };
        if meta.data_type.map(|t| t.physical()) != Some(phys) {
            return Ok(None);
        }
        Ok(Some(self.chunks_in(device, measurement, meta, range)))
    }

    /// The chunks of `meta` (a series of `device`) that hold points in `range`, with the
    /// deletions this file records for the series.
    fn chunks_in(
        &self,
        device: &str,
        measurement: &str,
        meta: &TimeseriesMetadata,
        range: TimeRange,
    ) -> SeriesChunks {
        let chunks = meta
            .chunks
            .iter()
            .filter(|c| {
                c.statistics.count > 0
                    && c.statistics.end_time >= range.start
                    && c.statistics.start_time <= range.end
            })
            .cloned()
            .collect();
        (chunks, self.deletions_of(device, measurement))
    }

    /// The metadata of a non-time series of `device` (parsed once, then kept in the
    /// process-wide [`crate::metacache`] while it has room).
    fn series_meta(
        &self,
        device: &str,
        dev: &DeviceEntry,
        measurement: &str,
    ) -> Result<Option<Arc<TimeseriesMetadata>>> {
        let key = crate::metacache::Key::new(self.cache_id, device, measurement);
        if let Some(m) = crate::metacache::get(&key) {
            return Ok(m);
        }
        let m = if self.reader.may_contain(&dev.id, measurement) {
            self.reader
                .series_metadata_in(dev.index, measurement)?
                .map(Arc::new)
        } else {
            None
        };
        crate::metacache::insert(key, m.clone());
        Ok(m)
    }

    /// This file's deletions of one series.
    fn deletions_of(&self, device: &str, measurement: &str) -> Vec<TimeRange> {
        let key = format!("{device}.{measurement}");
        self.mods
            .read()
            .iter()
            .filter(|d| d.series == key)
            .map(|d| d.range)
            .collect()
    }

    /// One chunk of a plain series split by page: the pages inside `range` that `usable`
    /// accepts (with their statistics) as summaries, those it reduces as what
    /// [`SummaryPolicy::reduce`] makes of them, the points in `range` of the other pages
    /// decoded, in time order (their times shared with other series through `share`, if
    /// given).
    pub(crate) fn chunk_by_pages(
        &self,
        cm: &ChunkMetadata,
        phys: TSDataType,
        range: TimeRange,
        usable: &dyn SummaryPolicy,
        out: &mut SeriesData,
        mut share: Option<&mut TimeShare>,
    ) -> Result<Vec<ChunkSummary>> {
        let chunk = self.reader.read_chunk(cm)?;
        let held = chunk.header.data_type.map(|t| t.physical());
        if held != Some(phys) {
            return Err(Error::StorageEngine(format!(
                "{}: chunk at {} holds {} values, expected {}",
                self.path.display(),
                cm.offset,
                held.map_or("no", |t| t.name()),
                phys.name()
            )));
        }
        let mut summaries = Vec::new();
        // first the verdict on every page, so that `out` grows once, by exactly the points
        // of the pages to decode (no doubling reallocations while pages append)
        let mut decode = Vec::new();
        let mut room = 0u64;
        for page in chunk.pages(&cm.statistics)? {
            let mut reduce = false;
            if let Some(st) = &page.statistics {
                if st.count == 0 || st.end_time < range.start || st.start_time > range.end {
                    continue;
                }
                let inside = range.start <= st.start_time && st.end_time <= range.end;
                if let Some(sum) = inside.then(|| summary_of(st)).flatten() {
                    match usable.verdict(&sum) {
                        SummaryUse::Use => {
                            summaries.push(sum);
                            continue;
                        }
                        SummaryUse::Skip => continue,
                        SummaryUse::Reduce => reduce = true,
                        SummaryUse::Decode => {}
                    }
                }
                if !reduce {
                    room = room.saturating_add(st.count);
                }
            }
            decode.push((page, reduce));
        }
        let room = usize::try_from(room).unwrap_or(0).min(MAX_RESERVE_POINTS);
        if !share.as_ref().is_some_and(|s| s.defers_times()) {
            out.times.reserve(room);
        }
        out.values.reserve(room);
        // a page to reduce is decoded into a buffer of its own, reused page after page
        let mut page_points = SeriesData {
            times: Default::default(),
            values: ColumnData::empty(phys),
        };
        for (page, reduce) in decode {
            if reduce {
                page_points.times.clear();
                page_points.values.truncate(0);
                chunk.decode_page_into(&page, &mut page_points.times, &mut page_points.values)?;
                match usable.reduce(&page_points.times, &page_points.values)? {
                    PageReduction::Summary(sum) => summaries.push(sum),
                    PageReduction::Nothing => {}
                    PageReduction::Points => {
                        if let Some(share) = share.as_deref_mut() {
                            share.take_own(out);
                        }
                        // wholly inside the range (else it would not be reduced)
                        out.times.extend_from_slice(&page_points.times);
                        let values =
                            std::mem::replace(&mut page_points.values, ColumnData::empty(phys));
                        out.values.append(values);
                    }
                }
                continue;
            }
            // decoded straight into `out`, then cut to the range
            match share.as_deref_mut() {
                Some(share) => share.decode(&chunk, &page, range, out)?,
                None => {
                    decode_cut(&chunk, &page, range, out, None)?;
                }
            }
        }
        Ok(summaries)
    }

    /// As [`TsFileHandle::read`], without decoding the chunks `skip` selects.
    pub(crate) fn read_skipping(
        &self,
        device: &str,
        measurement: &str,
        range: TimeRange,
        phys: TSDataType,
        stats: &ReadStats,
        skip: &dyn Fn(&ChunkMetadata) -> bool,
    ) -> Result<Option<SeriesData>> {
        let Some(dev) = self.locate(device, range, Some(stats)) else {
            return Ok(None);
        };
        // an aligned series is read with its device's time column; a plain one alone
        let plain;
        let all;
        let series: &[TimeseriesMetadata] = if dev.aligned {
            if !self.reader.may_contain(&dev.id, measurement) {
                return Ok(None);
            }
            all = self.reader.series_in(dev.index)?;
            &all
        } else {
            plain = self.series_meta(device, dev, measurement)?;
            match &plain {
                Some(m) => std::slice::from_ref(m.as_ref()),
                None => &[],
            }
        };
        let Some(meta) = series
            .iter()
            .find(|s| s.measurement == measurement && !s.is_aligned_time())
        else {
            return Ok(None);
        };
        let mut skipped = 0;
        for c in &meta.chunks {
            if c.statistics.count == 0
                || c.statistics.end_time < range.start
                || c.statistics.start_time > range.end
            {
                skipped += 1;
            }
        }
        stats.chunks_skipped.fetch_add(skipped, Ordering::Relaxed);
        stats
            .chunks_read
            .fetch_add(meta.chunks.len() as u64 - skipped, Ordering::Relaxed);
        let trange = tsfile::reader::TimeRange::new(range.start, range.end);
        let Some(data) = self
            .reader
            .read_series_skipping(series, measurement, trange, skip)?
        else {
            return Ok(None);
        };
        if data.values.data.data_type() != phys {
            return Ok(None);
        }
        let mut out = SeriesData {
            times: data.times,
            values: data.values.data,
        };
        let dels = self.deletions_of(device, measurement);
        if !dels.is_empty() {
            out = remove_ranges(out, &dels);
        }
        Ok(Some(out))
    }

    /// Several series of one device in `range`, deletions applied: an aligned device's
    /// columns are read together (its time column decoded once per chunk), a non-aligned
    /// device's one by one. Per series, `None` when the file has none of its points (or
    /// holds it with another type).
    pub(crate) fn read_columns(
        &self,
        device: &str,
        columns: &[(&str, TSDataType)],
        range: TimeRange,
        stats: &ReadStats,
        skip: Option<tsfile::reader::AlignedPageSkip<'_>>,
    ) -> Result<Vec<Option<SeriesData>>> {
        let Some(dev) = self.devices.get(device) else {
            return Ok(vec![None; columns.len()]);
        };
        if !dev.aligned {
            return columns
                .iter()
                .map(|(m, phys)| self.read(device, m, range, *phys, stats))
                .collect();
        }
        if range.start > dev.hi || range.end < dev.lo {
            stats.files_skipped.fetch_add(1, Ordering::Relaxed);
            return Ok(vec![None; columns.len()]);
        }
        let series = self.reader.series_in(dev.index)?;
        let names: Vec<&str> = columns.iter().map(|c| c.0).collect();
        let trange = tsfile::reader::TimeRange::new(range.start, range.end);
        let read = self
            .reader
            .read_aligned_columns_skipping(&series, &names, trange, skip)?;
        Ok(read
            .into_iter()
            .zip(columns)
            .map(|(d, (m, phys))| {
                let d = d.filter(|d| d.values.data.data_type() == *phys)?;
                let out = SeriesData {
                    times: d.times,
                    values: d.values.data,
                };
                let dels = self.deletions_of(device, m);
                Some(if dels.is_empty() {
                    out
                } else {
                    remove_ranges(out, &dels)
                })
            })
            .collect())
    }

    /// The time span of `device`'s points in this file, if it has any.
    pub(crate) fn device_span(&self, device: &str) -> Option<(i64, i64)> {
        self.devices.get(device).map(|d| (d.lo, d.hi))
    }

    /// The non-aligned and aligned value series of the file that `missing` selects (device
    /// path, measurement): (device, schema from the type in the index and the encoding and
    /// compressor of the first chunk, aligned).
    pub(crate) fn series_schemas(
        &self,
        missing: &dyn Fn(&str, &str) -> bool,
    ) -> Result<Vec<(String, MeasurementSchema, bool)>> {
        let mut out = Vec::new();
        for (dev, series) in self.reader.all_series()? {
            let device = dev.path();
            let aligned = series.iter().any(|s| s.is_aligned_time());
            for s in series {
                if s.is_aligned_time() || !missing(&device, &s.measurement) {
                    continue;
                }
                let (Some(dt), Some(first)) = (s.data_type, s.chunks.first()) else {
                    continue;
                };
                let header = self.reader.read_chunk(first)?.header;
                let schema = MeasurementSchema {
                    name: s.measurement.clone(),
                    data_type: dt,
                    encoding: header.encoding,
                    compressor: header.compression,
                };
                out.push((device.clone(), schema, aligned));
            }
        }
        Ok(out)
    }

    /// Deletes the file, its mods and its checksums from disk.
    pub(crate) fn remove_files(&self) {
        for p in [
            self.path.clone(),
            mods_path(&self.path),
            sidecar_path(&self.path),
        ] {
            match fs::remove_file(&p) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => tracing::warn!("cannot remove {}: {e}", p.display()),
            }
        }
    }
}

/// The summary of a chunk from its statistics; `None` for statistics that keep no values
/// (BLOB), which aggregation cannot use.
pub(crate) fn summary_of(s: &tsfile::statistics::Statistics) -> Option<ChunkSummary> {
    use tsfile::statistics::StatValues as S;
    macro_rules! numeric {
        ($min:expr, $max:expr, $first:expr, $last:expr, $sum:expr, $v:path) => {
            (
                Some($sum as f64),
                Some($v(*$min)),
                Some($v(*$max)),
                $v(*$first),
                $v(*$last),
            )
        };
    }
    let (sum, min, max, first, last) = match &s.values {
        S::Boolean { first, last, sum } => (
            Some(*sum as f64),
            None,
            None,
            Value::Boolean(*first),
            Value::Boolean(*last),
        ),
        S::Int32 {
            min,
            max,
            first,
            last,
            sum,
        } => numeric!(min, max, first, last, *sum, Value::Int32),
        S::Int64 {
            min,
            max,
            first,
            last,
            sum,
        } => numeric!(min, max, first, last, *sum, Value::Int64),
        S::Float {
            min,
            max,
            first,
            last,
            sum,
        } => numeric!(min, max, first, last, *sum, Value::Float),
        S::Double {
            min,
            max,
            first,
            last,
            sum,
        } => numeric!(min, max, first, last, *sum, Value::Double),
        S::Text { first, last } => (
            None,
            None,
            None,
            Value::Text(first.clone()),
            Value::Text(last.clone()),
        ),
        S::String {
            first,
            last,
            min,
            max,
        } => (
            None,
            Some(Value::Text(min.clone())),
            Some(Value::Text(max.clone())),
            Value::Text(first.clone()),
            Value::Text(last.clone()),
        ),
        S::Blob | S::Time => return None,
    };
    Some(ChunkSummary {
        start: s.start_time,
        end: s.end_time,
        count: s.count,
        sum,
        min,
        max,
        first,
        last,
    })
}

/// Keeps the points outside every range.
pub(crate) fn remove_ranges(data: SeriesData, ranges: &[TimeRange]) -> SeriesData {
    let keep: Vec<usize> = (0..data.times.len())
        .filter(|&i| !ranges.iter().any(|r| r.contains(data.times[i])))
        .collect();
    if keep.len() == data.times.len() {
        return data;
    }
    SeriesData {
        times: keep.iter().map(|&i| data.times[i]).collect(),
        values: data.values.take(&keep),
    }
}

/// The directories of one region.
#[derive(Debug, Clone)]
pub(crate) struct RegionDirs {
    /// `<data>/sequence/<db>/<region>`.
    pub(crate) seq: PathBuf,
    /// `<data>/unsequence/<db>/<region>`.
    pub(crate) unseq: PathBuf,
    /// `<data>/corrupted`.
    pub(crate) corrupted: PathBuf,
    /// Check chunks against their files' checksums when read.
    pub(crate) verify_checksums: bool,
}

impl RegionDirs {
    /// The directories of region `id` of database `db` under `data_dir`. Characters a
    /// file name cannot hold (path separators, control characters) become `_` (the region
    /// id below keeps databases apart).
    pub(crate) fn new(data_dir: &Path, db: &str, id: u64) -> RegionDirs {
        let db: String = db
            .chars()
            .map(|c| {
                if c == '/' || c == '\\' || c.is_control() {
                    '_'
                } else {
                    c
                }
            })
            .collect();
        RegionDirs {
            seq: data_dir.join("sequence").join(&db).join(id.to_string()),
            unseq: data_dir.join("unsequence").join(&db).join(id.to_string()),
            corrupted: data_dir.join("corrupted"),
            verify_checksums: true,
        }
    }

    /// The partition directory of a space.
    pub(crate) fn partition_dir(&self, seq: bool, partition: i64) -> PathBuf {
        let root = if seq { &self.seq } else { &self.unseq };
        root.join(partition.to_string())
    }
}

fn set_aside(path: &Path, corrupted: &Path, why: &str) {
    tracing::warn!(
        "TsFile {} is unreadable ({why}); moving it into {}",
        path.display(),
        corrupted.display()
    );
    let _ = fs::create_dir_all(corrupted);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let stamp = model::time::now_ms();
    let target = corrupted.join(format!("{stamp}-{name}"));
    if let Err(e) = fs::rename(path, &target) {
        tracing::warn!("cannot move {}: {e}; removing it", path.display());
        let _ = fs::remove_file(path);
    }
    for (side, suffix) in [
        (mods_path(path), ".mods"),
        (sidecar_path(path), checksums::SUFFIX),
    ] {
        if side.exists() {
            let _ = fs::rename(&side, corrupted.join(format!("{stamp}-{name}{suffix}")));
        }
    }
}

/// Finishes or rolls back an interrupted compaction of one partition directory.
///
/// Log format: first line the target file name, then one source path per line (relative
/// to the data dirs: `sequence|unsequence/<partition>/<name>`), then a line `end`. A log
/// without its `end` line was torn while written, before anything was renamed: roll back.
fn recover_compaction(dirs: &RegionDirs, part_dir: &Path) {
    let log = part_dir.join(COMPACTION_LOG);
    let Ok(text) = fs::read_to_string(&log) else {
        return;
    };
    let lines: Vec<&str> = text.lines().collect();
    let complete = lines.last() == Some(&"end");
    let target = lines.first().map(|t| part_dir.join(t));
    match target {
        Some(target) if complete && target.exists() => {
            tracing::warn!("finishing interrupted compaction into {}", target.display());
            for src in &lines[1..lines.len() - 1] {
                let Some((space, rest)) = src.split_once('/') else {
                    continue;
                };
                let root = if space == "sequence" {
                    &dirs.seq
                } else {
                    &dirs.unseq
                };
                let p = root.join(rest);
                if p != target {
                    let _ = fs::remove_file(&p);
                    let _ = fs::remove_file(mods_path(&p));
                }
            }
        }
        Some(target) => {
            tracing::warn!(
                "rolling back interrupted compaction into {}",
                target.display()
            );
            for suffix in [TMP_SUFFIX, STAGING_SUFFIX] {
                let mut tmp = target.as_os_str().to_owned();
                tmp.push(suffix);
                let _ = fs::remove_file(PathBuf::from(tmp));
            }
        }
        None => {}
    }
    let _ = fs::remove_file(&log);
    sync_dir(part_dir);
}

/// Opens every TsFile of a region (recovering interrupted compactions, removing
/// unfinished `.tmp` files and setting aside unreadable ones), sorted oldest first.
pub(crate) fn open_region_files(dirs: &RegionDirs) -> Result<Vec<Arc<TsFileHandle>>> {
    let mut out = Vec::new();
    // compaction logs live in the sequence partition directory of their target
    for seq in [true, false] {
        let root = if seq { &dirs.seq } else { &dirs.unseq };
        let Ok(rd) = fs::read_dir(root) else { continue };
        let mut parts: Vec<(i64, PathBuf)> = Vec::new();
        for ent in rd.flatten() {
            if let Some(p) = ent.file_name().to_str().and_then(|n| n.parse::<i64>().ok()) {
                parts.push((p, ent.path()));
            }
        }
        for (p, dir) in parts {
            if seq {
                recover_compaction(dirs, &dir);
            }
            let _ = p;
        }
    }
    for seq in [true, false] {
        let root = if seq { &dirs.seq } else { &dirs.unseq };
        let Ok(rd) = fs::read_dir(root) else { continue };
        for ent in rd.flatten() {
            let Some(partition) = ent.file_name().to_str().and_then(|n| n.parse::<i64>().ok())
            else {
                continue;
            };
            checksums::remove_orphans(&ent.path());
            let Ok(files) = fs::read_dir(ent.path()) else {
                continue;
            };
            for f in files.flatten() {
                let name = f.file_name().to_string_lossy().to_string();
                let path = f.path();
                if name.ends_with(TMP_SUFFIX) || name.ends_with(STAGING_SUFFIX) {
                    tracing::warn!("removing unfinished file {}", path.display());
                    let _ = fs::remove_file(&path);
                    continue;
                }
                if FileName::parse(&name).is_none() {
                    continue;
                }
                let opened =
                    TsFileHandle::open(path.clone(), seq, partition, dirs.verify_checksums)
                        .or_else(|e| {
                            // a damaged tail or index: rebuild from the chunk groups, if any is left
                            let why = e.to_string();
                            match crate::salvage::salvage(&path, &dirs.corrupted, &why) {
                                Ok(true) => TsFileHandle::open(
                                    path.clone(),
                                    seq,
                                    partition,
                                    dirs.verify_checksums,
                                ),
                                Ok(false) => Err(e),
                                Err(s) => Err(Error::StorageEngine(format!("{why}; salvage: {s}"))),
                            }
                        });
                match opened {
                    Ok(h) => out.push(Arc::new(h)),
                    Err(e) => set_aside(&path, &dirs.corrupted, &e.to_string()),
                }
            }
        }
    }
    out.sort_by_key(|h| h.name.age_key());
    Ok(out)
}

/// One series to write into a file.
pub(crate) struct FlushSeries {
    /// Schema (type, encoding, compressor) shaping the chunk.
    pub(crate) schema: MeasurementSchema,
    /// Sorted, unique points.
    pub(crate) data: SeriesData,
}

/// Most points of one series in one chunk (IoTDB's `avg_series_point_number_threshold`);
/// larger series are written as several chunks.
pub(crate) const MAX_CHUNK_POINTS: usize = 100_000;

/// Sorted, duplicate-free points of one series, which the file writer copies one chunk
/// at a time into reused buffers (a memtable buffer or decoded data).
pub(crate) trait Points: Sync {
    /// The time at position `i` (`i64::MAX` past the end).
    fn time(&self, i: usize) -> i64;
    /// The first position whose time fails `pred` (true on a prefix of the times).
    fn partition_point(&self, pred: &dyn Fn(i64) -> bool) -> usize;
    /// Replaces `times` and `values` by the points at positions `lo..hi` (clamped).
    fn copy_into(&self, lo: usize, hi: usize, times: &mut Vec<i64>, values: &mut ColumnData);
}

impl Points for SeriesData {
    fn time(&self, i: usize) -> i64 {
        self.times.get(i).copied().unwrap_or(i64::MAX)
    }

    fn partition_point(&self, pred: &dyn Fn(i64) -> bool) -> usize {
        self.times.partition_point(|&t| pred(t))
    }

    fn copy_into(&self, lo: usize, hi: usize, times: &mut Vec<i64>, values: &mut ColumnData) {
        fn part<T: Clone>(v: &[T], lo: usize, hi: usize, dst: &mut Vec<T>) {
            let hi = hi.min(v.len());
            dst.clear();
            dst.extend_from_slice(&v[lo.min(hi)..hi]);
        }
        part(&self.times, lo, hi, times);
        if values.data_type() != self.values.data_type() {
            *values = ColumnData::empty(self.values.data_type());
        }
        match (&self.values, values) {
            (ColumnData::Boolean(v), ColumnData::Boolean(d)) => part(v, lo, hi, d),
            (ColumnData::Int32(v), ColumnData::Int32(d)) => part(v, lo, hi, d),
            (ColumnData::Int64(v), ColumnData::Int64(d)) => part(v, lo, hi, d),
            (ColumnData::Float(v), ColumnData::Float(d)) => part(v, lo, hi, d),
            (ColumnData::Double(v), ColumnData::Double(d)) => part(v, lo, hi, d),
            (ColumnData::Binary(v), ColumnData::Binary(d)) => part(v, lo, hi, d),
            _ => {}
        }
    }
}

/// Positions `lo..hi` of one series to write into a file.
#[derive(Clone, Copy)]
pub(crate) struct SeriesRange<'a> {
    /// Schema (type, encoding, compressor) shaping the chunks.
    pub(crate) schema: &'a MeasurementSchema,
    /// The series' points.
    pub(crate) points: &'a dyn Points,
    /// First position written.
    pub(crate) lo: usize,
    /// End (exclusive) of the positions written.
    pub(crate) hi: usize,
}

impl<'a> SeriesRange<'a> {
    /// All points of `s`.
    pub(crate) fn whole(s: &'a FlushSeries) -> Self {
        SeriesRange {
            schema: &s.schema,
            points: &s.data,
            lo: 0,
            hi: s.data.times.len(),
        }
    }
}

/// Most points room is made for ahead of decoding a chunk (its statistics' count is only a
/// hint: a damaged file may claim anything).
pub(crate) const MAX_RESERVE_POINTS: usize = 1 << 20;

/// One (times, values) buffer per column, reused from chunk to chunk.
type Scratch = Vec<(Vec<i64>, ColumnData)>;

/// Writes the series of a non-aligned device, one chunk group per chunk of at most
/// [`MAX_CHUNK_POINTS`] points (so a time filter can skip the chunks of a big series by
/// their statistics), copying each chunk from its source into `scratch` just before it
/// is encoded.
fn write_plain(
    w: &mut TsFileWriter<std::io::BufWriter<fs::File>>,
    device: &str,
    series: &[SeriesRange<'_>],
    scratch: &mut Scratch,
) -> Result<()> {
    scratch.resize_with(scratch.len().max(2), || {
        (Vec::new(), ColumnData::empty(TSDataType::Int64))
    });
    // every chunk to write, in file order: (series, lo, hi)
    let jobs: Vec<(&SeriesRange<'_>, usize, usize)> = series
        .iter()
        .flat_map(|s| {
            (s.lo..s.hi)
                .step_by(MAX_CHUNK_POINTS)
                .map(move |lo| (s, lo, (lo + MAX_CHUNK_POINTS).min(s.hi)))
        })
        .collect();
    let opts = w.options().clone();
    // a series' chunks in one file share its first chunk's encoding and compressor (see
    // `TsFileWriter::settled`): a chunk of a series already in the file is encoded as that
    // series' chunks are
    let encode = |(s, lo, hi): (&SeriesRange<'_>, usize, usize),
                  (times, values): &mut (Vec<i64>, ColumnData),
                  fixed: Option<Settled>| {
        s.points.copy_into(lo, hi, times, values);
        opts.encode_chunk_in(
            &SeriesInput {
                schema: s.schema,
                times,
                values,
                nulls: None,
            },
            fixed,
        )
    };
    // with a second core, chunks are encoded two at a time (the second on another thread)
    // and appended in order: the file is the same, the flush takes about half as long
    let pair = if two_cores() { 2 } else { 1 };
    let (mine, theirs) = scratch.split_at_mut(1);
    for group in jobs.chunks(pair) {
        let fixed = |k: usize| {
            group
                .get(k)
                .and_then(|j| w.settled(device, &j.0.schema.name))
        };
        let (fa, fb) = (fixed(0), fixed(1));
        let encoded = match group {
            // a small chunk is not worth handing to another thread
            [a, b] if a.2 - a.1 < PARALLEL_MIN_POINTS || b.2 - b.1 < PARALLEL_MIN_POINTS => {
                [encode(*a, &mut mine[0], fa)?, encode(*b, &mut mine[0], fb)?]
            }
            // on rayon's long-lived workers: a thread spawned per pair also faulted in a
            // fresh allocator heap each time
            [a, b] => {
                let (here, there) = rayon_core::join(
                    || encode(*a, &mut mine[0], fa),
                    || encode(*b, &mut theirs[0], fb),
                );
                [here?, there?]
            }
            [a] => [encode(*a, &mut mine[0], fa)?, None],
            _ => [None, None],
        };
        for (job, c) in group.iter().zip(encoded) {
            let Some(mut c) = c else { continue };
            // two chunks of one new series encoded at once may have chosen differently:
            // the second is encoded again as the first was
            let settled = w.settled(device, &c.header.measurement);
            if settled.is_some_and(|x| x != (c.header.encoding, c.header.compression)) {
                match encode(*job, &mut mine[0], settled)? {
                    Some(again) => c = again,
                    None => continue,
                }
            }
            w.copy_chunk(device, &c.header, &c.data, &c.statistics)?;
        }
    }
    Ok(())
}

/// Fewest points of each of two chunks encoded at once on two threads.
const PARALLEL_MIN_POINTS: usize = 8192;

/// True when the machine has a second core for encoding.
fn two_cores() -> bool {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get())) > 1
}

/// Writes the series of an aligned device as chunk groups of at most
/// [`MAX_CHUNK_POINTS`] rows: a k-way merge of the series' times builds each group's
/// shared time column, cells a series lacks are nulls. At most one group's rows (and
/// [`MAX_CHUNK_POINTS`] points of each series) are in memory at once.
fn write_aligned(
    w: &mut TsFileWriter<std::io::BufWriter<fs::File>>,
    device: &str,
    series: &[SeriesRange<'_>],
    scratch: &mut Scratch,
) -> Result<()> {
    let n = series.len();
    scratch.resize_with(n.max(scratch.len()), || {
        (Vec::new(), ColumnData::empty(TSDataType::Int64))
    });
    let mut cur: Vec<usize> = series.iter().map(|s| s.lo).collect();
    let mut times: Vec<i64> = Vec::new();
    loop {
        let mut any = false;
        for (k, s) in series.iter().enumerate() {
            let hi = (cur[k] + MAX_CHUNK_POINTS).min(s.hi);
            let (t, v) = &mut scratch[k];
            s.points.copy_into(cur[k], hi, t, v);
            any |= cur[k] < hi;
        }
        if !any {
            return Ok(());
        }
        // the usual case, columns written together: every series loaded the same times, so
        // the rows are those times and the columns the loaded values, without nulls
        let loaded = &scratch[..n];
        let same_rows = loaded.iter().zip(series).all(|((t, v), s)| {
            !t.is_empty() && *t == loaded[0].0 && v.data_type() == s.schema.data_type.physical()
        });
        if same_rows {
            let columns: Vec<AlignedColumn<'_>> = series
                .iter()
                .zip(loaded)
                .map(|(s, (_, values))| AlignedColumn {
                    schema: s.schema,
                    values,
                    nulls: None,
                })
                .collect();
            w.write_aligned_device(device, &loaded[0].0, &columns)?;
            for (c, (t, _)) in cur.iter_mut().zip(loaded) {
                *c += t.len();
            }
            continue;
        }
        // rows after the last loaded time of a series with unloaded points must wait
        // for that series' next load
        let limit = series
            .iter()
            .enumerate()
            .filter(|(k, s)| cur[*k] + scratch[*k].0.len() < s.hi)
            .filter_map(|(k, _)| scratch[k].0.last().copied())
            .min()
            .unwrap_or(i64::MAX);
        let mut cols: Vec<(ColumnData, Bitmap)> = series
            .iter()
            .map(|s| {
                let phys = s.schema.data_type.physical();
                (
                    ColumnData::with_capacity(phys, MAX_CHUNK_POINTS),
                    Bitmap::new(0),
                )
            })
            .collect();
        let mut next = vec![0usize; n];
        times.clear();
        while times.len() < MAX_CHUNK_POINTS {
            let Some(t) = (0..n)
                .filter_map(|k| scratch[k].0.get(next[k]).copied())
                .min()
                .filter(|&t| t <= limit)
            else {
                break;
            };
            times.push(t);
            for (k, (data, nulls)) in cols.iter_mut().enumerate() {
                let (ts, vs) = &scratch[k];
                let v = vs.get(next[k]).filter(|_| ts.get(next[k]) == Some(&t));
                match v {
                    Some(v) => {
                        data.push(&v);
                        nulls.push(false);
                        next[k] += 1;
                    }
                    None => {
                        data.push_placeholder();
                        nulls.push(true);
                    }
                }
            }
        }
        for (c, k) in cur.iter_mut().zip(&next) {
            *c += k;
        }
        let columns: Vec<AlignedColumn<'_>> = series
            .iter()
            .zip(&cols)
            .map(|(s, (data, nulls))| AlignedColumn {
                schema: s.schema,
                values: data,
                nulls: Some(nulls),
            })
            .collect();
        w.write_aligned_device(device, &times, &columns)?;
    }
}

/// A TsFile being written device by device (through a `.tmp` file; [`FileBuilder::finish`]
/// fsyncs and renames it), so a compaction never holds more than one device in memory.
pub(crate) struct FileBuilder {
    w: Option<TsFileWriter<std::io::BufWriter<fs::File>>>,
    tmp: PathBuf,
    path: PathBuf,
    wrote: bool,
    scratch: Scratch,
}

impl FileBuilder {
    /// Starts a file that will end up at `path`.
    pub(crate) fn create(path: &Path) -> Result<FileBuilder> {
        let dir = path
            .parent()
            .ok_or_else(|| Error::internal("TsFile path without a directory"))?;
        fs::create_dir_all(dir)?;
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(TMP_SUFFIX);
        let tmp = PathBuf::from(tmp);
        let w = TsFileWriter::create(&tmp, WriterOptions::default())?;
        Ok(FileBuilder {
            w: Some(w),
            tmp,
            path: path.to_path_buf(),
            wrote: false,
            scratch: Vec::new(),
        })
    }

    /// Writes one device (sorted, unique points per series; `aligned` for an aligned
    /// chunk group).
    pub(crate) fn add_device(
        &mut self,
        device: &str,
        series: &[FlushSeries],
        aligned: bool,
    ) -> Result<()> {
        let ranges: Vec<SeriesRange<'_>> = series.iter().map(SeriesRange::whole).collect();
        self.add_ranges(device, &ranges, aligned)
    }

    /// Writes one device from ranges of sorted, unique points (see [`SeriesRange`]),
    /// copying one chunk at a time out of the sources.
    pub(crate) fn add_ranges(
        &mut self,
        device: &str,
        series: &[SeriesRange<'_>],
        aligned: bool,
    ) -> Result<()> {
        let present: Vec<SeriesRange<'_>> =
            series.iter().filter(|s| s.lo < s.hi).copied().collect();
        if present.is_empty() {
            return Ok(());
        }
        self.wrote = true;
        let w = self
            .w
            .as_mut()
            .ok_or_else(|| Error::internal("TsFile builder already finished"))?;
        if aligned {
            write_aligned(w, device, &present, &mut self.scratch)
        } else {
            write_plain(w, device, &present, &mut self.scratch)
        }
    }

    /// The encoding and compressor of a series' chunks in this file so far (see
    /// [`TsFileWriter::settled`]).
    pub(crate) fn settled(&self, device: &str, measurement: &str) -> Option<Settled> {
        self.w.as_ref()?.settled(device, measurement)
    }

    /// Fixes a series' encoding and compressor before its first chunk (see
    /// [`TsFileWriter::settle`]).
    pub(crate) fn settle(&mut self, device: &str, measurement: &str, how: Settled) {
        if let Some(w) = self.w.as_mut() {
            w.settle(device, measurement, how);
        }
    }

    /// Copies a chunk of a non-aligned series unchanged (see [`TsFileWriter::copy_chunk`]).
    pub(crate) fn copy_chunk(
        &mut self,
        device: &str,
        header: &tsfile::format::ChunkHeader,
        data: &[u8],
        statistics: &tsfile::statistics::Statistics,
    ) -> Result<()> {
        let w = self
            .w
            .as_mut()
            .ok_or_else(|| Error::internal("TsFile builder already finished"))?;
        w.copy_chunk(device, header, data, statistics)?;
        self.wrote = true;
        Ok(())
    }

    /// Copies a chunk group of an aligned device unchanged (see
    /// [`TsFileWriter::copy_aligned_group`]).
    pub(crate) fn copy_aligned_group(
        &mut self,
        device: &str,
        time: tsfile::CopiedChunk<'_>,
        values: &[tsfile::CopiedChunk<'_>],
    ) -> Result<()> {
        let w = self
            .w
            .as_mut()
            .ok_or_else(|| Error::internal("TsFile builder already finished"))?;
        w.copy_aligned_group(device, time, values)?;
        self.wrote = true;
        Ok(())
    }

    /// Completes the file: metadata, fsync, rename, directory fsync. Returns false (and
    /// leaves nothing behind) if no point was written.
    pub(crate) fn finish(mut self) -> Result<bool> {
        let Some(w) = self.w.take() else {
            return Err(Error::internal("TsFile builder already finished"));
        };
        if !self.wrote {
            drop(w);
            let _ = fs::remove_file(&self.tmp);
            return Ok(false);
        }
        // the checksums are named after the final file (a compaction result is renamed
        // from its staging name later); they are durable before the file appears
        let final_path = self
            .path
            .to_str()
            .and_then(|p| p.strip_suffix(STAGING_SUFFIX))
            .map(PathBuf::from)
            .unwrap_or_else(|| self.path.clone());
        let done = (|| -> Result<()> {
            crate::fault::check(&self.tmp)?;
            let file = w.finish()?.into_inner().map_err(|e| {
                Error::StorageEngine(format!("writing {}: {e}", self.tmp.display()))
            })?;
            ChunkChecksums::write_for(&self.tmp, &final_path)?;
            file.sync_all()?;
            fs::rename(&self.tmp, &self.path)?;
            Ok(())
        })();
        if let Err(e) = done {
            // a failed file (a full disk, say) leaves nothing behind
            let _ = fs::remove_file(&self.tmp);
            let _ = fs::remove_file(sidecar_path(&final_path));
            return Err(e);
        }
        if let Some(dir) = self.path.parent() {
            sync_dir(dir);
        }
        Ok(true)
    }
}

impl Drop for FileBuilder {
    fn drop(&mut self) {
        // an unfinished (failed) file leaves no temporary behind
        if self.w.take().is_some() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// Writes a TsFile at `path` (through a `.tmp` file, fsynced and renamed) holding the
/// given devices (those in `aligned` as aligned chunk groups); returns false (writing
/// nothing) if there is no point at all.
pub(crate) fn write_file(
    path: &Path,
    devices: &BTreeMap<&str, Vec<SeriesRange<'_>>>,
    aligned: &HashSet<String>,
) -> Result<bool> {
    if devices.values().all(|s| s.iter().all(|f| f.lo >= f.hi)) {
        return Ok(false);
    }
    let mut b = FileBuilder::create(path)?;
    for (device, series) in devices {
        b.add_ranges(device, series, aligned.contains(*device))?;
    }
    b.finish()
}

/// Merges the given files (oldest first) of one partition into `target` (a sequence
/// file), crash-safely: the merged file is written and fsynced under a temporary name, a
/// compaction log naming target and sources is fsynced, the file is renamed, and only
/// then may the caller swap the file lists and delete the sources (see
/// [`finish_compaction`]). Returns false if every point of the sources was deleted
/// (nothing written; the sources may still be dropped).
pub(crate) fn compact_files(
    dirs: &RegionDirs,
    sources: &[Arc<TsFileHandle>],
    target: &Path,
) -> Result<bool> {
    let part_dir = target
        .parent()
        .ok_or_else(|| Error::internal("TsFile path without a directory"))?;
    // union of devices and series, with the schema of the newest chunk of each series
    let mut layout: BTreeMap<String, BTreeMap<String, MeasurementSchema>> = BTreeMap::new();
    let mut aligned = HashSet::new();
    for f in sources {
        for (dev, series) in f.reader.all_series()? {
            if series.iter().any(|s| s.is_aligned_time()) {
                aligned.insert(dev.path());
            }
            let entry = layout.entry(dev.path()).or_default();
            for s in series {
                if s.is_aligned_time() {
                    continue;
                }
                let (Some(dt), Some(first)) = (s.data_type, s.chunks.first()) else {
                    continue;
                };
                let header = f.reader.read_chunk(first)?.header;
                entry.insert(
                    s.measurement.clone(),
                    MeasurementSchema {
                        name: s.measurement.clone(),
                        data_type: dt,
                        encoding: header.encoding,
                        compressor: header.compression,
                    },
                );
            }
        }
    }
    let mut log = String::new();
    log.push_str(
        &target
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default(),
    );
    log.push('\n');
    for f in sources {
        let space = if f.seq { "sequence" } else { "unsequence" };
        let name = f
            .path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        log.push_str(&format!("{space}/{}/{name}\n", f.partition));
    }
    log.push_str("end\n");
    // write the merged file device by device (one device's points in memory at a time)
    // under its staging name; it is renamed into place only after the log is durable
    let mut staged = target.as_os_str().to_owned();
    staged.push(STAGING_SUFFIX);
    let staged_name = PathBuf::from(staged);
    let stats = ReadStats::default();
    let mut builder = FileBuilder::create(&staged_name)?;
    for (dev, series) in layout {
        if !aligned.contains(&dev) {
            for (m, schema) in series {
                compact_series(&mut builder, sources, &dev, &m, schema, &stats)?;
            }
            continue;
        }
        let mut out = Vec::new();
        for (m, schema) in series {
            let phys = schema.data_type.physical();
            let mut parts = Vec::new();
            for f in sources {
                if let Some(d) = f.read(&dev, &m, TimeRange::ALL, phys, &stats)? {
                    parts.push(d);
                }
            }
            let data = merge_newest_wins(parts, phys);
            out.push(FlushSeries { schema, data });
        }
        builder.add_device(&dev, &out, aligned.contains(&dev))?;
    }
    let wrote = builder.finish()?;
    let log_path = part_dir.join(COMPACTION_LOG);
    let logged = (|| -> std::io::Result<()> {
        fs::create_dir_all(part_dir)?;
        let f = fs::File::create(&log_path)?;
        crate::fault::write_all(&f, &log_path, log.as_bytes())?;
        f.sync_all()
    })();
    if let Err(e) = logged {
        // nothing was renamed yet: the sources stay as they are
        let _ = fs::remove_file(&log_path);
        let _ = fs::remove_file(&staged_name);
        let _ = fs::remove_file(sidecar_path(target));
        return Err(e.into());
    }
    sync_dir(part_dir);
    if wrote {
        fs::rename(&staged_name, target)?;
        sync_dir(part_dir);
    }
    let _ = dirs;
    Ok(wrote)
}

/// One non-aligned series of a compaction, written in time order: chunks that overlap no
/// other chunk of the series, that no deletion touches, that hold the series' current type
/// and come from a file of the writer's version are copied byte for byte (nothing decoded,
/// lossy encodings not quantised again); the other points are merged (newest file wins) and
/// re-encoded around them.
fn compact_series(
    builder: &mut FileBuilder,
    sources: &[Arc<TsFileHandle>],
    device: &str,
    measurement: &str,
    schema: MeasurementSchema,
    stats: &ReadStats,
) -> Result<()> {
    let phys = schema.data_type.physical();
    let version = WriterOptions::default().version;
    // every chunk of the series: (start, end, source, metadata, touched by a deletion)
    let mut chunks: Vec<(i64, i64, usize, ChunkMetadata, bool)> = Vec::new();
    for (i, f) in sources.iter().enumerate() {
        let Some((cms, dels)) = f.plain_chunks(device, measurement, TimeRange::ALL, phys)? else {
            continue;
        };
        for c in cms {
            let (a, b) = (c.statistics.start_time, c.statistics.end_time);
            let touched = dels.iter().any(|d| d.start <= b && a <= d.end);
            chunks.push((a, b, i, c, touched));
        }
    }
    chunks.sort_by_key(|c| (c.0, c.1));
    let mut copies: Vec<(usize, tsfile::reader::Chunk, ChunkMetadata)> = Vec::new();
    let mut max_end = i64::MIN;
    for k in 0..chunks.len() {
        let (a, b, i, _, touched) = chunks[k];
        let overlaps = (k > 0 && max_end >= a) || chunks.get(k + 1).is_some_and(|n| n.0 <= b);
        max_end = max_end.max(b);
        if overlaps || touched || sources[i].reader.version() != version {
            continue;
        }
        let cm = chunks[k].3.clone();
        let chunk = sources[i].reader.read_chunk(&cm)?;
        if chunk.header.data_type == Some(schema.data_type) {
            copies.push((i, chunk, cm));
        }
    }
    // a series' chunks in one file share one encoding and compressor (see
    // `TsFileWriter::settled`): only chunks in the first copy's are copied, and the points
    // encoded around them take the same; the others' points are merged and encoded too
    let kind = |c: &tsfile::reader::Chunk| (c.header.encoding, c.header.compression);
    let settled = builder
        .settled(device, measurement)
        .or_else(|| copies.first().map(|c| kind(&c.1)));
    if let Some(how) = settled {
        copies.retain(|c| kind(&c.1) == how);
        builder.settle(device, measurement, how);
    }
    // the rest: every other chunk's points, merged
    let mut parts = Vec::new();
    for (i, f) in sources.iter().enumerate() {
        let copied: HashSet<u64> = copies
            .iter()
            .filter(|c| c.0 == i)
            .map(|c| c.2.offset)
            .collect();
        if let Some(d) =
            f.read_skipping(device, measurement, TimeRange::ALL, phys, stats, &|c| {
                copied.contains(&c.offset)
            })?
        {
            parts.push(d);
        }
    }
    let rest = merge_newest_wins(parts, phys);
    let encode = |b: &mut FileBuilder, lo: usize, hi: usize| {
        let points = SeriesRange {
            schema: &schema,
            points: &rest,
            lo,
            hi,
        };
        b.add_ranges(device, &[points], false)
    };
    let mut pos = 0;
    for (_, chunk, cm) in &copies {
        let k = rest
            .times
            .partition_point(|&t| t < cm.statistics.start_time)
            .max(pos);
        encode(builder, pos, k)?;
        pos = k;
        builder.copy_chunk(device, &chunk.header, &chunk.data, &cm.statistics)?;
    }
    encode(builder, pos, rest.times.len())
}

/// Completes a compaction after the file lists were swapped: removes the sources and the
/// log.
pub(crate) fn finish_compaction(sources: &[Arc<TsFileHandle>], target: &Path) {
    for s in sources {
        s.remove_files();
    }
    if let Some(dir) = target.parent() {
        let _ = fs::remove_file(dir.join(COMPACTION_LOG));
        sync_dir(dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_dirs_hold_no_separators() {
        let d = RegionDirs::new(Path::new("data"), "root.`a/b\\c`", 7);
        assert_eq!(d.seq, Path::new("data/sequence/root.`a_b_c`/7"));
        assert_eq!(d.unseq, Path::new("data/unsequence/root.`a_b_c`/7"));
    }

    #[test]
    fn file_names() {
        let n = FileName::parse("1700000000000-12-3-1.tsfile").unwrap();
        assert_eq!(n.version, 12);
        assert_eq!(n.render(), "1700000000000-12-3-1.tsfile");
        assert!(FileName::parse("1-2-3.tsfile").is_none());
        assert!(FileName::parse("1-2-3-4.tsfile.tmp").is_none());
        assert!(FileName::parse("a-2-3-4.tsfile").is_none());
    }
}
