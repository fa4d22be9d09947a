//! The write-ahead log of one data region: `wal/region-<id>/<seq>.wal` segment files of
//! checksummed records, one record per insert call (or delete), appended before the
//! memtable is touched.
//!
//! Segment file: 8-byte magic, then frames `[len u32][crc32 u32][payload]` (see
//! [`crate::codec`]). A new segment is started lazily after every open, so replay only
//! ever has to repair tails; a torn or corrupt tail is truncated to the last good record.

use crate::api::TimeRange;
use crate::codec::{self, Reader, Writer};
use crate::config::WalMode;
use crate::memtable::MemTable;
use model::{Bitmap, ColumnData, Error, PartialPath, Result, TSDataType, Value};
use parking_lot::Mutex;
use std::borrow::Cow;
use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

pub(crate) const MAGIC: &[u8; 8] = b"IRSWAL01";
const SEGMENT_LIMIT: u64 = 256 << 20;

const KIND_TABLET: u8 = 1;
const KIND_ROWS: u8 = 2;
const KIND_DELETE: u8 = 3;
const KIND_DROP: u8 = 4;

/// One column of a prepared tablet write (already converted to the series' physical type).
#[derive(Debug, Clone)]
pub(crate) struct WalColumn<'a> {
    pub(crate) measurement: Cow<'a, str>,
    pub(crate) data: Cow<'a, ColumnData>,
    pub(crate) nulls: Option<Cow<'a, Bitmap>>,
}

/// A tablet write of one device.
#[derive(Debug, Clone)]
pub(crate) struct WalTablet<'a> {
    pub(crate) device: Cow<'a, PartialPath>,
    pub(crate) times: Cow<'a, [i64]>,
    pub(crate) columns: Vec<WalColumn<'a>>,
}

/// One row of a rows write.
#[derive(Debug, Clone)]
pub(crate) struct WalRow {
    pub(crate) device: PartialPath,
    pub(crate) time: i64,
    pub(crate) values: Vec<(String, Value)>,
}

/// A logged change to the data of a region.
#[derive(Debug, Clone)]
pub(crate) enum WalEntry<'a> {
    /// Tablet insert.
    Tablet(WalTablet<'a>),
    /// Row inserts.
    Rows(Vec<WalRow>),
    /// Deletion of the points of some series in a time range.
    Delete {
        series: Vec<(PartialPath, String)>,
        range: TimeRange,
    },
    /// Series removed from the schema: all their points go.
    Drop { series: Vec<(PartialPath, String)> },
}

fn put_bitmap(w: &mut Writer, b: &Bitmap, n: usize) {
    let mut bytes = vec![0u8; n.div_ceil(8)];
    for i in 0..n {
        if b.get(i) {
            bytes[i / 8] |= 1 << (i % 8);
        }
    }
    w.buf.extend_from_slice(&bytes);
}

/// Borrowed buffers shorter than this are copied into the record instead (a piece of
/// the vectored write costs more than copying a few bytes).
const MIN_BORROWED: usize = 4096;

/// One piece of a framed record: a range of the encoding buffer, or bytes borrowed from
/// the entry (written from where they are, never copied into the record).
#[derive(Debug, Clone, Copy)]
enum Part<'a> {
    Buf(usize, usize),
    Borrowed(&'a [u8]),
}

/// A framed record (`[len u32][crc32 u32][payload]`, see [`crate::codec`]) as the pieces
/// that make it up, in order: ranges of the buffer it was encoded into and column buffers
/// of the entry borrowed in place. Their concatenation is exactly what
/// [`WalEntry::encode_framed`] produces; [`Framed::slices`] hands them to one vectored
/// write, which saves copying a large tablet into the record before writing it.
#[derive(Debug)]
pub(crate) struct Framed<'a> {
    parts: Vec<Part<'a>>,
    len: usize,
}

impl<'a> Framed<'a> {
    /// Total bytes of the record, header included.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The pieces as I/O slices over `buf` (the buffer the record was encoded into).
    pub(crate) fn slices<'b>(&'b self, buf: &'b [u8]) -> Vec<std::io::IoSlice<'b>> {
        self.parts
            .iter()
            .map(|p| {
                std::io::IoSlice::new(match *p {
                    Part::Buf(a, z) => &buf[a..z],
                    Part::Borrowed(b) => b,
                })
            })
            .collect()
    }
}

/// Where a record is encoded: bytes go into `buf`; large little-endian column buffers
/// are borrowed as pieces when `borrow` is set.
struct Sink<'a, 'b> {
    w: Writer<'b>,
    parts: Vec<Part<'a>>,
    /// Start of the bytes of `w.buf` not yet in `parts`.
    mark: usize,
    borrow: bool,
}

impl<'a> Sink<'a, '_> {
    /// Appends `bytes`: borrowed in place when allowed and large enough, else copied.
    fn external(&mut self, bytes: &'a [u8]) {
        if !self.borrow || bytes.len() < MIN_BORROWED {
            self.w.buf.extend_from_slice(bytes);
            return;
        }
        let end = self.w.buf.len();
        if end > self.mark {
            self.parts.push(Part::Buf(self.mark, end));
        }
        self.parts.push(Part::Borrowed(bytes));
        self.mark = end;
    }

    /// Closes the record that starts at `start` (its header reserved by
    /// [`codec::begin_frame`]): fills in the payload's length and checksum.
    fn finish(mut self, start: usize) -> Result<Framed<'a>> {
        let end = self.w.buf.len();
        if end > self.mark || self.parts.is_empty() {
            self.parts.push(Part::Buf(self.mark, end));
        }
        let payload_start = start + codec::FRAME_HEADER;
        let mut crc = crc32fast::Hasher::new();
        let mut len = 0usize;
        for p in &self.parts {
            let bytes = match *p {
                Part::Buf(a, z) => &self.w.buf[a.max(payload_start)..z],
                Part::Borrowed(b) => b,
            };
            crc.update(bytes);
            len += bytes.len();
        }
        let len32 = u32::try_from(len)
            .map_err(|_| Error::IllegalParameter("request too large for one log record".into()))?;
        let buf = &mut self.w.buf;
        buf[start..start + 4].copy_from_slice(&len32.to_le_bytes());
        buf[start + 4..start + 8].copy_from_slice(&crc.finalize().to_le_bytes());
        Ok(Framed {
            parts: self.parts,
            len: len + codec::FRAME_HEADER,
        })
    }
}

/// Appends `v` as little-endian bytes: borrowed in place (or one bulk copy) on
/// little-endian targets.
fn put_fixed<'a, const N: usize, T: bytemuck::Pod>(
    sink: &mut Sink<'a, '_>,
    v: &'a [T],
    to: impl Fn(T) -> [u8; N],
) {
    if cfg!(target_endian = "little") && std::mem::size_of::<T>() == N {
        sink.external(bytemuck::cast_slice(v));
        return;
    }
    let buf = &mut *sink.w.buf;
    let start = buf.len();
    buf.resize(start + v.len() * N, 0);
    for (dst, x) in buf[start..].chunks_exact_mut(N).zip(v) {
        dst.copy_from_slice(&to(*x));
    }
}

/// Reads `n` little-endian values (one bulk copy on little-endian targets).
fn get_fixed<const N: usize, T: bytemuck::Pod>(
    r: &mut Reader,
    n: usize,
    from: impl Fn([u8; N]) -> T,
) -> Result<Vec<T>> {
    let bytes = r.take(
        n.checked_mul(N)
            .ok_or_else(|| Error::StorageEngine("corrupt record: size overflow".into()))?,
    )?;
    if cfg!(target_endian = "little") && std::mem::size_of::<T>() == N {
        return Ok(bytemuck::pod_collect_to_vec(bytes));
    }
    Ok(bytes
        .chunks_exact(N)
        .map(|c| {
            let mut a = [0u8; N];
            a.copy_from_slice(c);
            from(a)
        })
        .collect())
}

fn put_series_list(w: &mut Writer, series: &[(PartialPath, String)]) {
    w.len(series.len());
    for (d, m) in series {
        w.path(d);
        w.str(m);
    }
}

fn get_series_list(r: &mut Reader) -> Result<Vec<(PartialPath, String)>> {
    let n = r.count(12)?;
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        let d = r.path()?;
        let m = r.string()?;
        v.push((d, m));
    }
    Ok(v)
}

impl WalEntry<'_> {
    /// Number of points (non-null values) this entry writes; 0 for deletions.
    pub(crate) fn points(&self) -> u64 {
        match self {
            WalEntry::Tablet(t) => t
                .columns
                .iter()
                .map(|c| {
                    t.times
                        .len()
                        .saturating_sub(c.nulls.as_ref().map_or(0, |n| n.count()))
                        as u64
                })
                .sum(),
            WalEntry::Rows(rows) => rows.iter().map(|r| r.values.len() as u64).sum(),
            _ => 0,
        }
    }

    /// Appends this entry as one framed record to `out`.
    pub(crate) fn encode_framed(&self, out: &mut Vec<u8>) -> Result<()> {
        self.encode(out, false).map(|_| ())
    }

    /// Encodes this entry as one framed record whose large column buffers stay where they
    /// are: the record is the returned pieces, over `out` and this entry (see [`Framed`]).
    pub(crate) fn encode_pieces<'s>(&'s self, out: &mut Vec<u8>) -> Result<Framed<'s>> {
        self.encode(out, true)
    }

    fn encode<'s>(&'s self, out: &mut Vec<u8>, borrow: bool) -> Result<Framed<'s>> {
        let start = codec::begin_frame(out);
        let mut sink = Sink {
            w: Writer::new(out),
            parts: Vec::new(),
            mark: start,
            borrow,
        };
        let w = &mut sink.w;
        match self {
            WalEntry::Tablet(t) => {
                let n = t.times.len();
                if u32::try_from(n).is_err() || t.columns.len() > u32::MAX as usize {
                    return Err(Error::IllegalParameter("tablet too large".into()));
                }
                w.u8(KIND_TABLET);
                w.path(&t.device);
                w.len(n);
                put_fixed(&mut sink, &t.times, i64::to_le_bytes);
                sink.w.len(t.columns.len());
                for c in &t.columns {
                    let w = &mut sink.w;
                    w.str(&c.measurement);
                    w.u8(c.data.data_type().id());
                    match &c.nulls {
                        Some(b) => {
                            w.u8(1);
                            put_bitmap(w, b, n);
                        }
                        None => w.u8(0),
                    }
                    if c.data.len() != n {
                        return Err(Error::IllegalParameter(format!(
                            "column {} has {} values for {n} timestamps",
                            c.measurement,
                            c.data.len()
                        )));
                    }
                    match c.data.as_ref() {
                        ColumnData::Boolean(v) => w.buf.extend(v.iter().map(|&b| u8::from(b))),
                        ColumnData::Int32(v) => put_fixed(&mut sink, v, i32::to_le_bytes),
                        ColumnData::Int64(v) => put_fixed(&mut sink, v, i64::to_le_bytes),
                        ColumnData::Float(v) => put_fixed(&mut sink, v, f32::to_le_bytes),
                        ColumnData::Double(v) => put_fixed(&mut sink, v, f64::to_le_bytes),
                        ColumnData::Binary(v) => {
                            for b in v {
                                if u32::try_from(b.len()).is_err() {
                                    return Err(Error::IllegalParameter("value too large".into()));
                                }
                                w.bytes(b);
                            }
                        }
                    }
                }
            }
            WalEntry::Rows(rows) => {
                w.u8(KIND_ROWS);
                w.len(rows.len());
                for row in rows {
                    w.path(&row.device);
                    w.i64(row.time);
                    w.len(row.values.len());
                    for (m, v) in &row.values {
                        w.str(m);
                        w.value(v);
                    }
                }
            }
            WalEntry::Delete { series, range } => {
                w.u8(KIND_DELETE);
                w.i64(range.start);
                w.i64(range.end);
                put_series_list(w, series);
            }
            WalEntry::Drop { series } => {
                w.u8(KIND_DROP);
                put_series_list(w, series);
            }
        }
        sink.finish(start)
    }

    /// Decodes one record payload, checking every length.
    pub(crate) fn decode(payload: &[u8]) -> Result<WalEntry<'static>> {
        let mut r = Reader::new(payload);
        let entry = match r.u8()? {
            KIND_TABLET => {
                let device = r.path()?;
                let n = r.count(8)?;
                let times = get_fixed(&mut r, n, i64::from_le_bytes)?;
                let ncols = r.count(7)?;
                let mut columns = Vec::with_capacity(ncols);
                for _ in 0..ncols {
                    let measurement = r.string()?;
                    let dt = r.data_type()?;
                    let nulls = if r.bool()? {
                        let bytes = r.take(n.div_ceil(8))?;
                        let mut b = Bitmap::new(n);
                        for i in 0..n {
                            if bytes[i / 8] & (1 << (i % 8)) != 0 {
                                b.set(i);
                            }
                        }
                        Some(Cow::Owned(b))
                    } else {
                        None
                    };
                    let data = match dt {
                        TSDataType::Boolean => {
                            ColumnData::Boolean(r.take(n)?.iter().map(|&b| b != 0).collect())
                        }
                        TSDataType::Int32 => {
                            ColumnData::Int32(get_fixed(&mut r, n, i32::from_le_bytes)?)
                        }
                        TSDataType::Int64 => {
                            ColumnData::Int64(get_fixed(&mut r, n, i64::from_le_bytes)?)
                        }
                        TSDataType::Float => {
                            ColumnData::Float(get_fixed(&mut r, n, f32::from_le_bytes)?)
                        }
                        TSDataType::Double => {
                            ColumnData::Double(get_fixed(&mut r, n, f64::from_le_bytes)?)
                        }
                        TSDataType::Text => {
                            if n.saturating_mul(4) > r.remaining() {
                                return Err(Error::StorageEngine(
                                    "corrupt record: text column".into(),
                                ));
                            }
                            let mut v = Vec::with_capacity(n);
                            for _ in 0..n {
                                v.push(r.bytes()?.to_vec());
                            }
                            ColumnData::Binary(v)
                        }
                        other => {
                            return Err(Error::StorageEngine(format!(
                                "corrupt record: column of non-physical type {other}"
                            )))
                        }
                    };
                    columns.push(WalColumn {
                        measurement: Cow::Owned(measurement),
                        data: Cow::Owned(data),
                        nulls,
                    });
                }
                WalEntry::Tablet(WalTablet {
                    device: Cow::Owned(device),
                    times: Cow::Owned(times),
                    columns,
                })
            }
            KIND_ROWS => {
                let n = r.count(20)?;
                let mut rows = Vec::with_capacity(n);
                for _ in 0..n {
                    let device = r.path()?;
                    let time = r.i64()?;
                    let nv = r.count(6)?;
                    let mut values = Vec::with_capacity(nv);
                    for _ in 0..nv {
                        let m = r.string()?;
                        let v = r.value()?;
                        values.push((m, v));
                    }
                    rows.push(WalRow {
                        device,
                        time,
                        values,
                    });
                }
                WalEntry::Rows(rows)
            }
            KIND_DELETE => {
                let start = r.i64()?;
                let end = r.i64()?;
                let series = get_series_list(&mut r)?;
                WalEntry::Delete {
                    series,
                    range: TimeRange { start, end },
                }
            }
            KIND_DROP => WalEntry::Drop {
                series: get_series_list(&mut r)?,
            },
            k => {
                return Err(Error::StorageEngine(format!(
                    "corrupt record: unknown kind {k}"
                )))
            }
        };
        if !r.is_empty() {
            return Err(Error::StorageEngine(
                "corrupt record: trailing bytes".into(),
            ));
        }
        Ok(entry)
    }

    /// Applies the entry to a memtable.
    pub(crate) fn apply(&self, mem: &mut MemTable) {
        match self {
            WalEntry::Tablet(t) => {
                let ascending = t.times.windows(2).all(|w| w[0] < w[1]);
                let columns = t
                    .columns
                    .iter()
                    .map(|c| (c.measurement.as_ref(), c.data.as_ref(), c.nulls.as_deref()));
                mem.apply_tablet(&t.device, &t.times, ascending, columns);
            }
            WalEntry::Rows(rows) => {
                for row in rows {
                    for (m, v) in &row.values {
                        if mem
                            .series_mut(&row.device, m, v.data_type())
                            .push(row.time, v)
                        {
                            mem.add_points(1);
                            if let Value::Text(x) = v {
                                mem.add_payload(x.len());
                            }
                        }
                    }
                }
            }
            WalEntry::Delete { series, range } => {
                for (d, m) in series {
                    mem.delete(d, m, *range);
                }
            }
            WalEntry::Drop { series } => {
                for (d, m) in series {
                    mem.drop_series(d, m);
                }
            }
        }
    }
}

/// An open segment file plus counters for group commit.
#[derive(Debug)]
pub(crate) struct Segment {
    file: File,
    size: AtomicU64,
    written: AtomicU64,
    synced: AtomicU64,
    /// Serialises fsyncs; holds how many bytes from the start were synced and advised out
    /// of the page cache.
    sync_lock: Mutex<u64>,
}

impl Segment {
    /// Fsyncs if anything written is not yet synced (group commit: one fsync covers
    /// every record written before it started).
    fn sync_to(&self, seq: u64) -> Result<()> {
        if self.synced.load(Ordering::Acquire) >= seq {
            return Ok(());
        }
        let mut dropped = self.sync_lock.lock();
        if self.synced.load(Ordering::Acquire) >= seq {
            return Ok(());
        }
        let target = self.written.load(Ordering::Acquire);
        // every byte counted here was written before the fsync starts
        let bytes = self.size.load(Ordering::Acquire);
        self.file
            .sync_data()
            .map_err(|e| Error::Wal(format!("fsync failed: {e}")))?;
        self.synced.fetch_max(target, Ordering::AcqRel);
        // Synced pages are read again only by a recovery: hand them back to the kernel now
        // (advice; the pages are clean, so nothing is lost). Left in the page cache until
        // the segment is deleted, they leave later writes to pages the kernel must reclaim
        // first: on this project's VM, 10 M-point embedded rounds took a median of 98 ms
        // (64-324) with them and 76 ms (61-117) without.
        if bytes > *dropped {
            #[cfg(unix)]
            let _ = rustix::fs::fadvise(
                &self.file,
                *dropped,
                std::num::NonZeroU64::new(bytes - *dropped),
                rustix::fs::Advice::DontNeed,
            );
            *dropped = bytes;
        }
        Ok(())
    }
}

/// Proof of an append, used to wait for durability in `Sync` mode.
pub(crate) struct Ticket {
    segment: Arc<Segment>,
    seq: u64,
}

impl Ticket {
    /// Waits until the appended record is on stable storage.
    pub(crate) fn sync(self) -> Result<()> {
        self.segment.sync_to(self.seq)
    }
}

struct WalInner {
    current: Option<Arc<Segment>>,
    next_seq: u64,
}

/// The WAL of one region.
pub(crate) struct Wal {
    dir: PathBuf,
    mode: WalMode,
    inner: Mutex<WalInner>,
    dirty: AtomicBool,
    /// Segments found at open (replaced by the first checkpoint).
    replayed: Mutex<Vec<PathBuf>>,
    replayed_bytes: u64,
}

fn segment_name(seq: u64) -> String {
    format!("{seq:020}.wal")
}

fn list_segments(dir: &Path) -> Result<Vec<(u64, PathBuf)>> {
    let mut v = Vec::new();
    let rd = match fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(v),
        Err(e) => return Err(e.into()),
    };
    for ent in rd {
        let ent = ent?;
        let name = ent.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(stem) = name.strip_suffix(".wal") {
            if let Ok(seq) = stem.parse::<u64>() {
                v.push((seq, ent.path()));
            }
        }
    }
    v.sort();
    Ok(v)
}

impl Wal {
    /// Opens the WAL in `dir`, replaying every record into `mem`. Torn or corrupt tails are
    /// truncated (with a warning); nothing here panics on bad bytes.
    pub(crate) fn open(dir: PathBuf, mode: WalMode, mem: &mut MemTable) -> Result<Wal> {
        let segments = list_segments(&dir)?;
        let mut next_seq = 0;
        for (seq, path) in &segments {
            next_seq = next_seq.max(seq + 1);
            replay_segment(path, mem)?;
        }
        let mut replayed = Vec::new();
        let mut replayed_bytes = 0;
        for (_, path) in segments {
            if let Ok(m) = fs::metadata(&path) {
                replayed_bytes += m.len();
                replayed.push(path);
            }
        }
        Ok(Wal {
            dir,
            mode,
            inner: Mutex::new(WalInner {
                current: None,
                next_seq,
            }),
            dirty: AtomicBool::new(false),
            replayed: Mutex::new(replayed),
            replayed_bytes,
        })
    }

    /// Number and total size of the segments replayed at open that are still on disk.
    pub(crate) fn replayed(&self) -> (usize, u64) {
        (self.replayed.lock().len(), self.replayed_bytes)
    }

    /// Rewrites the live content of `mem` into a fresh segment, fsyncs it, then removes
    /// the segments replayed at open (whose deleted and overwritten points it drops).
    /// Replaying both old and new segments after a crash in between gives the same
    /// memtable, since the checkpoint only re-writes surviving points.
    pub(crate) fn checkpoint(&self, mem: &mut MemTable) -> Result<()> {
        if self.mode == WalMode::Disable {
            return Ok(());
        }
        if std::mem::take(&mut *self.replayed.lock()).is_empty() {
            return Ok(());
        }
        // every segment before this sequence number is superseded by the checkpoint
        let first_new = {
            let mut inner = self.inner.lock();
            inner.current = None; // the next append starts a new segment
            inner.next_seq
        };
        let old: Vec<PathBuf> = list_segments(&self.dir)?
            .into_iter()
            .filter(|(seq, _)| *seq < first_new)
            .map(|(_, p)| p)
            .collect();
        let mut framed = Vec::new();
        let mut wrote = false;
        mem.for_each_series(|device, measurement, buf| {
            buf.ensure_sorted();
            const CHUNK: usize = 1 << 20;
            let mut lo = 0;
            while lo < buf.len() {
                let hi = (lo + CHUNK).min(buf.len());
                let part = buf.positions(lo, hi);
                let entry = WalEntry::Tablet(WalTablet {
                    device: Cow::Borrowed(device),
                    times: Cow::Owned(part.times.into_vec()),
                    columns: vec![WalColumn {
                        measurement: Cow::Borrowed(measurement),
                        data: Cow::Owned(part.values),
                        nulls: None,
                    }],
                });
                framed.clear();
                entry.encode_framed(&mut framed)?;
                self.append(&framed)?;
                wrote = true;
                lo = hi;
            }
            Ok(())
        })?;
        if wrote {
            let seg = self.inner.lock().current.clone();
            if let Some(seg) = seg {
                let w = seg.written.load(Ordering::Acquire);
                seg.sync_to(w)?;
            }
        }
        for path in &old {
            fs::remove_file(path)?;
        }
        codec::sync_dir(&self.dir);
        tracing::info!(
            "WAL checkpoint in {}: replaced {} segment(s)",
            self.dir.display(),
            old.len()
        );
        Ok(())
    }

    /// Appends one encoded (framed) record. Returns a ticket to wait for durability, or
    /// `None` when the WAL is disabled.
    pub(crate) fn append(&self, framed: &[u8]) -> Result<Option<Ticket>> {
        self.append_slices(&mut [std::io::IoSlice::new(framed)], framed.len())
    }

    /// Appends one record encoded by [`WalEntry::encode_pieces`] into `buf`, written with
    /// one vectored write. As [`Wal::append`] otherwise.
    pub(crate) fn append_framed(&self, buf: &[u8], framed: &Framed<'_>) -> Result<Option<Ticket>> {
        self.append_slices(&mut framed.slices(buf), framed.len())
    }

    /// Appends the record made of `slices` (`total` bytes).
    fn append_slices(
        &self,
        slices: &mut [std::io::IoSlice<'_>],
        total: usize,
    ) -> Result<Option<Ticket>> {
        if self.mode == WalMode::Disable {
            return Ok(None);
        }
        let mut inner = self.inner.lock();
        let rotate = match &inner.current {
            Some(s) => s.size.load(Ordering::Relaxed) >= SEGMENT_LIMIT,
            None => true,
        };
        if rotate {
            if let Some(old) = inner.current.take() {
                let w = old.written.load(Ordering::Acquire);
                old.sync_to(w)?;
            }
            let seq = inner.next_seq;
            fs::create_dir_all(&self.dir)
                .map_err(|e| Error::Wal(format!("cannot create {}: {e}", self.dir.display())))?;
            let path = self.dir.join(segment_name(seq));
            let file = OpenOptions::new()
                .create_new(true)
                .append(true)
                .open(&path)
                .map_err(|e| Error::Wal(format!("cannot create {}: {e}", path.display())))?;
            // the name is used up once the file exists, whatever happens next
            inner.next_seq = seq + 1;
            let ready = crate::fault::write_all(&file, &path, MAGIC)
                .map_err(|e| format!("write failed: {e}"))
                .and_then(|()| file.sync_all().map_err(|e| format!("fsync failed: {e}")));
            if let Err(e) = ready {
                // on a full disk the header may not fit: the segment holds no record, so it
                // goes (one left behind is torn at creation or empty, which replay removes or
                // reads as empty), and the next attempt takes the next name instead of
                // failing on this one for good
                let _ = fs::remove_file(&path);
                return Err(Error::Wal(e));
            }
            codec::sync_dir(&self.dir);
            inner.current = Some(Arc::new(Segment {
                file,
                size: AtomicU64::new(MAGIC.len() as u64),
                written: AtomicU64::new(0),
                synced: AtomicU64::new(0),
                sync_lock: Mutex::new(0),
            }));
        }
        let Some(seg) = inner.current.clone() else {
            return Err(Error::internal("WAL segment missing after rotation"));
        };
        let before = seg.size.load(Ordering::Relaxed);
        let wrote = crate::fault::write_all_vectored(&seg.file, &self.dir, slices);
        if let Err(e) = wrote {
            // a torn record would end the replay of this segment there, hiding every
            // record appended after it once writes succeed again: cut it off, or (if
            // that fails too) leave the segment for a fresh one
            if seg.file.set_len(before).is_err() {
                let w = seg.written.load(Ordering::Acquire);
                let _ = seg.sync_to(w);
                inner.current = None;
            }
            return Err(Error::Wal(format!("write failed: {e}")));
        }
        seg.size.fetch_add(total as u64, Ordering::Relaxed);
        let seq = seg.written.fetch_add(1, Ordering::AcqRel) + 1;
        self.dirty.store(true, Ordering::Release);
        Ok(Some(Ticket { segment: seg, seq }))
    }

    /// Fsyncs whatever was written (background flusher in `Async` mode, `flush`, `close`).
    pub(crate) fn sync(&self) -> Result<()> {
        if !self.dirty.swap(false, Ordering::AcqRel) {
            return Ok(());
        }
        let seg = self.inner.lock().current.clone();
        if let Some(seg) = seg {
            let w = seg.written.load(Ordering::Acquire);
            if let Err(e) = seg.sync_to(w) {
                self.dirty.store(true, Ordering::Release);
                return Err(e);
            }
        }
        Ok(())
    }

    /// The WAL mode.
    pub(crate) fn mode(&self) -> WalMode {
        self.mode
    }

    /// Closes the current segment (fsynced) so that the next append starts a new one;
    /// returns the number of that next segment: every segment numbered below it holds only
    /// records appended before this call.
    pub(crate) fn rotate(&self) -> Result<u64> {
        let mut inner = self.inner.lock();
        if let Some(old) = inner.current.take() {
            let w = old.written.load(Ordering::Acquire);
            old.sync_to(w)?;
        }
        Ok(inner.next_seq)
    }

    /// Removes the segments numbered below `seq` (their records are in flushed files).
    /// Bytes of the segment files on disk.
    pub(crate) fn disk_bytes(&self) -> u64 {
        list_segments(&self.dir)
            .unwrap_or_default()
            .iter()
            .filter_map(|(_, p)| fs::metadata(p).ok())
            .map(|m| m.len())
            .sum()
    }

    pub(crate) fn remove_before(&self, seq: u64) -> Result<()> {
        let mut removed = 0;
        for (s, path) in list_segments(&self.dir)? {
            if s < seq {
                fs::remove_file(&path)?;
                removed += 1;
            }
        }
        self.replayed.lock().retain(|p| p.exists());
        if removed > 0 {
            codec::sync_dir(&self.dir);
        }
        Ok(())
    }
}

/// Applies the WAL record payloads of a segment (`path` names it in warnings) to `mem`,
/// skipping undecodable records with a warning.
pub(crate) fn replay_records(records: &[Vec<u8>], mem: &mut MemTable, path: &Path) {
    for payload in records {
        match WalEntry::decode(payload) {
            Ok(entry) => entry.apply(mem),
            Err(e) => tracing::warn!("skipping undecodable WAL record in {}: {e}", path.display()),
        }
    }
}

fn replay_segment(path: &Path, mem: &mut MemTable) -> Result<()> {
    let len = fs::metadata(path)?.len();
    let mut head = [0u8; 8];
    let ok_magic = len >= MAGIC.len() as u64 && {
        use std::io::Read;
        File::open(path)?.read_exact(&mut head)?;
        &head == MAGIC
    };
    if !ok_magic {
        if len < MAGIC.len() as u64 {
            tracing::warn!(
                "WAL segment {} is shorter than its header (torn at creation); removing it",
                path.display()
            );
            fs::remove_file(path)?;
        } else {
            let aside = path.with_extension("corrupt");
            tracing::warn!(
                "WAL segment {} has no valid header; moving it aside to {}",
                path.display(),
                aside.display()
            );
            fs::rename(path, aside)?;
        }
        return Ok(());
    }
    let scan = codec::scan_file(path, MAGIC.len() as u64)?;
    replay_records(&scan.records, mem, path);
    if let Some(why) = scan.damage {
        tracing::warn!(
            "WAL segment {}: {why}; truncating from {} to {} bytes (last good record)",
            path.display(),
            len,
            scan.good_len
        );
        let f = OpenOptions::new().write(true).open(path)?;
        f.set_len(scan.good_len)?;
        f.sync_all()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<WalEntry<'static>> {
        let mut nulls = Bitmap::new(3);
        nulls.set(1);
        let dev = PartialPath::parse("root.sg.`d 1`").unwrap();
        vec![
            WalEntry::Tablet(WalTablet {
                device: Cow::Owned(dev.clone()),
                times: Cow::Owned(vec![3, 1, 2]),
                columns: vec![
                    WalColumn {
                        measurement: Cow::Owned("t".into()),
                        data: Cow::Owned(ColumnData::Binary(vec![
                            b"a".to_vec(),
                            vec![],
                            b"ccc".to_vec(),
                        ])),
                        nulls: Some(Cow::Owned(nulls)),
                    },
                    WalColumn {
                        measurement: Cow::Owned("b".into()),
                        data: Cow::Owned(ColumnData::Boolean(vec![true, false, true])),
                        nulls: None,
                    },
                    WalColumn {
                        measurement: Cow::Owned("f".into()),
                        data: Cow::Owned(ColumnData::Float(vec![1.5, 2.5, -0.0])),
                        nulls: None,
                    },
                ],
            }),
            WalEntry::Rows(vec![WalRow {
                device: dev.clone(),
                time: 9,
                values: vec![
                    ("i".into(), Value::Int32(4)),
                    ("l".into(), Value::Int64(-4)),
                ],
            }]),
            WalEntry::Delete {
                series: vec![(dev.clone(), "b".into())],
                range: TimeRange::new(2, 2),
            },
            WalEntry::Drop {
                series: vec![(dev, "f".into())],
            },
        ]
    }

    fn dump(mem: &mut MemTable) -> Vec<(String, Vec<i64>, ColumnData)> {
        let dev = PartialPath::parse("root.sg.`d 1`").unwrap();
        let mut out = Vec::new();
        for m in ["t", "b", "f", "i", "l"] {
            if let Some(buf) = mem.series_existing_mut(&dev, m) {
                buf.ensure_sorted();
                let d = buf.read(TimeRange::ALL);
                out.push((m.to_string(), d.times.into_vec(), d.values));
            }
        }
        out
    }

    /// Fixed-width columns are written as plain little-endian values (the bulk copy
    /// must not change the format) and read back bit for bit.
    #[test]
    fn fixed_width_columns_are_little_endian_bit_exact() {
        let times = vec![i64::MIN, -1, 0, 1, i64::MAX];
        let f32s = vec![f32::NAN, -0.0, f32::MIN_POSITIVE, f32::INFINITY, 1.5];
        let f64s = vec![
            f64::from_bits(0x7ff8_dead_beef_0001),
            -0.0,
            f64::MAX,
            2.5,
            -1e-300,
        ];
        let cols = [
            ColumnData::Int32(vec![i32::MIN, -1, 0, 7, i32::MAX]),
            ColumnData::Int64(times.clone()),
            ColumnData::Float(f32s.clone()),
            ColumnData::Double(f64s.clone()),
        ];
        let entry = WalEntry::Tablet(WalTablet {
            device: Cow::Owned(PartialPath::parse("root.sg.d").unwrap()),
            times: Cow::Owned(times.clone()),
            columns: cols
                .iter()
                .enumerate()
                .map(|(i, c)| WalColumn {
                    measurement: Cow::Owned(format!("s{i}")),
                    data: Cow::Owned(c.clone()),
                    nulls: None,
                })
                .collect(),
        });
        let mut framed = Vec::new();
        entry.encode_framed(&mut framed).unwrap();
        let payload = &framed[codec::FRAME_HEADER..];
        let mut le_times = Vec::new();
        times
            .iter()
            .for_each(|t| le_times.extend_from_slice(&t.to_le_bytes()));
        let mut le_doubles = Vec::new();
        f64s.iter()
            .for_each(|x| le_doubles.extend_from_slice(&x.to_le_bytes()));
        let find = |needle: &[u8]| payload.windows(needle.len()).any(|w| w == needle);
        assert!(find(&le_times) && find(&le_doubles));
        let WalEntry::Tablet(back) = WalEntry::decode(payload).unwrap() else {
            panic!("not a tablet");
        };
        assert_eq!(back.times.as_ref(), times.as_slice());
        let bits = |c: &ColumnData| -> Vec<u64> {
            match c {
                ColumnData::Int32(v) => v.iter().map(|&x| x as u32 as u64).collect(),
                ColumnData::Int64(v) => v.iter().map(|&x| x as u64).collect(),
                ColumnData::Float(v) => v.iter().map(|x| x.to_bits() as u64).collect(),
                ColumnData::Double(v) => v.iter().map(|x| x.to_bits()).collect(),
                other => panic!("unexpected {other:?}"),
            }
        };
        for (c, b) in cols.iter().zip(&back.columns) {
            assert_eq!(c.data_type(), b.data.data_type());
            assert_eq!(bits(c), bits(&b.data));
        }
    }

    #[test]
    fn entries_round_trip_and_replay_identically() {
        let (mut live, mut replayed) = (MemTable::default(), MemTable::default());
        for e in sample() {
            let mut framed = Vec::new();
            e.encode_framed(&mut framed).unwrap();
            let payload = &framed[codec::FRAME_HEADER..];
            assert_eq!(
                u32::from_le_bytes(framed[4..8].try_into().unwrap()),
                crc32fast::hash(payload)
            );
            let back = WalEntry::decode(payload).unwrap();
            e.apply(&mut live);
            back.apply(&mut replayed);
            for cut in 0..payload.len() {
                assert!(WalEntry::decode(&payload[..cut]).is_err(), "cut at {cut}");
            }
        }
        let got = dump(&mut replayed);
        assert_eq!(got, dump(&mut live));
        assert_eq!(
            got[0],
            (
                "t".into(),
                vec![2, 3],
                ColumnData::Binary(vec![b"ccc".to_vec(), b"a".to_vec()])
            )
        );
        assert_eq!(
            got[1],
            (
                "b".into(),
                vec![1, 3],
                ColumnData::Boolean(vec![false, true])
            )
        );
        assert_eq!(got.len(), 4, "dropped series is gone");
    }

    /// A tablet of `rows` rows: one column of each fixed-width type (the DOUBLE one with
    /// nulls when `nulls`), a BOOLEAN and a TEXT column.
    fn wide_tablet(rows: usize, nulls: bool) -> WalEntry<'static> {
        let mut b = Bitmap::new(rows);
        if nulls {
            for i in (0..rows).step_by(7) {
                b.set(i);
            }
        }
        let col = |m: &str, data: ColumnData, nulls: Option<Bitmap>| WalColumn {
            measurement: Cow::Owned(m.into()),
            data: Cow::Owned(data),
            nulls: nulls.map(Cow::Owned),
        };
        let times: Vec<i64> = (0..rows as i64).map(|i| i * 3 - 5).collect();
        WalEntry::Tablet(WalTablet {
            device: Cow::Owned(PartialPath::parse("root.sg.d").unwrap()),
            times: Cow::Owned(times),
            columns: vec![
                col("i", ColumnData::Int32((0..rows as i32).collect()), None),
                col(
                    "l",
                    ColumnData::Int64((0..rows as i64).map(|x| x << 33).collect()),
                    None,
                ),
                col(
                    "f",
                    ColumnData::Float((0..rows).map(|x| x as f32 / 3.0).collect()),
                    None,
                ),
                col(
                    "d",
                    ColumnData::Double((0..rows).map(|x| x as f64 * -1.5).collect()),
                    nulls.then_some(b),
                ),
                col(
                    "b",
                    ColumnData::Boolean((0..rows).map(|x| x % 3 == 0).collect()),
                    None,
                ),
                col(
                    "t",
                    ColumnData::Binary((0..rows).map(|x| x.to_string().into_bytes()).collect()),
                    None,
                ),
            ],
        })
    }

    #[test]
    fn pieces_concatenate_to_the_framed_record() {
        let mut entries = sample();
        for rows in [0, 1, 511, 512, 513, 4096, 10_000] {
            entries.push(wide_tablet(rows, false));
            entries.push(wide_tablet(rows, true));
        }
        for e in &entries {
            let mut whole = Vec::new();
            e.encode_framed(&mut whole).unwrap();
            // a record encoded after other bytes in the buffer, as the engine's scratch
            let mut buf = b"prefix".to_vec();
            let framed = e.encode_pieces(&mut buf).unwrap();
            let joined: Vec<u8> = framed
                .slices(&buf)
                .iter()
                .flat_map(|s| s.iter().copied())
                .collect();
            assert_eq!(framed.len(), whole.len());
            assert_eq!(joined, whole);
        }
        // a large tablet's columns are written in place, not copied into the buffer
        let big = wide_tablet(10_000, false);
        let mut buf = Vec::new();
        let framed = big.encode_pieces(&mut buf).unwrap();
        assert!(framed.slices(&buf).len() > 4);
        assert!(
            buf.len() < framed.len() / 2,
            "{} of {}",
            buf.len(),
            framed.len()
        );
    }

    #[test]
    fn vectored_appends_replay_like_whole_records() {
        let dir = tempfile::tempdir().unwrap();
        let entries: Vec<_> = sample()
            .into_iter()
            .chain([wide_tablet(10_000, true), wide_tablet(9_000, false)])
            .collect();
        let mut live = MemTable::default();
        {
            let wal =
                Wal::open(dir.path().into(), WalMode::Sync, &mut MemTable::default()).unwrap();
            let mut buf = Vec::new();
            for e in &entries {
                buf.clear();
                let framed = e.encode_pieces(&mut buf).unwrap();
                wal.append_framed(&buf, &framed)
                    .unwrap()
                    .unwrap()
                    .sync()
                    .unwrap();
                e.apply(&mut live);
            }
        }
        let mut replayed = MemTable::default();
        let _wal = Wal::open(dir.path().into(), WalMode::Sync, &mut replayed).unwrap();
        assert_eq!(dump(&mut replayed), dump(&mut live));
    }
}
