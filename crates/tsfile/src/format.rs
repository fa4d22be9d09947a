//! File-level constants and the headers of the data area: chunk group header, chunk header,
//! page header.
//!
//! ```text
//! "TsFile" version:u8                     -- head (version 0x03 = V3, 0x04 = V4)
//! { 0x00 deviceId { chunk }* }*           -- chunk groups (V3: var string; V4: segments)
//! 0x02                                    -- separator, at metaOffset
//! ... metadata (see `metadata`) ...
//! i32 metadataSize "TsFile"               -- tail
//! ```
//!
//! Chunk header: `u8 type`, var string measurement, `uvarint dataSize` (all pages with their
//! headers), `u8 dataType`, `u8 compression`, `u8 encoding`. Type `0x01` has several pages,
//! `0x05` exactly one (whose page header then carries no statistics); `| 0x80` marks an aligned
//! time chunk (measurement `""`, data type VECTOR = 6), `| 0x40` an aligned value chunk.
//!
//! Page header: `uvarint uncompressedSize`, `uvarint compressedSize`, statistics (only in
//! chunks of several pages). An aligned value page that holds only nulls is the single byte
//! `0x00`.

use crate::buf::{ByteReader, Corrupt, DResult, PutBytes};
use crate::device::DeviceId;
use crate::statistics::{Statistics, VECTOR_TYPE_ID};
use model::{CompressionType, TSDataType, TSEncoding};

/// The magic string at both ends of a TsFile.
pub const MAGIC: &[u8; 6] = b"TsFile";

/// Size of the head: magic + version byte.
pub const HEAD_SIZE: u64 = 7;

/// Size of the tail: i32 metadata size + magic.
pub const TAIL_SIZE: u64 = 10;

/// Marker bytes (Java `MetaMarker`).
pub mod marker {
    /// Starts a chunk group.
    pub const CHUNK_GROUP_HEADER: u8 = 0;
    /// A chunk of several pages.
    pub const CHUNK_HEADER: u8 = 1;
    /// Ends the data area.
    pub const SEPARATOR: u8 = 2;
    /// Deprecated version marker (followed by an i64).
    pub const VERSION: u8 = 3;
    /// Plan-index range written by IoTDB servers (followed by two i64).
    pub const OPERATION_INDEX_RANGE: u8 = 4;
    /// A chunk of exactly one page.
    pub const ONLY_ONE_PAGE_CHUNK_HEADER: u8 = 5;
    /// Flag of an aligned time chunk.
    pub const TIME_COLUMN_MASK: u8 = 0x80;
    /// Flag of an aligned value chunk.
    pub const VALUE_COLUMN_MASK: u8 = 0x40;
}

/// TsFile format version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Version {
    /// Version byte 3: IoTDB 0.12–1.x, tsfile 1.x.
    V3,
    /// Version byte 4: IoTDB 2.x, tsfile 2.x (PyPI `tsfile`).
    #[default]
    V4,
}

impl Version {
    /// The version byte.
    pub fn byte(self) -> u8 {
        match self {
            Version::V3 => 3,
            Version::V4 => 4,
        }
    }

    /// The version for a byte.
    pub fn from_byte(b: u8) -> Option<Version> {
        match b {
            3 => Some(Version::V3),
            4 => Some(Version::V4),
            _ => None,
        }
    }
}

/// Reads a data type byte: `Some(type)`, or `None` for VECTOR (an aligned time column).
pub fn read_data_type(r: &mut ByteReader<'_>) -> DResult<Option<TSDataType>> {
    let at = r.pos();
    let b = r.u8()?;
    if b == VECTOR_TYPE_ID {
        return Ok(None);
    }
    TSDataType::from_id(b as i64)
        .map(Some)
        .ok_or_else(|| Corrupt::new(at, format!("unknown data type {b}")))
}

/// Writes a data type byte (`None` = VECTOR).
pub fn data_type_byte(t: Option<TSDataType>) -> u8 {
    t.map(|t| t.id()).unwrap_or(VECTOR_TYPE_ID)
}

/// A chunk header.
#[derive(Debug, Clone, PartialEq)]
pub struct ChunkHeader {
    /// The marker byte (`0x01`/`0x05`, possibly `| 0x80` or `| 0x40`).
    pub chunk_type: u8,
    /// Measurement name (`""` for an aligned time chunk).
    pub measurement: String,
    /// Bytes of all pages (headers included).
    pub data_size: u32,
    /// Data type (`None` = VECTOR, an aligned time chunk).
    pub data_type: Option<TSDataType>,
    /// Page compressor.
    pub compression: CompressionType,
    /// Value encoding (for a time chunk: the time encoding).
    pub encoding: TSEncoding,
    /// Serialized size of this header (marker included).
    pub header_size: u32,
}

impl ChunkHeader {
    /// True if the chunk has exactly one page (and its page header has no statistics).
    pub fn single_page(&self) -> bool {
        self.chunk_type & 0x3F == marker::ONLY_ONE_PAGE_CHUNK_HEADER
    }

    /// True for an aligned time chunk.
    pub fn is_time(&self) -> bool {
        self.chunk_type & marker::TIME_COLUMN_MASK != 0
    }

    /// True for an aligned value chunk.
    pub fn is_value(&self) -> bool {
        self.chunk_type & marker::VALUE_COLUMN_MASK != 0
    }

    /// Reads a header whose marker byte was already read as `chunk_type`.
    pub fn read_after_marker(r: &mut ByteReader<'_>, chunk_type: u8) -> DResult<ChunkHeader> {
        let start = r.pos();
        let measurement = r.var_str()?;
        let data_size = r.uvarint()?;
        let data_type = read_data_type(r)?;
        let at = r.pos();
        let c = r.u8()?;
        let compression = CompressionType::from_id(c as i64)
            .ok_or_else(|| Corrupt::new(at, format!("unknown compression type {c}")))?;
        let at = r.pos();
        let e = r.u8()?;
        let encoding = TSEncoding::from_id(e as i64)
            .ok_or_else(|| Corrupt::new(at, format!("unknown encoding {e}")))?;
        Ok(ChunkHeader {
            chunk_type,
            measurement,
            data_size,
            data_type,
            compression,
            encoding,
            header_size: (r.pos() - start + 1) as u32,
        })
    }

    /// Reads a header including its marker byte.
    pub fn read(r: &mut ByteReader<'_>) -> DResult<ChunkHeader> {
        let at = r.pos();
        let t = r.u8()?;
        if t & 0x3F != marker::CHUNK_HEADER && t & 0x3F != marker::ONLY_ONE_PAGE_CHUNK_HEADER {
            return Err(Corrupt::new(
                at,
                format!("expected a chunk header, found marker {t}"),
            ));
        }
        Self::read_after_marker(r, t)
    }

    /// Appends the serialized header (marker included); returns its size.
    pub fn write_to(&self, out: &mut Vec<u8>) -> usize {
        let start = out.len();
        out.put_u8(self.chunk_type);
        out.put_var_str(&self.measurement);
        out.put_uvarint(self.data_size);
        out.put_u8(data_type_byte(self.data_type));
        out.put_u8(self.compression.id());
        out.put_u8(self.encoding.id());
        out.len() - start
    }
}

/// A page header.
#[derive(Debug, Clone, PartialEq)]
pub struct PageHeader {
    /// Size of the page body after decompression (0 = an all-null aligned value page).
    pub uncompressed_size: u32,
    /// Size of the page body as stored.
    pub compressed_size: u32,
    /// Statistics, present in chunks of several pages.
    pub statistics: Option<Statistics>,
}

impl PageHeader {
    /// True for an all-null aligned value page.
    pub fn is_empty(&self) -> bool {
        self.uncompressed_size == 0
    }

    /// Reads a page header; `with_stats` for chunks of several pages.
    pub fn read(
        r: &mut ByteReader<'_>,
        data_type: Option<TSDataType>,
        with_stats: bool,
    ) -> DResult<PageHeader> {
        let uncompressed_size = r.uvarint()?;
        if uncompressed_size == 0 {
            return Ok(PageHeader {
                uncompressed_size: 0,
                compressed_size: 0,
                statistics: None,
            });
        }
        let compressed_size = r.uvarint()?;
        let statistics = if with_stats {
            Some(Statistics::read(r, data_type)?)
        } else {
            None
        };
        Ok(PageHeader {
            uncompressed_size,
            compressed_size,
            statistics,
        })
    }

    /// Appends the serialized header.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        out.put_uvarint(self.uncompressed_size);
        if self.uncompressed_size == 0 {
            return;
        }
        out.put_uvarint(self.compressed_size);
        if let Some(s) = &self.statistics {
            s.write_to(out);
        }
    }
}

/// Appends a chunk group header (marker + device id in the version's form).
pub fn write_chunk_group_header(out: &mut Vec<u8>, device: &DeviceId, version: Version) {
    out.put_u8(marker::CHUNK_GROUP_HEADER);
    match version {
        Version::V3 => device.write_v3(out),
        Version::V4 => device.write_v4(out),
    }
}

/// Reads a device id in the version's form.
pub fn read_device(r: &mut ByteReader<'_>, version: Version) -> DResult<DeviceId> {
    match version {
        Version::V3 => DeviceId::read_v3(r),
        Version::V4 => DeviceId::read_v4(r),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_header_round_trip() {
        let h = ChunkHeader {
            chunk_type: marker::ONLY_ONE_PAGE_CHUNK_HEADER,
            measurement: "s1".into(),
            data_size: 51,
            data_type: Some(TSDataType::Int64),
            compression: CompressionType::Uncompressed,
            encoding: TSEncoding::Plain,
            header_size: 8,
        };
        let mut b = Vec::new();
        assert_eq!(h.write_to(&mut b), 8);
        // Bytes PyPI tsfile wrote for the same chunk.
        assert_eq!(b, vec![0x05, 0x04, b's', b'1', 0x33, 0x02, 0x00, 0x00]);
        assert_eq!(ChunkHeader::read(&mut ByteReader::new(&b)).unwrap(), h);
    }
}
