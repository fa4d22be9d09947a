//! Running the generated service processor on one request frame.
//!
//! The server's connection loop is: [`crate::frame::read_frame_into`] → [`handle_frame`]
//! → write the returned bytes. `handle_frame` detects the protocol, pre-validates the
//! message ([`crate::validate`]), decodes it with the generated code, calls the handler
//! through the processor, and returns the whole reply frame (length prefix included).

use crate::frame::{frame_header, WireProtocol};
use crate::validate::{read_message_header, validate_message, MessageType, DEFAULT_MAX_DEPTH};
use model::{Error, Result};
use std::cell::RefCell;
use thrift::protocol::{
    TBinaryInputProtocol, TBinaryOutputProtocol, TCompactInputProtocol, TCompactOutputProtocol,
    TFieldIdentifier, TInputProtocol, TListIdentifier, TMapIdentifier, TMessageIdentifier,
    TMessageType, TOutputProtocol, TSerializable, TSetIdentifier, TStructIdentifier, TType,
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

/// The methods whose result is a bare `TSStatus` (inserts, DDL by RPC, batches, session
/// calls): a request refused before it was decoded can still get a status code.
const STATUS_METHODS: [&str; 31] = [
    "closeSession",
    "setTimeZone",
    "executeBatchStatement",
    "closeOperation",
    "cancelOperation",
    "createTimeseries",
    "createAlignedTimeseries",
    "createMultiTimeseries",
    "createTimeseriesUsingSchemaTemplate",
    "createSchemaTemplate",
    "appendSchemaTemplate",
    "pruneSchemaTemplate",
    "setSchemaTemplate",
    "unsetSchemaTemplate",
    "dropSchemaTemplate",
    "insertRecord",
    "insertStringRecord",
    "insertRecords",
    "insertStringRecords",
    "insertRecordsOfOneDevice",
    "insertStringRecordsOfOneDevice",
    "insertTablet",
    "insertTablets",
    "deleteData",
    "testInsertRecord",
    "testInsertStringRecord",
    "testInsertRecords",
    "testInsertStringRecords",
    "testInsertRecordsOfOneDevice",
    "testInsertTablet",
    "testInsertTablets",
];

/// The reply to a request that was refused before it was decoded (only the start of its
/// payload is needed): a `TSStatus` with `code` and `message` for the methods that return
/// one (the official clients raise it as `StatementExecutionException` with that code),
/// otherwise a Thrift application exception carrying `<code>: <message>`. `None` when not
/// even the message header can be read.
pub fn status_reply_for(payload: &[u8], code: i32, message: &str) -> Option<Vec<u8>> {
    let (h, _) = read_message_header(payload).ok()?;
    if !STATUS_METHODS.contains(&h.name.as_str()) {
        let text = format!("{code}: {message}");
        return exception_frame(
            h.protocol,
            &h.name,
            h.seqid,
            ApplicationErrorKind::Unknown,
            &text,
        )
        .ok();
    }
    let status = crate::common::TSStatus::new(code, message.to_string(), None, None, None);
    build_frame(h.protocol, |o| {
        o.write_message_begin(&TMessageIdentifier::new(
            &h.name,
            TMessageType::Reply,
            h.seqid,
        ))?;
        o.write_struct_begin(&TStructIdentifier::new("result"))?;
        o.write_field_begin(&TFieldIdentifier::new("success", TType::Struct, 0))?;
        status.write_to_out_protocol(o)?;
        o.write_field_end()?;
        o.write_field_stop()?;
        o.write_struct_end()?;
        o.write_message_end()?;
        o.flush()
    })
    .ok()
}

thread_local! {
    /// What was wrong with the first non-UTF-8 string of the request being served on this
    /// thread (see [`invalid_utf8_in_request`]).
    static INVALID_UTF8: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// If a string of the request now being served on this thread (by [`handle_frame`]) was
/// not valid UTF-8, a message naming it. Handlers check this before acting, so that such
/// a request is answered with a status code (the string itself reaches them with the bad
/// bytes replaced by U+FFFD, as Java's Thrift decoder would read it) rather than with a
/// Thrift application exception.
pub fn invalid_utf8_in_request() -> Option<String> {
    INVALID_UTF8.with(|c| c.borrow().clone())
}

/// An input protocol that reads strings leniently: invalid UTF-8 is replaced and noted in
/// [`INVALID_UTF8`] instead of failing the whole decode.
struct LenientStrings<'a> {
    inner: &'a mut dyn TInputProtocol,
    strings: usize,
}

impl TInputProtocol for LenientStrings<'_> {
    fn read_message_begin(&mut self) -> thrift::Result<TMessageIdentifier> {
        self.inner.read_message_begin()
    }
    fn read_message_end(&mut self) -> thrift::Result<()> {
        self.inner.read_message_end()
    }
    fn read_struct_begin(&mut self) -> thrift::Result<Option<TStructIdentifier>> {
        self.inner.read_struct_begin()
    }
    fn read_struct_end(&mut self) -> thrift::Result<()> {
        self.inner.read_struct_end()
    }
    fn read_field_begin(&mut self) -> thrift::Result<TFieldIdentifier> {
        self.inner.read_field_begin()
    }
    fn read_field_end(&mut self) -> thrift::Result<()> {
        self.inner.read_field_end()
    }
    fn read_bool(&mut self) -> thrift::Result<bool> {
        self.inner.read_bool()
    }
    fn read_bytes(&mut self) -> thrift::Result<Vec<u8>> {
        self.inner.read_bytes()
    }
    fn read_i8(&mut self) -> thrift::Result<i8> {
        self.inner.read_i8()
    }
    fn read_i16(&mut self) -> thrift::Result<i16> {
        self.inner.read_i16()
    }
    fn read_i32(&mut self) -> thrift::Result<i32> {
        self.inner.read_i32()
    }
    fn read_i64(&mut self) -> thrift::Result<i64> {
        self.inner.read_i64()
    }
    fn read_double(&mut self) -> thrift::Result<f64> {
        self.inner.read_double()
    }
    fn read_uuid(&mut self) -> thrift::Result<uuid::Uuid> {
        self.inner.read_uuid()
    }
    fn read_string(&mut self) -> thrift::Result<String> {
        let bytes = self.inner.read_bytes()?;
        self.strings += 1;
        match String::from_utf8(bytes) {
            Ok(s) => Ok(s),
            Err(e) => {
                let at = e.utf8_error().valid_up_to();
                let n = self.strings;
                INVALID_UTF8.with(|c| {
                    c.borrow_mut().get_or_insert_with(|| {
                        format!("string #{n} of the request is not valid UTF-8 (bad byte at {at})")
                    });
                });
                Ok(String::from_utf8_lossy(e.as_bytes()).into_owned())
            }
        }
    }
    fn read_list_begin(&mut self) -> thrift::Result<TListIdentifier> {
        self.inner.read_list_begin()
    }
    fn read_list_end(&mut self) -> thrift::Result<()> {
        self.inner.read_list_end()
    }
    fn read_set_begin(&mut self) -> thrift::Result<TSetIdentifier> {
        self.inner.read_set_begin()
    }
    fn read_set_end(&mut self) -> thrift::Result<()> {
        self.inner.read_set_end()
    }
    fn read_map_begin(&mut self) -> thrift::Result<TMapIdentifier> {
        self.inner.read_map_begin()
    }
    fn read_map_end(&mut self) -> thrift::Result<()> {
        self.inner.read_map_end()
    }
    fn skip_binary(&mut self) -> thrift::Result<()> {
        self.inner.skip_binary()
    }
    fn read_byte(&mut self) -> thrift::Result<u8> {
        self.inner.read_byte()
    }
    fn min_serialized_size(&self, field_type: TType) -> usize {
        self.inner.min_serialized_size(field_type)
    }
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
    INVALID_UTF8.with(|c| c.borrow_mut().take());
    let reply = build_frame(header.protocol, |o| {
        let process = |inner: &mut dyn TInputProtocol, o: &mut dyn TOutputProtocol| {
            processor.process(&mut LenientStrings { inner, strings: 0 }, o)
        };
        match header.protocol {
            WireProtocol::Binary => process(
                &mut TBinaryInputProtocol::with_config(&mut input, true, config),
                o,
            ),
            WireProtocol::Compact => process(
                &mut TCompactInputProtocol::with_config(&mut input, config),
                o,
            ),
        }
    });
    INVALID_UTF8.with(|c| c.borrow_mut().take());
    reply
}
