//! Deletion records kept next to a TsFile (`<file>.tsfile.mods`), as IoTDB's `.mods` files.
//!
//! One text line per deletion, in IoTDB's `DELETION,<series path>,<file offset>,<start>,<end>`
//! shape. The path may itself contain commas (quoted nodes), so a line is split at its first
//! comma and its last three. A torn last line (no newline, or unparsable) is ignored with a
//! warning: the deletion it described was never acknowledged.

use crate::api::TimeRange;
use model::{Error, Result};
use std::fs::{File, OpenOptions};
use std::io::Write;
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

fn parse_line(line: &str) -> Option<Deletion> {
    let rest = line.strip_prefix("DELETION,")?;
    let mut parts = rest.rsplitn(4, ',');
    let end = parts.next()?.trim().parse::<i64>().ok()?;
    let start = parts.next()?.trim().parse::<i64>().ok()?;
    let _offset = parts.next()?.trim().parse::<i64>().ok()?;
    let series = parts.next()?.to_string();
    if series.is_empty() {
        return None;
    }
    Some(Deletion {
        series,
        range: TimeRange::new(start, end),
    })
}

/// Reads the deletions of a mods file (none if it does not exist).
pub(crate) fn read_mods(path: &Path) -> Result<Vec<Deletion>> {
    let bytes = match std::fs::metadata(path) {
        Ok(m) if m.len() > MAX_MODS_BYTES => {
            return Err(Error::StorageEngine(format!(
                "mods file {} is {} bytes, more than the {} accepted",
                path.display(),
                m.len(),
                MAX_MODS_BYTES
            )))
        }
        Ok(_) => std::fs::read(path)?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let text = String::from_utf8_lossy(&bytes);
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
    let mut f: File = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| Error::StorageEngine(format!("cannot open {}: {e}", path.display())))?;
    f.write_all(text.as_bytes())?;
    f.sync_data()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
