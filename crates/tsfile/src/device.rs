//! Device identifiers as TsFile stores them.
//!
//! V3 stores a device as its whole path string (`root.sg1.d1`), compared as a string. V4 stores
//! an `IDeviceID`: a list of segments (`uvarint count`, then var strings, −1 = null), compared
//! segment by segment. A tree-model path is split as Java's `StringArrayDeviceID` does: up to
//! three levels become `[all but last, last]` (`root.sg1.d1` → `root.sg1`, `d1`); longer paths
//! become `[first three joined, then each remaining level]`. The first segment is the "table
//! name" under which the V4 index groups devices.

use std::cmp::Ordering;
use std::fmt;

use crate::buf::{ByteReader, Corrupt, DResult, PutBytes};

/// Levels joined into the first segment of a long tree path (Java
/// `DEFAULT_SEGMENT_NUM_FOR_TABLE_NAME`).
pub const TABLE_NAME_LEVELS: usize = 3;

/// A device, as a list of segments (`None` = null segment, table model only).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DeviceId {
    segments: Vec<Option<String>>,
}

/// Splits a dotted path into nodes, keeping back-quoted nodes (which may contain dots) whole.
pub fn split_path(path: &str) -> Vec<String> {
    let mut nodes = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = path.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '`' => {
                cur.push(c);
                if quoted && chars.peek() == Some(&'`') {
                    // escaped back quote inside a quoted node
                    cur.push('`');
                    chars.next();
                } else {
                    quoted = !quoted;
                }
            }
            '.' if !quoted => nodes.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    nodes.push(cur);
    nodes
}

impl DeviceId {
    /// A device from a tree-model path such as `root.sg1.d1`.
    pub fn from_path(path: &str) -> DeviceId {
        let nodes = split_path(path);
        let segments = if nodes.len() <= 1 {
            nodes
        } else if nodes.len() <= TABLE_NAME_LEVELS {
            let last = nodes.len() - 1;
            vec![nodes[..last].join("."), nodes[last].clone()]
        } else {
            let mut s = vec![nodes[..TABLE_NAME_LEVELS].join(".")];
            s.extend(nodes[TABLE_NAME_LEVELS..].iter().cloned());
            s
        };
        DeviceId {
            segments: segments.into_iter().map(Some).collect(),
        }
    }

    /// A device from explicit segments.
    pub fn from_segments(segments: Vec<Option<String>>) -> DeviceId {
        DeviceId { segments }
    }

    /// The segments.
    pub fn segments(&self) -> &[Option<String>] {
        &self.segments
    }

    /// The first segment (the V4 "table name"; for tree paths the first levels joined).
    pub fn table_name(&self) -> &str {
        self.segments
            .first()
            .and_then(|s| s.as_deref())
            .unwrap_or("")
    }

    /// The path string (`segments` joined by `.`, null as `null`), as Java's `toString`.
    pub fn path(&self) -> String {
        self.segments
            .iter()
            .map(|s| s.as_deref().unwrap_or("null"))
            .collect::<Vec<_>>()
            .join(".")
    }

    /// V4 serialization.
    pub fn write_v4(&self, out: &mut Vec<u8>) {
        out.put_uvarint(self.segments.len() as u32);
        for s in &self.segments {
            match s {
                Some(s) => out.put_var_str(s),
                None => out.put_var_null(),
            }
        }
    }

    /// V3 serialization (the whole path as one var string).
    pub fn write_v3(&self, out: &mut Vec<u8>) {
        out.put_var_str(&self.path());
    }

    /// Reads a V4 device id.
    pub fn read_v4(r: &mut ByteReader<'_>) -> DResult<DeviceId> {
        let at = r.pos();
        let n = r.uvarint_len()?;
        if n > r.remaining() {
            return Err(Corrupt::new(at, format!("device id with {n} segments")));
        }
        if n == 0 {
            return Ok(DeviceId {
                segments: vec![Some(String::new())],
            });
        }
        let mut segments = Vec::with_capacity(n);
        for _ in 0..n {
            segments.push(r.var_str_opt()?);
        }
        Ok(DeviceId { segments })
    }

    /// Reads a V3 device id (a path string) and splits it like V4 readers do.
    pub fn read_v3(r: &mut ByteReader<'_>) -> DResult<DeviceId> {
        Ok(DeviceId::from_path(&r.var_str()?))
    }

    /// Order of devices in a V4 index: segment by segment (Java string order, null first),
    /// fewer segments first on a tie.
    pub fn cmp_v4(&self, other: &DeviceId) -> Ordering {
        for (a, b) in self.segments.iter().zip(&other.segments) {
            let c = match (a, b) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Less,
                (Some(_), None) => Ordering::Greater,
                (Some(a), Some(b)) => java_str_cmp(a, b),
            };
            if c != Ordering::Equal {
                return c;
            }
        }
        self.segments.len().cmp(&other.segments.len())
    }

    /// Order of devices in a V3 index: the whole path string.
    pub fn cmp_v3(&self, other: &DeviceId) -> Ordering {
        java_str_cmp(&self.path(), &other.path())
    }
}

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.path())
    }
}

/// Java `String.compareTo`: UTF-16 code unit order.
pub fn java_str_cmp(a: &str, b: &str) -> Ordering {
    if a.is_ascii() && b.is_ascii() {
        a.as_bytes().cmp(b.as_bytes())
    } else {
        a.encode_utf16().cmp(b.encode_utf16())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_java() {
        assert_eq!(
            DeviceId::from_path("root.sg1.d1").segments(),
            &[Some("root.sg1".into()), Some("d1".into())]
        );
        assert_eq!(
            DeviceId::from_path("root.sg1.a.b.c").segments(),
            &[
                Some("root.sg1.a".into()),
                Some("b".into()),
                Some("c".into())
            ]
        );
        assert_eq!(
            DeviceId::from_path("root.sg.`x.y`").segments(),
            &[Some("root.sg".into()), Some("`x.y`".into())]
        );
        assert_eq!(DeviceId::from_path("root.sg.d1").path(), "root.sg.d1");
        assert_eq!(DeviceId::from_path("d").segments(), &[Some("d".into())]);
    }

    #[test]
    fn serializes() {
        let d = DeviceId::from_path("root.sg1.d1");
        let mut b = Vec::new();
        d.write_v4(&mut b);
        assert_eq!(b[0], 2);
        assert_eq!(DeviceId::read_v4(&mut ByteReader::new(&b)).unwrap(), d);
        let mut b = Vec::new();
        d.write_v3(&mut b);
        assert_eq!(DeviceId::read_v3(&mut ByteReader::new(&b)).unwrap(), d);
    }

    #[test]
    fn orders() {
        let a = DeviceId::from_path("root.sg.d10");
        let b = DeviceId::from_path("root.sg.d2");
        assert_eq!(a.cmp_v4(&b), Ordering::Less);
        let c = DeviceId::from_path("root.sg.a.b");
        let d = DeviceId::from_path("root.sg.a");
        // V4: [root.sg.a, b] vs [root.sg, a]: "root.sg.a" > "root.sg"
        assert_eq!(c.cmp_v4(&d), Ordering::Greater);
        assert_eq!(java_str_cmp("\u{FFFF}", "\u{10000}"), Ordering::Greater);
    }
}
