//! `tsfile`: IoTDB's TsFile format in Rust, byte-compatible with the Java and C++
//! implementations of apache/tsfile.
//!
//! It owns the file format and nothing else: value encodings ([`encoding`]), page compressors
//! ([`compress`]) and the byte-level primitives they stand on ([`buf`], [`bits`]).
//!
//! It must not know about the storage engine, SQL, the network or any I/O policy (where files
//! live, when they are flushed or synced); every decode of bytes from a file is bounded and
//! reports corruption as [`model::Error::StorageEngine`] naming the offset, never a panic.

pub mod bits;
pub mod bloom;
pub mod buf;
pub mod compress;
pub mod device;
pub mod encoding;
pub mod format;
pub mod metadata;
pub mod reader;
pub mod statistics;
pub mod writer;
