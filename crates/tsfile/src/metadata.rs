//! The metadata area: time-series metadata with their chunk metadata, the metadata index tree
//! and the file metadata.
//!
//! TimeseriesMetadata: `u8 type` (bit 0 set = several chunks; `0x80` aligned time column,
//! `0x40` aligned value column), var string measurement, `u8 dataType`, `uvarint byteSize` of
//! the chunk metadata list, statistics, then per chunk `i64 offsetOfChunkHeader` followed by the
//! chunk's statistics only when the series has several chunks (else the series statistics are
//! the chunk's).
//!
//! MetadataIndexNode: `uvarint childCount`, children (key + `i64 offset`), `i64 endOffset`,
//! `u8 nodeType` (0 INTERNAL_DEVICE, 1 LEAF_DEVICE, 2 INTERNAL_MEASUREMENT, 3 LEAF_MEASUREMENT).
//! Device-level keys are device ids (V3: var string path; V4: segments), measurement-level keys
//! var strings. A child's bytes run from its offset to the next child's offset (the node's
//! `endOffset` for the last child).
//!
//! TsFileMetadata V3: root node, `i64 metaOffset`, bloom filter (always three fields).
//! TsFileMetadata V4: `uvarint tableCount` + (var string table name, root node)*,
//! `uvarint schemaCount` + (var string table name, table schema)*, `i64 metaOffset`, bloom
//! filter (V4 rule), `varint propertyCount` + (var string key, var string value)*.

use crate::bloom::BloomFilter;
use crate::buf::{ByteReader, Corrupt, DResult, PutBytes};
use crate::device::DeviceId;
use crate::format::{data_type_byte, read_data_type, Version};
use crate::statistics::Statistics;
use model::TSDataType;

/// Metadata of one chunk: where its header is and its statistics.
#[derive(Debug, Clone, PartialEq)]
pub struct ChunkMetadata {
    /// File offset of the chunk header (its marker byte).
    pub offset: u64,
    /// Statistics of the chunk.
    pub statistics: Statistics,
}

/// Type byte flags of a [`TimeseriesMetadata`].
pub mod ts_type {
    /// Several chunks (chunk metadata carry their own statistics).
    pub const MULTI_CHUNK: u8 = 0x01;
    /// Aligned time column.
    pub const TIME: u8 = 0x80;
    /// Aligned value column.
    pub const VALUE: u8 = 0x40;
}

/// Metadata of one series in a file.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeseriesMetadata {
    /// The raw type byte (see [`ts_type`]).
    pub type_byte: u8,
    /// Measurement name (`""` for an aligned time column).
    pub measurement: String,
    /// Data type (`None` = VECTOR, the aligned time column).
    pub data_type: Option<TSDataType>,
    /// Statistics over all chunks.
    pub statistics: Statistics,
    /// The chunks, in file order.
    pub chunks: Vec<ChunkMetadata>,
}

impl TimeseriesMetadata {
    /// True for the time column of an aligned device.
    pub fn is_aligned_time(&self) -> bool {
        self.type_byte & ts_type::TIME != 0 || self.data_type.is_none()
    }

    /// True for a value column of an aligned device.
    pub fn is_aligned_value(&self) -> bool {
        self.type_byte & ts_type::VALUE != 0
    }

    /// Reads one entry.
    pub fn read(r: &mut ByteReader<'_>) -> DResult<TimeseriesMetadata> {
        let type_byte = r.u8()?;
        let measurement = r.var_str()?;
        let data_type = read_data_type(r)?;
        let list_size = r.uvarint_len()?;
        let statistics = Statistics::read(r, data_type)?;
        let list_at = r.pos();
        let list = r.take(list_size)?;
        let mut lr = ByteReader::new(list);
        let mut chunks = Vec::new();
        let multi = type_byte & 0x3F != 0;
        while !lr.is_empty() {
            let at = list_at + lr.pos();
            let offset = lr
                .i64()
                .map_err(|e| Corrupt::new(list_at + e.pos, e.what))?;
            if offset < 0 {
                return Err(Corrupt::new(at, format!("negative chunk offset {offset}")));
            }
            let stats = if multi {
                Statistics::read(&mut lr, data_type)
                    .map_err(|e| Corrupt::new(list_at + e.pos, e.what))?
            } else {
                statistics.clone()
            };
            chunks.push(ChunkMetadata {
                offset: offset as u64,
                statistics: stats,
            });
        }
        if chunks.is_empty() {
            return Err(Corrupt::new(list_at, "series metadata without chunks"));
        }
        Ok(TimeseriesMetadata {
            type_byte,
            measurement,
            data_type,
            statistics,
            chunks,
        })
    }

    /// Appends the serialized entry.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        let multi = self.type_byte & 0x3F != 0;
        let mut list = Vec::new();
        for c in &self.chunks {
            list.put_i64(c.offset as i64);
            if multi {
                c.statistics.write_to(&mut list);
            }
        }
        out.put_u8(self.type_byte);
        out.put_var_str(&self.measurement);
        out.put_u8(data_type_byte(self.data_type));
        out.put_uvarint(list.len() as u32);
        self.statistics.write_to(out);
        out.extend_from_slice(&list);
    }
}

/// Kind of a metadata index node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeType {
    /// Children are device-level nodes.
    InternalDevice,
    /// Children are the devices' measurement root nodes.
    LeafDevice,
    /// Children are measurement-level nodes.
    InternalMeasurement,
    /// Children are runs of TimeseriesMetadata.
    LeafMeasurement,
}

impl NodeType {
    /// The type byte.
    pub fn byte(self) -> u8 {
        match self {
            NodeType::InternalDevice => 0,
            NodeType::LeafDevice => 1,
            NodeType::InternalMeasurement => 2,
            NodeType::LeafMeasurement => 3,
        }
    }

    /// True for the two device-level kinds.
    pub fn is_device_level(self) -> bool {
        matches!(self, NodeType::InternalDevice | NodeType::LeafDevice)
    }
}

/// Key of a child entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexKey {
    /// A device (device-level nodes).
    Device(DeviceId),
    /// A measurement name (measurement-level nodes).
    Measurement(String),
}

/// A node of the metadata index tree.
#[derive(Debug, Clone, PartialEq)]
pub struct MetadataIndexNode {
    /// Children: key and file offset.
    pub children: Vec<(IndexKey, u64)>,
    /// End offset of the last child's bytes.
    pub end_offset: u64,
    /// Kind.
    pub node_type: NodeType,
}

impl MetadataIndexNode {
    /// An empty node.
    pub fn new(node_type: NodeType) -> Self {
        MetadataIndexNode {
            children: Vec::new(),
            end_offset: 0,
            node_type,
        }
    }

    /// Reads a node; `device_level` tells how to read the keys (the type byte comes last).
    pub fn read(
        r: &mut ByteReader<'_>,
        device_level: bool,
        version: Version,
    ) -> DResult<MetadataIndexNode> {
        let at = r.pos();
        let n = r.uvarint_len()?;
        if n > r.remaining() {
            return Err(Corrupt::new(at, format!("index node with {n} children")));
        }
        let mut children = Vec::with_capacity(n);
        for _ in 0..n {
            let key = if device_level {
                IndexKey::Device(crate::format::read_device(r, version)?)
            } else {
                IndexKey::Measurement(r.var_str()?)
            };
            let off_at = r.pos();
            let offset = r.i64()?;
            if offset < 0 {
                return Err(Corrupt::new(
                    off_at,
                    format!("negative index offset {offset}"),
                ));
            }
            children.push((key, offset as u64));
        }
        let end_at = r.pos();
        let end = r.i64()?;
        if end < 0 {
            return Err(Corrupt::new(
                end_at,
                format!("negative index end offset {end}"),
            ));
        }
        let t_at = r.pos();
        let node_type = match r.u8()? {
            0 => NodeType::InternalDevice,
            1 => NodeType::LeafDevice,
            2 => NodeType::InternalMeasurement,
            3 => NodeType::LeafMeasurement,
            b => return Err(Corrupt::new(t_at, format!("unknown index node type {b}"))),
        };
        if node_type.is_device_level() != device_level {
            return Err(Corrupt::new(
                t_at,
                "index node kind does not match its level",
            ));
        }
        Ok(MetadataIndexNode {
            children,
            end_offset: end as u64,
            node_type,
        })
    }

    /// Appends the serialized node.
    pub fn write_to(&self, out: &mut Vec<u8>, version: Version) {
        out.put_uvarint(self.children.len() as u32);
        for (k, off) in &self.children {
            match k {
                IndexKey::Device(d) => match version {
                    Version::V3 => d.write_v3(out),
                    Version::V4 => d.write_v4(out),
                },
                IndexKey::Measurement(m) => out.put_var_str(m),
            }
            out.put_i64(*off as i64);
        }
        out.put_i64(self.end_offset as i64);
        out.put_u8(self.node_type.byte());
    }

    /// The byte range `[start, end)` of child `i`.
    pub fn child_range(&self, i: usize) -> (u64, u64) {
        let start = self.children[i].1;
        let end = self
            .children
            .get(i + 1)
            .map(|c| c.1)
            .unwrap_or(self.end_offset);
        (start, end)
    }
}

/// One column of a V4 table schema (kept for inspection; tree-model files have none).
#[derive(Debug, Clone, PartialEq)]
pub struct TableColumn {
    /// Column name.
    pub name: String,
    /// Data type id.
    pub data_type: u8,
    /// Encoding id.
    pub encoding: u8,
    /// Compression id.
    pub compression: u8,
    /// Column category (0 TAG, 1 FIELD, 2 ATTRIBUTE, 3 TIME).
    pub category: i32,
}

/// The file metadata at the end of a TsFile.
#[derive(Debug, Clone, PartialEq)]
pub struct TsFileMetadata {
    /// Index roots by table name (V3: one root under `""`).
    pub roots: Vec<(String, MetadataIndexNode)>,
    /// V4 table schemas (empty for tree-model files).
    pub table_schemas: Vec<(String, Vec<TableColumn>)>,
    /// Offset of the separator that ends the data area.
    pub meta_offset: u64,
    /// The bloom filter of full paths, if any.
    pub bloom: Option<BloomFilter>,
    /// V4 properties (`encryptLevel`, `encryptType`, `encryptKey`, …).
    pub properties: Vec<(String, Option<String>)>,
}

impl TsFileMetadata {
    /// Reads the file metadata of a file of `version`.
    pub fn read(r: &mut ByteReader<'_>, version: Version) -> DResult<TsFileMetadata> {
        match version {
            Version::V3 => {
                let root = MetadataIndexNode::read(r, true, version)?;
                let meta_offset = read_offset(r)?;
                let bloom = if r.is_empty() {
                    None
                } else {
                    BloomFilter::read(r, false)?
                };
                Ok(TsFileMetadata {
                    roots: vec![(String::new(), root)],
                    table_schemas: Vec::new(),
                    meta_offset,
                    bloom,
                    properties: Vec::new(),
                })
            }
            Version::V4 => {
                let at = r.pos();
                let n = r.uvarint_len()?;
                if n > r.remaining() {
                    return Err(Corrupt::new(at, format!("{n} index roots")));
                }
                let mut roots = Vec::with_capacity(n);
                for _ in 0..n {
                    let name = r.var_str()?;
                    roots.push((name, MetadataIndexNode::read(r, true, version)?));
                }
                let at = r.pos();
                let n = r.uvarint_len()?;
                if n > r.remaining() {
                    return Err(Corrupt::new(at, format!("{n} table schemas")));
                }
                let mut table_schemas = Vec::with_capacity(n);
                for _ in 0..n {
                    let name = r.var_str()?;
                    table_schemas.push((name, read_table_schema(r)?));
                }
                let meta_offset = read_offset(r)?;
                let bloom = if r.is_empty() {
                    None
                } else {
                    BloomFilter::read(r, true)?
                };
                let mut properties = Vec::new();
                if !r.is_empty() {
                    let at = r.pos();
                    let n = r.varint()?;
                    if n < 0 || n as usize > r.remaining() {
                        return Err(Corrupt::new(at, format!("{n} file properties")));
                    }
                    for _ in 0..n {
                        let k = r.var_str()?;
                        let v = r.var_str_opt()?;
                        properties.push((k, v));
                    }
                }
                Ok(TsFileMetadata {
                    roots,
                    table_schemas,
                    meta_offset,
                    bloom,
                    properties,
                })
            }
        }
    }

    /// Appends the serialized metadata for `version`.
    pub fn write_to(&self, out: &mut Vec<u8>, version: Version) {
        match version {
            Version::V3 => {
                match self.roots.first() {
                    Some((_, root)) => root.write_to(out, version),
                    None => MetadataIndexNode::new(NodeType::LeafDevice).write_to(out, version),
                }
                out.put_i64(self.meta_offset as i64);
                match &self.bloom {
                    Some(b) => b.write_v3(out),
                    None => BloomFilter::with_capacity(0, 0.05).write_v3(out),
                }
            }
            Version::V4 => {
                out.put_uvarint(self.roots.len() as u32);
                for (name, root) in &self.roots {
                    out.put_var_str(name);
                    root.write_to(out, version);
                }
                out.put_uvarint(self.table_schemas.len() as u32);
                for (name, cols) in &self.table_schemas {
                    out.put_var_str(name);
                    out.put_uvarint(cols.len() as u32);
                    for c in cols {
                        out.put_int_bytes(c.name.as_bytes());
                        out.put_u8(c.data_type);
                        out.put_u8(c.encoding);
                        out.put_u8(c.compression);
                        out.put_i32(0);
                        out.put_i32(c.category);
                    }
                }
                out.put_i64(self.meta_offset as i64);
                match &self.bloom {
                    Some(b) => b.write_v4(out),
                    None => out.put_uvarint(0),
                }
                out.put_varint(self.properties.len() as i32);
                for (k, v) in &self.properties {
                    out.put_var_str(k);
                    match v {
                        Some(v) => out.put_var_str(v),
                        None => out.put_var_null(),
                    }
                }
            }
        }
    }

    /// The value of a V4 property.
    pub fn property(&self, key: &str) -> Option<&str> {
        self.properties
            .iter()
            .find(|(k, _)| k == key)
            .and_then(|(_, v)| v.as_deref())
    }
}

fn read_offset(r: &mut ByteReader<'_>) -> DResult<u64> {
    let at = r.pos();
    let v = r.i64()?;
    if v < 0 {
        return Err(Corrupt::new(at, format!("negative offset {v}")));
    }
    Ok(v as u64)
}

fn read_table_schema(r: &mut ByteReader<'_>) -> DResult<Vec<TableColumn>> {
    let at = r.pos();
    let n = r.uvarint_len()?;
    if n > r.remaining() {
        return Err(Corrupt::new(at, format!("table schema with {n} columns")));
    }
    let mut cols = Vec::with_capacity(n);
    for _ in 0..n {
        let name = r.int_str_opt()?.unwrap_or_default();
        let data_type = r.u8()?;
        let encoding = r.u8()?;
        let compression = r.u8()?;
        let at = r.pos();
        let props = r.i32()?;
        if props < 0 || props as usize > r.remaining() {
            return Err(Corrupt::new(at, format!("{props} column properties")));
        }
        for _ in 0..props {
            r.int_str_opt()?;
            r.int_str_opt()?;
        }
        let category = r.i32()?;
        cols.push(TableColumn {
            name,
            data_type,
            encoding,
            compression,
            category,
        });
    }
    Ok(cols)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeseries_metadata_round_trip() {
        let mut s = Statistics::empty(Some(TSDataType::Int64));
        s.update_i64(100, 0);
        s.update_i64(102, 20);
        let m = TimeseriesMetadata {
            type_byte: 0,
            measurement: "s1".into(),
            data_type: Some(TSDataType::Int64),
            statistics: s.clone(),
            chunks: vec![ChunkMetadata {
                offset: 21,
                statistics: s,
            }],
        };
        let mut b = Vec::new();
        m.write_to(&mut b);
        assert_eq!(
            TimeseriesMetadata::read(&mut ByteReader::new(&b)).unwrap(),
            m
        );
    }
}
