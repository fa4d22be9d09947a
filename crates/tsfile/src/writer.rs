//! Writing TsFiles (V4 by default, V3 as an option).
//!
//! A [`TsFileWriter`] takes whole chunk groups: for a non-aligned device, per measurement a
//! time-sorted column ([`TsFileWriter::write_device`]); for an aligned device, one shared time
//! column and value columns with null bitmaps ([`TsFileWriter::write_aligned_device`]). Each
//! series becomes one chunk per call, split into pages by point count and estimated size.
//! [`TsFileWriter::finish`] writes the metadata index, bloom filter and tail.
//!
//! A device may be written several times (consecutive non-aligned writes of one device share a
//! chunk group, [`TsFileWriter::copy_chunk`] adds a chunk read from another file unchanged); a
//! series' chunks must then
//! come in increasing time order for a sequence file (not checked across calls, since IoTDB's
//! unsequence files legitimately overlap). An aligned device keeps the measurement list of its
//! first chunk group: later groups may leave measurements out (they get empty value chunks, as
//! Java writes them) but may not add new ones, because readers pair value chunks with time
//! chunks by position.

use std::collections::HashMap;
use std::io::Write;

use crate::bloom::BloomFilter;
use crate::compress;
use crate::device::{java_str_cmp, DeviceId};
use crate::encoding::{self, CodecOptions, FloatRlbe, ValueSlice};
use crate::format::{self, marker, ChunkHeader, PageHeader, Version, MAGIC};
use crate::metadata::{
    ts_type, ChunkMetadata, IndexKey, MetadataIndexNode, NodeType, TimeseriesMetadata,
    TsFileMetadata,
};
use crate::statistics::Statistics;
use model::{
    Bitmap, ColumnData, CompressionType, Error, MeasurementSchema, Result, TSDataType, TSEncoding,
};

/// The encoding and compressor every chunk of a series in one file has (see
/// [`TsFileWriter::settled`]).
pub type Settled = (TSEncoding, CompressionType);

/// Writer settings.
#[derive(Debug, Clone, PartialEq)]
pub struct WriterOptions {
    /// Format version to write.
    pub version: Version,
    /// Most points in one page (Java `max_number_of_points_in_page`, default 10,000).
    pub max_points_per_page: usize,
    /// Target uncompressed page size in bytes (Java `page_size_in_byte`, default 64 KiB).
    pub page_size_bytes: usize,
    /// Most children of an index node (Java `max_degree_of_index_node`, default 256).
    pub max_degree: usize,
    /// Bloom filter error rate (default 0.05).
    pub bloom_error_rate: f64,
    /// Compressor of aligned time chunks (Java default LZ4).
    pub time_compression: CompressionType,
    /// Value codec settings (float precision, RLBE float flavour).
    pub codec: CodecOptions,
    /// Whether a chunk whose first page its schema's encoding or compressor does not shrink
    /// is written PLAIN or UNCOMPRESSED instead (ADR 0014): noisy doubles take more bytes
    /// in GORILLA than in PLAIN and cost far more to decode. Readers take each chunk's
    /// encoding and compressor from its header, so files stay readable everywhere; off,
    /// every chunk has its schema's (as Java's writer does).
    pub plain_fallback: bool,
}

impl WriterOptions {
    /// Defaults for a version: V3 uses the float-arithmetic RLBE of tsfile 1.x, V4 the
    /// raw-bits RLBE of tsfile ≥ 2.1.
    pub fn for_version(version: Version) -> Self {
        WriterOptions {
            version,
            max_points_per_page: 10_000,
            page_size_bytes: 64 * 1024,
            max_degree: 256,
            bloom_error_rate: 0.05,
            time_compression: CompressionType::Lz4,
            codec: CodecOptions {
                float_precision: encoding::DEFAULT_FLOAT_PRECISION,
                float_rlbe: match version {
                    Version::V3 => FloatRlbe::FloatArithmetic,
                    Version::V4 => FloatRlbe::RawBits,
                },
                sprintz_for_cpp: version == Version::V4,
                gorilla_windows: Default::default(),
            },
            plain_fallback: true,
        }
    }
}

impl Default for WriterOptions {
    fn default() -> Self {
        Self::for_version(Version::V4)
    }
}

/// One chunk of a non-aligned series, encoded and compressed but not yet written (see
/// [`WriterOptions::encode_chunk`]): several can be encoded at once on other threads and
/// then appended in order.
#[derive(Debug, Clone)]
pub struct EncodedChunk {
    /// The chunk's header.
    pub header: ChunkHeader,
    /// Its pages (headers and bodies).
    pub data: Vec<u8>,
    /// Its statistics.
    pub statistics: Statistics,
}

impl WriterOptions {
    /// End of the page starting at row `start` of `n`: at most `max_points_per_page` rows
    /// and, past the first row, at most `page_size_bytes` of estimated `row_size`.
    fn page_end(&self, start: usize, n: usize, row_size: impl Fn(usize) -> usize) -> usize {
        let mut end = start;
        let mut bytes = 0;
        while end < n {
            let s = row_size(end);
            let points = end - start;
            if points > 0
                && (points >= self.max_points_per_page || bytes + s > self.page_size_bytes)
            {
                break;
            }
            bytes += s;
            end += 1;
        }
        end
    }

    /// Encodes the points of one non-aligned series (marked nulls skipped) into one chunk
    /// exactly as [`TsFileWriter::write_device`] writes it; `None` when no point is left.
    /// Append it with [`TsFileWriter::copy_chunk`].
    pub fn encode_chunk(&self, s: &SeriesInput<'_>) -> Result<Option<EncodedChunk>> {
        self.encode_chunk_in(s, None)
    }

    /// As [`WriterOptions::encode_chunk`], in exactly the encoding and compressor `fixed`
    /// (no fallback) when given: those of the series' chunks already in the file (see
    /// [`TsFileWriter::settled`]).
    pub fn encode_chunk_in(
        &self,
        s: &SeriesInput<'_>,
        fixed: Option<Settled>,
    ) -> Result<Option<EncodedChunk>> {
        check_series(s)?;
        self.encode_chunk_unchecked(s, fixed)
    }

    /// [`WriterOptions::encode_chunk_in`] of a series already checked.
    fn encode_chunk_unchecked(
        &self,
        s: &SeriesInput<'_>,
        fixed: Option<Settled>,
    ) -> Result<Option<EncodedChunk>> {
        let idx: Vec<usize> = (0..s.times.len())
            .filter(|i| !s.nulls.is_some_and(|b| b.get(*i)))
            .collect();
        if idx.is_empty() {
            return Ok(None);
        }
        // Pages are cut like Java's chunk writer: at `max_points_per_page` points, or
        // earlier when the page's *encoded* (uncompressed) size would pass
        // `page_size_bytes`. Fixed-width values are cut after encoding (a page that
        // came out too large is re-encoded with proportionally fewer points); binary
        // values, whose size varies most, are also pre-cut by their raw size.
        let binary = matches!(s.values, ColumnData::Binary(_));
        // the chunk's encoding and compressor: those fixed, or the schema's unless the
        // first page falls back (see `WriterOptions::plain_fallback`)
        let (mut enc, mut compressor) = fixed.unwrap_or((s.schema.encoding, s.schema.compressor));
        let fallback = self.plain_fallback && fixed.is_none();
        let refine = |enc: TSEncoding, a: usize, b: usize| -> usize {
            if enc != TSEncoding::Sprintz {
                return b;
            }
            let g = Gathered::gather(s.values, &idx[a..b]);
            (a + encoding::page_prefix(enc, g.slice(), &self.codec)).clamp(a + 1, b)
        };
        let mut pages = Vec::new();
        let mut chunk_stats = Statistics::empty(Some(s.schema.data_type));
        let mut raw = Vec::new();
        let mut times = Vec::new();
        let mut tbuf = Vec::new();
        let mut a = 0;
        // Points the next page should hold, predicted from the previous page's encoded
        // size; a predicted page may pass the size limit by 1/16 (as Java's writer, which
        // checks the size only now and then, does): most pages are then encoded once.
        let ps = self.page_size_bytes;
        let mut predicted: Option<usize> = None;
        // GORILLA windows: look-ahead windows take fewer bits, Java's exact windows give
        // compressors steadier patterns (better on quantised periodic data). Every
        // `GORILLA_TRIAL_EVERY`-th page of a compressed chunk is encoded both ways and the
        // smaller after compression is kept for the pages that follow.
        let mut codec = self.codec;
        let mut trial = enc == TSEncoding::Gorilla && compressor != CompressionType::Uncompressed;
        let mut page_no = 0usize;
        let mut other = Vec::new();
        while a < idx.len() {
            let end = self.page_end(a, idx.len(), |k| {
                if binary {
                    8 + value_size(s.values, idx[k])
                } else {
                    0
                }
            });
            let end = predicted.map_or(end, |p| end.min(a + p.max(1)));
            let mut limit = if predicted.is_some() {
                ps + ps / 16
            } else {
                ps
            };
            let mut b = refine(enc, a, end);
            loop {
                let sel = &idx[a..b];
                times.clear();
                times.extend(sel.iter().map(|i| s.times[*i]));
                tbuf.clear();
                encoding::encode(
                    TSEncoding::Ts2Diff,
                    ValueSlice::Int64(&times),
                    &self.codec,
                    &mut tbuf,
                )?;
                let g = Gathered::gather(s.values, sel);
                page_raw(&mut raw, &tbuf, enc, g.slice(), &codec)?;
                if raw.len() <= limit || b - a <= 1 {
                    break;
                }
                let fit = (b - a) as u128 * ps as u128 / raw.len() as u128;
                b = refine(enc, a, a + (fit as usize).max(1));
                limit = ps;
            }
            if page_no == 0 && fallback {
                let values = raw.len() - (tbuf.len() + crate::buf::uvarint_size(tbuf.len() as u32));
                if worse_than_plain(enc, s.values, b - a, values) {
                    enc = TSEncoding::Plain;
                    trial = false;
                    // the page is cut again as PLAIN cuts it (its size no longer depends
                    // on the values): series written together that fall back alike then
                    // hold their times in pages that line up, which a reader decodes once
                    // for all of them (storage's `timeshare`)
                    continue;
                }
            }
            // the compressed body, when the trial below already made it
            let mut body = None;
            if trial && page_no.is_multiple_of(GORILLA_TRIAL_EVERY) {
                let mut alt = codec;
                alt.gorilla_windows = codec.gorilla_windows.other();
                let g = Gathered::gather(s.values, &idx[a..b]);
                page_raw(&mut other, &tbuf, enc, g.slice(), &alt)?;
                let mine = compress_body(compressor, &raw)?;
                let theirs = compress_body(compressor, &other)?;
                body = Some(if other.len() <= ps + ps / 8 && theirs.len() < mine.len() {
                    codec = alt;
                    std::mem::swap(&mut raw, &mut other);
                    theirs
                } else {
                    mine
                });
            }
            if page_no == 0 && fallback && compressor != CompressionType::Uncompressed {
                let packed = match body.take() {
                    Some(b) => b,
                    None => compress_body(compressor, &raw)?,
                };
                body = Some(if shrinks(raw.len(), packed.len()) {
                    packed
                } else {
                    compressor = CompressionType::Uncompressed;
                    trial = false;
                    raw.clone()
                });
            }
            page_no += 1;
            predicted = Some(((b - a) as u128 * ps as u128 / raw.len().max(1) as u128) as usize);
            let mut stats = Statistics::empty(Some(s.schema.data_type));
            for i in &idx[a..b] {
                update_stats(&mut stats, s.times[*i], s.values, *i);
            }
            chunk_stats.merge(&stats);
            pages.push(match body {
                Some(body) => page_of(&raw, body, stats)?,
                None => seal_page(compressor, &raw, stats)?,
            });
            a = b;
        }
        let (data, n_pages) = chunk_data(&pages);
        let header = ChunkHeader {
            chunk_type: if n_pages <= 1 {
                marker::ONLY_ONE_PAGE_CHUNK_HEADER
            } else {
                marker::CHUNK_HEADER
            },
            measurement: s.schema.name.clone(),
            data_size: data.len() as u32,
            data_type: Some(s.schema.data_type),
            compression: compressor,
            encoding: enc,
            header_size: 0,
        };
        Ok(Some(EncodedChunk {
            header,
            data,
            statistics: chunk_stats,
        }))
    }
}

/// Checks one non-aligned series to write: its schema, one value per time, ascending times.
fn check_series(s: &SeriesInput<'_>) -> Result<()> {
    check_schema(s.schema, s.values)?;
    if s.values.len() != s.times.len() {
        return Err(bad(format!(
            "series {} has {} times but {} values",
            s.schema.name,
            s.times.len(),
            s.values.len()
        )));
    }
    check_times(&s.schema.name, s.times)
}

/// A chunk copied unchanged from another file (see [`TsFileWriter::copy_aligned_group`]):
/// its header, its data (page headers and bodies) and its statistics.
#[derive(Debug, Clone, Copy)]
pub struct CopiedChunk<'a> {
    /// The chunk's header as stored.
    pub header: &'a ChunkHeader,
    /// The bytes after the header (`header.data_size` of them).
    pub data: &'a [u8],
    /// The chunk's statistics (from its metadata).
    pub statistics: &'a Statistics,
}

/// One non-aligned series of a chunk group: time-sorted points, optional null marks
/// (marked positions are skipped).
#[derive(Debug, Clone, Copy)]
pub struct SeriesInput<'a> {
    /// Name, type, encoding and compressor.
    pub schema: &'a MeasurementSchema,
    /// Strictly increasing times.
    pub times: &'a [i64],
    /// One value per time, of the schema type's physical kind.
    pub values: &'a ColumnData,
    /// Positions to leave out (bit set = null), if any.
    pub nulls: Option<&'a Bitmap>,
}

/// One value column of an aligned chunk group.
#[derive(Debug, Clone, Copy)]
pub struct AlignedColumn<'a> {
    /// Name, type, encoding and compressor.
    pub schema: &'a MeasurementSchema,
    /// One value per row (placeholders at null positions).
    pub values: &'a ColumnData,
    /// Null marks (bit set = null), if any.
    pub nulls: Option<&'a Bitmap>,
}

#[derive(Debug)]
struct SeriesEntry {
    data_type: Option<TSDataType>,
    mask: u8,
    chunks: Vec<ChunkMetadata>,
    encoding: TSEncoding,
    compression: CompressionType,
}

#[derive(Debug)]
struct DeviceEntry {
    aligned: bool,
    series: HashMap<String, SeriesEntry>,
    /// Aligned devices: the measurement list fixed by the first chunk group.
    columns: Vec<String>,
}

struct Counting<W: Write> {
    inner: W,
    pos: u64,
}

impl<W: Write> Counting<W> {
    fn put(&mut self, b: &[u8]) -> Result<()> {
        self.inner.write_all(b)?;
        self.pos += b.len() as u64;
        Ok(())
    }
}

/// Writes one TsFile to `W`.
pub struct TsFileWriter<W: Write> {
    out: Counting<W>,
    opts: WriterOptions,
    devices: HashMap<DeviceId, DeviceEntry>,
    chunk_count: usize,
    buf: Vec<u8>,
    /// The device of the chunk group written last (non-aligned chunks may join it).
    last_group: Option<DeviceId>,
    /// Per series (an aligned time column is `""`), the encoding and compressor of its
    /// chunks in this file (see [`TsFileWriter::settled`]).
    settled: HashMap<(DeviceId, String), Settled>,
}

impl TsFileWriter<std::io::BufWriter<std::fs::File>> {
    /// Creates (truncating) a file at `path`.
    pub fn create(path: impl AsRef<std::path::Path>, opts: WriterOptions) -> Result<Self> {
        let f = std::fs::File::create(path)?;
        TsFileWriter::new(std::io::BufWriter::with_capacity(1 << 20, f), opts)
    }
}

fn bad(msg: impl Into<String>) -> Error {
    Error::IllegalParameter(msg.into())
}

fn check_schema(s: &MeasurementSchema, values: &ColumnData) -> Result<()> {
    if s.name.is_empty() {
        return Err(bad("measurement name must not be empty"));
    }
    if values.data_type() != s.data_type.physical() {
        return Err(bad(format!(
            "measurement {} is {} but its column holds {}",
            s.name,
            s.data_type.name(),
            values.data_type().name()
        )));
    }
    s.encoding.check(s.data_type)?;
    if !encoding::is_implemented(s.encoding, s.data_type) {
        return Err(Error::Unsupported(format!(
            "encoding {} for {} is not supported yet",
            s.encoding.name(),
            s.data_type.name()
        )));
    }
    if !compress::is_implemented(s.compressor) {
        return Err(Error::Unsupported(format!(
            "compressor {} is not supported yet",
            s.compressor.name()
        )));
    }
    Ok(())
}

fn check_times(name: &str, times: &[i64]) -> Result<()> {
    if let Some(i) = times.windows(2).position(|w| w[0] >= w[1]) {
        return Err(bad(format!(
            "times of {name} must be strictly increasing, found {} then {}",
            times[i],
            times[i + 1]
        )));
    }
    Ok(())
}

/// Estimated encoded size of value `i` (for page splitting).
fn value_size(values: &ColumnData, i: usize) -> usize {
    match values {
        ColumnData::Boolean(_) => 1,
        ColumnData::Int32(_) | ColumnData::Float(_) => 4,
        ColumnData::Int64(_) | ColumnData::Double(_) => 8,
        ColumnData::Binary(v) => 4 + v.get(i).map(|b| b.len()).unwrap_or(0),
    }
}

/// Selected positions of a column as a contiguous slice-able buffer.
enum Gathered<'a> {
    Boolean(Vec<bool>),
    Int32(Vec<i32>),
    Int64(Vec<i64>),
    Float(Vec<f32>),
    Double(Vec<f64>),
    Binary(Vec<&'a [u8]>),
}

impl<'a> Gathered<'a> {
    fn gather(values: &'a ColumnData, idx: &[usize]) -> Gathered<'a> {
        match values {
            ColumnData::Boolean(v) => Gathered::Boolean(idx.iter().map(|i| v[*i]).collect()),
            ColumnData::Int32(v) => Gathered::Int32(idx.iter().map(|i| v[*i]).collect()),
            ColumnData::Int64(v) => Gathered::Int64(idx.iter().map(|i| v[*i]).collect()),
            ColumnData::Float(v) => Gathered::Float(idx.iter().map(|i| v[*i]).collect()),
            ColumnData::Double(v) => Gathered::Double(idx.iter().map(|i| v[*i]).collect()),
            ColumnData::Binary(v) => {
                Gathered::Binary(idx.iter().map(|i| v[*i].as_slice()).collect())
            }
        }
    }

    fn slice(&self) -> ValueSlice<'_> {
        match self {
            Gathered::Boolean(v) => ValueSlice::Boolean(v),
            Gathered::Int32(v) => ValueSlice::Int32(v),
            Gathered::Int64(v) => ValueSlice::Int64(v),
            Gathered::Float(v) => ValueSlice::Float(v),
            Gathered::Double(v) => ValueSlice::Double(v),
            Gathered::Binary(v) => ValueSlice::Binary(v),
        }
    }
}

/// Updates `stats` with the value at `i`.
fn update_stats(stats: &mut Statistics, t: i64, values: &ColumnData, i: usize) {
    match values {
        ColumnData::Boolean(v) => stats.update_bool(t, v[i]),
        ColumnData::Int32(v) => stats.update_i32(t, v[i]),
        ColumnData::Int64(v) => stats.update_i64(t, v[i]),
        ColumnData::Float(v) => stats.update_f32(t, v[i]),
        ColumnData::Double(v) => stats.update_f64(t, v[i]),
        ColumnData::Binary(v) => stats.update_bytes(t, &v[i]),
    }
}

/// Updates `stats` with the values at `range` (one type dispatch for all of them).
fn update_stats_range(
    stats: &mut Statistics,
    times: &[i64],
    values: &ColumnData,
    range: std::ops::Range<usize>,
) {
    let t = &times[range.clone()];
    match values {
        ColumnData::Boolean(v) => t
            .iter()
            .zip(&v[range])
            .for_each(|(t, x)| stats.update_bool(*t, *x)),
        ColumnData::Int32(v) => t
            .iter()
            .zip(&v[range])
            .for_each(|(t, x)| stats.update_i32(*t, *x)),
        ColumnData::Int64(v) => t
            .iter()
            .zip(&v[range])
            .for_each(|(t, x)| stats.update_i64(*t, *x)),
        ColumnData::Float(v) => t
            .iter()
            .zip(&v[range])
            .for_each(|(t, x)| stats.update_f32(*t, *x)),
        ColumnData::Double(v) => t
            .iter()
            .zip(&v[range])
            .for_each(|(t, x)| stats.update_f64(*t, *x)),
        ColumnData::Binary(v) => t
            .iter()
            .zip(&v[range])
            .for_each(|(t, x)| stats.update_bytes(*t, x)),
    }
}

/// A sealed page: header fields and compressed body.
struct Page {
    uncompressed: u32,
    body: Vec<u8>,
    stats: Option<Statistics>,
}

/// Assembles pages into chunk data (page headers + bodies); returns (data, page count).
fn chunk_data(pages: &[Page]) -> (Vec<u8>, usize) {
    let multi = pages.len() > 1;
    let mut data = Vec::new();
    for p in pages {
        if p.uncompressed == 0 {
            data.push(0);
            continue;
        }
        PageHeader {
            uncompressed_size: p.uncompressed,
            compressed_size: p.body.len() as u32,
            statistics: if multi { p.stats.clone() } else { None },
        }
        .write_to(&mut data);
        data.extend_from_slice(&p.body);
    }
    (data, pages.len())
}

/// How often (in pages of one chunk) the GORILLA writer compares its two window rules.
const GORILLA_TRIAL_EVERY: usize = 8;

/// A non-aligned page's uncompressed bytes into `out` (replaced): the length of the encoded
/// times `tbuf`, the times, then `values` encoded with `encoding`.
fn page_raw(
    out: &mut Vec<u8>,
    tbuf: &[u8],
    encoding: TSEncoding,
    values: ValueSlice<'_>,
    codec: &CodecOptions,
) -> Result<()> {
    out.clear();
    crate::buf::PutBytes::put_uvarint(out, tbuf.len() as u32);
    out.extend_from_slice(tbuf);
    encoding::encode(encoding, values, codec, out)
}

/// Smallest first page (in PLAIN bytes) whose chunk may fall back to PLAIN or
/// UNCOMPRESSED (see [`WriterOptions::plain_fallback`]): on a few values no encoding or
/// compressor shrinks anything, and reading them costs nothing either way.
const FALLBACK_MIN_BYTES: usize = 8 << 10;

/// Whether `bytes` of values encoded in `enc` are no fewer than PLAIN takes for `count`
/// values of the column's fixed width (booleans, binary values and small pages never fall
/// back).
fn worse_than_plain(enc: TSEncoding, values: &ColumnData, count: usize, bytes: usize) -> bool {
    let width = match values {
        ColumnData::Int32(_) | ColumnData::Float(_) => 4,
        ColumnData::Int64(_) | ColumnData::Double(_) => 8,
        ColumnData::Boolean(_) | ColumnData::Binary(_) => return false,
    };
    enc != TSEncoding::Plain && count * width >= FALLBACK_MIN_BYTES && bytes >= count * width
}

/// Whether a compressor that made `packed` bytes of `raw` saves more than 1/64 of it (a small
/// page always counts as shrunk): 2 % is kept (bytes on disk are what users compare, and
/// mostly-literal SNAPPY or LZ4 decompresses at about the cost of a copy), the few bytes
/// saved on the headers of incompressible values are not.
fn shrinks(raw: usize, packed: usize) -> bool {
    raw < FALLBACK_MIN_BYTES || packed + raw / 64 < raw
}

/// `raw` after `compression`.
fn compress_body(compression: CompressionType, raw: &[u8]) -> Result<Vec<u8>> {
    let mut body = Vec::with_capacity(raw.len() / 2 + 64);
    compress::compress(compression, raw, &mut body)?;
    Ok(body)
}

/// A page of `raw`'s uncompressed size with its compressed `body`.
fn page_of(raw: &[u8], body: Vec<u8>, stats: Statistics) -> Result<Page> {
    if raw.len() > u32::MAX as usize {
        return Err(bad("page larger than 4 GiB"));
    }
    Ok(Page {
        uncompressed: raw.len() as u32,
        body,
        stats: Some(stats),
    })
}

fn seal_page(compression: CompressionType, raw: &[u8], stats: Statistics) -> Result<Page> {
    page_of(raw, compress_body(compression, raw)?, stats)
}

impl<W: Write> TsFileWriter<W> {
    /// Starts a file on `out` (writes the head).
    pub fn new(out: W, opts: WriterOptions) -> Result<Self> {
        if opts.max_points_per_page == 0 || opts.max_degree < 2 {
            return Err(bad("max_points_per_page must be ≥ 1 and max_degree ≥ 2"));
        }
        let mut w = TsFileWriter {
            out: Counting { inner: out, pos: 0 },
            opts,
            devices: HashMap::new(),
            chunk_count: 0,
            buf: Vec::new(),
            last_group: None,
            settled: HashMap::new(),
        };
        let mut head = MAGIC.to_vec();
        head.push(w.opts.version.byte());
        w.out.put(&head)?;
        Ok(w)
    }

    /// The options in use.
    pub fn options(&self) -> &WriterOptions {
        &self.opts
    }

    /// The encoding and compressor of `measurement` of `device` (`""`: an aligned device's
    /// time column) in this file, once it has a chunk here or [`TsFileWriter::settle`] fixed
    /// them. Every chunk of a series in one file has the same: the C++ TsFile reader (PyPI
    /// `tsfile`) reports a file whose series' chunks differ as corrupted (ADR 0014). Chunks
    /// encoded here take them; a chunk copied in with others is refused.
    pub fn settled(&self, device: &str, measurement: &str) -> Option<Settled> {
        self.settled_as(&DeviceId::from_path(device), measurement)
    }

    /// Fixes the encoding and compressor of a series before its first chunk here (no effect
    /// once it has one), e.g. those of chunks a compaction is about to copy in: chunks
    /// encoded meanwhile then take them instead of falling back to PLAIN.
    pub fn settle(&mut self, device: &str, measurement: &str, how: Settled) {
        let key = (DeviceId::from_path(device), measurement.to_string());
        self.settled.entry(key).or_insert(how);
    }

    /// What `measurement`'s chunks here are settled to, if anything.
    fn settled_as(&self, dev: &DeviceId, measurement: &str) -> Option<Settled> {
        self.settled
            .get(&(dev.clone(), measurement.to_string()))
            .copied()
    }

    /// Settles `measurement` to `how`, or fails if it is settled otherwise.
    fn check_settled(&mut self, dev: &DeviceId, measurement: &str, how: Settled) -> Result<()> {
        let key = (dev.clone(), measurement.to_string());
        let was = *self.settled.entry(key).or_insert(how);
        if was != how {
            return Err(bad(format!(
                "a chunk of {dev}.{measurement} in {}/{} cannot join its chunks in {}/{} in \
                 one file (re-encode it)",
                how.0.name(),
                how.1.name(),
                was.0.name(),
                was.1.name()
            )));
        }
        Ok(())
    }

    /// Bytes written so far.
    pub fn position(&self) -> u64 {
        self.out.pos
    }

    /// Page boundaries for `n` rows: (start, end) ranges by point count and estimated size,
    /// each then possibly shortened by `refine(start, end)` (which returns a new end > start).
    fn page_ranges(
        &self,
        n: usize,
        row_size: impl Fn(usize) -> usize,
        refine: impl Fn(usize, usize) -> usize,
    ) -> Vec<(usize, usize)> {
        let mut ranges = Vec::new();
        let mut start = 0;
        while start < n {
            let end = self.opts.page_end(start, n, &row_size);
            let end = refine(start, end).clamp(start + 1, end);
            ranges.push((start, end));
            start = end;
        }
        ranges
    }

    fn device_entry(&mut self, device: &DeviceId, aligned: bool) -> Result<&mut DeviceEntry> {
        let e = self.devices.entry(device.clone()).or_insert(DeviceEntry {
            aligned,
            series: HashMap::new(),
            columns: Vec::new(),
        });
        if e.aligned != aligned {
            return Err(Error::AlignedTimeseries(format!(
                "device {device} is already written as {}aligned",
                if e.aligned { "" } else { "non-" }
            )));
        }
        Ok(e)
    }

    fn add_chunk(
        &mut self,
        device: &DeviceId,
        name: &str,
        info: SeriesInfo,
        mask: u8,
        chunk: ChunkMetadata,
    ) -> Result<()> {
        let SeriesInfo {
            data_type,
            encoding,
            compression,
        } = info;
        let dev = self
            .devices
            .get_mut(device)
            .ok_or_else(|| Error::internal("device entry missing"))?;
        let e = dev.series.entry(name.to_string()).or_insert(SeriesEntry {
            data_type,
            mask,
            chunks: Vec::new(),
            encoding,
            compression,
        });
        if e.data_type != data_type {
            return Err(Error::Metadata(format!(
                "series {device}.{name} was written as {} and now as {}",
                e.data_type.map(|t| t.name()).unwrap_or("VECTOR"),
                data_type.map(|t| t.name()).unwrap_or("VECTOR")
            )));
        }
        e.chunks.push(chunk);
        self.chunk_count += 1;
        Ok(())
    }

    fn write_chunk(&mut self, header: ChunkHeader, data: &[u8]) -> Result<u64> {
        let offset = self.out.pos;
        self.buf.clear();
        let mut b = std::mem::take(&mut self.buf);
        header.write_to(&mut b);
        self.out.put(&b)?;
        self.buf = b;
        self.out.put(data)?;
        Ok(offset)
    }

    fn start_group(&mut self, device: &DeviceId) -> Result<()> {
        let mut b = Vec::new();
        format::write_chunk_group_header(&mut b, device, self.opts.version);
        self.out.put(&b)?;
        self.last_group = Some(device.clone());
        Ok(())
    }

    /// Starts a chunk group for a non-aligned `device` unless the last group is its own.
    fn join_group(&mut self, device: &DeviceId) -> Result<()> {
        if self.last_group.as_ref() == Some(device) {
            return Ok(());
        }
        self.start_group(device)
    }

    /// Appends a chunk of a non-aligned series exactly as a file of the same version stores
    /// it (header and pages unchanged, e.g. from [`crate::reader::Chunk`]) with its
    /// statistics; it joins `device`'s chunk group if that was the last one written. Used
    /// to copy untouched chunks (compaction) without decoding them.
    pub fn copy_chunk(
        &mut self,
        device: &str,
        header: &ChunkHeader,
        data: &[u8],
        statistics: &Statistics,
    ) -> Result<()> {
        let dev = parse_device(device)?;
        if header.is_time() || header.is_value() {
            return Err(bad(format!(
                "chunk {} belongs to an aligned device",
                header.measurement
            )));
        }
        let data_type = header
            .data_type
            .ok_or_else(|| bad(format!("chunk {} has no value type", header.measurement)))?;
        if data.len() != header.data_size as usize {
            return Err(bad(format!(
                "chunk {} claims {} data bytes, {} given",
                header.measurement,
                header.data_size,
                data.len()
            )));
        }
        self.device_entry(&dev, false)?;
        self.check_settled(
            &dev,
            &header.measurement,
            (header.encoding, header.compression),
        )?;
        self.join_group(&dev)?;
        let offset = self.write_chunk(header.clone(), data)?;
        self.add_chunk(
            &dev,
            &header.measurement,
            SeriesInfo {
                data_type: Some(data_type),
                encoding: header.encoding,
                compression: header.compression,
            },
            0,
            ChunkMetadata {
                offset,
                statistics: statistics.clone(),
            },
        )
    }

    /// Appends one chunk group of an aligned device exactly as a file of the same version
    /// stores it: its time chunk and one value chunk per column of the device (headers and
    /// pages unchanged), each with its statistics. The columns must be those of the device's
    /// first group (in any order; they are written in the device's order). Used by LOAD to
    /// place untouched chunk groups without decoding them.
    pub fn copy_aligned_group(
        &mut self,
        device: &str,
        time: CopiedChunk<'_>,
        values: &[CopiedChunk<'_>],
    ) -> Result<()> {
        let dev = parse_device(device)?;
        if !time.header.is_time() {
            return Err(bad(format!(
                "{device}: the group's first chunk is no time chunk"
            )));
        }
        let mut names = std::collections::HashSet::new();
        for c in std::iter::once(&time).chain(values) {
            if c.data.len() != c.header.data_size as usize {
                return Err(bad(format!(
                    "chunk {} claims {} data bytes, {} given",
                    c.header.measurement,
                    c.header.data_size,
                    c.data.len()
                )));
            }
        }
        for v in values {
            if !v.header.is_value() || v.header.data_type.is_none() {
                return Err(bad(format!(
                    "chunk {} of aligned device {device} is no typed value chunk",
                    v.header.measurement
                )));
            }
            if !names.insert(v.header.measurement.as_str()) {
                return Err(bad(format!(
                    "measurement {} appears twice",
                    v.header.measurement
                )));
            }
        }
        let entry = self.device_entry(&dev, true)?;
        if entry.columns.is_empty() {
            entry.columns = values
                .iter()
                .map(|v| v.header.measurement.clone())
                .collect();
        } else if entry.columns.len() != names.len()
            || entry.columns.iter().any(|c| !names.contains(c.as_str()))
        {
            return Err(Error::Unsupported(format!(
                "aligned device {device}: a copied chunk group must hold the columns of its first \
                 group ({})",
                entry.columns.join(", ")
            )));
        }
        let mut order = entry.columns.clone();
        order.sort_by(|a, b| java_str_cmp(a, b));
        for c in std::iter::once(&time).chain(values) {
            let how = (c.header.encoding, c.header.compression);
            self.check_settled(&dev, &c.header.measurement, how)?;
        }
        self.start_group(&dev)?;
        let offset = self.write_chunk(time.header.clone(), time.data)?;
        self.add_chunk(
            &dev,
            "",
            SeriesInfo {
                data_type: None,
                encoding: time.header.encoding,
                compression: time.header.compression,
            },
            ts_type::TIME,
            ChunkMetadata {
                offset,
                statistics: time.statistics.clone(),
            },
        )?;
        for name in order {
            let Some(v) = values.iter().find(|v| v.header.measurement == name) else {
                continue;
            };
            let offset = self.write_chunk(v.header.clone(), v.data)?;
            self.add_chunk(
                &dev,
                &name,
                SeriesInfo {
                    data_type: v.header.data_type,
                    encoding: v.header.encoding,
                    compression: v.header.compression,
                },
                ts_type::VALUE,
                ChunkMetadata {
                    offset,
                    statistics: v.statistics.clone(),
                },
            )?;
        }
        Ok(())
    }

    /// Writes one chunk group of non-aligned series for `device` (a tree path such as
    /// `root.sg1.d1`). Series with no points after removing nulls are left out.
    pub fn write_device(&mut self, device: &str, series: &[SeriesInput<'_>]) -> Result<()> {
        let dev = parse_device(device)?;
        let mut names = std::collections::HashSet::new();
        for s in series {
            check_series(s)?;
            if !names.insert(s.schema.name.as_str()) {
                return Err(bad(format!("measurement {} appears twice", s.schema.name)));
            }
        }
        self.device_entry(&dev, false)?;
        let mut started = false;
        for s in series {
            let fixed = self.settled_as(&dev, &s.schema.name);
            let Some(chunk) = self.opts.encode_chunk_unchecked(s, fixed)? else {
                continue;
            };
            if !started {
                self.join_group(&dev)?;
                started = true;
            }
            self.append_chunk(&dev, chunk)?;
        }
        Ok(())
    }

    /// Appends a chunk encoded by [`WriterOptions::encode_chunk`] to `device`'s chunk group
    /// (the last one written), recording its metadata.
    fn append_chunk(&mut self, dev: &DeviceId, chunk: EncodedChunk) -> Result<()> {
        let how = (chunk.header.encoding, chunk.header.compression);
        self.check_settled(dev, &chunk.header.measurement, how)?;
        let info = SeriesInfo {
            data_type: chunk.header.data_type,
            encoding: chunk.header.encoding,
            compression: chunk.header.compression,
        };
        let name = chunk.header.measurement.clone();
        let offset = self.write_chunk(chunk.header, &chunk.data)?;
        self.add_chunk(
            dev,
            &name,
            info,
            0,
            ChunkMetadata {
                offset,
                statistics: chunk.statistics,
            },
        )
    }

    /// Writes one chunk group of an aligned device: a time chunk and one value chunk per column
    /// (all rows share `times`; nulls per column). Rows where every column is null are still
    /// written (as IoTDB does for explicit null rows).
    pub fn write_aligned_device(
        &mut self,
        device: &str,
        times: &[i64],
        columns: &[AlignedColumn<'_>],
    ) -> Result<()> {
        let dev = parse_device(device)?;
        check_times(device, times)?;
        let mut names = std::collections::HashSet::new();
        for c in columns {
            check_schema(c.schema, c.values)?;
            if c.values.len() != times.len() {
                return Err(bad(format!(
                    "column {} has {} values for {} rows",
                    c.schema.name,
                    c.values.len(),
                    times.len()
                )));
            }
            if !names.insert(c.schema.name.as_str()) {
                return Err(bad(format!("measurement {} appears twice", c.schema.name)));
            }
        }
        if times.is_empty() {
            return Ok(());
        }
        // Fix or check the device's column list.
        let entry = self.device_entry(&dev, true)?;
        let mut order: Vec<String> = if entry.columns.is_empty() {
            entry.columns = columns.iter().map(|c| c.schema.name.clone()).collect();
            entry.columns.clone()
        } else {
            if let Some(c) = columns
                .iter()
                .find(|c| !entry.columns.contains(&c.schema.name))
            {
                return Err(Error::Unsupported(format!(
                    "aligned device {device} gets new measurement {} after its first chunk group; \
                     write all measurements in the first group",
                    c.schema.name
                )));
            }
            entry.columns.clone()
        };
        order.sort_by(|a, b| java_str_cmp(a, b));
        let known: Vec<(String, Option<SeriesInfo>)> = order
            .iter()
            .map(|n| {
                let info = entry.series.get(n).map(|s| SeriesInfo {
                    data_type: s.data_type,
                    encoding: s.encoding,
                    compression: s.compression,
                });
                (n.clone(), info)
            })
            .collect();
        let time_chunks = (TSEncoding::Ts2Diff, self.opts.time_compression);
        self.check_settled(&dev, "", time_chunks)?;
        self.start_group(&dev)?;
        let ranges = self.page_ranges(
            times.len(),
            |i| {
                8 + columns
                    .iter()
                    .map(|c| value_size(c.values, i))
                    .max()
                    .unwrap_or(0)
            },
            |a, b| {
                let mut end = b;
                for c in columns
                    .iter()
                    .filter(|c| c.schema.encoding == TSEncoding::Sprintz)
                {
                    let rows: Vec<usize> = (a..end)
                        .filter(|i| !c.nulls.is_some_and(|n| n.get(*i)))
                        .collect();
                    let g = Gathered::gather(c.values, &rows);
                    let p = encoding::page_prefix(c.schema.encoding, g.slice(), &self.opts.codec);
                    if p < rows.len() {
                        end = rows[p - 1] + 1;
                    }
                }
                end
            },
        );
        // Time chunk.
        let mut tpages = Vec::with_capacity(ranges.len());
        let mut tstats_all = Statistics::empty(None);
        let mut raw = Vec::new();
        for (a, b) in &ranges {
            let mut st = Statistics::empty(None);
            for t in &times[*a..*b] {
                st.update_time(*t);
            }
            raw.clear();
            encoding::encode(
                TSEncoding::Ts2Diff,
                ValueSlice::Int64(&times[*a..*b]),
                &self.opts.codec,
                &mut raw,
            )?;
            tstats_all.merge(&st);
            tpages.push(seal_page(self.opts.time_compression, &raw, st)?);
        }
        let (data, n_pages) = chunk_data(&tpages);
        let header = ChunkHeader {
            chunk_type: (if n_pages <= 1 {
                marker::ONLY_ONE_PAGE_CHUNK_HEADER
            } else {
                marker::CHUNK_HEADER
            }) | marker::TIME_COLUMN_MASK,
            measurement: String::new(),
            data_size: data.len() as u32,
            data_type: None,
            compression: self.opts.time_compression,
            encoding: TSEncoding::Ts2Diff,
            header_size: 0,
        };
        let offset = self.write_chunk(header, &data)?;
        self.add_chunk(
            &dev,
            "",
            SeriesInfo {
                data_type: None,
                encoding: TSEncoding::Ts2Diff,
                compression: self.opts.time_compression,
            },
            ts_type::TIME,
            ChunkMetadata {
                offset,
                statistics: tstats_all,
            },
        )?;
        // Value chunks, in the device's column order (Java writes them sorted by name).
        for (name, info) in known {
            match columns.iter().find(|c| c.schema.name == name) {
                Some(c) => self.write_value_chunk(&dev, times, c, &ranges)?,
                None => {
                    let info = info.ok_or_else(|| {
                        Error::internal(format!("aligned column {name} has no known schema"))
                    })?;
                    let dt = info.data_type.ok_or_else(|| {
                        Error::internal(format!("aligned column {name} has no known type"))
                    })?;
                    self.write_empty_value_chunk(&dev, &name, dt, info.encoding, info.compression)?
                }
            }
        }
        Ok(())
    }

    fn write_value_chunk(
        &mut self,
        dev: &DeviceId,
        times: &[i64],
        c: &AlignedColumn<'_>,
        ranges: &[(usize, usize)],
    ) -> Result<()> {
        let dt = c.schema.data_type;
        let mut pages = Vec::with_capacity(ranges.len());
        let mut all = Statistics::empty(Some(dt));
        let mut raw = Vec::new();
        // the chunk's encoding and compressor: those of the column's chunks already here, or
        // the schema's unless its first page with values falls back (see
        // `WriterOptions::plain_fallback`)
        let fixed = self.settled_as(dev, &c.schema.name);
        let (mut enc, mut compressor) = fixed.unwrap_or((c.schema.encoding, c.schema.compressor));
        let mut first = self.opts.plain_fallback && fixed.is_none();
        for (a, b) in ranges {
            let rows = b - a;
            let mut stats = Statistics::empty(Some(dt));
            let mut present = Vec::with_capacity(rows);
            let mut bitmap = vec![0u8; rows.div_ceil(8)];
            if c.nulls.is_none() {
                // every row has a value
                present.extend(*a..*b);
                bitmap.iter_mut().for_each(|byte| *byte = 0xff);
                if rows % 8 != 0 {
                    bitmap[rows / 8] = 0xff << (8 - rows % 8);
                }
                update_stats_range(&mut stats, times, c.values, *a..*b);
            } else {
                for (k, i) in (*a..*b).enumerate() {
                    if !c.nulls.is_some_and(|n| n.get(i)) {
                        bitmap[k / 8] |= 0x80 >> (k % 8);
                        present.push(i);
                        update_stats(&mut stats, times[i], c.values, i);
                    }
                }
            }
            if present.is_empty() {
                pages.push(Page {
                    uncompressed: 0,
                    body: Vec::new(),
                    stats: None,
                });
                continue;
            }
            raw.clear();
            crate::buf::PutBytes::put_i32(&mut raw, rows as i32);
            raw.extend_from_slice(&bitmap);
            let head = raw.len();
            let g = Gathered::gather(c.values, &present);
            encoding::encode(enc, g.slice(), &self.opts.codec, &mut raw)?;
            all.merge(&stats);
            if !std::mem::take(&mut first) {
                pages.push(seal_page(compressor, &raw, stats)?);
                continue;
            }
            if worse_than_plain(enc, c.values, present.len(), raw.len() - head) {
                enc = TSEncoding::Plain;
                raw.truncate(head);
                encoding::encode(enc, g.slice(), &self.opts.codec, &mut raw)?;
            }
            let page = seal_page(compressor, &raw, stats)?;
            if compressor != CompressionType::Uncompressed && !shrinks(raw.len(), page.body.len()) {
                compressor = CompressionType::Uncompressed;
                pages.push(Page {
                    body: raw.clone(),
                    ..page
                });
            } else {
                pages.push(page);
            }
        }
        if all.count == 0 {
            return self.write_empty_value_chunk(dev, &c.schema.name, dt, enc, compressor);
        }
        self.check_settled(dev, &c.schema.name, (enc, compressor))?;
        let (data, n_pages) = chunk_data(&pages);
        let header = ChunkHeader {
            chunk_type: (if n_pages <= 1 {
                marker::ONLY_ONE_PAGE_CHUNK_HEADER
            } else {
                marker::CHUNK_HEADER
            }) | marker::VALUE_COLUMN_MASK,
            measurement: c.schema.name.clone(),
            data_size: data.len() as u32,
            data_type: Some(dt),
            compression: compressor,
            encoding: enc,
            header_size: 0,
        };
        let offset = self.write_chunk(header, &data)?;
        self.add_chunk(
            dev,
            &c.schema.name,
            SeriesInfo {
                data_type: Some(dt),
                encoding: enc,
                compression: compressor,
            },
            ts_type::VALUE,
            ChunkMetadata {
                offset,
                statistics: all,
            },
        )
    }

    fn write_empty_value_chunk(
        &mut self,
        dev: &DeviceId,
        name: &str,
        dt: TSDataType,
        encoding: TSEncoding,
        compression: CompressionType,
    ) -> Result<()> {
        let (encoding, compression) = self
            .settled_as(dev, name)
            .unwrap_or((encoding, compression));
        self.check_settled(dev, name, (encoding, compression))?;
        let header = ChunkHeader {
            chunk_type: marker::ONLY_ONE_PAGE_CHUNK_HEADER | marker::VALUE_COLUMN_MASK,
            measurement: name.to_string(),
            data_size: 0,
            data_type: Some(dt),
            compression,
            encoding,
            header_size: 0,
        };
        let offset = self.write_chunk(header, &[])?;
        self.add_chunk(
            dev,
            name,
            SeriesInfo {
                data_type: Some(dt),
                encoding,
                compression,
            },
            ts_type::VALUE,
            ChunkMetadata {
                offset,
                statistics: Statistics::empty(Some(dt)),
            },
        )
    }

    /// Writes the metadata area and the tail; returns the underlying writer (flushed).
    pub fn finish(mut self) -> Result<W> {
        let version = self.opts.version;
        let degree = self.opts.max_degree;
        let meta_offset = self.out.pos;
        self.out.put(&[marker::SEPARATOR])?;
        let mut bloom = BloomFilter::with_capacity(self.chunk_count, self.opts.bloom_error_rate);
        let mut devices: Vec<(DeviceId, DeviceEntry)> = self.devices.drain().collect();
        devices.sort_by(|a, b| match version {
            Version::V3 => a.0.cmp_v3(&b.0),
            Version::V4 => a.0.cmp_v4(&b.0),
        });
        let mut device_roots: Vec<(DeviceId, MetadataIndexNode)> = Vec::new();
        let mut buf = Vec::new();
        for (dev, entry) in devices {
            let mut series: Vec<(String, SeriesEntry)> = entry.series.into_iter().collect();
            series.sort_by(|a, b| java_str_cmp(&a.0, &b.0));
            let mut queue: Vec<MetadataIndexNode> = Vec::new();
            let mut current = MetadataIndexNode::new(NodeType::LeafMeasurement);
            let path = dev.path();
            for (i, (name, s)) in series.into_iter().enumerate() {
                bloom.add(&format!("{path}.{name}"));
                if i % degree == 0 {
                    if current.children.len() >= degree {
                        current.end_offset = self.out.pos;
                        queue.push(std::mem::replace(
                            &mut current,
                            MetadataIndexNode::new(NodeType::LeafMeasurement),
                        ));
                    }
                    current
                        .children
                        .push((IndexKey::Measurement(name.clone()), self.out.pos));
                }
                let mut stats = Statistics::empty(s.data_type);
                for c in &s.chunks {
                    stats.merge(&c.statistics);
                }
                let multi = s.chunks.len() > 1;
                let tsm = TimeseriesMetadata {
                    type_byte: (multi as u8) | s.mask,
                    measurement: name,
                    data_type: s.data_type,
                    statistics: stats,
                    chunks: s.chunks,
                };
                buf.clear();
                tsm.write_to(&mut buf);
                self.out.put(&buf)?;
            }
            current.end_offset = self.out.pos;
            queue.push(current);
            let root = self.generate_root(queue, NodeType::InternalMeasurement)?;
            device_roots.push((dev, root));
        }
        // Group by table (V4) or keep one group (V3).
        let mut tables: Vec<(String, Vec<(DeviceId, MetadataIndexNode)>)> = Vec::new();
        for (dev, root) in device_roots {
            let table = match version {
                Version::V3 => String::new(),
                Version::V4 => dev.table_name().to_string(),
            };
            match tables.iter_mut().find(|(t, _)| *t == table) {
                Some((_, v)) => v.push((dev, root)),
                None => tables.push((table, vec![(dev, root)])),
            }
        }
        tables.sort_by(|a, b| java_str_cmp(&a.0, &b.0));
        let mut roots = Vec::new();
        for (table, devs) in tables {
            roots.push((table, self.build_device_level(devs)?));
        }
        if version == Version::V3 && roots.is_empty() {
            let mut empty = MetadataIndexNode::new(NodeType::LeafDevice);
            empty.end_offset = self.out.pos;
            roots.push((String::new(), empty));
        }
        let meta = TsFileMetadata {
            roots,
            table_schemas: Vec::new(),
            meta_offset,
            bloom: Some(bloom),
            properties: match version {
                Version::V3 => Vec::new(),
                Version::V4 => vec![
                    ("encryptLevel".into(), Some("0".into())),
                    (
                        "encryptType".into(),
                        Some("org.apache.tsfile.encrypt.UNENCRYPTED".into()),
                    ),
                    ("encryptKey".into(), None),
                ],
            },
        };
        buf.clear();
        meta.write_to(&mut buf, version);
        let size = buf.len() as i32;
        crate::buf::PutBytes::put_i32(&mut buf, size);
        buf.extend_from_slice(MAGIC);
        self.out.put(&buf)?;
        self.out.inner.flush()?;
        Ok(self.out.inner)
    }

    fn write_node(&mut self, node: &MetadataIndexNode) -> Result<()> {
        let mut b = Vec::new();
        node.write_to(&mut b, self.opts.version);
        self.out.put(&b)
    }

    /// Java `generateRootNode`: builds upper levels until one node remains (returned unwritten).
    fn generate_root(
        &mut self,
        mut queue: Vec<MetadataIndexNode>,
        node_type: NodeType,
    ) -> Result<MetadataIndexNode> {
        let degree = self.opts.max_degree;
        while queue.len() > 1 {
            let level = std::mem::take(&mut queue);
            let mut current = MetadataIndexNode::new(node_type);
            for node in level {
                if current.children.len() >= degree {
                    current.end_offset = self.out.pos;
                    queue.push(std::mem::replace(
                        &mut current,
                        MetadataIndexNode::new(node_type),
                    ));
                }
                let key = node
                    .children
                    .first()
                    .map(|c| c.0.clone())
                    .ok_or_else(|| Error::internal("empty index node"))?;
                current.children.push((key, self.out.pos));
                self.write_node(&node)?;
            }
            current.end_offset = self.out.pos;
            queue.push(current);
        }
        queue
            .pop()
            .ok_or_else(|| Error::internal("no index node to make a root of"))
    }

    /// Java `checkAndBuildLevelIndex`.
    fn build_device_level(
        &mut self,
        devs: Vec<(DeviceId, MetadataIndexNode)>,
    ) -> Result<MetadataIndexNode> {
        let degree = self.opts.max_degree;
        if devs.len() <= degree {
            let mut node = MetadataIndexNode::new(NodeType::LeafDevice);
            for (dev, root) in devs {
                node.children.push((IndexKey::Device(dev), self.out.pos));
                self.write_node(&root)?;
            }
            node.end_offset = self.out.pos;
            return Ok(node);
        }
        let mut queue = Vec::new();
        let mut current = MetadataIndexNode::new(NodeType::LeafDevice);
        for (dev, root) in devs {
            if current.children.len() >= degree {
                current.end_offset = self.out.pos;
                queue.push(std::mem::replace(
                    &mut current,
                    MetadataIndexNode::new(NodeType::LeafDevice),
                ));
            }
            current.children.push((IndexKey::Device(dev), self.out.pos));
            self.write_node(&root)?;
        }
        current.end_offset = self.out.pos;
        queue.push(current);
        let mut root = self.generate_root(queue, NodeType::InternalDevice)?;
        root.end_offset = self.out.pos;
        Ok(root)
    }
}

struct SeriesInfo {
    data_type: Option<TSDataType>,
    encoding: TSEncoding,
    compression: CompressionType,
}

/// Parses a device path, rejecting empty ones.
fn parse_device(device: &str) -> Result<DeviceId> {
    if device.trim().is_empty() {
        return Err(bad("device path must not be empty"));
    }
    Ok(DeviceId::from_path(device))
}
