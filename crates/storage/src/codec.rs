//! Byte encoding helpers shared by the WAL, the schema log and the user file.
//!
//! Everything read back goes through [`Reader`], which checks every length against the
//! bytes actually left before allocating or slicing, and reports damage as an error
//! instead of panicking.

use model::{
    CompressionType, Error, MeasurementSchema, PartialPath, Result, TSDataType, TSEncoding, Value,
};

/// Appends little-endian primitives and length-prefixed strings to a byte vector.
pub(crate) struct Writer<'a> {
    pub(crate) buf: &'a mut Vec<u8>,
}

impl<'a> Writer<'a> {
    pub(crate) fn new(buf: &'a mut Vec<u8>) -> Self {
        Writer { buf }
    }
    pub(crate) fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }
    pub(crate) fn bool(&mut self, v: bool) {
        self.buf.push(v as u8);
    }
    pub(crate) fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    pub(crate) fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    pub(crate) fn i64(&mut self, v: i64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    /// A length as u32; callers guarantee it fits (checked where input sizes are accepted).
    pub(crate) fn len(&mut self, n: usize) {
        self.u32(u32::try_from(n).unwrap_or(u32::MAX));
    }
    pub(crate) fn bytes(&mut self, b: &[u8]) {
        self.len(b.len());
        self.buf.extend_from_slice(b);
    }
    pub(crate) fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }
    pub(crate) fn opt_str(&mut self, s: Option<&str>) {
        match s {
            Some(s) => {
                self.u8(1);
                self.str(s);
            }
            None => self.u8(0),
        }
    }
    pub(crate) fn opt_i64(&mut self, v: Option<i64>) {
        match v {
            Some(v) => {
                self.u8(1);
                self.i64(v);
            }
            None => self.u8(0),
        }
    }
    pub(crate) fn path(&mut self, p: &PartialPath) {
        self.len(p.len());
        for n in p.nodes() {
            self.str(n);
        }
    }
    pub(crate) fn pairs(&mut self, pairs: &[(String, String)]) {
        self.len(pairs.len());
        for (k, v) in pairs {
            self.str(k);
            self.str(v);
        }
    }
    pub(crate) fn schema(&mut self, s: &MeasurementSchema) {
        self.str(&s.name);
        self.u8(s.data_type.id());
        self.u8(s.encoding.id());
        self.u8(s.compressor.id());
    }
    pub(crate) fn value(&mut self, v: &Value) {
        match v {
            Value::Boolean(b) => {
                self.u8(TSDataType::Boolean.id());
                self.bool(*b);
            }
            Value::Int32(x) => {
                self.u8(TSDataType::Int32.id());
                self.buf.extend_from_slice(&x.to_le_bytes());
            }
            Value::Int64(x) => {
                self.u8(TSDataType::Int64.id());
                self.i64(*x);
            }
            Value::Float(x) => {
                self.u8(TSDataType::Float.id());
                self.buf.extend_from_slice(&x.to_le_bytes());
            }
            Value::Double(x) => {
                self.u8(TSDataType::Double.id());
                self.buf.extend_from_slice(&x.to_le_bytes());
            }
            Value::Text(b) => {
                self.u8(TSDataType::Text.id());
                self.bytes(b);
            }
        }
    }
}

/// Reads what [`Writer`] wrote, bounds-checked.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

fn corrupt(what: &str) -> Error {
    Error::StorageEngine(format!("corrupt record: {what}"))
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }
    pub(crate) fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }
    pub(crate) fn is_empty(&self) -> bool {
        self.remaining() == 0
    }
    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.remaining() {
            return Err(corrupt("length beyond end of record"));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let s = self.take(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }
    pub(crate) fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }
    pub(crate) fn bool(&mut self) -> Result<bool> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(corrupt("bad boolean")),
        }
    }
    pub(crate) fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.array()?))
    }
    pub(crate) fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.array()?))
    }
    pub(crate) fn i64(&mut self) -> Result<i64> {
        Ok(i64::from_le_bytes(self.array()?))
    }
    pub(crate) fn i32(&mut self) -> Result<i32> {
        Ok(i32::from_le_bytes(self.array()?))
    }
    pub(crate) fn f32(&mut self) -> Result<f32> {
        Ok(f32::from_le_bytes(self.array()?))
    }
    pub(crate) fn f64(&mut self) -> Result<f64> {
        Ok(f64::from_le_bytes(self.array()?))
    }
    /// A count of items that each take at least `min_item_bytes`; checked against the bytes left.
    pub(crate) fn count(&mut self, min_item_bytes: usize) -> Result<usize> {
        let n = self.u32()? as usize;
        if n.saturating_mul(min_item_bytes.max(1)) > self.remaining() {
            return Err(corrupt("count larger than the record"));
        }
        Ok(n)
    }
    pub(crate) fn bytes(&mut self) -> Result<&'a [u8]> {
        let n = self.u32()? as usize;
        self.take(n)
    }
    pub(crate) fn string(&mut self) -> Result<String> {
        let b = self.bytes()?;
        String::from_utf8(b.to_vec()).map_err(|_| corrupt("string is not UTF-8"))
    }
    pub(crate) fn opt_string(&mut self) -> Result<Option<String>> {
        Ok(if self.bool()? {
            Some(self.string()?)
        } else {
            None
        })
    }
    pub(crate) fn opt_i64(&mut self) -> Result<Option<i64>> {
        Ok(if self.bool()? {
            Some(self.i64()?)
        } else {
            None
        })
    }
    pub(crate) fn path(&mut self) -> Result<PartialPath> {
        let n = self.count(4)?;
        if n == 0 {
            return Err(corrupt("empty path"));
        }
        let mut nodes = Vec::with_capacity(n);
        for _ in 0..n {
            nodes.push(self.string()?);
        }
        if nodes[0] != "root" {
            return Err(corrupt("path does not start with root"));
        }
        Ok(PartialPath::from_nodes(nodes))
    }
    pub(crate) fn pairs(&mut self) -> Result<Vec<(String, String)>> {
        let n = self.count(8)?;
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            let k = self.string()?;
            let val = self.string()?;
            v.push((k, val));
        }
        Ok(v)
    }
    pub(crate) fn data_type(&mut self) -> Result<TSDataType> {
        let id = self.u8()?;
        TSDataType::from_id(id as i64).ok_or_else(|| corrupt("unknown data type"))
    }
    pub(crate) fn schema(&mut self) -> Result<MeasurementSchema> {
        let name = self.string()?;
        let data_type = self.data_type()?;
        let encoding =
            TSEncoding::from_id(self.u8()? as i64).ok_or_else(|| corrupt("unknown encoding"))?;
        let compressor = CompressionType::from_id(self.u8()? as i64)
            .ok_or_else(|| corrupt("unknown compressor"))?;
        Ok(MeasurementSchema {
            name,
            data_type,
            encoding,
            compressor,
        })
    }
    pub(crate) fn value(&mut self) -> Result<Value> {
        Ok(match self.data_type()? {
            TSDataType::Boolean => Value::Boolean(self.bool()?),
            TSDataType::Int32 => Value::Int32(self.i32()?),
            TSDataType::Int64 => Value::Int64(self.i64()?),
            TSDataType::Float => Value::Float(self.f32()?),
            TSDataType::Double => Value::Double(self.f64()?),
            TSDataType::Text => Value::Text(self.bytes()?.to_vec()),
            _ => return Err(corrupt("value of a non-physical type")),
        })
    }
}

/// Frame header: payload length (u32 LE) then CRC-32 of the payload (u32 LE).
pub(crate) const FRAME_HEADER: usize = 8;

/// Appends one framed record (`len`, `crc32`, payload) for `payload` to `out`.
pub(crate) fn frame(out: &mut Vec<u8>, payload: &[u8]) -> Result<()> {
    let len = u32::try_from(payload.len())
        .map_err(|_| Error::IllegalParameter("request too large for one log record".into()))?;
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    out.extend_from_slice(payload);
    Ok(())
}

/// Starts a framed record in `out` whose payload will be appended next (the WAL fills in
/// the header once the payload is known). Avoids copying large payloads.
pub(crate) fn begin_frame(out: &mut Vec<u8>) -> usize {
    let start = out.len();
    out.extend_from_slice(&[0u8; FRAME_HEADER]);
    start
}

/// The outcome of scanning a log file of framed records.
pub(crate) struct Scan {
    /// Payloads of the good records, in order.
    pub(crate) records: Vec<Vec<u8>>,
    /// Byte length of the good prefix (header + records).
    pub(crate) good_len: u64,
    /// Why scanning stopped before the end of the file, if it did.
    pub(crate) damage: Option<String>,
}

/// Reads framed records from `path` starting after a `header_len`-byte file header (which
/// the caller has validated). Stops at the first torn or corrupt record.
pub(crate) fn scan_file(path: &std::path::Path, header_len: u64) -> Result<Scan> {
    let bytes = std::fs::read(path)?;
    Ok(scan_bytes(&bytes, header_len as usize))
}

/// Reads framed records from `bytes` starting after a `header_len`-byte header. Stops at
/// the first torn or corrupt record; never allocates more than `bytes` holds.
pub(crate) fn scan_bytes(bytes: &[u8], header_len: usize) -> Scan {
    if bytes.len() < header_len {
        return Scan {
            records: Vec::new(),
            good_len: 0,
            damage: Some("file shorter than its header".into()),
        };
    }
    let mut pos = header_len;
    let mut records = Vec::new();
    let mut damage = None;
    while pos < bytes.len() {
        let rest = &bytes[pos..];
        let Some((head, body)) = rest.split_first_chunk::<FRAME_HEADER>() else {
            damage = Some(format!("torn record header at offset {pos}"));
            break;
        };
        let len = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize;
        let crc = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
        let Some(payload) = body.get(..len) else {
            damage = Some(format!(
                "record at offset {pos} claims {len} bytes, more than the file holds"
            ));
            break;
        };
        if crc32fast::hash(payload) != crc {
            damage = Some(format!("checksum mismatch in record at offset {pos}"));
            break;
        }
        pos += FRAME_HEADER + len;
        records.push(payload.to_vec());
    }
    Scan {
        records,
        good_len: pos as u64,
        damage,
    }
}

/// Writes `bytes` to `path` atomically: temporary file, fsync, rename, fsync of the directory.
pub(crate) fn write_atomic(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    let written = (|| -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        crate::fault::write_all(&mut f, &tmp, bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e.into());
    }
    if let Some(dir) = path.parent() {
        sync_dir(dir);
    }
    Ok(())
}

/// Fsyncs a directory so that created/renamed entries survive a crash (best effort).
pub(crate) fn sync_dir(dir: &std::path::Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reader_rejects_lengths_beyond_the_buffer() {
        let mut buf = Vec::new();
        Writer::new(&mut buf).u32(1_000_000);
        let mut r = Reader::new(&buf);
        assert!(r.bytes().is_err());
        let mut r = Reader::new(&buf);
        assert!(r.count(1).is_err());
        let mut r = Reader::new(&[1, 2]);
        assert!(r.u32().is_err());
    }

    #[test]
    fn values_round_trip() {
        let vals = [
            Value::Boolean(true),
            Value::Int32(-5),
            Value::Int64(1 << 40),
            Value::Float(1.5),
            Value::Double(-2.25),
            Value::Text(b"hi".to_vec()),
        ];
        let mut buf = Vec::new();
        let mut w = Writer::new(&mut buf);
        for v in &vals {
            w.value(v);
        }
        let mut r = Reader::new(&buf);
        for v in &vals {
            assert_eq!(&r.value().unwrap(), v);
        }
        assert!(r.is_empty());
    }
}
