//! The set of sealed TsFiles of one data region and what happens to it: flushes add files
//! (split by time partition into the sequence and unsequence spaces), deletions add mods,
//! compaction replaces files by merged ones, reads collect one series from every file.
//!
//! The list of files is an immutable snapshot behind a lock (`Arc<Vec<_>>`): readers take
//! the snapshot and read without holding any lock, flush and compaction build a new list
//! and swap it in, so neither blocks reads or writes.

use crate::api::TimeRange;
use crate::engine::PlacedGroup;
use crate::mods::Deletion;
use crate::tsfiles::{
    compact_files, finish_compaction, open_region_files, write_file, FileBuilder, FileName,
    ReadStats, RegionDirs, SeriesRange, TsFileHandle,
};
use model::{Error, MeasurementSchema, Result, TSDataType, Value};
use parking_lot::{Mutex, RwLock};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Snapshot of the file list, oldest first.
pub(crate) type FileList = Arc<Vec<Arc<TsFileHandle>>>;

/// Compaction policy.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CompactionPolicy {
    /// A partition with at least this many files is compacted.
    pub(crate) max_files: usize,
    /// A partition with an unsequence file is compacted once it has this many files.
    pub(crate) min_files_with_unseq: usize,
    /// Files above this size are not merged again (unless an unsequence file overlaps).
    pub(crate) max_file_bytes: u64,
}

impl Default for CompactionPolicy {
    fn default() -> Self {
        CompactionPolicy {
            max_files: 8,
            min_files_with_unseq: 2,
            max_file_bytes: 512 << 20,
        }
    }
}

/// The TsFiles of a region.
pub(crate) struct FileSet {
    dirs: RegionDirs,
    partition_interval: i64,
    files: RwLock<FileList>,
    next_version: AtomicU64,
    /// (partition, device) → last time flushed into the sequence space.
    last_flushed: Mutex<HashMap<(i64, String), i64>>,
    /// Held by compaction and by deletions (so a deletion never lands on a file being
    /// merged away).
    compaction: Mutex<()>,
    /// Read counters.
    pub(crate) stats: ReadStats,
}

fn partition_of(t: i64, interval: i64) -> i64 {
    if interval <= 0 {
        0
    } else {
        t.div_euclid(interval)
    }
}

/// Where a series ends across files: the start time of its latest chunk, and the last point
/// when the chunk statistics settle it.
pub(crate) type Tail = (i64, Option<(i64, Value)>);

impl FileSet {
    /// Opens (recovering) the files of a region.
    pub(crate) fn open(dirs: RegionDirs, partition_interval: i64) -> Result<FileSet> {
        let files = open_region_files(&dirs)?;
        let mut last = HashMap::new();
        let mut max_version = 0;
        for f in &files {
            max_version = max_version.max(f.name.version);
            if f.seq {
                for (dev, _, hi) in f.device_ranges() {
                    let e = last.entry((f.partition, dev.to_string())).or_insert(hi);
                    *e = (*e).max(hi);
                }
            }
        }
        Ok(FileSet {
            dirs,
            partition_interval,
            files: RwLock::new(Arc::new(files)),
            next_version: AtomicU64::new(max_version + 1),
            last_flushed: Mutex::new(last),
            compaction: Mutex::new(()),
            stats: ReadStats::default(),
        })
    }

    /// The current files, oldest first.
    pub(crate) fn snapshot(&self) -> FileList {
        self.files.read().clone()
    }

    /// Reads one series from every file (oldest first), deletions applied (the tests'
    /// view of what the files hold; reads go through `DataRegion::read_series_summarized`).
    #[cfg(test)]
    pub(crate) fn read_sources(
        files: &FileList,
        stats: &ReadStats,
        device: &str,
        measurement: &str,
        range: TimeRange,
        phys: TSDataType,
    ) -> Result<Vec<crate::api::SeriesData>> {
        let mut out = Vec::new();
        for f in files.iter() {
            if let Some(d) = f.read(device, measurement, range, phys, stats)? {
                if !d.times.is_empty() {
                    out.push(d);
                }
            }
        }
        Ok(out)
    }

    /// Largest time any file holds for a device (an upper bound of its last point).
    pub(crate) fn max_time(files: &FileList, device: &str) -> Option<i64> {
        files
            .iter()
            .filter_map(|f| f.device_range(device).map(|r| r.1))
            .max()
    }

    /// The chunk holding the latest point of a series across `files`: its start time (a
    /// read from there on finds the last point, unless deletions removed it) and, when its
    /// statistics settle it (no deletion covers it, no other file ends a chunk at the same
    /// time), the last point itself.
    pub(crate) fn tail(files: &FileList, device: &str, measurement: &str) -> Result<Option<Tail>> {
        // (end, start, last value); `tied` when two files end a chunk at the same time
        let mut best: Option<(i64, i64, Option<Value>)> = None;
        let mut tied = false;
        // files by their device end time, latest first: once a file's device range ends
        // before the best series end found, no later file can beat it
        let mut cands: Vec<(i64, &Arc<TsFileHandle>)> = files
            .iter()
            .filter_map(|f| f.device_range(device).map(|r| (r.1, f)))
            .collect();
        cands.sort_by_key(|c| std::cmp::Reverse(c.0));
        for (device_end, f) in cands {
            if best.as_ref().is_some_and(|b| device_end < b.0) {
                break;
            }
            if let Some((start, end, last)) = f.last_chunk(device, measurement)? {
                match &best {
                    Some(b) if end == b.0 => tied = true,
                    Some(b) if end < b.0 => {}
                    _ => {
                        best = Some((end, start, last));
                        tied = false;
                    }
                }
            }
        }
        Ok(best.map(|(end, start, last)| {
            let point = last.filter(|_| !tied).map(|v| (end, v));
            (start, point)
        }))
    }

    /// Writes a sealed memtable's content (device → series, sorted unique points) into
    /// new files: per time partition, the points of a device later than what the
    /// sequence space already holds go into a sequence file, the rest into an unsequence
    /// file (IoTDB's rule). Since the points are sorted each such piece is a range of
    /// positions, so nothing is copied here: the file writer copies one chunk at a time.
    /// The files are complete and fsynced when this returns.
    pub(crate) fn flush(
        &self,
        devices: &BTreeMap<String, Vec<SeriesRange<'_>>>,
        aligned: &HashSet<String>,
    ) -> Result<()> {
        let version = self.next_version.fetch_add(1, Ordering::AcqRel);
        let now = model::time::now_ms();
        let interval = self.partition_interval;
        // (partition, seq) → device → series ranges
        let mut split: BTreeMap<(i64, bool), BTreeMap<&str, Vec<SeriesRange<'_>>>> =
            BTreeMap::new();
        let mut new_last: HashMap<(i64, String), i64> = HashMap::new();
        let mut points = 0;
        {
            let last = self.last_flushed.lock();
            for (device, series) in devices {
                for s in series {
                    let mut lo = s.lo;
                    while lo < s.hi {
                        let p = partition_of(s.points.time(lo), interval);
                        let next_start = p
                            .checked_add(1)
                            .and_then(|q| q.checked_mul(interval))
                            .filter(|_| interval > 0);
                        let hi = match next_start {
                            Some(ns) => s.points.partition_point(&|t| t < ns).clamp(lo + 1, s.hi),
                            None => s.hi,
                        };
                        // points up to the last flushed time of the partition are unsequence
                        let mid = match last.get(&(p, device.clone())) {
                            Some(&lf) => s.points.partition_point(&|t| t <= lf).clamp(lo, hi),
                            None => lo,
                        };
                        if mid < hi {
                            let t = s.points.time(hi - 1);
                            let e = new_last.entry((p, device.clone())).or_insert(t);
                            *e = (*e).max(t);
                        }
                        for (seq, a, b) in [(false, lo, mid), (true, mid, hi)] {
                            if a < b {
                                points += b - a;
                                split
                                    .entry((p, seq))
                                    .or_default()
                                    .entry(device.as_str())
                                    .or_default()
                                    .push(SeriesRange { lo: a, hi: b, ..*s });
                            }
                        }
                        lo = hi;
                    }
                }
            }
        }
        let mut added = Vec::new();
        for ((p, seq), devs) in split {
            let name = FileName {
                time: now,
                version,
                inner: 0,
                cross: 0,
            };
            let path = self.dirs.partition_dir(seq, p).join(name.render());
            if write_file(&path, &devs, aligned)? {
                added.push(Arc::new(TsFileHandle::open(
                    path,
                    seq,
                    p,
                    self.dirs.verify_checksums,
                )?));
            }
        }
        if !added.is_empty() {
            tracing::info!(
                "flushed {points} point(s) into {} file(s) under {} (version {version})",
                added.len(),
                self.dirs.seq.display()
            );
            let mut files = self.files.write();
            let mut list: Vec<_> = files.iter().cloned().collect();
            list.extend(added);
            list.sort_by_key(|h| h.name.age_key());
            *files = Arc::new(list);
        }
        let mut last = self.last_flushed.lock();
        for (k, t) in new_last {
            let e = last.entry(k).or_insert(t);
            *e = (*e).max(t);
        }
        Ok(())
    }

    /// Places copied chunks (of non-aligned series, each wholly inside `partition`, read one
    /// at a time with `read`) in a new unsequence file of that partition, newer than every
    /// file so far: the chunks' bytes are written unchanged (see
    /// [`FileBuilder::copy_chunk`]), with checksums beside the file as for a flush.
    /// `chunks` must be in (device, measurement, time) order. Returns the points placed.
    pub(crate) fn ingest_chunks(
        &self,
        partition: i64,
        chunks: &[PlacedGroup],
        read: &dyn Fn(&tsfile::metadata::ChunkMetadata) -> Result<tsfile::reader::Chunk>,
    ) -> Result<u64> {
        if chunks.is_empty() {
            return Ok(0);
        }
        let version = self.next_version.fetch_add(1, Ordering::AcqRel);
        let name = FileName {
            time: model::time::now_ms(),
            version,
            inner: 0,
            cross: 0,
        };
        let path = self
            .dirs
            .partition_dir(false, partition)
            .join(name.render());
        let mut builder = FileBuilder::create(&path)?;
        let mut points = 0u64;
        for (device, cm, values) in chunks {
            let chunk = read(cm)?;
            if values.is_empty() {
                builder.copy_chunk(device, &chunk.header, &chunk.data, &cm.statistics)?;
                points += cm.statistics.count;
                continue;
            }
            let value_chunks = values.iter().map(read).collect::<Result<Vec<_>>>()?;
            let columns: Vec<_> = value_chunks
                .iter()
                .zip(values)
                .map(|(c, m)| copied(c, &m.statistics))
                .collect();
            builder.copy_aligned_group(device, copied(&chunk, &cm.statistics), &columns)?;
            points += values.iter().map(|m| m.statistics.count).sum::<u64>();
        }
        if !builder.finish()? {
            return Ok(0);
        }
        let handle = Arc::new(TsFileHandle::open(
            path,
            false,
            partition,
            self.dirs.verify_checksums,
        )?);
        tracing::info!(
            "placed {} copied chunk(s), {points} point(s), in {} (version {version})",
            chunks.len(),
            handle.path.display()
        );
        let mut files = self.files.write();
        let mut list: Vec<_> = files.iter().cloned().collect();
        list.push(handle);
        list.sort_by_key(|h| h.name.age_key());
        *files = Arc::new(list);
        Ok(points)
    }

    /// The time partition of timestamp `t` in this region.
    pub(crate) fn partition_of(&self, t: i64) -> i64 {
        partition_of(t, self.partition_interval)
    }

    /// Records a deletion of `series` (device, measurement) in `range` in the mods of
    /// every file that may hold such points.
    pub(crate) fn delete(&self, series: &[(String, String)], range: TimeRange) -> Result<()> {
        let _c = self.compaction.lock();
        let files = self.snapshot();
        for f in files.iter() {
            let dels: Vec<Deletion> = series
                .iter()
                .filter(|(d, _)| {
                    f.device_range(d)
                        .is_some_and(|(lo, hi)| lo <= range.end && range.start <= hi)
                })
                .map(|(d, m)| Deletion {
                    series: format!("{d}.{m}"),
                    range,
                })
                .collect();
            f.add_deletions(dels)?;
        }
        Ok(())
    }

    /// Picks the files of one partition to compact, if any partition needs it.
    fn pick(
        &self,
        files: &FileList,
        policy: &CompactionPolicy,
    ) -> Option<(i64, Vec<Arc<TsFileHandle>>)> {
        let mut parts: BTreeMap<i64, Vec<Arc<TsFileHandle>>> = BTreeMap::new();
        for f in files.iter() {
            parts.entry(f.partition).or_default().push(f.clone());
        }
        for (p, list) in parts {
            let has_unseq = list.iter().any(|f| !f.seq);
            if has_unseq && list.len() >= policy.min_files_with_unseq {
                return Some((p, list));
            }
            let small: Vec<_> = list
                .iter()
                .filter(|f| f.size < policy.max_file_bytes)
                .cloned()
                .collect();
            if small.len() >= policy.max_files && !has_unseq {
                // sequence files never overlap per device (a point goes to the sequence
                // space only if it is later than everything flushed there), so any
                // subset of them can be merged without changing which write wins
                return Some((p, small));
            }
        }
        None
    }

    /// Runs at most one compaction; returns true if one ran.
    pub(crate) fn compact_once(&self, policy: &CompactionPolicy) -> Result<bool> {
        let _c = self.compaction.lock();
        let files = self.snapshot();
        let Some((partition, sources)) = self.pick(&files, policy) else {
            return Ok(false);
        };
        let version = sources.iter().map(|f| f.name.version).max().unwrap_or(0);
        let inner = sources.iter().map(|f| f.name.inner).max().unwrap_or(0);
        let cross = sources.iter().map(|f| f.name.cross).max().unwrap_or(0);
        let has_unseq = sources.iter().any(|f| !f.seq);
        let name = FileName {
            time: model::time::now_ms(),
            version,
            inner: if has_unseq { inner } else { inner + 1 },
            cross: if has_unseq { cross + 1 } else { cross },
        };
        let target = self.dirs.partition_dir(true, partition).join(name.render());
        if target.exists() || sources.iter().any(|s| s.path == target) {
            return Err(Error::internal(format!(
                "compaction target {} already exists",
                target.display()
            )));
        }
        let wrote = compact_files(&self.dirs, &sources, &target)?;
        let merged = if wrote {
            Some(Arc::new(TsFileHandle::open(
                target.clone(),
                true,
                partition,
                self.dirs.verify_checksums,
            )?))
        } else {
            None
        };
        {
            let mut cur = self.files.write();
            let mut list: Vec<_> = cur
                .iter()
                .filter(|f| !sources.iter().any(|s| Arc::ptr_eq(s, f)))
                .cloned()
                .collect();
            if let Some(m) = merged {
                list.push(m);
            }
            list.sort_by_key(|h| h.name.age_key());
            *cur = Arc::new(list);
        }
        finish_compaction(&sources, &target);
        tracing::info!(
            "compacted {} file(s) of partition {partition} into {}",
            sources.len(),
            target.display()
        );
        Ok(true)
    }

    /// Removes the files whose every point is older than `cutoff` (TTL expired); returns
    /// how many were removed.
    pub(crate) fn drop_expired(&self, cutoff: i64) -> usize {
        let _c = self.compaction.lock();
        let expired: Vec<Arc<TsFileHandle>> = self
            .snapshot()
            .iter()
            .filter(|f| {
                let mut ranges = f.device_ranges().peekable();
                ranges.peek().is_some() && ranges.all(|(_, _, hi)| hi < cutoff)
            })
            .cloned()
            .collect();
        if expired.is_empty() {
            return 0;
        }
        {
            let mut cur = self.files.write();
            let list: Vec<_> = cur
                .iter()
                .filter(|f| !expired.iter().any(|x| Arc::ptr_eq(x, f)))
                .cloned()
                .collect();
            *cur = Arc::new(list);
        }
        for f in &expired {
            tracing::info!(
                "removing {} (all its data is past the TTL)",
                f.path.display()
            );
            f.remove_files();
        }
        expired.len()
    }

    /// Removes every file of the region from disk (database deleted).
    pub(crate) fn remove_all(&self) {
        let _c = self.compaction.lock();
        let mut cur = self.files.write();
        *cur = Arc::new(Vec::new());
        for d in [&self.dirs.seq, &self.dirs.unseq] {
            if let Err(e) = std::fs::remove_dir_all(d) {
                if e.kind() != std::io::ErrorKind::NotFound {
                    tracing::warn!("cannot remove {}: {e}", d.display());
                }
            }
        }
    }

    /// Number of (sequence, unsequence) files.
    pub(crate) fn counts(&self) -> (usize, usize) {
        let f = self.snapshot();
        let seq = f.iter().filter(|h| h.seq).count();
        (seq, f.len() - seq)
    }
}

/// Schema used for a series whose schema is unknown at flush time.
pub(crate) fn fallback_schema(measurement: &str, data_type: TSDataType) -> MeasurementSchema {
    MeasurementSchema {
        name: measurement.to_string(),
        data_type,
        encoding: model::TSEncoding::Plain,
        compressor: model::CompressionType::Uncompressed,
    }
}

/// A chunk read from another file, to be copied unchanged with `statistics`.
fn copied<'a>(
    c: &'a tsfile::reader::Chunk,
    statistics: &'a tsfile::statistics::Statistics,
) -> tsfile::CopiedChunk<'a> {
    tsfile::CopiedChunk {
        header: &c.header,
        data: &c.data,
        statistics,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::SeriesData;
    use crate::tsfiles::FlushSeries;
    use model::{ColumnData, CompressionType, TSEncoding};

    fn flush(fs: &FileSet, batch: BTreeMap<String, Vec<FlushSeries>>) {
        let ranges: BTreeMap<String, Vec<SeriesRange<'_>>> = batch
            .iter()
            .map(|(d, ss)| (d.clone(), ss.iter().map(SeriesRange::whole).collect()))
            .collect();
        fs.flush(&ranges, &HashSet::new()).unwrap();
    }

    fn schema(m: &str) -> MeasurementSchema {
        MeasurementSchema {
            name: m.into(),
            data_type: TSDataType::Int64,
            encoding: TSEncoding::Ts2Diff,
            compressor: CompressionType::Snappy,
        }
    }

    fn batch(dev: &str, times: Vec<i64>, base: i64) -> BTreeMap<String, Vec<FlushSeries>> {
        let values = ColumnData::Int64(times.iter().map(|t| t + base).collect());
        let mut m = BTreeMap::new();
        m.insert(
            dev.to_string(),
            vec![FlushSeries {
                schema: schema("s"),
                data: SeriesData {
                    times: times.into(),
                    values,
                },
            }],
        );
        m
    }

    fn read_all(fs: &FileSet, dev: &str) -> SeriesData {
        let files = fs.snapshot();
        let parts = FileSet::read_sources(
            &files,
            &fs.stats,
            dev,
            "s",
            TimeRange::ALL,
            TSDataType::Int64,
        )
        .unwrap();
        crate::merge::merge_newest_wins(parts, TSDataType::Int64)
    }

    #[test]
    fn seq_unseq_split_delete_compact_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let dirs = RegionDirs::new(dir.path(), "root.sg", 0);
        let fs = FileSet::open(dirs.clone(), 1000).unwrap();
        flush(&fs, batch("root.sg.d", (0..100).collect(), 0));
        assert_eq!(fs.counts(), (1, 0));
        // overlapping times go to the unsequence space, later ones stay sequence;
        // 1000.. is another partition
        flush(
            &fs,
            batch("root.sg.d", (50..150).chain(1000..1010).collect(), 1000),
        );
        assert_eq!(fs.counts(), (3, 1));
        let d = read_all(&fs, "root.sg.d");
        assert_eq!(d.times.len(), 160);
        let ColumnData::Int64(v) = &d.values else {
            panic!()
        };
        assert_eq!(v[49], 49);
        assert_eq!(v[50], 1050, "newer flush wins");
        fs.delete(&[("root.sg.d".into(), "s".into())], TimeRange::new(0, 9))
            .unwrap();
        assert_eq!(read_all(&fs, "root.sg.d").times.len(), 150);
        // a time filter skips chunks by their statistics
        let files = fs.snapshot();
        let got = FileSet::read_sources(
            &files,
            &fs.stats,
            "root.sg.d",
            "s",
            TimeRange::new(1000, 2000),
            TSDataType::Int64,
        )
        .unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(fs.stats.files_skipped.load(Ordering::Relaxed), 3);
        drop(files);
        let expected = read_all(&fs, "root.sg.d");
        assert!(fs.compact_once(&CompactionPolicy::default()).unwrap());
        assert_eq!(read_all(&fs, "root.sg.d"), expected);
        assert_eq!(fs.counts(), (2, 0));
        drop(fs);
        let fs = FileSet::open(dirs, 1000).unwrap();
        assert_eq!(fs.counts(), (2, 0));
        assert_eq!(read_all(&fs, "root.sg.d"), expected);
        // the unsequence rule survives reopen
        flush(&fs, batch("root.sg.d", vec![5], 7));
        assert_eq!(fs.counts(), (2, 1));
    }
}
