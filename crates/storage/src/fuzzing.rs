//! Byte-level entry points for the fuzz targets in `fuzz/` (and for regression tests of
//! what they found): each runs the same parsing code as recovery does on a file, from
//! bytes in memory, and drives the result far enough that a bad decode would show.
//!
//! Not a stable API: hidden from the docs and meant for the fuzzers only.

use crate::api::TimeRange;
use crate::checksums::ChunkChecksums;
use crate::codec;
use crate::memtable::MemTable;
use crate::mods;
use crate::salvage;
use crate::schema::Schema;
use crate::schema_log;
use crate::schema_ops::SchemaOp;
use crate::wal::{self, WalEntry};
use model::PathPattern;
use std::path::Path;
use tsfile::reader::ChunkCheck;

/// Strips `magic` when `bytes` starts with it (seeds are whole files, mutations may not be).
fn body<'a>(bytes: &'a [u8], magic: &[u8]) -> &'a [u8] {
    bytes.strip_prefix(magic).unwrap_or(bytes)
}

/// WAL replay: `bytes` as a segment (framed, checksummed records) replayed into a fresh
/// memtable, and `bytes` as one record payload (past the checksum, so that mutations
/// reach the decoder); then every series buffer is sorted and read back.
pub fn wal_replay(bytes: &[u8]) {
    let what = Path::new("fuzz.wal");
    let mut mem = MemTable::default();
    let scan = codec::scan_bytes(body(bytes, wal::MAGIC), 0);
    wal::replay_records(&scan.records, &mut mem, what);
    if let Ok(entry) = WalEntry::decode(bytes) {
        entry.apply(&mut mem);
    }
    let _ = mem.for_each_series(|_, _, buf| {
        buf.ensure_sorted();
        let data = buf.read(TimeRange::ALL);
        assert_eq!(data.times.len(), data.values.len());
        let _ = buf.last();
        Ok(())
    });
}

/// The mods readers: our own text mods, IoTDB 1.x text mods and IoTDB 2.x binary mods.
pub fn mods(bytes: &[u8]) {
    let what = Path::new("fuzz.mods");
    for d in mods::parse_own_mods(what, bytes) {
        let _ = d.range.contains(0);
    }
    if let Ok(dels) = mods::parse_text_mods(what, bytes) {
        for d in dels {
            let _ = d.pattern.to_string();
            let _ = d.applies_to_chunk(0);
        }
    }
    if let Ok(dels) = mods::parse_binary_mods(what, bytes) {
        for d in dels {
            let _ = d.pattern.to_string();
        }
    }
}

/// Schema recovery: `bytes` as a schema log (or snapshot) replayed into an empty schema,
/// and `bytes` as one record payload; then the schema is listed and snapshotted.
pub fn schema_log(bytes: &[u8]) {
    let what = Path::new("fuzz.schema");
    let mut schema = Schema::default();
    let rest = body(body(bytes, schema_log::LOG_MAGIC), schema_log::SNAP_MAGIC);
    let scan = codec::scan_bytes(rest, 0);
    schema_log::apply_all(&mut schema, &scan.records, what);
    if let Ok(op) = SchemaOp::decode(bytes) {
        let _ = schema.apply(&op);
    }
    if let Ok(all) = PathPattern::parse("root.**") {
        let _ = schema.series(&all);
        let _ = schema.devices(&all);
        let _ = schema.databases(&all);
    }
    let mut payload = Vec::new();
    for op in schema.snapshot_ops() {
        payload.clear();
        op.encode(&mut payload);
        SchemaOp::decode(&payload).expect("a snapshot op decodes");
    }
}

/// The chunk checksum sidecar reader: `bytes` as a sidecar as stored, and again with its
/// trailing CRC made to match (so that mutations reach the header and entries); each
/// accepted sidecar is then asked about its chunks, as reads and salvage do.
pub fn checksums(bytes: &[u8]) {
    let tsfile = Path::new("fuzz.tsfile");
    // the file size the sidecar claims, so that mutations get past that check too
    let size = bytes
        .get(8..16)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_be_bytes)
        .unwrap_or(0);
    let mut fixed = bytes.to_vec();
    if let Some(n) = fixed.len().checked_sub(4) {
        let crc = crc32fast::hash(&fixed[..n]);
        fixed[n..].copy_from_slice(&crc.to_be_bytes());
    }
    for b in [bytes, &fixed] {
        let Ok(sums) = ChunkChecksums::parse(tsfile, b, size) else {
            continue;
        };
        for o in sums.offsets().take(64) {
            if let Ok(len) = sums.extent(o) {
                let part = vec![0u8; len.min(64) as usize];
                let _ = sums.check(o, &[&part]);
            }
            let _ = sums.extent(o.wrapping_add(1));
        }
    }
}

/// A check that passes the chunks at even offsets and fails the others, claiming a length
/// derived from the offset: drives the scan's skip-by-length path with arbitrary lengths.
struct EveryOtherChunk;

impl ChunkCheck for EveryOtherChunk {
    fn extent(&self, offset: u64) -> model::Result<u64> {
        Ok(offset % 251 + 1)
    }

    fn check(&self, offset: u64, _parts: &[&[u8]]) -> model::Result<()> {
        if offset.is_multiple_of(2) {
            Ok(())
        } else {
            Err(model::Error::CorruptedFile(format!(
                "fuzz: chunk at {offset}"
            )))
        }
    }
}

/// Salvage of a damaged TsFile: `bytes` as a whole file, scanned chunk group by chunk group
/// from its head and every chunk found decoded (as recovery does), without checksums and
/// with a check that fails every other chunk; the salvaged series are then merged.
pub fn chunk_scan(bytes: &[u8]) {
    let file = bytes.to_vec();
    for check in [None, Some(&EveryOtherChunk as &dyn ChunkCheck)] {
        let Ok(salvaged) = salvage::collect(&file, check) else {
            continue;
        };
        for (_, series, _) in salvaged.into_devices() {
            for s in series {
                assert_eq!(s.data.times.len(), s.data.values.len());
            }
        }
    }
}
