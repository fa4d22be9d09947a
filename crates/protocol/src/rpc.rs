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
    success_reply_frame(h.protocol, &h.name, h.seqid, |o| {
        status.write_to_out_protocol(o)
    })
    .ok()
}

/// A reply frame of method `name` whose result struct holds only its `success` field (field
/// 0), written by `success`.
fn success_reply_frame(
    protocol: WireProtocol,
    name: &str,
    seqid: i32,
    success: impl FnOnce(&mut dyn TOutputProtocol) -> thrift::Result<()>,
) -> Result<Vec<u8>> {
    build_frame(protocol, |o| {
        o.write_message_begin(&TMessageIdentifier::new(name, TMessageType::Reply, seqid))?;
        o.write_struct_begin(&TStructIdentifier::new("result"))?;
        o.write_field_begin(&TFieldIdentifier::new("success", TType::Struct, 0))?;
        success(o)?;
        o.write_field_end()?;
        o.write_field_stop()?;
        o.write_struct_end()?;
        o.write_message_end()?;
        o.flush()
    })
}

/// Builds in `out` the `fetchResultsV2` reply frame `reply` (a whole frame as
/// [`handle_frame`] returns it, answered without `queryResult`) with a `queryResult` field
/// added: a list of one binary of `len` bytes, which `write` appends to `out` in place. A
/// result page is so encoded where it is sent, instead of being built apart and copied
/// into the frame by the generated code. The field goes after the others (Thrift readers
/// take fields in any order; compact protocol: the long field header, valid after any
/// field id).
pub fn reply_with_query_result(
    reply: &[u8],
    out: &mut Vec<u8>,
    len: usize,
    write: impl FnOnce(&mut Vec<u8>) -> Result<()>,
) -> Result<()> {
    let payload = reply.get(4..).unwrap_or_default();
    let (h, _) = read_message_header(payload)?;
    // the reply ends with the stop bytes of the response struct and of the result struct
    if h.name != "fetchResultsV2"
        || h.message_type != MessageType::Reply
        || !payload.ends_with(&[0, 0])
    {
        return Err(Error::Internal(
            "not a fetchResultsV2 reply to add a query result to".into(),
        ));
    }
    let size = i32::try_from(len).map_err(|_| {
        Error::Internal(format!(
            "a result page of {len} bytes does not fit a binary"
        ))
    })?;
    out.clear();
    out.reserve(reply.len() + 16 + len);
    out.extend_from_slice(&reply[..reply.len() - 2]);
    match h.protocol {
        WireProtocol::Binary => {
            // field 6: list; list of 1 binary; i32 length
            out.extend_from_slice(&[0x0f, 0, 6, 0x0b, 0, 0, 0, 1]);
            out.extend_from_slice(&size.to_be_bytes());
        }
        WireProtocol::Compact => {
            // long field header (list, zigzag id 6); list of 1 binary; varint length
            out.extend_from_slice(&[0x09, 12, 0x18]);
            let mut v = size as u32;
            while v >= 0x80 {
                out.push((v as u8) | 0x80);
                v >>= 7;
            }
            out.push(v as u8);
        }
    }
    let before = out.len();
    write(out)?;
    if out.len() - before != len {
        return Err(Error::Internal(format!(
            "result page announced as {len} bytes but {} were written",
            out.len() - before
        )));
    }
    out.extend_from_slice(&[0, 0]);
    let header = frame_header(out.len() - 4)?;
    out[..4].copy_from_slice(&header);
    Ok(())
}

/// A `fetchResultsV2` answer read in place: its fields, with the TsBlocks of `queryResult`
/// left where they lie in the message (see [`read_fetch_reply`]).
#[derive(Debug, Clone, PartialEq)]
pub struct FetchReply {
    /// The answer's status.
    pub status: crate::common::TSStatus,
    /// `hasResultSet`.
    pub has_result_set: bool,
    /// `moreData`, when sent.
    pub more_data: Option<bool>,
    /// Where each `queryResult` binary lies in the message.
    pub query_result: Vec<std::ops::Range<usize>>,
    /// `queryDataSet` (V1 results), when sent.
    pub query_data_set: Option<crate::client::TSQueryDataSet>,
}

/// A reader over a message that tells how far it has read (`pos`), so that binaries can be
/// skipped over instead of copied out.
struct Tracked<'a> {
    buf: &'a [u8],
    pos: &'a std::cell::Cell<usize>,
}

impl std::io::Read for Tracked<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let p = self.pos.get().min(self.buf.len());
        let n = out.len().min(self.buf.len() - p);
        out[..n].copy_from_slice(&self.buf[p..p + n]);
        self.pos.set(p + n);
        Ok(n)
    }
}

fn malformed_reply(what: &str) -> thrift::Error {
    thrift::Error::Protocol(thrift::ProtocolError::new(
        thrift::ProtocolErrorKind::InvalidData,
        format!("malformed fetchResultsV2 answer: {what}"),
    ))
}

/// Reads the answer to the `fetchResultsV2` call with sequence id `seq` from `message` (a
/// frame's payload, binary or compact protocol) without copying its TsBlocks: the answer's
/// fields, and where each `queryResult` binary lies in `message`. A client reading a whole
/// result decodes the pages from the frame it received (the generated reader copies each
/// page into a buffer of its own first). Errors as the generated client's: a Thrift
/// application exception the server answered, or a protocol error for anything malformed.
pub fn read_fetch_reply(message: &[u8], seq: i32) -> thrift::Result<FetchReply> {
    use thrift::protocol::{
        verify_expected_message_type, verify_expected_sequence_number, verify_expected_service_call,
    };
    let protocol = WireProtocol::detect(message).map_err(|e| malformed_reply(&e.to_string()))?;
    let pos = std::cell::Cell::new(0);
    let reader = Tracked {
        buf: message,
        pos: &pos,
    };
    let mut i: Box<dyn TInputProtocol + '_> = match protocol {
        WireProtocol::Binary => Box::new(TBinaryInputProtocol::new(reader, true)),
        WireProtocol::Compact => Box::new(TCompactInputProtocol::new(reader)),
    };
    let ident = i.read_message_begin()?;
    verify_expected_sequence_number(seq, ident.sequence_number)?;
    verify_expected_service_call("fetchResultsV2", &ident.name)?;
    if ident.message_type == TMessageType::Exception {
        let remote = thrift::Error::read_application_error_from_in_protocol(i.as_mut())?;
        return Err(thrift::Error::Application(remote));
    }
    verify_expected_message_type(TMessageType::Reply, ident.message_type)?;
    let mut reply = None;
    i.read_struct_begin()?;
    loop {
        let f = i.read_field_begin()?;
        if f.field_type == TType::Stop {
            break;
        }
        if f.id == Some(0) && f.field_type == TType::Struct {
            reply = Some(read_fetch_resp(i.as_mut(), message, &pos, protocol)?);
        } else {
            i.skip(f.field_type)?;
        }
        i.read_field_end()?;
    }
    i.read_struct_end()?;
    i.read_message_end()?;
    reply.ok_or_else(|| {
        thrift::Error::Application(ApplicationError::new(
            ApplicationErrorKind::MissingResult,
            "fetchResultsV2 answered without a result",
        ))
    })
}

/// The `TSFetchResultsResp` struct of [`read_fetch_reply`].
fn read_fetch_resp(
    i: &mut dyn TInputProtocol,
    message: &[u8],
    pos: &std::cell::Cell<usize>,
    protocol: WireProtocol,
) -> thrift::Result<FetchReply> {
    let mut status = None;
    let mut reply = Reply::default();
    i.read_struct_begin()?;
    loop {
        let f = i.read_field_begin()?;
        if f.field_type == TType::Stop {
            break;
        }
        match (f.id, f.field_type) {
            (Some(1), TType::Struct) => {
                status = Some(crate::common::TSStatus::read_from_in_protocol(i)?)
            }
            (Some(2), TType::Bool) => reply.has_result_set = i.read_bool()?,
            (Some(4), TType::Struct) => {
                reply.query_data_set =
                    Some(crate::client::TSQueryDataSet::read_from_in_protocol(i)?)
            }
            (Some(6), TType::List) => {
                let list = i.read_list_begin()?;
                if list.element_type != TType::String {
                    return Err(malformed_reply("queryResult is not a list of binaries"));
                }
                for _ in 0..list.size {
                    let at = pos.get();
                    let (len, head) = match protocol {
                        WireProtocol::Binary => {
                            let b = message
                                .get(at..at + 4)
                                .ok_or_else(|| malformed_reply("truncated binary length"))?;
                            let len = i32::from_be_bytes([b[0], b[1], b[2], b[3]]);
                            let len = usize::try_from(len)
                                .map_err(|_| malformed_reply("negative binary length"))?;
                            (len, 4)
                        }
                        WireProtocol::Compact => {
                            let mut len = 0usize;
                            let mut head = 0;
                            loop {
                                let b = *message
                                    .get(at + head)
                                    .ok_or_else(|| malformed_reply("truncated binary length"))?;
                                len |= usize::from(b & 0x7f) << (7 * head);
                                head += 1;
                                if b & 0x80 == 0 {
                                    break;
                                }
                                if head == 5 {
                                    return Err(malformed_reply("binary length varint too long"));
                                }
                            }
                            (len, head)
                        }
                    };
                    let start = at + head;
                    if len > message.len() - start.min(message.len()) {
                        return Err(malformed_reply("a binary runs past the message"));
                    }
                    reply.query_result.push(start..start + len);
                    pos.set(start + len);
                }
                i.read_list_end()?;
            }
            (Some(7), TType::Bool) => reply.more_data = Some(i.read_bool()?),
            (_, t) => i.skip(t)?,
        }
        i.read_field_end()?;
    }
    i.read_struct_end()?;
    Ok(FetchReply {
        status: status.ok_or_else(|| malformed_reply("no status"))?,
        has_result_set: reply.has_result_set,
        more_data: reply.more_data,
        query_result: reply.query_result,
        query_data_set: reply.query_data_set,
    })
}

/// The fields of a [`FetchReply`] but its status, while they are read.
#[derive(Default)]
struct Reply {
    has_result_set: bool,
    more_data: Option<bool>,
    query_result: Vec<std::ops::Range<usize>>,
    query_data_set: Option<crate::client::TSQueryDataSet>,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::TSFetchResultsResp;
    use crate::common::TSStatus;
    use thrift::protocol::{TBinaryInputProtocol, TCompactInputProtocol};

    /// A `fetchResultsV2` reply frame as the generated processor writes it.
    fn reply(protocol: WireProtocol, resp: &TSFetchResultsResp) -> Vec<u8> {
        success_reply_frame(protocol, "fetchResultsV2", 7, |o| {
            resp.write_to_out_protocol(o)
        })
        .unwrap()
    }

    /// The response in a reply frame, read as clients read it.
    fn read(protocol: WireProtocol, frame: &[u8]) -> TSFetchResultsResp {
        let len = i32::from_be_bytes(frame[..4].try_into().unwrap()) as usize;
        assert_eq!(len, frame.len() - 4);
        let mut payload = &frame[4..];
        let mut i: Box<dyn TInputProtocol + '_> = match protocol {
            WireProtocol::Binary => Box::new(TBinaryInputProtocol::new(&mut payload, true)),
            WireProtocol::Compact => Box::new(TCompactInputProtocol::new(&mut payload)),
        };
        let m = i.read_message_begin().unwrap();
        assert_eq!((m.name.as_str(), m.sequence_number), ("fetchResultsV2", 7));
        i.read_struct_begin().unwrap();
        let f = i.read_field_begin().unwrap();
        assert_eq!(f.id, Some(0));
        let resp = TSFetchResultsResp::read_from_in_protocol(i.as_mut()).unwrap();
        i.read_field_end().unwrap();
        assert_eq!(i.read_field_begin().unwrap().field_type, TType::Stop);
        i.read_struct_end().unwrap();
        i.read_message_end().unwrap();
        resp
    }

    proptest::proptest! {
        #[test]
        fn fetch_reply_reader_never_panics(buf in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            let _ = read_fetch_reply(&buf, 0);
            let mut binary = vec![0x80, 1, 0, 2, 0, 0, 0, 14];
            binary.extend_from_slice(b"fetchResultsV2");
            binary.extend_from_slice(&[0, 0, 0, 0]);
            binary.extend_from_slice(&buf);
            let _ = read_fetch_reply(&binary, 0);
        }
    }

    #[test]
    fn query_result_spliced_into_replies() {
        let status = TSStatus::new(200, "ok".to_string(), None, None, None);
        for protocol in [WireProtocol::Binary, WireProtocol::Compact] {
            // sizes across the compact varint's byte boundaries
            for (len, more) in [
                (0usize, None),
                (5, Some(true)),
                (200, Some(false)),
                (70_000, Some(true)),
            ] {
                let resp =
                    TSFetchResultsResp::new(status.clone(), true, true, None, None, None, more);
                let block: Vec<u8> = (0..len).map(|k| (k % 251) as u8).collect();
                let mut out = vec![1, 2, 3];
                reply_with_query_result(&reply(protocol, &resp), &mut out, len, |o| {
                    o.extend_from_slice(&block);
                    Ok(())
                })
                .unwrap();
                let mut want = resp.clone();
                want.query_result = Some(vec![block.clone()]);
                assert_eq!(read(protocol, &out), want, "{protocol:?} {len}");
                // read in place: the same fields, the block where it lies
                let message = &out[4..];
                let r = read_fetch_reply(message, 7).unwrap();
                assert_eq!(
                    (r.status, r.has_result_set, r.more_data),
                    (status.clone(), true, more)
                );
                assert_eq!(r.query_result.len(), 1);
                assert_eq!(&message[r.query_result[0].clone()], &block[..]);
                assert!(
                    read_fetch_reply(message, 8).is_err(),
                    "another call's answer"
                );
                for cut in [1, 5, message.len() / 2, message.len() - 1] {
                    assert!(
                        read_fetch_reply(&message[..cut], 7).is_err(),
                        "cut at {cut}"
                    );
                }
                // a writer that does not keep its word is an error, not a bad frame
                let short =
                    reply_with_query_result(&reply(protocol, &resp), &mut out, len + 1, |o| {
                        o.extend_from_slice(&block);
                        Ok(())
                    });
                assert!(short.is_err());
            }
            // only fetchResultsV2 replies take a query result
            let base = TSFetchResultsResp::new(status.clone(), false, true, None, None, None, None);
            let other = status_reply_for(&reply(protocol, &base)[4..], 200, "x").unwrap();
            assert!(reply_with_query_result(&other, &mut Vec::new(), 0, |_| Ok(())).is_err());
            // an exception answered in place is the server's exception
            let e = read_fetch_reply(&other[4..], 7).unwrap_err();
            assert!(matches!(e, thrift::Error::Application(_)), "{e}");
            // without query result, and with a V1 data set, read as the generated reader does
            let plain = reply(protocol, &base);
            let r = read_fetch_reply(&plain[4..], 7).unwrap();
            assert!(r.query_result.is_empty() && r.query_data_set.is_none() && !r.has_result_set);
        }
    }
}
