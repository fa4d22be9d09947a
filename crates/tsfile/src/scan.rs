//! Sequential scan of a TsFile's data area, chunk group by chunk group, without its metadata
//! index: salvages the chunks of a file whose tail or index is damaged (as IoTDB's recovery
//! of unsealed files does).

use crate::buf::ByteReader;
use crate::device::DeviceId;
use crate::format::{marker, ChunkHeader, Version, HEAD_SIZE, MAGIC};
use crate::reader::{make_chunk, Chunk, ChunkCheck, ReadAt, ReadOptions};
use model::{Error, Result};

/// What a scan found.
#[derive(Debug, Default)]
pub struct ScannedFile {
    /// Chunk groups in file order: the device and its chunks (an aligned group's time chunk
    /// first).
    pub groups: Vec<(DeviceId, Vec<Chunk>)>,
    /// Chunks left out: failing the check, or unparsable where the scan stopped.
    pub damaged: usize,
    /// Offset where the scan stopped (the separator before the index, or damage).
    pub end: u64,
}

fn read(src: &impl ReadAt, size: u64, at: u64, len: u64) -> Result<Vec<u8>> {
    let len = len.min(size.saturating_sub(at));
    let mut buf = vec![0u8; len as usize];
    src.read_exact_at(&mut buf, at)
        .map_err(|e| Error::StorageEngine(format!("cannot read at offset {at}: {e}")))?;
    Ok(buf)
}

/// Reads the chunk groups of the file in `src` from its head up to the separator that
/// starts the index (or to the first bytes that parse as nothing). With `check` (chunk
/// checksums), a chunk failing it is counted as damaged and skipped by its known length, so
/// the scan goes on after it; without, the scan stops at the first unparsable chunk.
pub fn scan_chunk_groups<R: ReadAt>(
    src: &R,
    opts: &ReadOptions,
    check: Option<&dyn ChunkCheck>,
) -> Result<ScannedFile> {
    let size = src.size()?;
    let head = read(src, size, 0, HEAD_SIZE)?;
    if head.len() < HEAD_SIZE as usize || &head[..6] != MAGIC {
        return Err(Error::StorageEngine("not a TsFile (no head magic)".into()));
    }
    let version = Version::from_byte(head[6])
        .ok_or_else(|| Error::StorageEngine(format!("unsupported TsFile version {}", head[6])))?;
    let mut out = ScannedFile::default();
    let mut pos = HEAD_SIZE;
    while pos < size {
        let window = read(src, size, pos, 4096)?;
        let m = window[0];
        match m & 0x3F {
            marker::CHUNK_GROUP_HEADER if m == marker::CHUNK_GROUP_HEADER => {
                let mut r = ByteReader::new(&window[1..]);
                let dev = match version {
                    Version::V4 => DeviceId::read_v4(&mut r),
                    Version::V3 => DeviceId::read_v3(&mut r),
                };
                let Ok(dev) = dev else { break };
                pos += 1 + r.pos() as u64;
                out.groups.push((dev, Vec::new()));
            }
            marker::CHUNK_HEADER | marker::ONLY_ONE_PAGE_CHUNK_HEADER => {
                let known = check.and_then(|c| c.extent(pos).ok());
                let parsed = ChunkHeader::read(&mut ByteReader::new(&window));
                let len = match (&parsed, known) {
                    (_, Some(len)) => len,
                    (Ok(h), None) => h.header_size as u64 + h.data_size as u64,
                    (Err(_), None) => {
                        out.damaged += 1;
                        break;
                    }
                };
                if pos + len > size {
                    out.damaged += 1;
                    break;
                }
                let mut bytes = read(src, size, pos, len)?;
                // the header must describe exactly the stored length (a check's length
                // shorter than the header, say, is damage: found by fuzzing, chunk_scan)
                let good = match (check, &parsed) {
                    (_, Ok(h)) if h.header_size as u64 + h.data_size as u64 != len => false,
                    (Some(c), Ok(_)) if known.is_some() => c.check(pos, &[&bytes]).is_ok(),
                    (_, Ok(_)) => true,
                    (_, Err(_)) => false,
                };
                match (good, parsed, out.groups.last_mut()) {
                    (true, Ok(h), Some((_, chunks))) => {
                        bytes.drain(..h.header_size as usize);
                        chunks.push(make_chunk(version, opts, pos, h, bytes));
                    }
                    _ => out.damaged += 1,
                }
                pos += len;
            }
            marker::OPERATION_INDEX_RANGE if m == marker::OPERATION_INDEX_RANGE => pos += 17,
            marker::VERSION if m == marker::VERSION => pos += 9,
            _ => break, // the separator, or damage
        }
    }
    out.end = pos;
    Ok(out)
}
