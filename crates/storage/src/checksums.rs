//! Chunk checksums kept beside a TsFile (`<name>.tsfile.checksums`), so that a damaged
//! chunk is reported instead of decoded into wrong values. TsFile pages carry no checksum
//! of their own, and the TsFile itself stays untouched for other readers.
//!
//! Format (version 1, integers big-endian; `docs/tsfile-engine.md` describes it too):
//!
//! ```text
//! magic      6 bytes  "IRSCHK"
//! version    u8       1
//! algorithm  u8       1 = CRC-32 (IEEE 802.3 polynomial, as zlib)
//! file size  u64      size of the TsFile the entries describe
//! count      u32      number of entries
//! entries    count × (offset u64, length u64, crc u32), sorted by offset: one per chunk,
//!            offset of its header, length of header and page data, CRC of those bytes
//! crc        u32      CRC-32 of every byte before it
//! ```
//!
//! The sidecar is written right after the TsFile's bytes (from the file as written, before
//! its fsync) and made durable before the TsFile is renamed into place; a sidecar without
//! its TsFile is removed at start-up. A file without a sidecar (loaded from elsewhere,
//! written by an older build) is read unchecked, and so is one whose sidecar is damaged or
//! describes another file size (with a warning).

use crate::codec::sync_dir;
use model::{Error, Result};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tsfile::reader::{ChunkCheck, ReadAt, TsFileReader};

/// Suffix appended to a TsFile's name for its checksums.
pub(crate) const SUFFIX: &str = ".checksums";
const MAGIC: &[u8; 6] = b"IRSCHK";
const VERSION: u8 = 1;
const ALGORITHM_CRC32: u8 = 1;
const HEAD: usize = 6 + 1 + 1 + 8 + 4;
const ENTRY: usize = 8 + 8 + 4;
/// Largest sidecar read (16 M chunks).
const MAX_SIZE: u64 = 16 * (1 << 20) * ENTRY as u64 + HEAD as u64 + 4;

/// The sidecar path of a TsFile.
pub(crate) fn sidecar_path(tsfile: &Path) -> PathBuf {
    let mut p = tsfile.as_os_str().to_owned();
    p.push(SUFFIX);
    PathBuf::from(p)
}

/// One chunk: header offset, stored length, CRC-32 of the stored bytes.
type Entry = (u64, u64, u32);

/// The checksums of one TsFile's chunks, checked as each chunk is read.
#[derive(Debug)]
pub(crate) struct ChunkChecksums {
    file: PathBuf,
    entries: Vec<Entry>,
}

impl ChunkChecksums {
    /// Computes the checksums of every chunk the file's index names, reading the chunks
    /// back from `src` (the file as just written).
    fn compute<R: ReadAt>(reader: &TsFileReader<R>, src: &R) -> Result<Vec<Entry>> {
        let mut offsets: Vec<u64> = reader
            .all_series()?
            .iter()
            .flat_map(|(_, series)| series.iter())
            .flat_map(|s| s.chunks.iter().map(|c| c.offset))
            .collect();
        offsets.sort_unstable();
        offsets.dedup();
        let mut entries = Vec::with_capacity(offsets.len());
        let mut buf = Vec::new();
        for offset in offsets {
            let header = reader.read_chunk_at(offset)?.header;
            let len = header.header_size as u64 + header.data_size as u64;
            buf.resize(len as usize, 0);
            src.read_exact_at(&mut buf, offset)?;
            entries.push((offset, len, crc32fast::hash(&buf)));
        }
        Ok(entries)
    }

    /// Writes the sidecar of `tsfile` (being written at `written`, not yet renamed), fsynced.
    pub(crate) fn write_for(written: &Path, tsfile: &Path) -> Result<()> {
        let src = fs::File::open(written)?;
        let reader = TsFileReader::new(&src, Default::default())?;
        let entries = Self::compute(&reader, &&src)?;
        let mut out = Vec::with_capacity(HEAD + entries.len() * ENTRY + 4);
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        out.push(ALGORITHM_CRC32);
        out.extend_from_slice(&reader.file_size().to_be_bytes());
        out.extend_from_slice(&(entries.len() as u32).to_be_bytes());
        for (o, l, c) in &entries {
            out.extend_from_slice(&o.to_be_bytes());
            out.extend_from_slice(&l.to_be_bytes());
            out.extend_from_slice(&c.to_be_bytes());
        }
        let crc = crc32fast::hash(&out);
        out.extend_from_slice(&crc.to_be_bytes());
        let path = sidecar_path(tsfile);
        let mut f = fs::File::create(&path)?;
        f.write_all(&out)?;
        f.sync_all()?;
        Ok(())
    }

    /// Reads the sidecar of `tsfile` (of `size` bytes): `None` when there is none, or (with
    /// a warning) when it is damaged or belongs to another version of the file.
    pub(crate) fn load(tsfile: &Path, size: u64) -> Option<Arc<ChunkChecksums>> {
        let path = sidecar_path(tsfile);
        let bytes = match fs::metadata(&path) {
            Ok(m) if m.len() > MAX_SIZE => Err(format!("{} bytes is too large", m.len())),
            Ok(_) => fs::read(&path).map_err(|e| e.to_string()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(e) => Err(e.to_string()),
        };
        match bytes.and_then(|b| Self::parse(tsfile, &b, size)) {
            Ok(sums) => Some(Arc::new(sums)),
            Err(why) => {
                tracing::warn!(
                    "ignoring chunk checksums {} ({why}); {} is read unchecked",
                    path.display(),
                    tsfile.display()
                );
                None
            }
        }
    }

    fn corrupted(&self, offset: u64, what: &str) -> Error {
        let msg = format!(
            "TsFile {} is corrupted: chunk at offset {offset} {what}",
            self.file.display()
        );
        tracing::error!("{msg}");
        Error::CorruptedFile(msg)
    }

    /// The checksums of `tsfile` (of `size` bytes) from the sidecar's bytes `b`, or why
    /// they cannot be used.
    pub(crate) fn parse(tsfile: &Path, b: &[u8], size: u64) -> std::result::Result<Self, String> {
        Ok(ChunkChecksums {
            file: tsfile.to_path_buf(),
            entries: parse(b, size)?,
        })
    }

    /// Header offsets of the chunks described.
    pub(crate) fn offsets(&self) -> impl Iterator<Item = u64> + '_ {
        self.entries.iter().map(|e| e.0)
    }
}

fn parse(b: &[u8], size: u64) -> std::result::Result<Vec<Entry>, String> {
    if b.len() < HEAD + 4 || &b[..6] != MAGIC {
        return Err("not a checksum file".into());
    }
    let (body, tail) = b.split_at(b.len() - 4);
    if crc32fast::hash(body).to_be_bytes() != tail {
        return Err("its own checksum does not match".into());
    }
    if b[6] != VERSION || b[7] != ALGORITHM_CRC32 {
        return Err(format!("unknown version {} / algorithm {}", b[6], b[7]));
    }
    let u64_at = |i: usize| u64::from_be_bytes(body[i..i + 8].try_into().unwrap_or_default());
    let u32_at = |i: usize| u32::from_be_bytes(body[i..i + 4].try_into().unwrap_or_default());
    if u64_at(8) != size {
        return Err(format!(
            "it describes a file of {} bytes, the file has {size}",
            u64_at(8)
        ));
    }
    let count = u32_at(16) as usize;
    if body.len() != HEAD + count * ENTRY {
        return Err(format!("{count} entries do not fill {} bytes", body.len()));
    }
    let entries: Vec<Entry> = (0..count)
        .map(|k| {
            let i = HEAD + k * ENTRY;
            (u64_at(i), u64_at(i + 8), u32_at(i + 16))
        })
        .collect();
    if entries.windows(2).any(|w| w[0].0 >= w[1].0) {
        return Err("entries out of order".into());
    }
    Ok(entries)
}

impl ChunkCheck for ChunkChecksums {
    fn extent(&self, offset: u64) -> Result<u64> {
        match self.entries.binary_search_by_key(&offset, |e| e.0) {
            Ok(i) => Ok(self.entries[i].1),
            Err(_) => Err(self.corrupted(offset, "is not a chunk this file was written with")),
        }
    }

    fn check(&self, offset: u64, parts: &[&[u8]]) -> Result<()> {
        let Ok(i) = self.entries.binary_search_by_key(&offset, |e| e.0) else {
            return Err(self.corrupted(offset, "is not a chunk this file was written with"));
        };
        let (_, len, crc) = self.entries[i];
        let mut hasher = crc32fast::Hasher::new();
        for p in parts {
            hasher.update(p);
        }
        let stored: usize = parts.iter().map(|p| p.len()).sum();
        if stored as u64 != len || hasher.finalize() != crc {
            return Err(self.corrupted(
                offset,
                &format!("({len} bytes) does not match its checksum"),
            ));
        }
        Ok(())
    }
}

/// Removes sidecars whose TsFile is gone (a crash between writing the sidecar and renaming
/// the file into place, or a rolled-back compaction) in one partition directory.
pub(crate) fn remove_orphans(dir: &Path) {
    let Ok(rd) = fs::read_dir(dir) else { return };
    let mut removed = false;
    for ent in rd.flatten() {
        let name = ent.file_name().to_string_lossy().to_string();
        if let Some(tsfile) = name.strip_suffix(SUFFIX) {
            if !dir.join(tsfile).exists() {
                tracing::warn!(
                    "removing checksums of a missing file: {}",
                    ent.path().display()
                );
                let _ = fs::remove_file(ent.path());
                removed = true;
            }
        }
    }
    if removed {
        sync_dir(dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_rejects_damage() {
        let mut out = Vec::new();
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&[VERSION, ALGORITHM_CRC32]);
        out.extend_from_slice(&100u64.to_be_bytes());
        out.extend_from_slice(&1u32.to_be_bytes());
        out.extend_from_slice(&12u64.to_be_bytes());
        out.extend_from_slice(&30u64.to_be_bytes());
        out.extend_from_slice(&7u32.to_be_bytes());
        let crc = crc32fast::hash(&out);
        out.extend_from_slice(&crc.to_be_bytes());
        assert_eq!(parse(&out, 100).unwrap(), vec![(12, 30, 7)]);
        assert!(parse(&out, 101).unwrap_err().contains("100 bytes"));
        for i in 0..out.len() {
            let mut bad = out.clone();
            bad[i] ^= 0x10;
            assert!(parse(&bad, 100).is_err(), "flip at {i} accepted");
        }
        assert!(parse(&out[..10], 100).is_err());
    }
}
