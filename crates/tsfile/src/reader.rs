//! Reading TsFiles (V3 and V4).
//!
//! [`TsFileReader`] opens a file through [`ReadAt`] (a `File`, or bytes in memory), checks its
//! head and tail and reads the file metadata. From there: devices ([`TsFileReader::devices`]),
//! the series of a device with their chunk metadata and statistics
//! ([`TsFileReader::device_series`]), chunks and pages ([`TsFileReader::read_chunk`],
//! [`Chunk::pages`], [`Chunk::decode_page`]), and whole series or aligned rows in a time range
//! ([`TsFileReader::read_series`], [`TsFileReader::read_aligned`]), skipping chunks and pages
//! whose statistics fall outside the range.
//!
//! Every read is bounded by the file size; a truncated or corrupt file yields
//! [`model::Error::StorageEngine`] naming the offset.

use std::io;
use std::sync::Arc;

use crate::buf::{ByteReader, Corrupt};
use crate::compress;
use crate::device::DeviceId;
use crate::encoding::{self, CodecOptions, FloatRlbe};
use crate::format::{ChunkHeader, PageHeader, Version, HEAD_SIZE, MAGIC, TAIL_SIZE};
use crate::metadata::{
    ChunkMetadata, IndexKey, MetadataIndexNode, NodeType, TimeseriesMetadata, TsFileMetadata,
};
use crate::statistics::Statistics;
use model::{Bitmap, Column, ColumnData, Error, Result, TSDataType, TSEncoding};

/// Where a device's measurement index lies in a file (see [`TsFileReader::device_index`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceIndexRange {
    start: u64,
    end: u64,
}

/// Positional reads of a file or buffer.
pub trait ReadAt: Send + Sync {
    /// Total size in bytes.
    fn size(&self) -> io::Result<u64>;
    /// Fills `buf` from `offset`.
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()>;
    /// The `len` bytes from `offset`, in a new vector.
    fn read_vec_at(&self, len: usize, offset: u64) -> io::Result<Vec<u8>> {
        let mut buf = vec![0u8; len];
        self.read_exact_at(&mut buf, offset)?;
        Ok(buf)
    }
}

impl ReadAt for std::fs::File {
    fn size(&self) -> io::Result<u64> {
        Ok(self.metadata()?.len())
    }
    #[cfg(unix)]
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        std::os::unix::fs::FileExt::read_exact_at(self, buf, offset)
    }
    /// Reads into the vector's spare capacity: a chunk's buffer is not zero-filled before
    /// the kernel overwrites it (zero-filling was about a tenth of a filtered aggregate).
    #[cfg(unix)]
    fn read_vec_at(&self, len: usize, offset: u64) -> io::Result<Vec<u8>> {
        let mut buf = Vec::with_capacity(len);
        while buf.len() < len {
            let at = offset + buf.len() as u64;
            let n = rustix::io::pread(self, rustix::buffer::spare_capacity(&mut buf), at)?;
            if n == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
        // the spare capacity may have been larger than asked for
        buf.truncate(len);
        Ok(buf)
    }
    #[cfg(windows)]
    fn read_exact_at(&self, mut buf: &mut [u8], mut offset: u64) -> io::Result<()> {
        while !buf.is_empty() {
            let n = std::os::windows::fs::FileExt::seek_read(self, buf, offset)?;
            if n == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            buf = &mut buf[n..];
            offset += n as u64;
        }
        Ok(())
    }
}

fn slice_read(data: &[u8], buf: &mut [u8], offset: u64) -> io::Result<()> {
    let start =
        usize::try_from(offset).map_err(|_| io::Error::from(io::ErrorKind::UnexpectedEof))?;
    let end = start
        .checked_add(buf.len())
        .filter(|e| *e <= data.len())
        .ok_or_else(|| io::Error::from(io::ErrorKind::UnexpectedEof))?;
    buf.copy_from_slice(&data[start..end]);
    Ok(())
}

impl ReadAt for Vec<u8> {
    fn size(&self) -> io::Result<u64> {
        Ok(self.len() as u64)
    }
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        slice_read(self, buf, offset)
    }
}

impl ReadAt for Arc<[u8]> {
    fn size(&self) -> io::Result<u64> {
        Ok(self.len() as u64)
    }
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        slice_read(self, buf, offset)
    }
}

impl<T: ReadAt + ?Sized> ReadAt for &T {
    fn size(&self) -> io::Result<u64> {
        (**self).size()
    }
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        (**self).read_exact_at(buf, offset)
    }
    fn read_vec_at(&self, len: usize, offset: u64) -> io::Result<Vec<u8>> {
        (**self).read_vec_at(len, offset)
    }
}

/// An inclusive time range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    /// First time included.
    pub start: i64,
    /// Last time included.
    pub end: i64,
}

impl TimeRange {
    /// Every time.
    pub const ALL: TimeRange = TimeRange {
        start: i64::MIN,
        end: i64::MAX,
    };

    /// `[start, end]`.
    pub fn new(start: i64, end: i64) -> Self {
        TimeRange { start, end }
    }

    /// True if `t` is inside.
    #[inline]
    pub fn contains(&self, t: i64) -> bool {
        self.start <= t && t <= self.end
    }

    /// True if `[a, b]` overlaps.
    pub fn overlaps(&self, a: i64, b: i64) -> bool {
        a <= self.end && b >= self.start
    }

    /// True if `[a, b]` lies inside.
    pub fn covers(&self, a: i64, b: i64) -> bool {
        self.start <= a && b <= self.end
    }
}

/// Reader settings.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadOptions {
    /// Meaning of RLBE on FLOAT/DOUBLE; `None` chooses by version (V3: float arithmetic,
    /// V4: raw bits). tsfile 2.0.x wrote V4 files with the float-arithmetic flavour.
    pub float_rlbe: Option<FloatRlbe>,
    /// Time encoding of non-aligned pages (not stored in the file; Java default TS_2DIFF).
    pub time_encoding: TSEncoding,
    /// Most points accepted in one page.
    pub max_points_per_page: usize,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            float_rlbe: None,
            time_encoding: TSEncoding::Ts2Diff,
            max_points_per_page: 1 << 20,
        }
    }
}

/// Points of one series: times and values (null marks only for aligned reads).
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesData {
    /// Times, increasing.
    pub times: model::Times,
    /// One value per time.
    pub values: Column,
}

/// Rows of an aligned device: shared times, one column per requested measurement.
#[derive(Debug, Clone, PartialEq)]
pub struct AlignedData {
    /// Times, increasing.
    pub times: Vec<i64>,
    /// One column per requested measurement (null marks where a row has no value).
    pub columns: Vec<Column>,
}

/// One decoded page of a non-aligned chunk, or of an aligned time + value page.
#[derive(Debug, Clone, PartialEq)]
pub struct PageData {
    /// Times of the page.
    pub times: Vec<i64>,
    /// Values, one per time (placeholders where `nulls` marks a null).
    pub values: ColumnData,
    /// Null marks (aligned value pages only).
    pub nulls: Option<Bitmap>,
}

/// A page inside a [`Chunk`].
#[derive(Debug, Clone, PartialEq)]
pub struct PageRef {
    /// The page header.
    pub header: PageHeader,
    /// Statistics of the page (from its header, or the chunk's for a single-page chunk;
    /// `None` for an all-null aligned value page).
    pub statistics: Option<Statistics>,
    /// File offset of the page header.
    pub offset: u64,
    /// Start of the stored body inside [`Chunk::data`].
    pub body_start: usize,
}

/// A chunk read from a file: its header and the bytes of all its pages.
#[derive(Debug, Clone)]
pub struct Chunk {
    /// File offset of the chunk header.
    pub offset: u64,
    /// The header.
    pub header: ChunkHeader,
    /// The pages (headers and bodies), `header.data_size` bytes.
    pub data: Vec<u8>,
    codec: CodecOptions,
    /// The RLBE float flavour was chosen by the caller; otherwise a page that does not
    /// match its statistics under the file version's flavour is tried with the other one.
    rlbe_pinned: bool,
    time_encoding: TSEncoding,
    max_points: usize,
}

impl Chunk {
    /// Decodes `n` values of a page, checking RLBE floats against the page statistics:
    /// tsfile ≤ 2.0 (IoTDB ≤ 2.0) wrote float RLBE as float differences in V4 files too,
    /// tsfile ≥ 2.1 as raw-bit differences, and only the values tell which. Unless the
    /// file version's flavour reproduces the statistics exactly, the other one is tried and
    /// the one closer to them (first, last, min, max) wins.
    fn decode_values(
        &self,
        data: &[u8],
        n: usize,
        stats: Option<&Statistics>,
        out: &mut ColumnData,
    ) -> std::result::Result<(), Corrupt> {
        let start = out.len();
        let first = encoding::decode(self.header.encoding, data, n, &self.codec, out);
        let float = matches!(out, ColumnData::Float(_) | ColumnData::Double(_));
        if self.rlbe_pinned || self.header.encoding != TSEncoding::Rlbe || !float {
            return first;
        }
        let Some(stats) = stats else { return first };
        let d_first = if first.is_ok() {
            stats_distance(out, start, stats)
        } else {
            f64::INFINITY
        };
        if d_first == 0.0 {
            return Ok(());
        }
        let other = CodecOptions {
            float_rlbe: match self.codec.float_rlbe {
                FloatRlbe::RawBits => FloatRlbe::FloatArithmetic,
                FloatRlbe::FloatArithmetic => FloatRlbe::RawBits,
            },
            ..self.codec
        };
        let mut alt = ColumnData::with_capacity(out.data_type(), n);
        if encoding::decode(self.header.encoding, data, n, &other, &mut alt).is_ok()
            && stats_distance(&alt, 0, stats) < d_first
        {
            out.truncate(start);
            out.append(alt);
            return Ok(());
        }
        first
    }

    /// File offset of the chunk's page data.
    pub fn data_offset(&self) -> u64 {
        self.offset + self.header.header_size as u64
    }

    /// The pages; `chunk_stats` stands in for the page statistics of a single-page chunk.
    pub fn pages(&self, chunk_stats: &Statistics) -> Result<Vec<PageRef>> {
        let base = self.data_offset();
        let single = self.header.single_page();
        let mut r = ByteReader::new(&self.data);
        let mut pages = Vec::new();
        while !r.is_empty() {
            let at = r.pos();
            let header = PageHeader::read(&mut r, self.header.data_type, !single)
                .map_err(|e| e.at(base, "page header"))?;
            let body_start = r.pos();
            r.skip(header.compressed_size as usize)
                .map_err(|e| Corrupt::new(at, e.what).at(base, "page body"))?;
            let statistics = if header.is_empty() {
                None
            } else if single {
                Some(chunk_stats.clone())
            } else {
                header.statistics.clone()
            };
            pages.push(PageRef {
                header,
                statistics,
                offset: base + at as u64,
                body_start,
            });
            if single && !pages.is_empty() && !r.is_empty() {
                return Err(Corrupt::new(r.pos(), "single-page chunk holds more data")
                    .at(base, "chunk data"));
            }
        }
        Ok(pages)
    }

    /// The decompressed body of a page.
    pub fn page_body(&self, page: &PageRef) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        self.page_body_into(page, &mut out)?;
        Ok(out)
    }

    /// As [`Chunk::page_body`], into `out` (its previous contents replaced).
    pub fn page_body_into(&self, page: &PageRef, out: &mut Vec<u8>) -> Result<()> {
        let stored = self
            .data
            .get(page.body_start..page.body_start + page.header.compressed_size as usize)
            .ok_or_else(|| {
                Error::StorageEngine(format!(
                    "corrupt TsFile: page body exceeds its chunk at offset {}",
                    page.offset
                ))
            })?;
        compress::decompress(
            self.header.compression,
            stored,
            page.header.uncompressed_size as usize,
            out,
        )
        .map_err(|e| {
            Error::StorageEngine(format!(
                "corrupt TsFile: {e} (page at offset {})",
                page.offset
            ))
        })
    }

    fn value_type(&self) -> Result<TSDataType> {
        self.header.data_type.ok_or_else(|| {
            Error::StorageEngine(format!(
                "corrupt TsFile: chunk at offset {} has no value type",
                self.offset
            ))
        })
    }

    /// Decodes a page of a non-aligned chunk.
    pub fn decode_page(&self, page: &PageRef) -> Result<PageData> {
        if self.header.is_time() || self.header.is_value() {
            return Err(Error::IllegalParameter(format!(
                "chunk at offset {} is aligned; use decode_time_page / decode_value_page",
                self.offset
            )));
        }
        let mut times = Vec::new();
        let mut values = ColumnData::empty(self.value_type()?);
        self.decode_page_into(page, &mut times, &mut values)?;
        Ok(PageData {
            times,
            values,
            nulls: None,
        })
    }

    /// Decodes a page of a non-aligned chunk, appending its times and values to `times` and
    /// `values` (which must hold the chunk's value type); returns how many points it added.
    /// On an error nothing is appended. Fails instead once the query this thread reads for
    /// was stopped (see `model::cancel`).
    pub fn decode_page_into(
        &self,
        page: &PageRef,
        times: &mut Vec<i64>,
        values: &mut ColumnData,
    ) -> Result<usize> {
        self.decode_page_with(page, times, values, None)
    }

    /// As [`Chunk::decode_page_into`], also replacing the contents of `encoded` with the
    /// page's encoded time column (for [`Chunk::decode_values_if_times`] on another
    /// series' page).
    pub fn decode_page_recording(
        &self,
        page: &PageRef,
        times: &mut Vec<i64>,
        values: &mut ColumnData,
        encoded: &mut Vec<u8>,
    ) -> Result<usize> {
        self.decode_page_with(page, times, values, Some(encoded))
    }

    /// [`Chunk::decode_page_into`], recording the encoded time column in `record` if given.
    fn decode_page_with(
        &self,
        page: &PageRef,
        times: &mut Vec<i64>,
        values: &mut ColumnData,
        record: Option<&mut Vec<u8>>,
    ) -> Result<usize> {
        model::cancel::checkpoint()?;
        self.check_plain(values)?;
        if values.len() != times.len() {
            return Err(Error::internal(format!(
                "page decoded after {} times but {} values",
                times.len(),
                values.len()
            )));
        }
        self.with_page_body(page, |body| {
            self.decode_body_into(page, body, times, values, record)
        })
    }

    /// Appends the values of a page of a non-aligned chunk if its encoded time column is
    /// exactly `encoded`, bytes of a page that held `rows` times (recorded by
    /// [`Chunk::decode_page_recording`], typically from another series of the same device
    /// written together, which carries its own copy of the same times): its times are then
    /// those, and are not decoded again. Returns false, having appended nothing, when the
    /// bytes differ. On an error nothing is appended.
    pub fn decode_values_if_times(
        &self,
        page: &PageRef,
        encoded: &[u8],
        rows: usize,
        values: &mut ColumnData,
    ) -> Result<bool> {
        model::cancel::checkpoint()?;
        self.check_plain(values)?;
        self.with_page_body(page, |body| {
            let ctx = |e: Corrupt| e.inside("decompressed page", page.offset);
            let mut r = ByteReader::new(body);
            let tlen = r.uvarint_len().map_err(ctx)?;
            if r.take(tlen).map_err(ctx)? != encoded {
                return Ok(false);
            }
            self.decode_page_values(page, &r, rows, values)
                .map(|()| true)
                .map_err(ctx)
        })
    }

    /// Appends the `rows` values of a page whose reader `r` stands at the values (after the
    /// time column); fails, having appended nothing, when they decode to another count.
    fn decode_page_values(
        &self,
        page: &PageRef,
        r: &ByteReader<'_>,
        rows: usize,
        values: &mut ColumnData,
    ) -> std::result::Result<(), Corrupt> {
        let (vstart, before) = (r.pos(), values.len());
        let decoded = self
            .decode_values(r.rest(), rows, page.statistics.as_ref(), values)
            .map_err(|e| Corrupt::new(e.pos + vstart, e.what))
            .and_then(|()| {
                (values.len() == before + rows)
                    .then_some(())
                    .ok_or_else(|| {
                        Corrupt::new(
                            vstart,
                            format!("page holds {rows} times but decodes to other value count"),
                        )
                    })
            });
        if decoded.is_err() {
            values.truncate(before);
        }
        decoded
    }

    /// Checks that this is a non-aligned chunk whose values `values` can hold.
    fn check_plain(&self, values: &ColumnData) -> Result<()> {
        if self.header.is_time() || self.header.is_value() {
            return Err(Error::IllegalParameter(format!(
                "chunk at offset {} is aligned; use decode_time_page / decode_value_page",
                self.offset
            )));
        }
        let dt = self.value_type()?;
        if values.data_type() != dt.physical() {
            return Err(Error::internal(format!(
                "page of {} values decoded into a {} column",
                dt.name(),
                values.data_type().name()
            )));
        }
        Ok(())
    }

    /// Runs `f` on the decompressed body of `page`, held in a buffer of this thread that is
    /// reused page after page.
    fn with_page_body<T>(&self, page: &PageRef, f: impl FnOnce(&[u8]) -> Result<T>) -> Result<T> {
        thread_local! {
            static BODY: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        BODY.with_borrow_mut(|body| {
            let done = self.page_body_into(page, body).and_then(|()| f(body));
            if body.capacity() > KEPT_PAGE_BUFFER {
                *body = Vec::new();
            }
            done
        })
    }

    /// [`Chunk::decode_page_into`] of the decompressed `body` of `page`.
    fn decode_body_into(
        &self,
        page: &PageRef,
        body: &[u8],
        times: &mut Vec<i64>,
        values: &mut ColumnData,
        record: Option<&mut Vec<u8>>,
    ) -> Result<usize> {
        let ctx = |e: Corrupt| e.inside("decompressed page", page.offset);
        let mut r = ByteReader::new(body);
        let tlen = r.uvarint_len().map_err(ctx)?;
        let tbytes = r.take(tlen).map_err(ctx)?;
        if let Some(encoded) = record {
            encoded.clear();
            encoded.extend_from_slice(tbytes);
        }
        let vstart = r.pos();
        let before = times.len();
        let decoded = encoding::decode_times(
            self.time_encoding,
            tbytes,
            self.max_points.saturating_add(before),
            times,
        )
        .map_err(|e| Corrupt::new(e.pos + (vstart - tlen), e.what))
        .and_then(|()| {
            let n = times.len() - before;
            self.decode_page_values(page, &r, n, values).map(|()| n)
        });
        decoded.map_err(|e| {
            times.truncate(before);
            ctx(e)
        })
    }

    /// Decodes a page of an aligned time chunk (failing instead once the query this thread
    /// reads for was stopped, see `model::cancel`).
    pub fn decode_time_page(&self, page: &PageRef) -> Result<Vec<i64>> {
        let mut times = Vec::new();
        self.decode_time_page_into(page, &mut times)?;
        Ok(times)
    }

    /// As [`Chunk::decode_time_page`], appending the times to `times`; returns how many it
    /// added. On an error nothing is appended.
    pub fn decode_time_page_into(&self, page: &PageRef, times: &mut Vec<i64>) -> Result<usize> {
        model::cancel::checkpoint()?;
        let before = times.len();
        let limit = self.max_points.saturating_add(before);
        self.with_page_body(page, |body| {
            encoding::decode_times(self.header.encoding, body, limit, times)
                .map_err(|e| e.inside("decompressed time page", page.offset))
        })
        .inspect_err(|_| times.truncate(before))?;
        Ok(times.len() - before)
    }

    /// Decodes a page of an aligned value chunk for `rows` rows (from the matching time page):
    /// one value per row (a placeholder where the row has none) and the null marks.
    pub fn decode_value_page(&self, page: &PageRef, rows: usize) -> Result<(ColumnData, Bitmap)> {
        let mut values = ColumnData::empty(self.value_type()?);
        let mut nulls = Bitmap::new(0);
        self.decode_value_page_into(page, rows, &mut values, &mut nulls)?;
        Ok((values, nulls))
    }

    /// As [`Chunk::decode_value_page`], appending the values to `values` (of the chunk's
    /// type) and the null marks to `nulls`. On an error nothing is appended.
    pub fn decode_value_page_into(
        &self,
        page: &PageRef,
        rows: usize,
        values: &mut ColumnData,
        nulls: &mut Bitmap,
    ) -> Result<()> {
        let dt = self.value_type()?;
        if values.data_type() != dt.physical() {
            return Err(corrupt(
                format!(
                    "value chunk of {} values where its series holds {}",
                    dt.name(),
                    values.data_type().name()
                ),
                self.offset,
            ));
        }
        if page.header.is_empty() {
            values.extend_placeholders(rows);
            nulls.extend_marked(rows, true);
            return Ok(());
        }
        let (before, marks) = (values.len(), nulls.len());
        self.with_page_body(page, |body| {
            self.value_body_into(page, body, rows, values, nulls)
        })
        .inspect_err(|_| {
            values.truncate(before);
            nulls.truncate(marks);
        })
    }

    /// [`Chunk::decode_value_page_into`] of the decompressed `body` of `page`.
    fn value_body_into(
        &self,
        page: &PageRef,
        body: &[u8],
        rows: usize,
        values: &mut ColumnData,
        nulls: &mut Bitmap,
    ) -> Result<()> {
        let ctx = |e: Corrupt| e.inside("decompressed value page", page.offset);
        let mut r = ByteReader::new(body);
        let n = r.i32().map_err(ctx)?;
        if n < 0 || n as usize != rows {
            return Err(ctx(Corrupt::new(
                0,
                format!("value page holds {n} rows, its time page {rows}"),
            )));
        }
        let bitmap = r.take(rows.div_ceil(8)).map_err(ctx)?;
        let present = |i: usize| bitmap[i / 8] & (0x80 >> (i % 8)) != 0;
        // the bits of the rows (a last byte's bits past the rows are not counted)
        let count = bitmap
            .iter()
            .map(|b| b.count_ones() as usize)
            .sum::<usize>()
            - (rows..rows.div_ceil(8) * 8).filter(|i| present(*i)).count();
        let vstart = r.pos();
        let stats = page.statistics.as_ref();
        let decode = |out: &mut ColumnData| {
            let before = out.len();
            self.decode_values(r.rest(), count, stats, out)
                .map_err(|e| Corrupt::new(e.pos + vstart, e.what))
                .map_err(ctx)?;
            if out.len() - before != count {
                return Err(ctx(Corrupt::new(
                    vstart,
                    format!(
                        "{} values decoded for {count} rows with a value",
                        out.len() - before
                    ),
                )));
            }
            Ok(())
        };
        if count == rows {
            // every row has a value: decoded in place
            decode(values)?;
            nulls.extend_marked(rows, false);
            return Ok(());
        }
        let mut dense = ColumnData::with_capacity(values.data_type(), count);
        decode(&mut dense)?;
        (0..rows).for_each(|i| nulls.push(!present(i)));
        spread(values, dense, rows, present);
        Ok(())
    }
}

/// Appends `dense`'s values to `out` at the rows `0..rows` where `present` holds, a placeholder
/// at the others (`dense` holds one value per present row).
fn spread(out: &mut ColumnData, dense: ColumnData, rows: usize, present: impl Fn(usize) -> bool) {
    fn fill<T: Clone + Default>(
        out: &mut Vec<T>,
        dense: Vec<T>,
        rows: usize,
        present: impl Fn(usize) -> bool,
    ) {
        let mut it = dense.into_iter();
        out.extend((0..rows).map(|i| {
            if present(i) {
                it.next().unwrap_or_default()
            } else {
                T::default()
            }
        }));
    }
    match (out, dense) {
        (ColumnData::Boolean(o), ColumnData::Boolean(d)) => fill(o, d, rows, present),
        (ColumnData::Int32(o), ColumnData::Int32(d)) => fill(o, d, rows, present),
        (ColumnData::Int64(o), ColumnData::Int64(d)) => fill(o, d, rows, present),
        (ColumnData::Float(o), ColumnData::Float(d)) => fill(o, d, rows, present),
        (ColumnData::Double(o), ColumnData::Double(d)) => fill(o, d, rows, present),
        (ColumnData::Binary(o), ColumnData::Binary(d)) => fill(o, d, rows, present),
        (o, _) => o.extend_placeholders(rows),
    }
}

/// How far values `from..` of a FLOAT/DOUBLE column are from the statistics written for them:
/// the largest relative difference of first, last, min and max (0 when all are equal; infinite
/// when they cannot be compared).
fn stats_distance(values: &ColumnData, from: usize, s: &Statistics) -> f64 {
    use crate::statistics::StatValues as S;
    fn dist(v: &[f64], want: [f64; 4]) -> f64 {
        let (Some(&a), Some(&b)) = (v.first(), v.last()) else {
            return f64::INFINITY;
        };
        // Java's update rule: replace when strictly smaller / larger, in order
        let lo = v.iter().fold(a, |m, &x| if x < m { x } else { m });
        let hi = v.iter().fold(a, |m, &x| if x > m { x } else { m });
        [a, b, lo, hi]
            .iter()
            .zip(want)
            .map(|(got, w)| {
                if got.to_bits() == w.to_bits() {
                    0.0
                } else {
                    let d = (got - w).abs() / w.abs().max(f64::MIN_POSITIVE);
                    if d.is_nan() {
                        f64::INFINITY
                    } else {
                        d
                    }
                }
            })
            .fold(0.0, f64::max)
    }
    match (values, &s.values) {
        (
            ColumnData::Float(v),
            S::Float {
                min,
                max,
                first,
                last,
                ..
            },
        ) => {
            let v: Vec<f64> = v[from.min(v.len())..].iter().map(|x| *x as f64).collect();
            dist(&v, [*first as f64, *last as f64, *min as f64, *max as f64])
        }
        (
            ColumnData::Double(v),
            S::Double {
                min,
                max,
                first,
                last,
                ..
            },
        ) => dist(&v[from.min(v.len())..], [*first, *last, *min, *max]),
        _ => f64::INFINITY,
    }
}

/// Positions of `times` in time order, one per distinct time: on equal times the last one
/// (the later chunk wins), by a stable sort.
fn newest_per_time(times: &[i64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..times.len()).collect();
    order.sort_by_key(|i| times[*i]);
    let mut keep: Vec<usize> = Vec::with_capacity(order.len());
    for i in order {
        match keep.last_mut() {
            Some(last) if times[*last] == times[i] => *last = i,
            _ => keep.push(i),
        }
    }
    keep
}

fn corrupt(msg: impl std::fmt::Display, offset: u64) -> Error {
    Error::StorageEngine(format!("corrupt TsFile: {msg} at offset {offset}"))
}

/// Codec options for a file of `version` read with `opts`.
fn codec_for(version: Version, opts: &ReadOptions) -> CodecOptions {
    CodecOptions {
        float_precision: encoding::DEFAULT_FLOAT_PRECISION,
        float_rlbe: opts.float_rlbe.unwrap_or(match version {
            Version::V3 => FloatRlbe::FloatArithmetic,
            Version::V4 => FloatRlbe::RawBits,
        }),
        sprintz_for_cpp: true,
        gorilla_windows: Default::default(),
    }
}

/// A chunk of a file of `version` read with `opts`.
pub(crate) fn make_chunk(
    version: Version,
    opts: &ReadOptions,
    offset: u64,
    header: ChunkHeader,
    data: Vec<u8>,
) -> Chunk {
    Chunk {
        offset,
        header,
        data,
        codec: codec_for(version, opts),
        rlbe_pinned: opts.float_rlbe.is_some(),
        time_encoding: opts.time_encoding,
        max_points: opts.max_points_per_page,
    }
}

/// Which pages of an aligned device a read may leave out whole: called per page with a
/// requested column's index, that column's value page statistics (`None`: the column has
/// no value in the page) and the time span of the page; `true` drops every row of the page
/// (for all columns), e.g. because a filter on that column is false on every row there.
pub type AlignedPageSkip<'a> = &'a dyn Fn(usize, Option<&Statistics>, i64, i64) -> bool;

/// Most rows a read makes room for up front (the statistics that claim more may be
/// damaged; the outputs then grow as they fill).
const MAX_RESERVED_ROWS: usize = 1 << 22;

/// Largest page buffer a thread keeps for the next page (bigger ones are freed after use).
const KEPT_PAGE_BUFFER: usize = 1 << 20;

/// Deepest index tree accepted (guards against cycles in corrupt files).
const MAX_INDEX_DEPTH: usize = 32;

/// A check of the stored bytes of every chunk before it is decoded, e.g. against checksums
/// kept beside the file. Installed with [`TsFileReader::set_chunk_check`]; without one,
/// chunks are read as they are.
pub trait ChunkCheck: Send + Sync {
    /// The stored length (header and page data) of the chunk whose header is at `offset`;
    /// an error when no chunk is known there (the index points somewhere the writer never
    /// put a chunk).
    fn extent(&self, offset: u64) -> Result<u64>;
    /// Checks the `extent` stored bytes of the chunk at `offset`, given as consecutive
    /// parts (e.g. the header and the page data, read apart).
    fn check(&self, offset: u64, parts: &[&[u8]]) -> Result<()>;
}

/// An open TsFile.
pub struct TsFileReader<R: ReadAt> {
    src: R,
    size: u64,
    version: Version,
    metadata: TsFileMetadata,
    metadata_start: u64,
    opts: ReadOptions,
    check: Option<Arc<dyn ChunkCheck>>,
}

impl TsFileReader<std::fs::File> {
    /// Opens the file at `path` with default options.
    pub fn open(path: impl AsRef<std::path::Path>) -> Result<Self> {
        let path = path.as_ref();
        let f = std::fs::File::open(path).map_err(|e| {
            Error::StorageEngine(format!("cannot open TsFile {}: {e}", path.display()))
        })?;
        TsFileReader::new(f, ReadOptions::default())
    }
}

impl<R: ReadAt> TsFileReader<R> {
    /// Opens a TsFile over `src`.
    pub fn new(src: R, opts: ReadOptions) -> Result<Self> {
        let size = src.size()?;
        if size < HEAD_SIZE + TAIL_SIZE + 1 {
            return Err(Error::StorageEngine(format!(
                "corrupt TsFile: {size} bytes is too short for a TsFile (head and tail alone are {})",
                HEAD_SIZE + TAIL_SIZE
            )));
        }
        let mut head = [0u8; HEAD_SIZE as usize];
        src.read_exact_at(&mut head, 0)?;
        if &head[..6] != MAGIC {
            return Err(corrupt("missing TsFile magic string", 0));
        }
        let version = Version::from_byte(head[6]).ok_or_else(|| {
            Error::StorageEngine(format!(
                "corrupt TsFile: unsupported version byte {} at offset 6 (3 and 4 are supported)",
                head[6]
            ))
        })?;
        let mut tail = [0u8; TAIL_SIZE as usize];
        src.read_exact_at(&mut tail, size - TAIL_SIZE)?;
        if &tail[4..] != MAGIC {
            return Err(Error::StorageEngine(format!(
                "corrupt TsFile: no closing magic string at offset {} (the file is incomplete)",
                size - 6
            )));
        }
        let msize = i32::from_be_bytes([tail[0], tail[1], tail[2], tail[3]]);
        let tail_at = size - TAIL_SIZE;
        if msize <= 0 || msize as u64 > tail_at - HEAD_SIZE {
            return Err(corrupt(format!("metadata size {msize}"), tail_at));
        }
        let metadata_start = tail_at - msize as u64;
        let mut buf = vec![0u8; msize as usize];
        src.read_exact_at(&mut buf, metadata_start)?;
        let mut r = ByteReader::new(&buf);
        let metadata = TsFileMetadata::read(&mut r, version)
            .map_err(|e| e.at(metadata_start, "file metadata"))?;
        if metadata.meta_offset < HEAD_SIZE || metadata.meta_offset >= metadata_start {
            return Err(corrupt(
                format!("meta offset {} outside the file", metadata.meta_offset),
                metadata_start,
            ));
        }
        if let Some(level) = metadata.property("encryptLevel") {
            if level != "0" {
                return Err(Error::Unsupported(format!(
                    "encrypted TsFiles (encryptLevel {level}) are not supported yet"
                )));
            }
        }
        Ok(TsFileReader {
            src,
            size,
            version,
            metadata,
            metadata_start,
            opts,
            check: None,
        })
    }

    /// Checks every chunk read from now on with `check` before it is parsed and decoded.
    pub fn set_chunk_check(&mut self, check: Arc<dyn ChunkCheck>) {
        self.check = Some(check);
    }

    /// The format version.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The file metadata.
    pub fn metadata(&self) -> &TsFileMetadata {
        &self.metadata
    }

    /// File size.
    pub fn file_size(&self) -> u64 {
        self.size
    }

    /// Codec options for this file.
    pub fn codec(&self) -> CodecOptions {
        codec_for(self.version, &self.opts)
    }

    /// Reads `[start, end)` (bounded by the file size).
    fn read_region(&self, start: u64, end: u64, what: &str) -> Result<Vec<u8>> {
        if start > end || end > self.size {
            return Err(corrupt(
                format!(
                    "{what} spans [{start}, {end}) in a file of {} bytes",
                    self.size
                ),
                start,
            ));
        }
        self.src
            .read_vec_at((end - start) as usize, start)
            .map_err(|e| Error::StorageEngine(format!("cannot read {what} at offset {start}: {e}")))
    }

    /// Reads an index node stored at `[start, end)` of the metadata area.
    fn read_node(&self, start: u64, end: u64, device_level: bool) -> Result<MetadataIndexNode> {
        if start < self.metadata.meta_offset || end > self.metadata_start {
            return Err(corrupt(
                format!("index node range [{start}, {end}) outside the metadata area"),
                start,
            ));
        }
        let buf = self.read_region(start, end, "index node")?;
        MetadataIndexNode::read(&mut ByteReader::new(&buf), device_level, self.version)
            .map_err(|e| e.at(start, "index node"))
    }

    fn walk_devices(
        &self,
        node: &MetadataIndexNode,
        depth: usize,
        out: &mut Vec<(DeviceId, u64, u64)>,
    ) -> Result<()> {
        if depth > MAX_INDEX_DEPTH {
            return Err(corrupt("index tree too deep", node.end_offset));
        }
        for i in 0..node.children.len() {
            let (s, e) = node.child_range(i);
            match node.node_type {
                NodeType::LeafDevice => {
                    if let IndexKey::Device(d) = &node.children[i].0 {
                        out.push((d.clone(), s, e));
                    }
                }
                NodeType::InternalDevice => {
                    let child = self.read_node(s, e, true)?;
                    self.walk_devices(&child, depth + 1, out)?;
                }
                _ => return Err(corrupt("measurement node at device level", s)),
            }
        }
        Ok(())
    }

    /// Every device with the range of its measurement index root.
    fn device_entries(&self) -> Result<Vec<(DeviceId, u64, u64)>> {
        let mut out = Vec::new();
        for (_, root) in &self.metadata.roots {
            self.walk_devices(root, 0, &mut out)?;
        }
        Ok(out)
    }

    /// Every device in the file, in index order.
    pub fn devices(&self) -> Result<Vec<DeviceId>> {
        Ok(self.device_entries()?.into_iter().map(|d| d.0).collect())
    }

    fn cmp_device(&self, a: &DeviceId, b: &DeviceId) -> std::cmp::Ordering {
        match self.version {
            Version::V3 => a.cmp_v3(b),
            Version::V4 => a.cmp_v4(b),
        }
    }

    /// Finds the measurement index root range of `device`.
    fn find_device(&self, device: &DeviceId) -> Result<Option<(u64, u64)>> {
        let root = match self.version {
            Version::V3 => self.metadata.roots.first().map(|r| &r.1),
            Version::V4 => self
                .metadata
                .roots
                .iter()
                .find(|(t, _)| t == device.table_name())
                .map(|r| &r.1),
        };
        let Some(root) = root else { return Ok(None) };
        let mut node = root.clone();
        for _ in 0..MAX_INDEX_DEPTH {
            if node.children.is_empty() {
                return Ok(None);
            }
            // Largest child key ≤ device.
            let idx = node.children.partition_point(|(k, _)| match k {
                IndexKey::Device(d) => self.cmp_device(d, device) != std::cmp::Ordering::Greater,
                IndexKey::Measurement(_) => true,
            });
            match node.node_type {
                NodeType::LeafDevice => {
                    if idx == 0 {
                        return Ok(None);
                    }
                    return Ok(match &node.children[idx - 1].0 {
                        IndexKey::Device(d) if d == device => Some(node.child_range(idx - 1)),
                        _ => None,
                    });
                }
                NodeType::InternalDevice => {
                    let i = idx.saturating_sub(1);
                    let (s, e) = node.child_range(i);
                    node = self.read_node(s, e, true)?;
                }
                _ => return Err(corrupt("measurement node at device level", node.end_offset)),
            }
        }
        Err(corrupt("index tree too deep", node.end_offset))
    }

    fn collect_series(
        &self,
        node: &MetadataIndexNode,
        depth: usize,
        out: &mut Vec<TimeseriesMetadata>,
    ) -> Result<()> {
        if depth > MAX_INDEX_DEPTH {
            return Err(corrupt("index tree too deep", node.end_offset));
        }
        for i in 0..node.children.len() {
            let (s, e) = node.child_range(i);
            match node.node_type {
                NodeType::LeafMeasurement => {
                    if s < self.metadata.meta_offset || e > self.metadata_start {
                        return Err(corrupt(
                            format!("series metadata range [{s}, {e}) outside the metadata area"),
                            s,
                        ));
                    }
                    let buf = self.read_region(s, e, "series metadata")?;
                    let mut r = ByteReader::new(&buf);
                    while !r.is_empty() {
                        out.push(
                            TimeseriesMetadata::read(&mut r)
                                .map_err(|e| e.at(s, "series metadata"))?,
                        );
                    }
                }
                NodeType::InternalMeasurement => {
                    let child = self.read_node(s, e, false)?;
                    self.collect_series(&child, depth + 1, out)?;
                }
                _ => return Err(corrupt("device node at measurement level", s)),
            }
        }
        Ok(())
    }

    /// The series of `device` (time column first for an aligned device); empty if the
    /// device is not in the file.
    pub fn device_series(&self, device: &DeviceId) -> Result<Vec<TimeseriesMetadata>> {
        match self.find_device(device)? {
            None => Ok(Vec::new()),
            Some((s, e)) => {
                let root = self.read_node(s, e, false)?;
                let mut out = Vec::new();
                self.collect_series(&root, 0, &mut out)?;
                Ok(out)
            }
        }
    }

    /// Every device with its series.
    pub fn all_series(&self) -> Result<Vec<(DeviceId, Vec<TimeseriesMetadata>)>> {
        let mut out = Vec::new();
        for (d, s, e) in self.device_entries()? {
            let root = self.read_node(s, e, false)?;
            let mut series = Vec::new();
            self.collect_series(&root, 0, &mut series)?;
            out.push((d, series));
        }
        Ok(out)
    }

    /// Every device with where its measurement index lies, so that later lookups of its
    /// series ([`TsFileReader::series_in`], [`TsFileReader::series_metadata_in`]) skip the
    /// device-level index.
    pub fn device_index(&self) -> Result<Vec<(DeviceId, DeviceIndexRange)>> {
        Ok(self
            .device_entries()?
            .into_iter()
            .map(|(d, start, end)| (d, DeviceIndexRange { start, end }))
            .collect())
    }

    /// The series of the device whose measurement index is at `at` (from
    /// [`TsFileReader::device_index`] of this reader).
    pub fn series_in(&self, at: DeviceIndexRange) -> Result<Vec<TimeseriesMetadata>> {
        let root = self.read_node(at.start, at.end, false)?;
        let mut out = Vec::new();
        self.collect_series(&root, 0, &mut out)?;
        Ok(out)
    }

    /// The metadata of one (non-time) series of the device whose measurement index is at
    /// `at`: descends the measurement index by name and parses only the leaf entry that
    /// can hold it; falls back to a full walk of the device's series when the keys are
    /// not in the order searched (names outside the byte order Java's strings sort by).
    pub fn series_metadata_in(
        &self,
        at: DeviceIndexRange,
        measurement: &str,
    ) -> Result<Option<TimeseriesMetadata>> {
        let mut node = self.read_node(at.start, at.end, false)?;
        for _ in 0..MAX_INDEX_DEPTH {
            let idx = node.children.partition_point(|(k, _)| match k {
                IndexKey::Measurement(m) => m.as_str() <= measurement,
                IndexKey::Device(_) => true,
            });
            if idx == 0 {
                break;
            }
            let (s, e) = node.child_range(idx - 1);
            match node.node_type {
                NodeType::InternalMeasurement => node = self.read_node(s, e, false)?,
                NodeType::LeafMeasurement => {
                    let leaf = MetadataIndexNode {
                        children: vec![node.children[idx - 1].clone()],
                        end_offset: e,
                        node_type: NodeType::LeafMeasurement,
                    };
                    let mut found = Vec::new();
                    self.collect_series(&leaf, 0, &mut found)?;
                    if let Some(m) = found
                        .into_iter()
                        .find(|s| s.measurement == measurement && !s.is_aligned_time())
                    {
                        return Ok(Some(m));
                    }
                    break;
                }
                _ => return Err(corrupt("device node at measurement level", s)),
            }
        }
        Ok(self
            .series_in(at)?
            .into_iter()
            .find(|s| s.measurement == measurement && !s.is_aligned_time()))
    }

    /// The metadata of one series, if present.
    pub fn series_metadata(
        &self,
        device: &DeviceId,
        measurement: &str,
    ) -> Result<Option<TimeseriesMetadata>> {
        Ok(self
            .device_series(device)?
            .into_iter()
            .find(|s| s.measurement == measurement && !s.is_aligned_time()))
    }

    /// True if the bloom filter says the path may be present (always true without a filter).
    pub fn may_contain(&self, device: &DeviceId, measurement: &str) -> bool {
        match &self.metadata.bloom {
            Some(b) => b.might_contain(&format!("{}.{measurement}", device.path())),
            None => true,
        }
    }

    /// Reads the chunk whose header is at `offset`.
    pub fn read_chunk_at(&self, offset: u64) -> Result<Chunk> {
        if offset < HEAD_SIZE || offset >= self.metadata.meta_offset {
            return Err(corrupt("chunk offset outside the data area", offset));
        }
        if let Some(check) = &self.check {
            return self.read_checked_chunk(offset, check.as_ref());
        }
        // A header is at most 1 + 5 + name + 5 + 3 bytes; read a window, grow if needed.
        let limit = self.metadata.meta_offset;
        let mut window = 256u64.min(limit - offset);
        let header = loop {
            let buf = self.read_region(offset, offset + window, "chunk header")?;
            match ChunkHeader::read(&mut ByteReader::new(&buf)) {
                Ok(h) => break h,
                Err(e) if offset + window < limit && e.pos + 16 >= buf.len() => {
                    window = (window * 4).min(limit - offset);
                }
                Err(e) => return Err(e.at(offset, "chunk header")),
            }
        };
        let data_start = offset + header.header_size as u64;
        let data_end = data_start + header.data_size as u64;
        if data_end > limit {
            return Err(corrupt(
                format!(
                    "chunk {} claims {} data bytes beyond the data area",
                    header.measurement, header.data_size
                ),
                offset,
            ));
        }
        let data = self.read_region(data_start, data_end, "chunk data")?;
        Ok(self.chunk(offset, header, data))
    }

    /// Reads the chunk at `offset` of the length `check` knows and checks it before its
    /// pages are used: the header from a small window, then the page data on its own (so
    /// the data needs no move afterwards). A header that does not parse or does not add up
    /// to the known length is checked in one piece with the data, so damage is reported as
    /// a checksum mismatch rather than as whatever the damaged header claims.
    fn read_checked_chunk(&self, offset: u64, check: &dyn ChunkCheck) -> Result<Chunk> {
        let len = check.extent(offset)?;
        let end = offset.saturating_add(len);
        if end > self.metadata.meta_offset {
            return Err(corrupt(
                format!("checked chunk of {len} bytes runs past the data area"),
                offset,
            ));
        }
        let window = self.read_region(offset, end.min(offset + 256), "chunk header")?;
        if let Ok(header) = ChunkHeader::read(&mut ByteReader::new(&window)) {
            let hs = header.header_size as usize;
            if hs <= window.len() && hs as u64 + header.data_size as u64 == len {
                let data = self.read_region(offset + hs as u64, end, "chunk data")?;
                check.check(offset, &[&window[..hs], &data])?;
                return Ok(self.chunk(offset, header, data));
            }
        }
        let all = self.read_region(offset, end, "chunk")?;
        check.check(offset, &[&all])?;
        let header = ChunkHeader::read(&mut ByteReader::new(&all))
            .map_err(|e| e.at(offset, "chunk header"))?;
        Err(corrupt(
            format!(
                "chunk {} of {} header and {} data bytes where {len} bytes were written",
                header.measurement, header.header_size, header.data_size
            ),
            offset,
        ))
    }

    fn chunk(&self, offset: u64, header: ChunkHeader, data: Vec<u8>) -> Chunk {
        make_chunk(self.version, &self.opts, offset, header, data)
    }

    /// Reads the chunk of `meta`.
    pub fn read_chunk(&self, meta: &ChunkMetadata) -> Result<Chunk> {
        self.read_chunk_at(meta.offset)
    }

    /// Reads the non-null points of one series in `range` (for an aligned series, the rows
    /// where it has a value). `None` if the file has no such series. Overlapping chunks (as in
    /// unsequence files) are merged in time order, the later chunk winning on equal times.
    pub fn read_series(
        &self,
        device: &DeviceId,
        measurement: &str,
        range: TimeRange,
    ) -> Result<Option<SeriesData>> {
        let series = self.device_series(device)?;
        self.read_series_in(&series, measurement, range)
    }

    /// As [`TsFileReader::read_series`], with the device's series metadata already at hand
    /// (from [`TsFileReader::device_series`] or [`TsFileReader::all_series`]), so the index is
    /// not walked again.
    pub fn read_series_in(
        &self,
        series: &[TimeseriesMetadata],
        measurement: &str,
        range: TimeRange,
    ) -> Result<Option<SeriesData>> {
        self.read_series_skipping(series, measurement, range, &|_| false)
    }

    /// As [`TsFileReader::read_series_in`], leaving out the chunks for which `skip` is true
    /// (a caller that uses their statistics instead of their points need not decode them):
    /// for an aligned series, the chunk groups whose value chunk of the series it skips.
    pub fn read_series_skipping(
        &self,
        series: &[TimeseriesMetadata],
        measurement: &str,
        range: TimeRange,
        skip: &dyn Fn(&ChunkMetadata) -> bool,
    ) -> Result<Option<SeriesData>> {
        let Some(meta) = series
            .iter()
            .find(|s| s.measurement == measurement && !s.is_aligned_time())
        else {
            return Ok(None);
        };
        let dt = meta
            .data_type
            .ok_or_else(|| corrupt("value series without type", 0))?;
        // Some writers (PyPI tsfile's table model) leave the value flag out of the series
        // metadata; a device with a time column is aligned either way.
        if meta.is_aligned_value() || series.iter().any(|s| s.is_aligned_time()) {
            // a chunk group is left out when the series' value chunk in it is skipped
            let rows = self.read_aligned_from(series, &[measurement], range, None, skip)?;
            let col = rows.columns.into_iter().next();
            return Ok(col.map(|col| column_points(&rows.times.into(), col)));
        }
        let chunks: Vec<&ChunkMetadata> = meta
            .chunks
            .iter()
            .filter(|cm| {
                cm.statistics.count != 0
                    && range.overlaps(cm.statistics.start_time, cm.statistics.end_time)
                    && !skip(cm)
            })
            .collect();
        // Chunks in time order that do not overlap (a sequence file's) decode into one
        // buffer, reserved once for all their points; overlapping ones (an unsequence
        // file's) each into their own, merged afterwards.
        let disjoint = chunks
            .windows(2)
            .all(|w| w[0].statistics.end_time < w[1].statistics.start_time);
        let room = |cms: &[&ChunkMetadata]| {
            let n: u64 = cms.iter().map(|cm| cm.statistics.count).sum();
            usize::try_from(n)
                .unwrap_or(usize::MAX)
                .min(MAX_RESERVED_ROWS)
        };
        let mut parts: Vec<(Vec<i64>, ColumnData)> = Vec::new();
        let mut in_order = true;
        for (k, cm) in chunks.iter().enumerate() {
            if k == 0 || !disjoint {
                let rest = if disjoint {
                    &chunks[..]
                } else {
                    &chunks[k..=k]
                };
                let n = room(rest);
                let mut values = ColumnData::empty(dt);
                values.reserve(n);
                parts.push((Vec::with_capacity(n), values));
            }
            let (times, values) = parts.last_mut().unwrap_or_else(|| unreachable!());
            let chunk_start = times.len();
            let chunk = self.read_chunk(cm)?;
            if chunk.header.measurement != measurement || chunk.header.is_time() {
                return Err(corrupt(
                    format!(
                        "chunk of {} found where the index points to {measurement}",
                        chunk.header.measurement
                    ),
                    cm.offset,
                ));
            }
            for p in chunk.pages(&cm.statistics)? {
                if let Some(s) = &p.statistics {
                    if !range.overlaps(s.start_time, s.end_time) {
                        continue;
                    }
                }
                let before = times.len();
                chunk.decode_page_into(&p, times, values)?;
                let added = &times[before..];
                if !range.covers(*added.first().unwrap_or(&0), *added.last().unwrap_or(&0)) {
                    // a page across a range end: only its points inside the range stay
                    let keep: Vec<usize> = (before..times.len())
                        .filter(|&i| range.contains(times[i]))
                        .collect();
                    let kept_values = values.take(&keep);
                    let kept_times: Vec<i64> = keep.iter().map(|&i| times[i]).collect();
                    times.truncate(before);
                    values.truncate(before);
                    times.extend(kept_times);
                    values.append(kept_values);
                }
            }
            // statistics that claimed order falsely (a damaged or foreign file): sorted below
            in_order &= chunk_start == 0
                || times.len() == chunk_start
                || times[chunk_start - 1] < times[chunk_start];
        }
        if !in_order {
            let (times, values) = parts.pop().unwrap_or_else(|| unreachable!());
            return Ok(Some(newest_sorted(times, values)));
        }
        Ok(Some(merge_parts(dt, parts)))
    }

    /// Reads several columns of an aligned device (its `series`, time column included) in
    /// `range` at once, decoding each time chunk once: per measurement, its points (rows
    /// where it is null left out), or `None` when the device has no such column.
    pub fn read_aligned_columns(
        &self,
        series: &[TimeseriesMetadata],
        measurements: &[&str],
        range: TimeRange,
    ) -> Result<Vec<Option<SeriesData>>> {
        self.read_aligned_columns_skipping(series, measurements, range, None)
    }

    /// As [`TsFileReader::read_aligned_columns`], leaving out the rows of every page that
    /// `skip` selects (see [`AlignedPageSkip`]); only where the device's time chunks do not
    /// overlap each other in this file (else nothing is skipped).
    pub fn read_aligned_columns_skipping(
        &self,
        series: &[TimeseriesMetadata],
        measurements: &[&str],
        range: TimeRange,
        skip: Option<AlignedPageSkip<'_>>,
    ) -> Result<Vec<Option<SeriesData>>> {
        let rows = self.read_aligned_from(series, measurements, range, skip, &|_| false)?;
        let present: Vec<bool> = measurements
            .iter()
            .map(|m| {
                series
                    .iter()
                    .any(|s| s.measurement == *m && !s.is_aligned_time())
            })
            .collect();
        // columns without nulls share the times
        let times = model::Times::from(rows.times);
        Ok(rows
            .columns
            .into_iter()
            .zip(present)
            .map(|(col, present)| present.then(|| column_points(&times, col)))
            .collect())
    }

    /// Reads rows of an aligned device in `range` for `measurements` (nulls where a row has no
    /// value; rows where every requested column is null are left out).
    pub fn read_aligned(
        &self,
        device: &DeviceId,
        measurements: &[&str],
        range: TimeRange,
    ) -> Result<Option<AlignedData>> {
        let series = self.device_series(device)?;
        self.read_aligned_in(&series, measurements, range)
    }

    /// As [`TsFileReader::read_aligned`], with the device's series metadata already at hand.
    pub fn read_aligned_in(
        &self,
        series: &[TimeseriesMetadata],
        measurements: &[&str],
        range: TimeRange,
    ) -> Result<Option<AlignedData>> {
        if !series.iter().any(|s| s.is_aligned_time()) {
            return Ok(None);
        }
        self.read_aligned_from(series, measurements, range, None, &|_| false)
            .map(Some)
    }

    fn read_aligned_from(
        &self,
        series: &[TimeseriesMetadata],
        measurements: &[&str],
        range: TimeRange,
        skip: Option<AlignedPageSkip<'_>>,
        skip_group: &dyn Fn(&ChunkMetadata) -> bool,
    ) -> Result<AlignedData> {
        let time = series
            .iter()
            .find(|s| s.is_aligned_time())
            .ok_or_else(|| corrupt("aligned value series without a time column", 0))?;
        let mut time_chunks: Vec<&ChunkMetadata> = time.chunks.iter().collect();
        time_chunks.sort_by_key(|c| c.offset);
        // pages are only skipped where no other chunk group of the device holds rows
        let skip = skip.filter(|_| {
            let mut spans: Vec<(i64, i64)> = time_chunks
                .iter()
                .map(|c| (c.statistics.start_time, c.statistics.end_time))
                .collect();
            spans.sort_unstable();
            spans.windows(2).all(|w| w[0].1 < w[1].0)
        });
        let value_metas: Vec<Option<&TimeseriesMetadata>> = measurements
            .iter()
            .map(|m| {
                series
                    .iter()
                    .find(|s| s.measurement == *m && !s.is_aligned_time())
            })
            .collect();
        let types: Vec<TSDataType> = value_metas
            .iter()
            .map(|m| m.and_then(|m| m.data_type).unwrap_or(TSDataType::Int32))
            .collect();
        let mut out_times = Vec::new();
        let mut out_cols: Vec<(ColumnData, Bitmap)> = types
            .iter()
            .map(|t| (ColumnData::empty(*t), Bitmap::new(0)))
            .collect();
        // room for the rows the time chunks' statistics expect in range (within reason), so
        // that the outputs grow once
        let room = time_chunks.iter().fold(0u64, |n, c| {
            n.saturating_add(c.statistics.points_in(range.start, range.end))
        });
        let room = usize::try_from(room).unwrap_or(0).min(MAX_RESERVED_ROWS);
        out_times.reserve(room);
        for (d, n) in &mut out_cols {
            d.reserve(room);
            n.reserve(room);
        }
        let mut parts_sorted = true;
        let mut last_end = i64::MIN;
        let mut first_part = true;
        for (ci, tcm) in time_chunks.iter().enumerate() {
            let st = &tcm.statistics;
            if st.count == 0 || !range.overlaps(st.start_time, st.end_time) {
                continue;
            }
            if !first_part && st.start_time <= last_end {
                parts_sorted = false;
            }
            first_part = false;
            last_end = last_end.max(st.end_time);
            let next = time_chunks
                .get(ci + 1)
                .map(|c| c.offset)
                .unwrap_or(u64::MAX);
            // The value chunks of this chunk group lie between this time chunk and the next.
            let group: Vec<Option<&ChunkMetadata>> = value_metas
                .iter()
                .map(|vm| {
                    vm.and_then(|m| {
                        m.chunks
                            .iter()
                            .find(|c| c.offset > tcm.offset && c.offset < next)
                    })
                })
                .collect();
            if !group.is_empty() && group.iter().all(|c| c.is_some_and(skip_group)) {
                continue;
            }
            let tchunk = self.read_chunk(tcm)?;
            if !tchunk.header.is_time() {
                return Err(corrupt(
                    "time column points to a non-time chunk",
                    tcm.offset,
                ));
            }
            let tpages = tchunk.pages(st)?;
            let mut vchunks: Vec<Option<(Chunk, Vec<PageRef>)>> = Vec::new();
            for cm in group {
                match cm {
                    Some(cm) if cm.statistics.count > 0 => {
                        let c = self.read_chunk(cm)?;
                        if !c.header.is_value() {
                            return Err(corrupt(
                                "value column points to a non-value chunk",
                                cm.offset,
                            ));
                        }
                        let pages = c.pages(&cm.statistics)?;
                        if pages.len() != tpages.len() {
                            return Err(corrupt(
                                format!(
                                    "value chunk has {} pages, its time chunk {}",
                                    pages.len(),
                                    tpages.len()
                                ),
                                cm.offset,
                            ));
                        }
                        vchunks.push(Some((c, pages)));
                    }
                    _ => vchunks.push(None),
                }
            }
            for (pi, tp) in tpages.iter().enumerate() {
                if let Some(s) = &tp.statistics {
                    if !range.overlaps(s.start_time, s.end_time) {
                        continue;
                    }
                }
                if let (Some(skip), Some(ts)) = (skip, &tp.statistics) {
                    let drop = vchunks.iter().enumerate().any(|(k, vc)| {
                        let stats = vc
                            .as_ref()
                            .and_then(|(_, pages)| pages[pi].statistics.as_ref());
                        skip(k, stats, ts.start_time, ts.end_time)
                    });
                    if drop {
                        continue;
                    }
                }
                // decoded straight onto the ends of the outputs, then cut to the rows wanted
                let base = out_times.len();
                let rows = tchunk.decode_time_page_into(tp, &mut out_times)?;
                for (vc, (d, n)) in vchunks.iter().zip(out_cols.iter_mut()) {
                    match vc {
                        Some((c, pages)) => c.decode_value_page_into(&pages[pi], rows, d, n)?,
                        None => {
                            d.extend_placeholders(rows);
                            n.extend_marked(rows, true);
                        }
                    }
                }
                drop_unwanted_rows(&mut out_times, &mut out_cols, base, range);
            }
        }
        let mut columns: Vec<Column> = out_cols
            .into_iter()
            .map(|(data, nulls)| {
                let any = nulls.any_in(0..nulls.len());
                Column {
                    data,
                    nulls: any.then_some(nulls),
                }
            })
            .collect();
        let mut times = out_times;
        if !parts_sorted {
            let keep = newest_per_time(&times);
            times = keep.iter().map(|i| times[*i]).collect();
            columns = columns
                .into_iter()
                .map(|c| {
                    let data = c.data.take(&keep);
                    let nulls = c.nulls.map(|n| {
                        let mut b = Bitmap::new(0);
                        for i in &keep {
                            b.push(n.get(*i));
                        }
                        b
                    });
                    Column { data, nulls }
                })
                .collect();
        }
        Ok(AlignedData { times, columns })
    }
}

/// The points of one column of aligned rows (`times`): the rows where it has a value (all of
/// them, sharing `times`, when it has no nulls).
fn column_points(times: &model::Times, col: Column) -> SeriesData {
    match &col.nulls {
        None => SeriesData {
            times: times.clone(),
            values: Column::new(col.data),
        },
        Some(nulls) => {
            let keep: Vec<usize> = (0..times.len()).filter(|&i| !nulls.get(i)).collect();
            SeriesData {
                times: keep.iter().map(|&i| times[i]).collect(),
                values: Column::new(col.data.take(&keep)),
            }
        }
    }
}

/// Drops the rows from `base` on (the rows of the page just appended to `times` and `cols`)
/// that lie outside `range` or have no value in any column (no row is dropped for having no
/// value when there are no columns). A page whose rows all stay, the usual case, costs a
/// look at its times and null marks.
fn drop_unwanted_rows(
    times: &mut Vec<i64>,
    cols: &mut [(ColumnData, Bitmap)],
    base: usize,
    range: TimeRange,
) {
    let end = times.len();
    let every_row_has_a_value = cols.is_empty() || cols.iter().any(|(_, n)| !n.any_in(base..end));
    // a fold without an early exit, so that it compiles to vector compares
    let outside = times[base..]
        .iter()
        .fold(false, |out, t| out | !range.contains(*t));
    if every_row_has_a_value && !outside {
        return;
    }
    let kept: Vec<usize> = (base..end)
        .filter(|&i| {
            range.contains(times[i]) && (cols.is_empty() || cols.iter().any(|(_, n)| !n.get(i)))
        })
        .collect();
    let kept_times: Vec<i64> = kept.iter().map(|&i| times[i]).collect();
    times.truncate(base);
    times.extend(kept_times);
    for (d, n) in cols.iter_mut() {
        let values = d.take(&kept);
        let marks: Vec<bool> = kept.iter().map(|&i| n.get(i)).collect();
        d.truncate(base);
        d.append(values);
        n.truncate(base);
        marks.into_iter().for_each(|m| n.push(m));
    }
}

/// Merges per-chunk parts into one time-ordered series (later parts win on equal times).
fn merge_parts(dt: TSDataType, mut parts: Vec<(Vec<i64>, ColumnData)>) -> SeriesData {
    if parts.len() == 1 {
        let (times, values) = parts.pop().unwrap_or_else(|| unreachable!());
        return SeriesData {
            times: times.into(),
            values: Column::new(values),
        };
    }
    let sorted = parts
        .windows(2)
        .all(|w| match (w[0].0.last(), w[1].0.first()) {
            (Some(a), Some(b)) => a < b,
            _ => true,
        });
    let mut times = Vec::new();
    let mut values = ColumnData::empty(dt);
    if sorted {
        for (t, v) in parts {
            times.extend(t);
            values.append(v);
        }
        return SeriesData {
            times: times.into(),
            values: Column::new(values),
        };
    }
    let mut all_t = Vec::new();
    let mut all_v = ColumnData::empty(dt);
    for (t, v) in parts {
        all_t.extend(t);
        all_v.append(v);
    }
    newest_sorted(all_t, all_v)
}

/// Points in time order, the last one of each time kept.
fn newest_sorted(times: Vec<i64>, values: ColumnData) -> SeriesData {
    let keep = newest_per_time(&times);
    SeriesData {
        times: keep.iter().map(|i| times[*i]).collect::<Vec<_>>().into(),
        values: Column::new(values.take(&keep)),
    }
}
