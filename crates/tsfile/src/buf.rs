//! Byte-level primitives of the TsFile format: a bounded read cursor and write helpers.
//!
//! Every read is checked against the bytes actually present; a failed read yields a
//! [`Corrupt`] carrying the position inside the buffer, which callers turn into a
//! [`model::Error::StorageEngine`] naming the file offset (see [`Corrupt::at`]).
//!
//! Encodings (Java `ReadWriteIOUtils` / `ReadWriteForEncodingUtils`):
//! fixed-width numbers are big-endian; `uvarint` is unsigned LEB128 of a 32-bit value;
//! `varint` is zig-zag LEB128 of a 32-bit value; a "var string" is a `varint` byte length
//! (−1 = null) followed by UTF-8 bytes.

use model::Error;

/// A decoding failure inside one buffer: what was wrong and where (byte position in the buffer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Corrupt {
    /// Position inside the buffer being decoded.
    pub pos: usize,
    /// What was wrong.
    pub what: String,
}

impl Corrupt {
    /// A failure at `pos`.
    pub fn new(pos: usize, what: impl Into<String>) -> Self {
        Corrupt {
            pos,
            what: what.into(),
        }
    }

    /// Converts into the shared error, given the file offset at which the buffer starts.
    pub fn at(self, base: u64, region: &str) -> Error {
        Error::StorageEngine(format!(
            "corrupt TsFile: {} at offset {} ({region})",
            self.what,
            base.saturating_add(self.pos as u64)
        ))
    }

    /// Converts into the shared error for a buffer that is not a file region (e.g. a
    /// decompressed page), naming both the position inside it and the file offset of its source.
    pub fn inside(self, what_buffer: &str, base: u64) -> Error {
        Error::StorageEngine(format!(
            "corrupt TsFile: {} at byte {} of the {what_buffer} at offset {base}",
            self.what, self.pos
        ))
    }
}

/// Result of the byte-level decoders.
pub type DResult<T> = std::result::Result<T, Corrupt>;

/// A bounded forward cursor over a byte slice.
#[derive(Debug, Clone)]
pub struct ByteReader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> ByteReader<'a> {
    /// A cursor at the start of `data`.
    pub fn new(data: &'a [u8]) -> Self {
        ByteReader { data, pos: 0 }
    }

    /// Current position.
    #[inline]
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// Bytes left.
    #[inline]
    pub fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    /// True when nothing is left.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }

    /// The unread bytes.
    #[inline]
    pub fn rest(&self) -> &'a [u8] {
        &self.data[self.pos..]
    }

    /// A failure at the current position.
    pub fn err(&self, what: impl Into<String>) -> Corrupt {
        Corrupt::new(self.pos, what)
    }

    /// Takes the next `n` bytes.
    #[inline]
    pub fn take(&mut self, n: usize) -> DResult<&'a [u8]> {
        if n > self.remaining() {
            return Err(self.err(format!(
                "needs {n} bytes but only {} remain",
                self.remaining()
            )));
        }
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    /// Skips `n` bytes.
    pub fn skip(&mut self, n: usize) -> DResult<()> {
        self.take(n).map(|_| ())
    }

    #[inline]
    fn array<const N: usize>(&mut self) -> DResult<[u8; N]> {
        let s = self.take(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    /// One byte.
    #[inline]
    pub fn u8(&mut self) -> DResult<u8> {
        match self.data.get(self.pos) {
            Some(b) => {
                self.pos += 1;
                Ok(*b)
            }
            None => Err(self.err("unexpected end of data")),
        }
    }

    /// Big-endian i32.
    #[inline]
    pub fn i32(&mut self) -> DResult<i32> {
        Ok(i32::from_be_bytes(self.array()?))
    }

    /// Big-endian i64.
    #[inline]
    pub fn i64(&mut self) -> DResult<i64> {
        Ok(i64::from_be_bytes(self.array()?))
    }

    /// Big-endian IEEE f32.
    #[inline]
    pub fn f32(&mut self) -> DResult<f32> {
        Ok(f32::from_bits(u32::from_be_bytes(self.array()?)))
    }

    /// Big-endian IEEE f64.
    #[inline]
    pub fn f64(&mut self) -> DResult<f64> {
        Ok(f64::from_bits(u64::from_be_bytes(self.array()?)))
    }

    /// A boolean byte (non-zero = true).
    pub fn bool(&mut self) -> DResult<bool> {
        Ok(self.u8()? != 0)
    }

    /// Unsigned LEB128 of a 32-bit value (at most 5 bytes).
    #[inline]
    pub fn uvarint(&mut self) -> DResult<u32> {
        let start = self.pos;
        let mut value: u64 = 0;
        for i in 0..5 {
            let b = self.u8()?;
            value |= ((b & 0x7F) as u64) << (7 * i);
            if b & 0x80 == 0 {
                if value > u32::MAX as u64 {
                    return Err(Corrupt::new(start, "unsigned varint exceeds 32 bits"));
                }
                return Ok(value as u32);
            }
        }
        Err(Corrupt::new(start, "unsigned varint longer than 5 bytes"))
    }

    /// An unsigned varint used as a length or count, as `usize`.
    pub fn uvarint_len(&mut self) -> DResult<usize> {
        Ok(self.uvarint()? as usize)
    }

    /// Zig-zag LEB128 of a 32-bit value.
    #[inline]
    pub fn varint(&mut self) -> DResult<i32> {
        let u = self.uvarint()?;
        Ok(((u >> 1) as i32) ^ -((u & 1) as i32))
    }

    /// Unsigned LEB128 of a 64-bit value (at most 10 bytes).
    pub fn uvarint64(&mut self) -> DResult<u64> {
        let start = self.pos;
        let mut value: u64 = 0;
        for i in 0..10 {
            let b = self.u8()?;
            value |= ((b & 0x7F) as u64) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(Corrupt::new(start, "unsigned varint longer than 10 bytes"))
    }

    /// Bytes with a zig-zag varint length prefix; `None` for length −1 (null).
    pub fn var_bytes(&mut self) -> DResult<Option<&'a [u8]>> {
        let start = self.pos;
        let len = self.varint()?;
        if len == -1 {
            return Ok(None);
        }
        if len < 0 {
            return Err(Corrupt::new(start, format!("negative length {len}")));
        }
        self.take(len as usize).map(Some)
    }

    /// A var string (null allowed).
    pub fn var_str_opt(&mut self) -> DResult<Option<String>> {
        let start = self.pos;
        match self.var_bytes()? {
            None => Ok(None),
            Some(b) => std::str::from_utf8(b)
                .map(|s| Some(s.to_owned()))
                .map_err(|_| Corrupt::new(start, "string is not valid UTF-8")),
        }
    }

    /// A var string that must not be null.
    pub fn var_str(&mut self) -> DResult<String> {
        let start = self.pos;
        self.var_str_opt()?
            .ok_or_else(|| Corrupt::new(start, "unexpected null string"))
    }

    /// A string with a big-endian i32 length prefix (−1 = null).
    pub fn int_str_opt(&mut self) -> DResult<Option<String>> {
        let start = self.pos;
        let len = self.i32()?;
        if len == -1 {
            return Ok(None);
        }
        if len < 0 {
            return Err(Corrupt::new(start, format!("negative length {len}")));
        }
        let b = self.take(len as usize)?;
        std::str::from_utf8(b)
            .map(|s| Some(s.to_owned()))
            .map_err(|_| Corrupt::new(start, "string is not valid UTF-8"))
    }

    /// Bytes with a big-endian i32 length prefix (TEXT statistics' `Binary`).
    pub fn int_bytes(&mut self) -> DResult<&'a [u8]> {
        let start = self.pos;
        let len = self.i32()?;
        if len < 0 {
            return Err(Corrupt::new(start, format!("negative length {len}")));
        }
        self.take(len as usize)
    }
}

/// Write helpers on a byte vector.
pub trait PutBytes {
    /// One byte.
    fn put_u8(&mut self, v: u8);
    /// Big-endian i32.
    fn put_i32(&mut self, v: i32);
    /// Big-endian i64.
    fn put_i64(&mut self, v: i64);
    /// Big-endian f32 bits.
    fn put_f32(&mut self, v: f32);
    /// Big-endian f64 bits.
    fn put_f64(&mut self, v: f64);
    /// Unsigned LEB128 of a 32-bit value.
    fn put_uvarint(&mut self, v: u32);
    /// Zig-zag LEB128 of a 32-bit value.
    fn put_varint(&mut self, v: i32);
    /// Var string: zig-zag varint length then UTF-8 bytes.
    fn put_var_str(&mut self, s: &str);
    /// Var bytes: zig-zag varint length then bytes.
    fn put_var_bytes(&mut self, b: &[u8]);
    /// Null var string (length −1).
    fn put_var_null(&mut self);
    /// Bytes with a big-endian i32 length prefix.
    fn put_int_bytes(&mut self, b: &[u8]);
}

impl PutBytes for Vec<u8> {
    #[inline]
    fn put_u8(&mut self, v: u8) {
        self.push(v);
    }
    #[inline]
    fn put_i32(&mut self, v: i32) {
        self.extend_from_slice(&v.to_be_bytes());
    }
    #[inline]
    fn put_i64(&mut self, v: i64) {
        self.extend_from_slice(&v.to_be_bytes());
    }
    #[inline]
    fn put_f32(&mut self, v: f32) {
        self.extend_from_slice(&v.to_bits().to_be_bytes());
    }
    #[inline]
    fn put_f64(&mut self, v: f64) {
        self.extend_from_slice(&v.to_bits().to_be_bytes());
    }
    #[inline]
    fn put_uvarint(&mut self, mut v: u32) {
        while v & !0x7F != 0 {
            self.push((v as u8 & 0x7F) | 0x80);
            v >>= 7;
        }
        self.push(v as u8);
    }
    #[inline]
    fn put_varint(&mut self, v: i32) {
        self.put_uvarint(((v << 1) ^ (v >> 31)) as u32);
    }
    fn put_var_str(&mut self, s: &str) {
        self.put_var_bytes(s.as_bytes());
    }
    fn put_var_bytes(&mut self, b: &[u8]) {
        self.put_varint(b.len() as i32);
        self.extend_from_slice(b);
    }
    fn put_var_null(&mut self) {
        self.put_varint(-1);
    }
    fn put_int_bytes(&mut self, b: &[u8]) {
        self.put_i32(b.len() as i32);
        self.extend_from_slice(b);
    }
}

/// Size in bytes of `v` as an unsigned varint.
pub fn uvarint_size(mut v: u32) -> usize {
    let mut n = 1;
    while v & !0x7F != 0 {
        v >>= 7;
        n += 1;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn varints_round_trip(u in any::<u32>(), i in any::<i32>()) {
            let mut b = Vec::new();
            b.put_uvarint(u);
            b.put_varint(i);
            prop_assert_eq!(uvarint_size(u), b.len() - {
                let mut c = Vec::new(); c.put_varint(i); c.len()
            });
            let mut r = ByteReader::new(&b);
            prop_assert_eq!(r.uvarint().unwrap(), u);
            prop_assert_eq!(r.varint().unwrap(), i);
            prop_assert!(r.is_empty());
        }
    }

    #[test]
    fn java_varint_bytes() {
        // Java writeVarInt(8) = 0x10; writeVarInt(-1) = 0x01.
        let mut b = Vec::new();
        b.put_varint(8);
        b.put_varint(-1);
        b.put_uvarint(300);
        assert_eq!(b, vec![0x10, 0x01, 0xAC, 0x02]);
    }

    #[test]
    fn bounded_reads_fail_cleanly() {
        let mut r = ByteReader::new(&[0x80, 0x80]);
        assert!(r.uvarint().is_err());
        let mut r = ByteReader::new(&[0x0A, b'a']);
        let e = r.var_bytes().unwrap_err();
        assert_eq!(e.pos, 1);
        let mut r = ByteReader::new(&[0xFF, 0xFF, 0xFF, 0xFF, 0x7F]);
        assert!(r.uvarint().is_err());
    }
}
