//! `tsfile`: IoTDB's TsFile format in Rust — versions 3 (IoTDB 1.x) and 4 (IoTDB 2.x, PyPI
//! `tsfile`), tree model — byte-compatible with the Java and C++ implementations of
//! apache/tsfile. The byte layout is documented in `docs/tsfile-format.md`.
//!
//! It owns the file format and nothing else:
//! - writing: [`writer::TsFileWriter`] takes chunk groups — per device, time-sorted columns
//!   ([`model::ColumnData`]) with their [`model::MeasurementSchema`], non-aligned
//!   ([`writer::SeriesInput`]) or aligned with null bitmaps ([`writer::AlignedColumn`]) — and
//!   writes pages, chunks, statistics, the metadata index tree and the bloom filter;
//! - reading: [`reader::TsFileReader`] gives devices → series
//!   ([`metadata::TimeseriesMetadata`] with chunk metadata and [`statistics::Statistics`]) →
//!   chunks and pages ([`reader::Chunk`]) → decoded points, or whole series / aligned rows in
//!   a [`reader::TimeRange`], skipping chunks and pages by their statistics;
//! - the pieces: value encodings ([`encoding`]), page compressors ([`compress`]), headers
//!   ([`mod@format`]), device ids ([`device`]), the bloom filter ([`bloom`]) and the byte-level
//!   primitives ([`buf`], [`bits`]).
//!
//! It must not know about the storage engine, SQL, the network or any I/O policy (where files
//! live, when they are flushed or synced, what is merged with what). Every decode of bytes from
//! a file is bounded and reports corruption as [`model::Error::StorageEngine`] naming the
//! offset, never a panic or an allocation sized by an unchecked length.

#![warn(missing_docs)]

pub mod bits;
pub mod bloom;
pub mod buf;
pub mod compress;
pub mod device;
pub mod encoding;
pub mod format;
pub mod metadata;
pub mod reader;
pub mod scan;
pub mod statistics;
pub mod writer;

pub use device::DeviceId;
pub use format::Version;
pub use metadata::{ChunkMetadata, TimeseriesMetadata};
pub use reader::{ReadOptions, TimeRange, TsFileReader};
pub use statistics::Statistics;
pub use writer::{AlignedColumn, CopiedChunk, SeriesInput, TsFileWriter, WriterOptions};
