//! `protocol`: the wire layer between IoTDB clients and iotdb-rs.
//!
//! It owns
//! * our Thrift IDL of IoTDB's `IClientRPCService` (`idl/*.thrift`) and the Rust code
//!   generated from it by the Apache Thrift compiler ([`common`], [`client`]);
//! * the framed transport and per-connection protocol detection ([`frame`]);
//! * a bounded pre-validator that checks every length, count and nesting level of a
//!   message against the bytes actually received, before generated code decodes it
//!   ([`validate`]);
//! * running the generated service processor on one frame and building application
//!   exception replies ([`rpc`]); building `TSStatus` from `model::Error` ([`status`]);
//! * the binary buffers carried inside the Thrift structs: tablets, record values,
//!   schema templates, `TSQueryDataSet` and TsBlock results ([`codec`]).
//!
//! It must not know about sessions, SQL, storage or query execution: it turns bytes into
//! `model` values and back. Every decode of input is bounded and checked; nothing here
//! panics on malformed input.

#![warn(missing_docs)]

#[allow(
    clippy::all,
    clippy::pedantic,
    missing_docs,
    dead_code,
    unused,
    non_camel_case_types,
    non_snake_case
)]
#[path = "generated/common.rs"]
pub mod common;

#[allow(
    clippy::all,
    clippy::pedantic,
    missing_docs,
    dead_code,
    unused,
    non_camel_case_types,
    non_snake_case
)]
#[path = "generated/client.rs"]
pub mod client;

pub mod codec;
pub mod frame;
pub mod rpc;
pub mod status;
pub mod validate;

/// The `thrift` crate the generated code is compiled against (use it for
/// `thrift::server::TProcessor`, `thrift::ApplicationErrorKind`, protocols …).
pub use thrift;

pub use frame::{
    read_frame, read_frame_into, write_frame, WireProtocol, DEFAULT_MAX_FRAME_SIZE,
    IOTDB_MAX_FRAME_SIZE,
};
pub use rpc::{exception_frame, exception_reply_for, handle_frame, DecodeLimits};
pub use validate::{read_message_header, validate_message, MessageHeader, MessageType};
