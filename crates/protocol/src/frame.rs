//! Thrift framed transport and per-connection protocol detection.
//!
//! Every IoTDB client message travels in one frame: a 4-byte big-endian length followed
//! by that many payload bytes. The payload starts with the Thrift protocol's first byte,
//! which tells the two protocols apart (`0x80` strict binary, `0x82` compact).

use model::{Error, Result};
use std::io::{self, Read, Write};

/// IoTDB's default maximum frame size (`dn_thrift_max_frame_size`, 512 MiB).
pub const IOTDB_MAX_FRAME_SIZE: usize = 536_870_912;

/// Our default maximum frame size, 64 MiB: a frame is buffered whole before it is
/// decoded, so this is what one connection may hold; IoTDB's 512 MiB would let a few slow
/// peers pin gigabytes. It still takes tablets of a million rows of a few columns
/// (the official clients' default batches are far smaller).
pub const DEFAULT_MAX_FRAME_SIZE: usize = 64 << 20;

/// How much payload buffer is reserved before any payload byte has arrived (at most the
/// frame's length); the buffer then grows only as bytes are actually received, so a forged
/// length costs at most this much address space (pages the kernel backs only once bytes
/// arrive). A mebibyte holds a tablet of 10,000 rows x 10 DOUBLE (880 KB) at once: with
/// 64 KiB such a frame was read through four reallocations, copying 960 KB and touching
/// fresh pages each time.
const INITIAL_RESERVE: usize = 1 << 20;

/// The Thrift protocol of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WireProtocol {
    /// Strict `TBinaryProtocol` (first byte `0x80`).
    Binary,
    /// `TCompactProtocol` (first byte `0x82`).
    Compact,
}

impl WireProtocol {
    /// The protocol a payload is written in, from its first byte.
    ///
    /// Errors when the payload is empty or starts with any other byte (including a
    /// non-strict binary message, which IoTDB clients never send).
    pub fn detect(payload: &[u8]) -> Result<WireProtocol> {
        match payload.first() {
            Some(0x80) => Ok(WireProtocol::Binary),
            Some(0x82) => Ok(WireProtocol::Compact),
            Some(b) => Err(Error::IllegalParameter(format!(
                "unknown Thrift protocol: first payload byte is 0x{b:02x}, expected 0x80 (binary) or 0x82 (compact)"
            ))),
            None => Err(Error::IllegalParameter(
                "empty Thrift frame: no protocol byte".into(),
            )),
        }
    }
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

fn stalled(got: usize, of: &str) -> Error {
    Error::Io(io::Error::new(
        io::ErrorKind::TimedOut,
        format!("peer stalled inside a frame: no byte within the read timeout after {got} {of}"),
    ))
}

/// Reads one frame into `buf` (cleared first), refusing frames longer than
/// `max_frame_size` before reading or allocating anything for them.
///
/// Returns `Ok(false)` on a clean end of stream before the first length byte (the peer
/// closed the connection between requests), `Ok(true)` when `buf` holds a whole frame.
/// A stream that ends inside a frame is an [`Error::Io`] of kind `UnexpectedEof`; a
/// negative or oversized length is an [`Error::IllegalParameter`].
///
/// With a read timeout on the underlying socket, a timeout before the first byte of a
/// frame (an idle client between requests) is an [`Error::Io`] of kind `WouldBlock` after
/// which the caller may simply read again, while a timeout inside a frame (a peer that
/// stalls mid-frame) is an [`Error::Io`] of kind `TimedOut`: the caller drops the
/// connection and the partial frame.
pub fn read_frame_into<R: Read + ?Sized>(
    r: &mut R,
    max_frame_size: usize,
    buf: &mut Vec<u8>,
) -> Result<bool> {
    match read_frame_admitted(r, max_frame_size, buf, &mut |_| Ok(()))? {
        FrameRead::Closed => Ok(false),
        FrameRead::Frame => Ok(true),
        FrameRead::Refused(e) => Err(e),
    }
}

/// What [`read_frame_admitted`] read.
#[derive(Debug)]
pub enum FrameRead {
    /// The peer closed the connection between frames.
    Closed,
    /// The buffer holds a whole frame.
    Frame,
    /// `admit` refused the frame: its payload was read and dropped, and the buffer holds
    /// only its first [`REFUSED_PREFIX`] bytes (enough for the message header, to answer it).
    Refused(Error),
}

/// How many bytes of a refused frame are kept (the method name and sequence id are in them).
pub const REFUSED_PREFIX: usize = 1024;

/// Like [`read_frame_into`], but asks `admit` about the frame's length before any payload
/// byte is buffered (a memory budget for request frames): when it refuses, the payload is
/// read in small pieces and dropped, so the connection stays usable, and the refusal is
/// returned with the frame's first bytes in `buf`.
pub fn read_frame_admitted<R: Read + ?Sized>(
    r: &mut R,
    max_frame_size: usize,
    buf: &mut Vec<u8>,
    admit: &mut dyn FnMut(usize) -> Result<()>,
) -> Result<FrameRead> {
    buf.clear();
    let mut len_bytes = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        match r.read(&mut len_bytes[got..]) {
            Ok(0) if got == 0 => return Ok(FrameRead::Closed),
            Ok(0) => {
                return Err(Error::Io(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "connection closed inside a frame length",
                )))
            }
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if is_timeout(&e) && got == 0 => {
                return Err(Error::Io(io::Error::new(
                    io::ErrorKind::WouldBlock,
                    "no request within the read timeout",
                )))
            }
            Err(e) if is_timeout(&e) => return Err(stalled(got, "length bytes")),
            Err(e) => return Err(Error::Io(e)),
        }
    }
    let declared = i32::from_be_bytes(len_bytes);
    if declared < 0 {
        return Err(Error::IllegalParameter(format!(
            "negative Thrift frame size {declared}"
        )));
    }
    let len = declared as usize;
    if len > max_frame_size {
        return Err(Error::IllegalParameter(format!(
            "Thrift frame size {len} exceeds the maximum frame size {max_frame_size}"
        )));
    }
    if let Err(refusal) = admit(len) {
        let keep = len.min(REFUSED_PREFIX);
        let kept = r.take(keep as u64).read_to_end(buf);
        let dropped =
            kept.and_then(|_| io::copy(&mut r.take((len - keep) as u64), &mut io::sink()));
        return match dropped {
            Ok(n) if buf.len() + n as usize == len => Ok(FrameRead::Refused(refusal)),
            Ok(n) => Err(Error::Io(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "connection closed after {} of {len} frame bytes",
                    buf.len() + n as usize
                ),
            ))),
            Err(e) if is_timeout(&e) => Err(stalled(buf.len(), &format!("of {len} frame bytes"))),
            Err(e) => Err(Error::Io(e)),
        };
    }
    buf.reserve(len.min(INITIAL_RESERVE));
    let read = match r.take(len as u64).read_to_end(buf) {
        Ok(n) => n,
        Err(e) if is_timeout(&e) => {
            return Err(stalled(buf.len(), &format!("of {len} frame bytes")))
        }
        Err(e) => return Err(Error::Io(e)),
    };
    if read != len {
        return Err(Error::Io(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("connection closed after {read} of {len} frame bytes"),
        )));
    }
    Ok(FrameRead::Frame)
}

/// Reads one frame; `Ok(None)` on a clean end of stream. See [`read_frame_into`].
pub fn read_frame<R: Read + ?Sized>(r: &mut R, max_frame_size: usize) -> Result<Option<Vec<u8>>> {
    let mut buf = Vec::new();
    Ok(read_frame_into(r, max_frame_size, &mut buf)?.then_some(buf))
}

/// The 4-byte length prefix of a payload of `len` bytes.
pub fn frame_header(len: usize) -> Result<[u8; 4]> {
    let n = i32::try_from(len).map_err(|_| {
        Error::IllegalParameter(format!(
            "frame payload of {len} bytes does not fit a Thrift frame"
        ))
    })?;
    Ok(n.to_be_bytes())
}

/// Writes `payload` as one frame (length prefix + bytes). Does not flush.
pub fn write_frame<W: Write + ?Sized>(w: &mut W, payload: &[u8]) -> Result<()> {
    w.write_all(&frame_header(payload.len())?)?;
    w.write_all(payload)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let mut wire = Vec::new();
        write_frame(&mut wire, b"\x80abc").unwrap();
        write_frame(&mut wire, b"").unwrap();
        assert_eq!(&wire[..4], &[0, 0, 0, 4]);
        let mut r = &wire[..];
        assert_eq!(read_frame(&mut r, 100).unwrap().unwrap(), b"\x80abc");
        assert_eq!(read_frame(&mut r, 100).unwrap().unwrap(), b"");
        assert!(read_frame(&mut r, 100).unwrap().is_none());
    }

    #[test]
    fn rejects_oversized_and_negative_lengths_without_reading() {
        let wire = [0x00, 0x10, 0x00, 0x00, 1, 2, 3];
        let err = read_frame(&mut &wire[..], 1024).unwrap_err();
        assert!(err.to_string().contains("exceeds the maximum"), "{err}");
        let wire = [0xff, 0xff, 0xff, 0xfe];
        let err = read_frame(&mut &wire[..], 1024).unwrap_err();
        assert!(err.to_string().contains("negative"), "{err}");
    }

    #[test]
    fn refused_frame_is_drained_and_the_next_one_read() {
        let mut wire = Vec::new();
        write_frame(&mut wire, &vec![7u8; 5000]).unwrap();
        write_frame(&mut wire, b"next").unwrap();
        let mut r = &wire[..];
        let mut buf = Vec::new();
        let mut asked = Vec::new();
        let mut admit = |n: usize| {
            asked.push(n);
            if n > 100 {
                Err(Error::NotEnoughMemory("no room".into()))
            } else {
                Ok(())
            }
        };
        let got = read_frame_admitted(&mut r, 1 << 20, &mut buf, &mut admit).unwrap();
        assert!(matches!(got, FrameRead::Refused(Error::NotEnoughMemory(_))));
        assert_eq!(buf, vec![7u8; REFUSED_PREFIX]);
        let got = read_frame_admitted(&mut r, 1 << 20, &mut buf, &mut admit).unwrap();
        assert!(matches!(got, FrameRead::Frame));
        assert_eq!(buf, b"next");
        assert_eq!(asked, [5000, 4]);
    }

    #[test]
    fn forged_length_does_not_allocate_it() {
        // claims 500 MB, sends 3 bytes: must fail with EOF and not reserve 500 MB
        let wire = [0x1d, 0xcd, 0x65, 0x00, 0x80, 0x01, 0x00];
        let mut buf = Vec::new();
        let err = read_frame_into(&mut &wire[..], IOTDB_MAX_FRAME_SIZE, &mut buf).unwrap_err();
        assert!(matches!(err, Error::Io(ref e) if e.kind() == io::ErrorKind::UnexpectedEof));
        assert!(buf.capacity() <= 2 * INITIAL_RESERVE);
    }

    /// A reader that yields its bytes one call at a time, then read timeouts.
    struct Stalling {
        chunks: Vec<Vec<u8>>,
        timeouts_before: usize,
    }

    impl Read for Stalling {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            if self.timeouts_before > 0 {
                self.timeouts_before -= 1;
                return Err(io::ErrorKind::WouldBlock.into());
            }
            if self.chunks.is_empty() {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            let c = self.chunks.remove(0);
            out[..c.len()].copy_from_slice(&c);
            Ok(c.len())
        }
    }

    #[test]
    fn idle_and_mid_frame_timeouts_are_told_apart() {
        let mut idle_then_frame = Stalling {
            chunks: vec![vec![0, 0, 0, 2], vec![0x80, 1]],
            timeouts_before: 3,
        };
        let mut buf = Vec::new();
        for _ in 0..3 {
            let idle = read_frame_into(&mut idle_then_frame, 100, &mut buf).unwrap_err();
            assert!(matches!(idle, Error::Io(ref e) if e.kind() == io::ErrorKind::WouldBlock));
        }
        assert!(read_frame_into(&mut idle_then_frame, 100, &mut buf).unwrap());
        assert_eq!(buf, [0x80, 1]);
        for chunks in [vec![vec![0, 0]], vec![vec![0, 0, 0, 9], vec![0x80]]] {
            let mut stall = Stalling {
                chunks,
                timeouts_before: 0,
            };
            let err = read_frame_into(&mut stall, 100, &mut buf).unwrap_err();
            assert!(
                matches!(err, Error::Io(ref e) if e.kind() == io::ErrorKind::TimedOut),
                "{err}"
            );
            assert!(err.to_string().contains("stalled inside a frame"), "{err}");
        }
    }

    #[test]
    fn truncated_length_is_an_error() {
        let wire = [0x00, 0x00];
        assert!(read_frame(&mut &wire[..], 10).is_err());
    }

    #[test]
    fn detection() {
        assert_eq!(
            WireProtocol::detect(&[0x80, 1]).unwrap(),
            WireProtocol::Binary
        );
        assert_eq!(
            WireProtocol::detect(&[0x82, 0x21]).unwrap(),
            WireProtocol::Compact
        );
        assert!(WireProtocol::detect(&[0x00, 0x00]).is_err());
        assert!(WireProtocol::detect(&[]).is_err());
    }
}
