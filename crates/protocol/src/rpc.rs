//! Running the generated service processor on one request frame.
//!
//! The server's connection loop is: [`crate::frame::read_frame_into`] → [`handle_frame`]
//! → write the returned bytes. `handle_frame` detects the protocol, pre-validates the
//! message ([`crate::validate`]), decodes it with the generated code, calls the handler
//! through the processor, and returns the whole reply frame (length prefix included).

use crate::frame::{frame_header, WireProtocol};
use crate::validate::{read_message_header, validate_message, MessageType, DEFAULT_MAX_DEPTH};
use model::{Error, Result};
use thrift::protocol::{
    TBinaryInputProtocol, TBinaryOutputProtocol, TCompactInputProtocol, TCompactOutputProtocol,
    TMessageIdentifier, TMessageType, TOutputProtocol,
};
use thrift::server::TProcessor;
use thrift::{ApplicationError, ApplicationErrorKind, TConfiguration};

/// Limits applied while decoding one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Maximum nesting of structs and containers.
    pub max_depth: usize,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        DecodeLimits {
            max_depth: DEFAULT_MAX_DEPTH,
        }
    }
}

fn thrift_error(context: &str, e: thrift::Error) -> Error {
    match e {
        thrift::Error::Transport(t) => Error::Io(std::io::Error::other(format!("{context}: {t}"))),
        other => Error::IllegalParameter(format!("{context}: {other}")),
    }
}

/// The `thrift` decoder limits matching a frame of `frame_len` bytes: no string and no
/// container can be larger than the frame itself.
fn decoder_config(frame_len: usize, limits: &DecodeLimits) -> TConfiguration {
    TConfiguration::builder()
        .max_message_size(Some(frame_len.max(1)))
        .max_frame_size(Some(frame_len.max(1)))
        .max_recursion_depth(Some(limits.max_depth))
        .max_container_size(Some(frame_len))
        .max_string_size(Some(frame_len))
        .build()
        .unwrap_or_default()
}

/// Runs `write` against an output protocol of `protocol` over a buffer that starts with
/// a 4-byte length placeholder, then fills in the length: the result is a whole frame.
fn build_frame(
    protocol: WireProtocol,
    write: impl FnOnce(&mut dyn TOutputProtocol) -> thrift::Result<()>,
) -> Result<Vec<u8>> {
    let mut out: Vec<u8> = vec![0; 4];
    let res = match protocol {
        WireProtocol::Binary => write(&mut TBinaryOutputProtocol::new(&mut out, true)),
        WireProtocol::Compact => write(&mut TCompactOutputProtocol::new(&mut out)),
    };
    res.map_err(|e| thrift_error("writing the reply", e))?;
    let len = frame_header(out.len() - 4)?;
    out[..4].copy_from_slice(&len);
    Ok(out)
}

/// A whole reply frame carrying a Thrift application exception for method `name` with
/// sequence id `seqid` (what Thrift servers answer for unknown methods or undecodable
/// arguments; clients raise it as `TApplicationException`).
pub fn exception_frame(
    protocol: WireProtocol,
    name: &str,
    seqid: i32,
    kind: ApplicationErrorKind,
    message: &str,
) -> Result<Vec<u8>> {
    let err = ApplicationError::new(kind, message.to_string());
    build_frame(protocol, |o| {
        o.write_message_begin(&TMessageIdentifier::new(
            name,
            TMessageType::Exception,
            seqid,
        ))?;
        thrift::Error::write_application_error_to_out_protocol(&err, o)?;
        o.write_message_end()?;
        o.flush()
    })
}

/// The application-exception reply frame for a request payload that cannot be served,
/// if at least its header (protocol, method name, sequence id) can be read; `None` means
/// nothing sensible can be answered and the caller should close the connection.
pub fn exception_reply_for(
    payload: &[u8],
    kind: ApplicationErrorKind,
    message: &str,
) -> Option<Vec<u8>> {
    let (h, _) = read_message_header(payload).ok()?;
    exception_frame(h.protocol, &h.name, h.seqid, kind, message).ok()
}

/// Serves one request frame payload with `processor` (typically the generated
/// `client::IClientRPCServiceSyncProcessor` around the server's handler) and returns the
/// whole reply frame, length prefix included, in the request's protocol.
///
/// * A payload that fails pre-validation, or whose message is a reply/exception rather
///   than a call, gets an application-exception reply (`PROTOCOL_ERROR` /
///   `INVALID_MESSAGE_TYPE`) when its header is readable.
/// * Unknown methods get `UNKNOWN_METHOD`, undecodable arguments an exception reply of
///   kind `UNKNOWN` naming the decode error (both written by the generated processor).
/// * `Err` means the connection cannot continue (unknown protocol byte, unreadable
///   header, one-way message, failure writing the reply): the caller should close it.
pub fn handle_frame<P: TProcessor + ?Sized>(
    processor: &P,
    payload: &[u8],
    limits: &DecodeLimits,
) -> Result<Vec<u8>> {
    let header = match validate_message(payload, limits.max_depth) {
        Ok(h) => h,
        Err(e) => {
            return match exception_reply_for(
                payload,
                ApplicationErrorKind::ProtocolError,
                &e.to_string(),
            ) {
                Some(reply) => Ok(reply),
                None => Err(e),
            }
        }
    };
    match header.message_type {
        MessageType::Call => {}
        MessageType::Oneway => {
            return Err(Error::IllegalParameter(format!(
                "one-way call of {} is not supported by IClientRPCService",
                header.name
            )))
        }
        MessageType::Reply | MessageType::Exception => {
            return exception_frame(
                header.protocol,
                &header.name,
                header.seqid,
                ApplicationErrorKind::InvalidMessageType,
                "expected a call message",
            )
        }
    }
    let config = decoder_config(payload.len(), limits);
    let mut input = payload;
    build_frame(header.protocol, |o| match header.protocol {
        WireProtocol::Binary => {
            let mut i = TBinaryInputProtocol::with_config(&mut input, true, config);
            processor.process(&mut i, o)
        }
        WireProtocol::Compact => {
            let mut i = TCompactInputProtocol::with_config(&mut input, config);
            processor.process(&mut i, o)
        }
    })
}
