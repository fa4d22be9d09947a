//! Bounded pre-validation of one Thrift message before generated code decodes it.
//!
//! The generated decoders trust the wire: they reserve `Vec::with_capacity(count)` for
//! every list/map/set count they read. [`validate_message`] walks the whole message
//! first (binary or compact protocol) and checks that every string/binary length and
//! every container count fits in the bytes that remain, that nesting stays within a
//! depth limit, that every type id is known, and that the message ends exactly at the
//! end of the frame. After it succeeds, no count or length in the message can make a
//! decoder allocate more than a small multiple of the frame size.

use crate::frame::WireProtocol;
use model::{Error, Result};

/// Default maximum nesting of structs and containers (Thrift's usual recursion limit).
pub const DEFAULT_MAX_DEPTH: usize = 64;

/// Thrift message kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageType {
    /// A request expecting a reply.
    Call,
    /// A normal reply.
    Reply,
    /// An application exception reply.
    Exception,
    /// A request expecting no reply.
    Oneway,
}

impl MessageType {
    fn from_wire(b: u8) -> Result<MessageType> {
        Ok(match b {
            1 => MessageType::Call,
            2 => MessageType::Reply,
            3 => MessageType::Exception,
            4 => MessageType::Oneway,
            other => return Err(malformed(format!("unknown message type {other}"))),
        })
    }
}

/// The header of a Thrift message: method name, kind and sequence id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageHeader {
    /// Protocol the message is written in.
    pub protocol: WireProtocol,
    /// Method name, e.g. `openSession`.
    pub name: String,
    /// Message kind.
    pub message_type: MessageType,
    /// Sequence id (IoTDB's Python clients always send 0).
    pub seqid: i32,
}

fn malformed(msg: impl Into<String>) -> Error {
    Error::IllegalParameter(format!("malformed Thrift message: {}", msg.into()))
}

struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.remaining() {
            return Err(malformed(format!(
                "needs {n} bytes at offset {} but only {} remain",
                self.pos,
                self.remaining()
            )));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }

    fn i16_be(&mut self) -> Result<i16> {
        let b = self.take(2)?;
        Ok(i16::from_be_bytes([b[0], b[1]]))
    }

    fn i32_be(&mut self) -> Result<i32> {
        let b = self.take(4)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// An unsigned LEB128 varint of at most `max_bytes` bytes.
    fn varint(&mut self, max_bytes: usize) -> Result<u64> {
        let mut v: u64 = 0;
        for i in 0..max_bytes {
            let b = self.u8()?;
            v |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(malformed(format!("varint longer than {max_bytes} bytes")))
    }

    /// A non-negative length/count that fits an i32 (compact varint form).
    fn compact_len(&mut self, what: &str) -> Result<usize> {
        let v = self.varint(5)?;
        if v > i32::MAX as u64 {
            return Err(malformed(format!("{what} {v} is out of range")));
        }
        Ok(v as usize)
    }

    /// A length/count as a big-endian i32 that must not be negative (binary form).
    fn binary_len(&mut self, what: &str) -> Result<usize> {
        let v = self.i32_be()?;
        if v < 0 {
            return Err(malformed(format!("negative {what} {v}")));
        }
        Ok(v as usize)
    }

    fn skip_bytes(&mut self, len: usize, what: &str) -> Result<()> {
        if len > self.remaining() {
            return Err(malformed(format!(
                "{what} of {len} bytes at offset {} exceeds the {} bytes that remain",
                self.pos,
                self.remaining()
            )));
        }
        self.pos += len;
        Ok(())
    }

    fn check_count(&self, count: usize, min_elem: usize, what: &str) -> Result<()> {
        match count.checked_mul(min_elem) {
            Some(need) if need <= self.remaining() => Ok(()),
            _ => Err(malformed(format!(
                "{what} count {count} at offset {} cannot fit in the {} bytes that remain",
                self.pos,
                self.remaining()
            ))),
        }
    }
}

/// Reads only the message header of a frame payload. Returns the header and the offset
/// at which the message body (the argument/result struct) starts.
pub fn read_message_header(payload: &[u8]) -> Result<(MessageHeader, usize)> {
    let protocol = WireProtocol::detect(payload)?;
    let mut c = Cursor {
        buf: payload,
        pos: 0,
    };
    let header = match protocol {
        WireProtocol::Binary => {
            let word = c.i32_be()? as u32;
            if word & 0xffff_0000 != 0x8001_0000 {
                return Err(malformed(format!(
                    "bad binary protocol version word 0x{word:08x}"
                )));
            }
            let message_type = MessageType::from_wire((word & 0xff) as u8)?;
            let len = c.binary_len("method name length")?;
            let name = c.take(len)?;
            let name = std::str::from_utf8(name)
                .map_err(|_| malformed("method name is not UTF-8"))?
                .to_string();
            let seqid = c.i32_be()?;
            MessageHeader {
                protocol,
                name,
                message_type,
                seqid,
            }
        }
        WireProtocol::Compact => {
            c.u8()?; // 0x82
            let vt = c.u8()?;
            if vt & 0x1f != 1 {
                return Err(malformed(format!(
                    "unsupported compact protocol version {}",
                    vt & 0x1f
                )));
            }
            let message_type = MessageType::from_wire(vt >> 5)?;
            let seqid = c.varint(5)?;
            if seqid > u32::MAX as u64 {
                return Err(malformed("sequence id out of range"));
            }
            let len = c.compact_len("method name length")?;
            let name = c.take(len)?;
            let name = std::str::from_utf8(name)
                .map_err(|_| malformed("method name is not UTF-8"))?
                .to_string();
            MessageHeader {
                protocol,
                name,
                message_type,
                seqid: seqid as u32 as i32,
            }
        }
    };
    Ok((header, c.pos))
}

/// Checks a whole message (header + body struct) in one frame payload against the bytes
/// actually present, with nesting limited to `max_depth`. Returns the header.
pub fn validate_message(payload: &[u8], max_depth: usize) -> Result<MessageHeader> {
    let (header, body) = read_message_header(payload)?;
    let mut c = Cursor {
        buf: payload,
        pos: body,
    };
    match header.protocol {
        WireProtocol::Binary => binary::value(&mut c, binary::STRUCT, max_depth)?,
        WireProtocol::Compact => compact::struct_body(&mut c, max_depth)?,
    }
    if c.remaining() != 0 {
        return Err(malformed(format!(
            "{} bytes of trailing garbage after the message",
            c.remaining()
        )));
    }
    Ok(header)
}

mod binary {
    use super::{malformed, Cursor};
    use model::Result;

    pub(super) const STRUCT: u8 = 12;

    /// Smallest encoding of a value of type `t`, or an error for unknown types.
    fn min_size(t: u8) -> Result<usize> {
        Ok(match t {
            2 | 3 => 1,   // bool, byte
            4 | 10 => 8,  // double, i64
            6 => 2,       // i16
            8 => 4,       // i32
            11 => 4,      // string/binary: length
            12 => 1,      // struct: stop byte
            13 => 6,      // map: 2 type bytes + count
            14 | 15 => 5, // set/list: type byte + count
            16 => 16,     // uuid
            other => return Err(malformed(format!("unknown binary type id {other}"))),
        })
    }

    pub(super) fn value(c: &mut Cursor<'_>, t: u8, depth: usize) -> Result<()> {
        match t {
            2 | 3 => c.skip_bytes(1, "value"),
            4 | 10 => c.skip_bytes(8, "value"),
            6 => c.skip_bytes(2, "value"),
            8 => c.skip_bytes(4, "value"),
            16 => c.skip_bytes(16, "uuid"),
            11 => {
                let len = c.binary_len("string length")?;
                c.skip_bytes(len, "string")
            }
            12 => {
                let depth = depth
                    .checked_sub(1)
                    .ok_or_else(|| malformed("nesting too deep"))?;
                loop {
                    let ft = c.u8()?;
                    if ft == 0 {
                        return Ok(());
                    }
                    min_size(ft)?;
                    c.i16_be()?;
                    value(c, ft, depth)?;
                }
            }
            13 => {
                let depth = depth
                    .checked_sub(1)
                    .ok_or_else(|| malformed("nesting too deep"))?;
                let kt = c.u8()?;
                let vt = c.u8()?;
                let count = c.binary_len("map size")?;
                if count == 0 {
                    return Ok(());
                }
                let per = min_size(kt)? + min_size(vt)?;
                c.check_count(count, per, "map")?;
                for _ in 0..count {
                    value(c, kt, depth)?;
                    value(c, vt, depth)?;
                }
                Ok(())
            }
            14 | 15 => {
                let depth = depth
                    .checked_sub(1)
                    .ok_or_else(|| malformed("nesting too deep"))?;
                let et = c.u8()?;
                let count = c.binary_len("list size")?;
                if count == 0 {
                    return Ok(());
                }
                c.check_count(count, min_size(et)?, "list")?;
                for _ in 0..count {
                    value(c, et, depth)?;
                }
                Ok(())
            }
            other => Err(malformed(format!("unknown binary type id {other}"))),
        }
    }
}

mod compact {
    use super::{malformed, Cursor};
    use model::Result;

    // compact type ids
    const BOOL_TRUE: u8 = 1;
    const BOOL_FALSE: u8 = 2;
    const BYTE: u8 = 3;
    const I16: u8 = 4;
    const I32: u8 = 5;
    const I64: u8 = 6;
    const DOUBLE: u8 = 7;
    const BINARY: u8 = 8;
    const LIST: u8 = 9;
    const SET: u8 = 10;
    const MAP: u8 = 11;
    const STRUCT: u8 = 12;
    const UUID: u8 = 13;

    fn min_size(t: u8) -> Result<usize> {
        Ok(match t {
            BOOL_TRUE | BOOL_FALSE | BYTE | I16 | I32 | I64 | BINARY | LIST | SET | MAP
            | STRUCT => 1,
            DOUBLE => 8,
            UUID => 16,
            other => return Err(malformed(format!("unknown compact type id {other}"))),
        })
    }

    pub(super) fn struct_body(c: &mut Cursor<'_>, depth: usize) -> Result<()> {
        let depth = depth
            .checked_sub(1)
            .ok_or_else(|| malformed("nesting too deep"))?;
        loop {
            let h = c.u8()?;
            if h == 0 {
                return Ok(());
            }
            let t = h & 0x0f;
            if h >> 4 == 0 {
                c.varint(3)?; // zigzag i16 field id
            }
            match t {
                // a boolean field carries its value in the type nibble
                BOOL_TRUE | BOOL_FALSE => {}
                _ => element(c, t, depth)?,
            }
        }
    }

    /// A value of type `t` as it appears in a container (or a non-bool field).
    fn element(c: &mut Cursor<'_>, t: u8, depth: usize) -> Result<()> {
        match t {
            BOOL_TRUE | BOOL_FALSE | BYTE => c.skip_bytes(1, "value"),
            I16 => c.varint(3).map(drop),
            I32 => c.varint(5).map(drop),
            I64 => c.varint(10).map(drop),
            DOUBLE => c.skip_bytes(8, "value"),
            UUID => c.skip_bytes(16, "uuid"),
            BINARY => {
                let len = c.compact_len("binary length")?;
                c.skip_bytes(len, "binary")
            }
            STRUCT => struct_body(c, depth),
            LIST | SET => {
                let depth = depth
                    .checked_sub(1)
                    .ok_or_else(|| malformed("nesting too deep"))?;
                let h = c.u8()?;
                let et = h & 0x0f;
                let count = if h >> 4 == 15 {
                    c.compact_len("list size")?
                } else {
                    usize::from(h >> 4)
                };
                if count == 0 {
                    return Ok(());
                }
                c.check_count(count, min_size(et)?, "list")?;
                for _ in 0..count {
                    element(c, et, depth)?;
                }
                Ok(())
            }
            MAP => {
                let depth = depth
                    .checked_sub(1)
                    .ok_or_else(|| malformed("nesting too deep"))?;
                let count = c.compact_len("map size")?;
                if count == 0 {
                    return Ok(());
                }
                let kv = c.u8()?;
                let (kt, vt) = (kv >> 4, kv & 0x0f);
                let per = min_size(kt)? + min_size(vt)?;
                c.check_count(count, per, "map")?;
                for _ in 0..count {
                    element(c, kt, depth)?;
                    element(c, vt, depth)?;
                }
                Ok(())
            }
            other => Err(malformed(format!("unknown compact type id {other}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The captured `openSession` request payload of the protocol reference (§1.1).
    pub(crate) fn captured_open_session() -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&[0x80, 0x01, 0x00, 0x01, 0, 0, 0, 11]);
        v.extend_from_slice(b"openSession");
        v.extend_from_slice(&[0, 0, 0, 0]);
        v.extend_from_slice(&[0x0c, 0x00, 0x01]);
        v.extend_from_slice(&[0x08, 0x00, 0x01, 0, 0, 0, 2]);
        v.extend_from_slice(&[0x0b, 0x00, 0x02, 0, 0, 0, 6]);
        v.extend_from_slice(b"+08:00");
        v.extend_from_slice(&[0x0b, 0x00, 0x03, 0, 0, 0, 4]);
        v.extend_from_slice(b"root");
        v.extend_from_slice(&[0x0b, 0x00, 0x04, 0, 0, 0, 4]);
        v.extend_from_slice(b"root");
        v.extend_from_slice(&[0x0d, 0x00, 0x05, 0x0b, 0x0b, 0, 0, 0, 1, 0, 0, 0, 7]);
        v.extend_from_slice(b"version");
        v.extend_from_slice(&[0, 0, 0, 6]);
        v.extend_from_slice(b"V_0_13");
        v.extend_from_slice(&[0x00, 0x00]);
        v
    }

    #[test]
    fn captured_open_session_is_valid() {
        let p = captured_open_session();
        assert_eq!(p.len(), 0x64, "the reference frame length is 0x64");
        let h = validate_message(&p, DEFAULT_MAX_DEPTH).unwrap();
        assert_eq!(h.name, "openSession");
        assert_eq!(h.message_type, MessageType::Call);
        assert_eq!(h.seqid, 0);
        assert_eq!(h.protocol, WireProtocol::Binary);
    }

    #[test]
    fn every_truncation_is_rejected() {
        let p = captured_open_session();
        for n in 0..p.len() {
            assert!(
                validate_message(&p[..n], DEFAULT_MAX_DEPTH).is_err(),
                "prefix {n}"
            );
        }
    }

    #[test]
    fn trailing_garbage_is_rejected() {
        let mut p = captured_open_session();
        p.push(0);
        assert!(validate_message(&p, DEFAULT_MAX_DEPTH).is_err());
    }

    #[test]
    fn huge_counts_are_rejected() {
        // args { 1: list<i64> with 0x7fffffff elements } and nothing behind it
        let mut p = vec![0x80, 0x01, 0x00, 0x01, 0, 0, 0, 1, b'x', 0, 0, 0, 0];
        p.extend_from_slice(&[0x0f, 0x00, 0x01, 0x0a, 0x7f, 0xff, 0xff, 0xff, 0x00]);
        let e = validate_message(&p, DEFAULT_MAX_DEPTH).unwrap_err();
        assert!(e.to_string().contains("cannot fit"), "{e}");
        // a negative string length
        let mut p = vec![0x80, 0x01, 0x00, 0x01, 0, 0, 0, 1, b'x', 0, 0, 0, 0];
        p.extend_from_slice(&[0x0b, 0x00, 0x01, 0xff, 0xff, 0xff, 0xff, 0x00]);
        assert!(validate_message(&p, DEFAULT_MAX_DEPTH).is_err());
        // compact: list<i64> of 2^31-1 elements
        let mut p = vec![0x82, 0x21, 0x00, 0x01, b'x'];
        p.extend_from_slice(&[0x19, 0xf6, 0xff, 0xff, 0xff, 0xff, 0x07, 0x00]);
        assert!(validate_message(&p, DEFAULT_MAX_DEPTH).is_err());
    }

    #[test]
    fn depth_is_limited() {
        // nested structs 100 deep: field 1 struct { field 1 struct { ... } }
        let mut p = vec![0x80, 0x01, 0x00, 0x01, 0, 0, 0, 1, b'x', 0, 0, 0, 0];
        for _ in 0..100 {
            p.extend_from_slice(&[0x0c, 0x00, 0x01]);
        }
        p.resize(p.len() + 101, 0u8);
        assert!(validate_message(&p, DEFAULT_MAX_DEPTH).is_err());
        assert!(validate_message(&p, 200).is_ok());
    }

    #[test]
    fn compact_header() {
        // 0x82, version 1 | CALL<<5, seqid 0, name length 1, "x", empty struct
        let p = [0x82, 0x21, 0x00, 0x01, b'x', 0x00];
        let h = validate_message(&p, DEFAULT_MAX_DEPTH).unwrap();
        assert_eq!(h.protocol, WireProtocol::Compact);
        assert_eq!(h.name, "x");
        assert_eq!(h.message_type, MessageType::Call);
        // bool fields carry no value byte; unknown type ids are refused
        let p = [0x82, 0x21, 0x00, 0x01, b'x', 0x11, 0x12, 0x00];
        assert!(validate_message(&p, DEFAULT_MAX_DEPTH).is_ok());
        let p = [0x82, 0x21, 0x00, 0x01, b'x', 0x1e, 0x00];
        assert!(validate_message(&p, DEFAULT_MAX_DEPTH).is_err());
    }

    proptest::proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let _ = validate_message(&bytes, DEFAULT_MAX_DEPTH);
            let mut b = bytes.clone();
            if !b.is_empty() { b[0] = 0x82; }
            let _ = validate_message(&b, DEFAULT_MAX_DEPTH);
            let mut b = captured_open_session();
            b.extend_from_slice(&bytes);
            let _ = validate_message(&b, DEFAULT_MAX_DEPTH);
        }
    }
}
