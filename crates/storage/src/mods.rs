//! Deletion records kept next to a TsFile (`<file>.tsfile.mods`), as IoTDB's `.mods` files,
//! and the reading of the deletions beside a TsFile being loaded (IoTDB 1.x `.mods` text and
//! IoTDB 2.x `.mods2` binary).
//!
//! One text line per deletion, in IoTDB's `DELETION,<series path>,<file offset>,<start>,<end>`
//! shape. The path may itself contain commas (quoted nodes), so a line is split at its first
//! comma and its last three. A torn last line (no newline, or unparsable) is ignored with a
//! warning: the deletion it described was never acknowledged.
//!
//! IoTDB 2.x (`ModificationFile`, suffix `.mods2`) writes a headerless sequence of `ModEntry`
//! records: a type byte (`0x01` tree deletion, `0x00` table deletion), the inclusive time
//! range as two big-endian i64 (min, max), then for a tree deletion (`TreeDeletionEntry`) the
//! path pattern as a var string (zig-zag varint byte length, UTF-8 bytes). Table deletions
//! carry a predicate this engine (tree model only) does not decode; meeting one is refused.
//! It has no file offset: a 2.x entry applies to every chunk of the file.

use crate::api::TimeRange;
use model::{Error, PathPattern, Result};
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

/// Largest mods file read (a deletion line is small; this bounds memory on a corrupt file).
const MAX_MODS_BYTES: u64 = 256 << 20;

/// One deletion: the points of `series` (full path text) inside `range`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Deletion {
    pub(crate) series: String,
    pub(crate) range: TimeRange,
}

/// The mods path of a TsFile.
pub(crate) fn mods_path(tsfile: &Path) -> PathBuf {
    let mut s = tsfile.as_os_str().to_owned();
    s.push(".mods");
    PathBuf::from(s)
}

/// The fields of a deletion line: (path, file offset, range).
fn parse_fields(line: &str) -> Option<(&str, i64, TimeRange)> {
    let rest = line.strip_prefix("DELETION,")?;
    let mut parts = rest.rsplitn(4, ',');
    let end = parts.next()?.trim().parse::<i64>().ok()?;
    let start = parts.next()?.trim().parse::<i64>().ok()?;
    let offset = parts.next()?.trim().parse::<i64>().ok()?;
    let series = parts.next()?;
    if series.is_empty() {
        return None;
    }
    Some((series, offset, TimeRange::new(start, end)))
}

/// The fields of a legacy point deletion line `DELETION,<path>,<version>,<end>` (IoTDB
/// before 0.11 had no start time): (path, version used as the file offset, range from
/// `i64::MIN`), as IoTDB 1.x's `LocalTextModificationAccessor.decodePointDeletion` reads it.
fn parse_point_fields(line: &str) -> Option<(&str, i64, TimeRange)> {
    let rest = line.strip_prefix("DELETION,")?;
    let mut parts = rest.rsplitn(3, ',');
    let end = parts.next()?.trim().parse::<i64>().ok()?;
    let version = parts.next()?.trim().parse::<i64>().ok()?;
    let series = parts.next()?;
    if series.is_empty() {
        return None;
    }
    Some((series, version, TimeRange::new(i64::MIN, end)))
}

fn parse_line(line: &str) -> Option<Deletion> {
    let (series, _offset, range) = parse_fields(line)?;
    Some(Deletion {
        series: series.to_string(),
        range,
    })
}

/// The bytes of a mods file, `None` if it does not exist; bounded by [`MAX_MODS_BYTES`].
fn read_bounded(path: &Path) -> Result<Option<Vec<u8>>> {
    match std::fs::metadata(path) {
        Ok(m) if m.len() > MAX_MODS_BYTES => Err(Error::StorageEngine(format!(
            "mods file {} is {} bytes, more than the {} accepted",
            path.display(),
            m.len(),
            MAX_MODS_BYTES
        ))),
        Ok(_) => std::fs::read(path)
            .map(Some)
            .map_err(|e| Error::StorageEngine(format!("cannot read {}: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::StorageEngine(format!(
            "cannot read {}: {e}",
            path.display()
        ))),
    }
}

/// Reads the deletions of a mods file (none if it does not exist).
pub(crate) fn read_mods(path: &Path) -> Result<Vec<Deletion>> {
    let Some(bytes) = read_bounded(path)? else {
        return Ok(Vec::new());
    };
    Ok(parse_own_mods(path, &bytes))
}

/// Parses the bytes of one of our own mods files (`path` names it in warnings): every
/// readable line is a deletion; unreadable and torn lines are skipped with a warning.
pub(crate) fn parse_own_mods(path: &Path, bytes: &[u8]) -> Vec<Deletion> {
    let text = String::from_utf8_lossy(bytes);
    let mut out = Vec::new();
    let complete = text.ends_with('\n');
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let last = i + 1 == lines.len();
        match parse_line(line) {
            Some(d) if !last || complete => out.push(d),
            _ if line.trim().is_empty() => {}
            _ => tracing::warn!(
                "ignoring {} line {} of {}: {line:?}",
                if last { "torn" } else { "unreadable" },
                i + 1,
                path.display()
            ),
        }
    }
    out
}

/// A deletion found beside a TsFile being loaded: the points of every series matching
/// `pattern` inside `range`, in the chunks whose header lies before `file_offset`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LoadDeletion {
    /// Series the deletion covers (IoTDB matches it against full series paths).
    pub(crate) pattern: PathPattern,
    /// Deleted times, both ends included.
    pub(crate) range: TimeRange,
    /// IoTDB 1.x: the deletion applies only to chunks whose header offset is below this
    /// (the file length when the deletion was made; `ModificationUtils.modifyChunkMetaData`
    /// tests `fileOffset > offsetOfChunkHeader`). `None` for 2.x entries (whole file).
    pub(crate) file_offset: Option<i64>,
}

impl LoadDeletion {
    /// True if the deletion applies to the chunk whose header is at `chunk_offset`.
    pub(crate) fn applies_to_chunk(&self, chunk_offset: u64) -> bool {
        self.file_offset
            .is_none_or(|o| i128::from(o) > i128::from(chunk_offset))
    }
}

/// The IoTDB 2.x mods path of a TsFile (`<file>.mods2`).
pub(crate) fn mods2_path(tsfile: &Path) -> PathBuf {
    let mut s = tsfile.as_os_str().to_owned();
    s.push(".mods2");
    PathBuf::from(s)
}

/// Reads every deletion beside the TsFile `tsfile` that is being loaded: its IoTDB 1.x text
/// mods (`<file>.mods`) and its IoTDB 2.x binary mods (`<file>.mods2`), whichever exist.
/// A corrupt file is an error naming it; a torn last record is ignored with a warning.
pub(crate) fn read_load_deletions(tsfile: &Path) -> Result<Vec<LoadDeletion>> {
    let mut out = Vec::new();
    let p1 = mods_path(tsfile);
    if let Some(bytes) = read_bounded(&p1)? {
        out.extend(parse_text_mods(&p1, &bytes)?);
    }
    let p2 = mods2_path(tsfile);
    if let Some(bytes) = read_bounded(&p2)? {
        out.extend(parse_binary_mods(&p2, &bytes)?);
    }
    Ok(out)
}

fn parse_pattern(file: &Path, what: &str, text: &str) -> Result<PathPattern> {
    PathPattern::parse(text).map_err(|e| {
        Error::StorageEngine(format!(
            "corrupt mods file {}: {what}: path pattern {text:?} is not valid: {e}",
            file.display()
        ))
    })
}

/// Parses IoTDB 1.x text mods strictly: every complete line must be a deletion.
pub(crate) fn parse_text_mods(file: &Path, bytes: &[u8]) -> Result<Vec<LoadDeletion>> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        Error::StorageEngine(format!(
            "corrupt mods file {}: not UTF-8 text (at byte {})",
            file.display(),
            e.valid_up_to()
        ))
    })?;
    let complete = text.ends_with('\n');
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let torn = i + 1 == lines.len() && !complete;
        if torn {
            if !line.trim().is_empty() {
                tracing::warn!(
                    "ignoring torn last line {} of {}: {line:?}",
                    i + 1,
                    file.display()
                );
            }
            continue;
        }
        if line.trim().is_empty() {
            continue;
        }
        let Some((series, file_offset, range)) =
            parse_fields(line).or_else(|| parse_point_fields(line))
        else {
            return Err(Error::StorageEngine(format!(
                "corrupt mods file {}: line {} is not a deletion: {line:?}",
                file.display(),
                i + 1
            )));
        };
        let pattern = parse_pattern(file, &format!("line {}", i + 1), series)?;
        out.push(LoadDeletion {
            pattern,
            range,
            file_offset: Some(file_offset),
        });
    }
    Ok(out)
}

/// Type byte of a tree-model deletion in a 2.x mods file (`ModEntry.ModType.TREE_DELETION`).
const MOD_TREE_DELETION: u8 = 0x01;
/// Type byte of a table-model deletion (`ModEntry.ModType.TABLE_DELETION`).
const MOD_TABLE_DELETION: u8 = 0x00;

/// Parses IoTDB 2.x binary mods (see the module header). Every length is checked against
/// the bytes present; an entry cut short by the end of the file is a torn tail (IoTDB's
/// reader stops there too) and is ignored with a warning.
pub(crate) fn parse_binary_mods(file: &Path, bytes: &[u8]) -> Result<Vec<LoadDeletion>> {
    use tsfile::buf::ByteReader;
    let corrupt = |at: usize, what: &str| {
        Error::StorageEngine(format!(
            "corrupt mods file {}: {what} at offset {at}",
            file.display()
        ))
    };
    let mut r = ByteReader::new(bytes);
    let mut out = Vec::new();
    while !r.is_empty() {
        let at = r.pos();
        let torn = |what: &str| {
            tracing::warn!(
                "ignoring torn last entry of {} at offset {at} ({what})",
                file.display()
            );
        };
        let kind = r.u8().map_err(|_| corrupt(at, "missing entry type"))?;
        match kind {
            MOD_TREE_DELETION => {}
            MOD_TABLE_DELETION => {
                return Err(Error::Unsupported(format!(
                    "{}: table-model deletion at offset {at} not supported yet (tree model only)",
                    file.display()
                )))
            }
            other => return Err(corrupt(at, &format!("unknown entry type {other:#04x}"))),
        }
        let (Ok(start), Ok(end)) = (r.i64(), r.i64()) else {
            torn("time range cut short");
            break;
        };
        let path_at = r.pos();
        let rest = r.rest();
        if rest.len() < 5 && !rest.iter().any(|b| b & 0x80 == 0) {
            torn("path length cut short");
            break;
        }
        let len = r.varint().map_err(|e| corrupt(e.pos, &e.what))?;
        if len < 0 {
            return Err(corrupt(path_at, &format!("negative path length {len}")));
        }
        let len = len as usize;
        let Ok(raw) = r.take(len) else {
            torn("path cut short");
            break;
        };
        let text =
            std::str::from_utf8(raw).map_err(|_| corrupt(path_at, "path pattern is not UTF-8"))?;
        let pattern = parse_pattern(file, &format!("entry at offset {at}"), text)?;
        out.push(LoadDeletion {
            pattern,
            range: TimeRange::new(start, end),
            file_offset: None,
        });
    }
    Ok(out)
}

/// Appends deletions to a mods file and fsyncs it.
pub(crate) fn append_mods(path: &Path, dels: &[Deletion]) -> Result<()> {
    if dels.is_empty() {
        return Ok(());
    }
    let mut text = String::new();
    for d in dels {
        text.push_str(&format!(
            "DELETION,{},{},{},{}\n",
            d.series,
            i64::MAX,
            d.range.start,
            d.range.end
        ));
    }
    let f: File = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| Error::StorageEngine(format!("cannot open {}: {e}", path.display())))?;
    let before = f.metadata()?.len();
    let wrote = crate::fault::write_all(&f, path, text.as_bytes()).and_then(|()| f.sync_data());
    if let Err(e) = wrote {
        // a torn line would spoil the next entry appended after it: cut it off
        let _ = f.set_len(before).and_then(|()| f.sync_data());
        return Err(e.into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn round_trip_and_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("1-1-0-0.tsfile.mods");
        assert!(read_mods(&p).unwrap().is_empty());
        let a = Deletion {
            series: "root.sg.`a,b`.s".into(),
            range: TimeRange::new(-5, 10),
        };
        let b = Deletion {
            series: "root.sg.d.s".into(),
            range: TimeRange::ALL,
        };
        append_mods(&p, std::slice::from_ref(&a)).unwrap();
        append_mods(&p, std::slice::from_ref(&b)).unwrap();
        assert_eq!(read_mods(&p).unwrap(), vec![a.clone(), b.clone()]);
        // a torn line at the end is ignored
        let mut f = OpenOptions::new().append(true).open(&p).unwrap();
        f.write_all(b"DELETION,root.sg.d.x,1,2").unwrap();
        assert_eq!(read_mods(&p).unwrap(), vec![a, b]);
        assert_eq!(parse_line("DELETION,,1,2,3"), None);
        assert_eq!(parse_line("garbage"), None);
    }
}

#[cfg(test)]
mod load_tests {
    use super::*;

    fn entry(pattern: &str, start: i64, end: i64) -> Vec<u8> {
        let mut out = vec![MOD_TREE_DELETION];
        out.extend_from_slice(&start.to_be_bytes());
        out.extend_from_slice(&end.to_be_bytes());
        let mut zz = (pattern.len() as u32) << 1;
        while zz >= 0x80 {
            out.push((zz as u8 & 0x7F) | 0x80);
            zz >>= 7;
        }
        out.push(zz as u8);
        out.extend_from_slice(pattern.as_bytes());
        out
    }

    #[test]
    fn binary_entries_and_torn_tails() {
        let f = Path::new("x.tsfile.mods2");
        let long = format!("root.sg.{}.s", "a".repeat(200));
        let mut b = entry("root.sg.*.s1", -5, 7);
        b.extend(entry(&long, i64::MIN, i64::MAX));
        let all = parse_binary_mods(f, &b).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].pattern, PathPattern::parse("root.sg.*.s1").unwrap());
        assert_eq!(all[0].range, TimeRange::new(-5, 7));
        assert_eq!(all[1].range, TimeRange::ALL);
        assert!(all[1].applies_to_chunk(u64::MAX));
        // every cut of the second entry is a torn tail: the first entry survives
        let first = entry("root.sg.*.s1", -5, 7).len();
        for cut in first + 1..b.len() {
            let got = parse_binary_mods(f, &b[..cut]).unwrap();
            assert_eq!(got.len(), 1, "cut at {cut}");
        }
        // a varint longer than five bytes is corrupt, not torn
        let mut bad = entry("root.sg.d.s", 0, 1)[..17].to_vec();
        bad.extend_from_slice(&[0xFF; 6]);
        bad.extend_from_slice(&[0x01; 8]);
        let e = parse_binary_mods(f, &bad).unwrap_err().to_string();
        assert!(
            e.contains("x.tsfile.mods2") && e.contains("offset 17"),
            "{e}"
        );
    }

    #[test]
    fn text_offsets_compare_with_chunk_headers() {
        let f = Path::new("x.tsfile.mods");
        let d = parse_text_mods(f, b"DELETION,root.sg.d.s,100,1,2\n").unwrap();
        assert!(d[0].applies_to_chunk(99));
        assert!(!d[0].applies_to_chunk(100));
        let d = parse_text_mods(f, b"DELETION,root.sg.d.s,-1,1,2\n\n").unwrap();
        assert!(!d[0].applies_to_chunk(0));
        assert!(parse_text_mods(f, b"").unwrap().is_empty());
        // CRLF line ends; a legacy point deletion (no start time)
        let d = parse_text_mods(
            f,
            b"DELETION,root.sg.`a,b`.s,7,1,2\r\nDELETION,root.sg.d.s,3,40\r\n",
        )
        .unwrap();
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].pattern.nodes().len(), 4);
        assert_eq!(d[0].range, TimeRange::new(1, 2));
        assert_eq!(d[1].range, TimeRange::new(i64::MIN, 40));
        assert_eq!(d[1].file_offset, Some(3));
        assert!(parse_text_mods(f, b"DELETION,root.sg.d.s,x,40\n").is_err());
    }
}
