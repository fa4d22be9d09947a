//! A data region: all data of one database — the working memtable, sealed memtables being
//! flushed, the sealed TsFiles (sequence and unsequence spaces, see [`FileSet`]) and the WAL.
//!
//! Lock order: flush lock → region state → sealed memtable → file list.

use crate::api::{
    ChunkSummary, MayHold, SeriesData, SeriesSpan, SummarizedSeries, SummaryPolicy, SummaryUse,
    TimeRange,
};
use crate::budget::{MemBudget, MemCharge};
use crate::config::WalMode;
use crate::engine::PlacedGroup;
use crate::fileset::{fallback_schema, CompactionPolicy, FileSet};
use crate::memtable::{MemTable, MemTimeShare, SeriesBuf};
use crate::merge::merge_newest_wins;
use crate::timeshare::TimeShare;
use crate::tsfiles::{RegionDirs, SeriesRange};
use crate::wal::{Wal, WalEntry};
use model::{ColumnData, MeasurementSchema, PartialPath, Result, TSDataType, Value};
use parking_lot::{Mutex, RwLock};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use tsfile::metadata::ChunkMetadata;

/// Until memtables are flushed into TsFiles the WAL is the only copy of the data, so
/// at open it is rewritten to the live points when the replayed segments are many or
/// mostly garbage (deleted or overwritten points).
fn should_checkpoint(segments: usize, bytes: u64, points: u64) -> bool {
    const MANY_SEGMENTS: usize = 8;
    const BIG: u64 = 64 << 20;
    let live_estimate = points.saturating_mul(16);
    segments >= MANY_SEGMENTS || (bytes > BIG && bytes > live_estimate.saturating_mul(2))
}

/// Schemas of a region's series at flush time.
#[derive(Debug, Default)]
pub(crate) struct SchemaMap {
    /// (device text, measurement) → type, encoding, compressor.
    pub(crate) series: HashMap<(String, String), MeasurementSchema>,
    /// Devices written as aligned chunk groups.
    pub(crate) aligned: HashSet<String>,
}

/// A memtable handed over to flushing.
struct Sealed {
    mem: RwLock<MemTable>,
    /// The memtable's estimated bytes when it was sealed, counted in the memtable budget
    /// until the last holder (the flush, a reader) drops it.
    charge: MemCharge,
    /// WAL segments numbered below this hold only records of this memtable or older ones.
    wal_boundary: u64,
}

/// Mutable state of a region.
struct RegionState {
    working: MemTable,
    /// The working memtable's estimated bytes, counted in the memtable budget (kept equal
    /// to `working.estimated_bytes()` under the state lock).
    charge: MemCharge,
    /// Oldest first; each is removed once its files are registered.
    sealed: Vec<Arc<Sealed>>,
}

/// All data of one database.
pub(crate) struct DataRegion {
    /// Stable id (names the WAL and data directories; never reused).
    pub(crate) id: u64,
    state: RwLock<RegionState>,
    wal: Wal,
    files: FileSet,
    /// Serializes flushes and deletions (a deletion must not miss a memtable being
    /// written out).
    flush_lock: Mutex<()>,
    /// TTL of the database in milliseconds (0 = none), for dropping expired files.
    ttl_ms: AtomicI64,
}

/// Reads one series from a memtable, sorting the buffer first if needed.
fn read_mem(
    mem: &RwLock<MemTable>,
    device: &PartialPath,
    measurement: &str,
    phys: TSDataType,
    range: TimeRange,
    mut share: Option<&mut MemTimeShare>,
) -> Option<SeriesData> {
    let mut read = |buf: &SeriesBuf| buf.read_sharing(range, share.as_deref_mut());
    {
        let m = mem.read();
        match m.series(device, measurement) {
            Some(buf) if buf.data_type() != phys => return None,
            Some(buf) if buf.is_sorted() => return Some(read(buf)),
            Some(_) => {}
            None => return None,
        }
    }
    let mut m = mem.write();
    let buf = m.series_existing_mut(device, measurement)?;
    buf.ensure_sorted();
    Some(read(buf))
}

/// The latest point of one series in a memtable (sorting the buffer first if needed),
/// without copying the buffer.
fn last_mem(
    mem: &RwLock<MemTable>,
    device: &PartialPath,
    measurement: &str,
    phys: TSDataType,
) -> Option<(i64, Value)> {
    {
        let m = mem.read();
        match m.series(device, measurement) {
            Some(buf) if buf.data_type() != phys => return None,
            Some(buf) if buf.is_sorted() => return buf.last(),
            Some(_) => {}
            None => return None,
        }
    }
    let mut m = mem.write();
    let buf = m.series_existing_mut(device, measurement)?;
    buf.ensure_sorted();
    buf.last()
}

impl DataRegion {
    /// Opens the region whose WAL lives in `wal_dir` and files in `dirs`: recovers the
    /// file set, then replays the WAL.
    pub(crate) fn open(
        id: u64,
        wal_dir: PathBuf,
        mode: WalMode,
        dirs: RegionDirs,
        partition_interval: i64,
        budget: &Arc<MemBudget>,
    ) -> Result<DataRegion> {
        let files = FileSet::open(dirs, partition_interval)?;
        let mut state = RegionState {
            working: MemTable::default(),
            charge: budget.empty_charge(),
            sealed: Vec::new(),
        };
        let wal = Wal::open(wal_dir, mode, &mut state.working)?;
        // replayed points are counted as they are (they may exceed the budget: writes then
        // wait for their flush)
        state.charge.resize(state.working.estimated_bytes());
        let region = DataRegion {
            id,
            state: RwLock::new(state),
            wal,
            files,
            flush_lock: Mutex::new(()),
            ttl_ms: AtomicI64::new(0),
        };
        let (segments, bytes) = region.wal.replayed();
        if should_checkpoint(segments, bytes, region.buffered_points()) {
            region.checkpoint()?;
        }
        Ok(region)
    }

    /// Rewrites the WAL to hold only the live points (see `Wal::checkpoint`).
    pub(crate) fn checkpoint(&self) -> Result<()> {
        let _f = self.flush_lock.lock();
        let mut st = self.state.write();
        if !st.sealed.is_empty() {
            return Ok(()); // the sealed memtables' segments must stay until they are flushed
        }
        self.wal.checkpoint(&mut st.working)
    }

    /// Logs `entry` to the WAL (when enabled) and then applies it to the memtable, under
    /// one lock so that WAL order equals apply order. In `Sync` mode waits for the fsync
    /// (outside the lock, so concurrent writers share fsyncs). Deletions also reach the
    /// sealed memtables and the files (as mods).
    ///
    /// What the working memtable grows by is taken from `reserved` (the write's admitted
    /// bytes, see [`MemBudget`]) in the same lock, so the budget's count moves only by what
    /// the reservation missed; what is left of `reserved` stays with the caller.
    pub(crate) fn write(
        &self,
        entry: &WalEntry,
        scratch: &mut Vec<u8>,
        reserved: &mut MemCharge,
    ) -> Result<()> {
        let deletion = match entry {
            WalEntry::Delete { series, range } => Some((series, *range)),
            WalEntry::Drop { series } => Some((series, TimeRange::ALL)),
            _ => None,
        };
        let _f = deletion.as_ref().map(|_| self.flush_lock.lock());
        scratch.clear();
        // large column buffers are written from the entry, not copied into the record
        let framed = match self.wal.mode() {
            WalMode::Disable => None,
            _ => Some(entry.encode_pieces(scratch)?),
        };
        let ticket = {
            let mut st = self.state.write();
            let ticket = match &framed {
                Some(f) => self.wal.append_framed(scratch, f)?,
                None => None,
            };
            let before = st.working.estimated_bytes();
            entry.apply(&mut st.working);
            let after = st.working.estimated_bytes();
            let st = &mut *st;
            st.charge
                .absorb(reserved.split(after.saturating_sub(before)));
            st.charge.resize(after);
            // new points belong to the working memtable only (it is the newest source);
            // deletions must also reach the memtables being flushed
            if deletion.is_some() {
                for s in &st.sealed {
                    entry.apply(&mut s.mem.write());
                }
            }
            ticket
        };
        if self.wal.mode() == WalMode::Sync {
            if let Some(t) = ticket {
                t.sync()?;
            }
        }
        if let Some((series, range)) = deletion {
            let keys: Vec<(String, String)> = series
                .iter()
                .map(|(d, m)| (d.to_string(), m.clone()))
                .collect();
            self.files.delete(&keys, range)?;
        }
        Ok(())
    }

    /// A consistent view of one series: the file list, the sealed memtables and what
    /// `f` extracts from the working memtable's (sorted) buffer, all taken under one
    /// state lock, so a flush running meanwhile can neither hide nor double-count data.
    fn snapshot<T>(
        &self,
        device: &PartialPath,
        measurement: &str,
        phys: TSDataType,
        mut f: impl FnMut(&crate::memtable::SeriesBuf) -> T,
    ) -> (Vec<Arc<Sealed>>, crate::fileset::FileList, Option<T>) {
        {
            let st = self.state.read();
            let out = match st.working.series(device, measurement) {
                Some(buf) if buf.data_type() != phys => Some(None),
                Some(buf) if buf.is_sorted() => Some(Some(f(buf))),
                Some(_) => None,
                None => Some(None),
            };
            if let Some(w) = out {
                return (st.sealed.clone(), self.files.snapshot(), w);
            }
        }
        let mut st = self.state.write();
        let w = st
            .working
            .series_existing_mut(device, measurement)
            .map(|buf| {
                buf.ensure_sorted();
                f(buf)
            });
        (st.sealed.clone(), self.files.snapshot(), w)
    }

    /// As [`DataRegion::snapshot`] for several series of one device at once.
    fn snapshot_many<T>(
        &self,
        device: &PartialPath,
        columns: &[(&str, TSDataType)],
        f: impl Fn(&crate::memtable::SeriesBuf) -> T,
    ) -> (Vec<Arc<Sealed>>, crate::fileset::FileList, Vec<Option<T>>) {
        let take = |buf: Option<&crate::memtable::SeriesBuf>, phys: TSDataType| match buf {
            Some(b) if b.data_type() == phys => Some(f(b)),
            _ => None,
        };
        {
            let st = self.state.read();
            let sorted = columns
                .iter()
                .all(|(m, _)| st.working.series(device, m).is_none_or(|b| b.is_sorted()));
            if sorted {
                let w = columns
                    .iter()
                    .map(|(m, phys)| take(st.working.series(device, m), *phys))
                    .collect();
                return (st.sealed.clone(), self.files.snapshot(), w);
            }
        }
        let mut st = self.state.write();
        for (m, _) in columns {
            if let Some(buf) = st.working.series_existing_mut(device, m) {
                buf.ensure_sorted();
            }
        }
        let w = columns
            .iter()
            .map(|(m, phys)| take(st.working.series(device, m), *phys))
            .collect();
        (st.sealed.clone(), self.files.snapshot(), w)
    }

    /// Reads several series of one device (`columns`: measurement and data type) from one
    /// consistent view; an aligned device's columns are decoded together from each file.
    /// Per series the same answer as [`DataRegion::read_series`].
    pub(crate) fn read_device_series(
        &self,
        device: &PartialPath,
        columns: &[(&str, TSDataType)],
        range: TimeRange,
        prune: &[Option<MayHold<'_>>],
    ) -> Result<Vec<SeriesData>> {
        let phys: Vec<(&str, TSDataType)> =
            columns.iter().map(|(m, t)| (*m, t.physical())).collect();
        if range.is_empty() {
            return Ok(phys
                .iter()
                .map(|(_, t)| SeriesData {
                    times: Default::default(),
                    values: ColumnData::empty(*t),
                })
                .collect());
        }
        let (sealed, files, working) = self.snapshot_many(device, &phys, |buf| buf.read(range));
        let dev = device.to_string();
        // With a filter on a column (`prune[k]` false = it holds on no point a summary
        // describes), a page of a file whose statistics prove it false for that column drops
        // the page's rows for every column: a row there fails the filter, as long as no other
        // source may give the column another value at those times (no other file's points of
        // the device, no memtable points of the column there).
        let pruned = prune.iter().any(Option::is_some);
        // the memtables' points (newer than every file), from the same snapshot
        let mut mem_parts: Vec<Vec<SeriesData>> = phys
            .iter()
            .map(|(m, t)| {
                sealed
                    .iter()
                    .filter_map(|s| read_mem(&s.mem, device, m, *t, range, None))
                    .collect()
            })
            .collect();
        for (part, w) in mem_parts.iter_mut().zip(working) {
            part.extend(w);
        }
        let in_memory: Vec<(i64, i64)> = mem_parts
            .iter()
            .enumerate()
            .filter(|(k, _)| prune.get(*k).is_some_and(Option::is_some))
            .flat_map(|(_, parts)| parts)
            .filter_map(|d| Some((*d.times.first()?, *d.times.last()?)))
            .collect();
        // the device's time span in each file (looked up once, only when pruning)
        let file_spans: Vec<Option<(i64, i64)>> = if pruned {
            files.iter().map(|f| f.device_span(&dev)).collect()
        } else {
            Vec::new()
        };
        let mut sources: Vec<Vec<SeriesData>> = vec![Vec::new(); phys.len()];
        for (fi, f) in files.iter().enumerate() {
            let others: Vec<(i64, i64)> = file_spans
                .iter()
                .enumerate()
                .filter(|(gi, _)| *gi != fi)
                .filter_map(|(_, span)| *span)
                .chain(in_memory.iter().copied())
                .collect();
            let skip = |k: usize, st: Option<&tsfile::statistics::Statistics>, ps: i64, pe: i64| {
                let Some(Some(may_hold)) = prune.get(k) else {
                    return false;
                };
                let false_everywhere = match st {
                    None => true,
                    Some(st) => crate::tsfiles::summary_of(st).is_some_and(|s| !may_hold(&s)),
                };
                false_everywhere && !others.iter().any(|&(a, b)| a <= pe && ps <= b)
            };
            let skip: Option<tsfile::reader::AlignedPageSkip<'_>> =
                if pruned { Some(&skip) } else { None };
            let cols = f.read_columns(&dev, &phys, range, &self.files.stats, skip)?;
            for (src, d) in sources.iter_mut().zip(cols) {
                src.extend(d.filter(|d| !d.times.is_empty()));
            }
        }
        for (src, mem) in sources.iter_mut().zip(mem_parts) {
            src.extend(mem);
        }
        Ok(sources
            .into_iter()
            .zip(&phys)
            .map(|(src, (_, t))| merge_newest_wins(src, *t))
            .collect())
    }

    /// Reads one series: memtables and files merged, sorted, deduplicated (newest write
    /// wins), deletions applied.
    pub(crate) fn read_series(
        &self,
        device: &PartialPath,
        measurement: &str,
        data_type: TSDataType,
        range: TimeRange,
    ) -> Result<SeriesData> {
        // chunks that nothing overlaps decode straight into one buffer; the rest is merged
        let all = |_: &ChunkSummary| SummaryUse::Decode;
        Ok(self
            .read_series_summarized(device, measurement, data_type, range, &all, None)?
            .data)
    }

    /// Spans of one series' points in `range`: its chunks in flushed files and its buffers
    /// in sealed and working memtables (see [`SeriesSpan`]).
    pub(crate) fn series_spans(
        &self,
        device: &PartialPath,
        measurement: &str,
        data_type: TSDataType,
        range: TimeRange,
    ) -> Result<Vec<SeriesSpan>> {
        let phys = data_type.physical();
        if range.is_empty() {
            return Ok(Vec::new());
        }
        let (sealed, files, working) =
            self.snapshot(device, measurement, phys, |buf| buf.span(range));
        let dev = device.to_string();
        let mut spans = Vec::new();
        for f in files.iter() {
            spans.extend(f.chunk_spans(&dev, measurement, range)?);
        }
        for s in &sealed {
            let m = s.mem.read();
            if let Some(buf) = m.series(device, measurement) {
                if buf.data_type() == phys && buf.is_sorted() {
                    spans.extend(buf.span(range));
                } else if buf.data_type() == phys {
                    // not sorted yet: bounded by the range, counted whole
                    spans.push(SeriesSpan {
                        start: range.start,
                        end: range.end,
                        count: buf.len() as u64,
                        in_memory: true,
                    });
                }
            }
        }
        spans.extend(working.flatten());
        Ok(spans)
    }

    /// Reads one series for aggregation: the chunks of flushed files that no other point
    /// of the series overlaps (no other chunk, no memtable point, no deletion) and that lie
    /// inside `range` are offered to `usable` (see [`SummaryUse`]): used as statistics,
    /// skipped unread, or decoded (their pages offered again one by one); every other point
    /// is read and merged as [`DataRegion::read_series`] does. The decoded times of clean
    /// chunks are shared with the other series of the device read through `share`.
    pub(crate) fn read_series_summarized(
        &self,
        device: &PartialPath,
        measurement: &str,
        data_type: TSDataType,
        range: TimeRange,
        usable: &dyn SummaryPolicy,
        mut share: Option<&mut TimeShare>,
    ) -> Result<SummarizedSeries> {
        let phys = data_type.physical();
        if range.is_empty() {
            return Ok(SummarizedSeries {
                data: SeriesData {
                    times: Default::default(),
                    values: ColumnData::empty(phys),
                },
                summaries: Vec::new(),
            });
        }
        // memtable times shared with the device's other series (a tablet's columns)
        let mut mem_share = share.as_deref_mut().map(TimeShare::mem);
        let (sealed, files, working) = self.snapshot(device, measurement, phys, |buf| {
            buf.read_sharing(range, mem_share.as_deref_mut())
        });
        let dev = device.to_string();
        let mut mems: Vec<SeriesData> = sealed
            .iter()
            .filter_map(|s| {
                read_mem(
                    &s.mem,
                    device,
                    measurement,
                    phys,
                    range,
                    mem_share.as_deref_mut(),
                )
            })
            .collect();
        mems.extend(working);
        // every chunk of the series in range: (start, end, file index, chunk if a candidate,
        // aligned). An aligned series' value chunk stands for the series' points in its chunk
        // group: its statistics may be used or it may be skipped, but its points are read
        // with the rest (decoding them needs the group's time chunk).
        let mut chunks: Vec<(i64, i64, usize, u64, Option<ChunkMetadata>, bool)> = Vec::new();
        for (fi, f) in files.iter().enumerate() {
            let Some(((cms, dels), aligned)) = f.summary_chunks(&dev, measurement, range, phys)?
            else {
                continue;
            };
            for c in cms {
                let (s, e) = (c.statistics.start_time, c.statistics.end_time);
                let candidate = !dels.iter().any(|d| d.start <= e && s <= d.end);
                chunks.push((s, e, fi, c.offset, candidate.then_some(c), aligned));
            }
        }
        chunks.sort_by_key(|c| (c.0, c.1));
        let mem_hit = |s: i64, e: i64| {
            mems.iter().any(|m| {
                let i = m.times.partition_point(|&t| t < s);
                m.times.get(i).is_some_and(|&t| t <= e)
            })
        };
        let mut summaries = Vec::new();
        // the decoded points of clean chunks, in time order (they overlap nothing)
        let mut clean = SeriesData {
            times: Default::default(),
            values: ColumnData::empty(phys),
        };
        if let Some(share) = share.as_deref_mut() {
            share.begin();
        }
        let mut skip: Vec<HashSet<u64>> = vec![HashSet::new(); files.len()];
        // points each candidate chunk may add to `clean` (its count scaled to its overlap
        // with the range), summed from each chunk to the end: when a chunk must be decoded,
        // `clean` grows once for all that may follow instead of once per chunk
        let mut ahead: Vec<u64> = chunks
            .iter()
            .map(|c| c.4.as_ref().map_or(0, |cm| points_in(cm, range)))
            .collect();
        for i in (1..ahead.len()).rev() {
            ahead[i - 1] = ahead[i - 1].saturating_add(ahead[i]);
        }
        let mut max_end = i64::MIN;
        for i in 0..chunks.len() {
            let (s, e, fi, off, _, aligned) = chunks[i];
            let overlaps_prev = i > 0 && max_end >= s;
            let overlaps_next = chunks.get(i + 1).is_some_and(|n| n.0 <= e);
            max_end = max_end.max(e);
            if overlaps_prev || overlaps_next || mem_hit(s, e) {
                continue;
            }
            let Some(cm) = chunks[i].4.take() else {
                continue;
            };
            let inside = range.start <= s && e <= range.end;
            let verdict = if inside {
                crate::tsfiles::summary_of(&cm.statistics).map(|sum| (usable.verdict(&sum), sum))
            } else {
                None
            };
            match verdict {
                Some((SummaryUse::Use, sum)) => summaries.push(sum),
                Some((SummaryUse::Skip, _)) => {}
                // read with the rest of its file
                _ if aligned => continue,
                _ => {
                    // the chunk spans windows or a range end, or its points are needed: its
                    // pages may still be usable one by one
                    let free = clean.values.capacity() - clean.values.len();
                    if (free as u64) < points_in(&cm, range) {
                        let room = usize::try_from(ahead[i]).unwrap_or(usize::MAX);
                        let room = room.min(crate::tsfiles::MAX_RESERVE_POINTS);
                        if !share.as_ref().is_some_and(|s| s.defers_times()) {
                            clean.times.reserve(room);
                        }
                        clean.values.reserve(room);
                    }
                    let sums = files[fi].chunk_by_pages(
                        &cm,
                        phys,
                        range,
                        usable,
                        &mut clean,
                        share.as_deref_mut(),
                    )?;
                    summaries.extend(sums);
                }
            }
            skip[fi].insert(off);
        }
        summaries.sort_by_key(|c| c.start);
        if let Some(share) = share {
            share.finish(&mut clean);
        }
        // points of a clean chunk overlap nothing: any position among the sources will do
        let mut sources = vec![clean];
        for (fi, f) in files.iter().enumerate() {
            let sk = &skip[fi];
            let d = f.read_skipping(&dev, measurement, range, phys, &self.files.stats, &|c| {
                sk.contains(&c.offset)
            })?;
            if let Some(d) = d.filter(|d| !d.times.is_empty()) {
                sources.push(d);
            }
        }
        sources.extend(mems);
        Ok(SummarizedSeries {
            data: merge_newest_wins(sources, phys),
            summaries,
        })
    }

    /// The latest point of a series.
    pub(crate) fn last_point(
        &self,
        device: &PartialPath,
        measurement: &str,
        data_type: TSDataType,
    ) -> Result<Option<(i64, Value)>> {
        let phys = data_type.physical();
        let (sealed, files, working) = self.snapshot(device, measurement, phys, |buf| buf.last());
        let file_max = FileSet::max_time(&files, &device.to_string());
        // newest source first: the working memtable, then sealed ones newest first
        let mut best: Option<(i64, Value)> = working.flatten();
        for s in sealed.iter().rev() {
            if let Some((t, v)) = last_mem(&s.mem, device, measurement, phys) {
                if best.as_ref().is_none_or(|(bt, _)| t > *bt) {
                    best = Some((t, v));
                }
            }
        }
        match (file_max, &best) {
            (None, _) => return Ok(best),
            (Some(fm), Some((t, _))) if *t >= fm => return Ok(best),
            _ => {}
        }
        // files may hold later points: the latest chunk's statistics may settle it; else
        // read from the memtables' last time (or the start of the files' latest chunk) on,
        // then everything if deletions emptied that range
        let tail = FileSet::tail(&files, &device.to_string(), measurement)?;
        if let Some((_, Some((t, v)))) = &tail {
            let newer_than_memory = best.as_ref().is_none_or(|(bt, _)| t > bt);
            if newer_than_memory && v.data_type() == phys {
                return Ok(Some((*t, v.clone())));
            }
        }
        let tail = tail.map(|(start, _)| start);
        let from = best
            .as_ref()
            .map(|(t, _)| *t)
            .into_iter()
            .chain(tail)
            .max()
            .unwrap_or(i64::MIN);
        for range in [TimeRange::new(from, i64::MAX), TimeRange::ALL] {
            let d = self.read_series(device, measurement, data_type, range)?;
            if let Some(&t) = d.times.last() {
                return Ok(d.values.get(d.times.len() - 1).map(|v| (t, v)));
            }
        }
        Ok(None)
    }

    /// Fsyncs the WAL.
    pub(crate) fn sync_wal(&self) -> Result<()> {
        self.wal.sync()
    }

    /// The series buffered in the memtables (from the WAL or new writes), with their
    /// physical types.
    pub(crate) fn buffered_series(&self) -> Vec<(String, String, TSDataType)> {
        let st = self.state.read();
        let mut out: Vec<(String, String, TSDataType)> = st
            .working
            .series_iter()
            .map(|(d, m, b)| (d.to_string(), m.to_string(), b.data_type()))
            .collect();
        for s in &st.sealed {
            let mem = s.mem.read();
            out.extend(
                mem.series_iter()
                    .map(|(d, m, b)| (d.to_string(), m.to_string(), b.data_type())),
            );
        }
        out
    }

    /// Number of points in the working memtable.
    pub(crate) fn buffered_points(&self) -> u64 {
        self.state.read().working.points()
    }

    /// Estimated memory of the working memtable (see `MemTable::estimated_bytes`).
    pub(crate) fn buffered_bytes(&self) -> u64 {
        self.state.read().working.estimated_bytes()
    }

    /// Estimated memory of the working and the sealed (not yet flushed) memtables.
    pub(crate) fn memtable_bytes(&self) -> u64 {
        let st = self.state.read();
        st.sealed
            .iter()
            .map(|s| s.charge.bytes())
            .fold(st.working.estimated_bytes(), u64::saturating_add)
    }

    /// Bytes of the region's WAL files on disk.
    pub(crate) fn wal_bytes(&self) -> u64 {
        self.wal.disk_bytes()
    }

    /// Moves the working memtable into the sealed list (nothing if it is empty).
    fn seal(&self) -> Result<()> {
        let mut st = self.state.write();
        if st.working.points() == 0 {
            return Ok(());
        }
        let wal_boundary = self.wal.rotate()?;
        let mem = std::mem::take(&mut st.working);
        let charge = st.charge.split(u64::MAX);
        debug_assert_eq!(charge.bytes(), mem.estimated_bytes());
        st.sealed.push(Arc::new(Sealed {
            charge,
            mem: RwLock::new(mem),
            wal_boundary,
        }));
        Ok(())
    }

    /// See [`FileSet::ingest_chunks`].
    pub(crate) fn ingest_chunks(
        &self,
        partition: i64,
        chunks: &[PlacedGroup],
        read: &dyn Fn(&ChunkMetadata) -> Result<tsfile::reader::Chunk>,
    ) -> Result<u64> {
        self.files.ingest_chunks(partition, chunks, read)
    }

    /// The time partition of timestamp `t` in this region.
    pub(crate) fn partition_of(&self, t: i64) -> i64 {
        self.files.partition_of(t)
    }

    /// Flushes the working memtable (and any sealed one left by an earlier failure) into
    /// TsFiles, then drops the WAL segments they covered. `schemas` gives each series'
    /// type, encoding and compressor. Waits for a running flush first.
    pub(crate) fn flush(&self, schemas: &SchemaMap) -> Result<()> {
        let _f = self.flush_lock.lock();
        self.seal()?;
        self.flush_sealed_locked(schemas)
    }

    /// Back-pressure: waits for a running flush, then flushes here if the working memtable
    /// still holds at least `min_bytes` (writers that outrun the flusher slow down to
    /// its pace instead of growing the memtable without bound).
    pub(crate) fn flush_if_over(&self, schemas: &SchemaMap, min_bytes: u64) -> Result<()> {
        let _f = self.flush_lock.lock();
        if self.state.read().working.estimated_bytes() >= min_bytes {
            self.seal()?;
        }
        self.flush_sealed_locked(schemas)
    }

    /// Seals the working memtable for a background flush, unless a flush is running or a
    /// sealed memtable is already waiting (so at most one memtable waits). Returns true if
    /// it sealed one; then [`DataRegion::flush_sealed`] must follow.
    pub(crate) fn seal_if_idle(&self) -> Result<bool> {
        let Some(_f) = self.flush_lock.try_lock() else {
            return Ok(false);
        };
        if !self.state.read().sealed.is_empty() {
            return Ok(false);
        }
        self.seal()?;
        Ok(!self.state.read().sealed.is_empty())
    }

    /// Writes every sealed memtable into TsFiles (the background half of a flush).
    pub(crate) fn flush_sealed(&self, schemas: &SchemaMap) -> Result<()> {
        let _f = self.flush_lock.lock();
        self.flush_sealed_locked(schemas)
    }

    fn flush_sealed_locked(&self, schemas: &SchemaMap) -> Result<()> {
        loop {
            let Some(sealed) = self.state.read().sealed.first().cloned() else {
                break;
            };
            let start = std::time::Instant::now();
            // sort in place (only series written out of order are rebuilt), then encode
            // straight from the buffers, one chunk at a time
            sealed.mem.write().for_each_series(|_, _, buf| {
                buf.ensure_sorted();
                Ok(())
            })?;
            let mem = sealed.mem.read();
            let listed: Vec<(String, MeasurementSchema, &SeriesBuf)> = mem
                .series_iter()
                .filter(|(_, _, buf)| buf.len() > 0)
                .map(|(device, measurement, buf)| {
                    let dev = device.to_string();
                    let key = (dev.clone(), measurement.to_string());
                    let schema = match schemas.series.get(&key) {
                        Some(s) if s.data_type.physical() == buf.data_type() => s.clone(),
                        _ => fallback_schema(measurement, buf.data_type()),
                    };
                    (dev, schema, buf)
                })
                .collect();
            let mut devices: BTreeMap<String, Vec<SeriesRange<'_>>> = BTreeMap::new();
            for (dev, schema, buf) in &listed {
                devices.entry(dev.clone()).or_default().push(SeriesRange {
                    schema,
                    points: *buf,
                    lo: 0,
                    hi: buf.len(),
                });
            }
            self.files.flush(&devices, &schemas.aligned)?;
            drop(devices);
            drop(listed);
            drop(mem);
            {
                let mut st = self.state.write();
                st.sealed.retain(|s| !Arc::ptr_eq(s, &sealed));
            }
            self.wal.remove_before(sealed.wal_boundary)?;
            crate::stats::flushed(start);
        }
        Ok(())
    }

    /// Sets the TTL used by [`DataRegion::drop_expired`].
    pub(crate) fn set_ttl(&self, ttl_ms: Option<i64>) {
        self.ttl_ms
            .store(ttl_ms.filter(|t| *t > 0).unwrap_or(0), Ordering::Relaxed);
    }

    /// Removes the files whose data is entirely past the TTL.
    pub(crate) fn drop_expired(&self) -> usize {
        let ttl = self.ttl_ms.load(Ordering::Relaxed);
        if ttl <= 0 {
            return 0;
        }
        self.files
            .drop_expired(model::time::now_ms().saturating_sub(ttl))
    }

    /// Runs at most one compaction step.
    pub(crate) fn compact_once(&self, policy: &CompactionPolicy) -> Result<bool> {
        let start = std::time::Instant::now();
        let merged = self.files.compact_once(policy)?;
        if merged {
            crate::stats::compacted(start);
        }
        Ok(merged)
    }

    /// The file set (tests, LOAD, diagnostics).
    pub(crate) fn files(&self) -> &FileSet {
        &self.files
    }

    /// Removes the region's files (database deleted).
    pub(crate) fn remove_files(&self) {
        let _f = self.flush_lock.lock();
        self.files.remove_all();
    }
}

/// About how many points of chunk `cm` lie in `range`: its count scaled by the share of its
/// time span inside the range (an estimate for reserving room, never trusted beyond that).
fn points_in(cm: &ChunkMetadata, range: TimeRange) -> u64 {
    cm.statistics.points_in(range.start, range.end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wal::{WalColumn, WalTablet};
    use model::ColumnData;
    use std::borrow::Cow;

    fn tablet(dev: &PartialPath, t0: i64, n: i64) -> WalEntry<'static> {
        WalEntry::Tablet(WalTablet {
            device: Cow::Owned(dev.clone()),
            times: Cow::Owned((t0..t0 + n).collect()),
            columns: vec![WalColumn {
                measurement: Cow::Owned("s".into()),
                data: Cow::Owned(ColumnData::Int64((t0..t0 + n).collect())),
                nulls: None,
            }],
        })
    }

    fn open(root: &std::path::Path) -> DataRegion {
        DataRegion::open(
            0,
            root.join("wal"),
            WalMode::Sync,
            RegionDirs::new(root, "root.sg", 0),
            1 << 40,
            &MemBudget::new(0),
        )
        .unwrap()
    }

    impl DataRegion {
        /// [`DataRegion::write`] without a reservation.
        fn put(&self, entry: &WalEntry, scratch: &mut Vec<u8>) -> Result<()> {
            let mut none = self.state.write().charge.split(0);
            self.write(entry, scratch, &mut none)
        }
    }

    /// Inserts while a memtable is sealed (being flushed) go to the working memtable
    /// only; deletions reach both.
    #[test]
    fn sealed_memtables_get_deletions_not_inserts() {
        let dir = tempfile::tempdir().unwrap();
        let dev = PartialPath::parse("root.sg.d").unwrap();
        let mut scratch = Vec::new();
        let r = open(dir.path());
        r.put(&tablet(&dev, 0, 100), &mut scratch).unwrap();
        r.seal().unwrap();
        r.put(&tablet(&dev, 100, 50), &mut scratch).unwrap();
        let sealed_points = |r: &DataRegion| r.state.read().sealed[0].mem.read().points();
        assert_eq!(sealed_points(&r), 100);
        assert_eq!(r.buffered_points(), 50);
        r.put(
            &WalEntry::Delete {
                series: vec![(dev.clone(), "s".into())],
                range: TimeRange::new(90, 109),
            },
            &mut scratch,
        )
        .unwrap();
        assert_eq!(sealed_points(&r), 90);
        assert_eq!(r.buffered_points(), 40);
        let d = r
            .read_series(&dev, "s", TSDataType::Int64, TimeRange::ALL)
            .unwrap();
        let want: Vec<i64> = (0..90).chain(110..150).collect();
        assert_eq!(d.times, want);
    }

    #[test]
    fn checkpoint_keeps_live_points_and_drops_history() {
        let dir = tempfile::tempdir().unwrap();
        let wal = dir.path().join("wal");
        let dev = PartialPath::parse("root.sg.d").unwrap();
        let mut scratch = Vec::new();
        for round in 0..3 {
            let r = open(dir.path());
            r.put(&tablet(&dev, round * 100, 100), &mut scratch)
                .unwrap();
        }
        let r = open(dir.path());
        assert_eq!(r.wal.replayed().0, 3);
        r.put(
            &WalEntry::Delete {
                series: vec![(dev.clone(), "s".into())],
                range: TimeRange::new(0, 149),
            },
            &mut scratch,
        )
        .unwrap();
        r.checkpoint().unwrap();
        drop(r);
        let files = std::fs::read_dir(&wal).unwrap().count();
        assert_eq!(files, 1, "old segments replaced by the checkpoint segment");
        let r = open(dir.path());
        let d = r
            .read_series(&dev, "s", TSDataType::Int64, TimeRange::ALL)
            .unwrap();
        assert_eq!(d.times, (150..300).collect::<Vec<_>>());
        assert_eq!(d.values, ColumnData::Int64((150..300).collect()));
    }

    #[test]
    fn flush_drops_wal_and_reads_merge_files_and_memtable() {
        let dir = tempfile::tempdir().unwrap();
        let dev = PartialPath::parse("root.sg.d").unwrap();
        let mut scratch = Vec::new();
        let r = open(dir.path());
        r.put(&tablet(&dev, 0, 100), &mut scratch).unwrap();
        r.flush(&SchemaMap::default()).unwrap();
        assert_eq!(r.buffered_points(), 0);
        assert_eq!(r.files().counts(), (1, 0));
        let wal_files = std::fs::read_dir(dir.path().join("wal")).unwrap().count();
        assert_eq!(wal_files, 0, "flushed WAL segments are dropped");
        r.put(&tablet(&dev, 50, 100), &mut scratch).unwrap();
        let d = r
            .read_series(&dev, "s", TSDataType::Int64, TimeRange::ALL)
            .unwrap();
        assert_eq!(d.times, (0..150).collect::<Vec<_>>());
        assert_eq!(
            r.last_point(&dev, "s", TSDataType::Int64).unwrap(),
            Some((149, Value::Int64(149)))
        );
        r.flush(&SchemaMap::default()).unwrap();
        assert_eq!(r.files().counts(), (2, 1));
        r.put(
            &WalEntry::Delete {
                series: vec![(dev.clone(), "s".into())],
                range: TimeRange::new(140, 200),
            },
            &mut scratch,
        )
        .unwrap();
        drop(r);
        let r = open(dir.path());
        let d = r
            .read_series(&dev, "s", TSDataType::Int64, TimeRange::ALL)
            .unwrap();
        assert_eq!(d.times, (0..140).collect::<Vec<_>>());
        assert_eq!(
            r.last_point(&dev, "s", TSDataType::Int64).unwrap(),
            Some((139, Value::Int64(139)))
        );
    }

    #[test]
    fn checkpoint_policy() {
        assert!(!should_checkpoint(1, 1 << 20, 0));
        assert!(should_checkpoint(8, 0, 0));
        assert!(should_checkpoint(2, 100 << 20, 1000));
        assert!(!should_checkpoint(2, 100 << 20, 10 << 20));
    }
}
