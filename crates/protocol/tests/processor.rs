//! End-to-end: request frames (captured bytes and frames built with the generated
//! structs, binary and compact) through `handle_frame` and the generated processor.

use protocol::client::*;
use protocol::common::{self, TSStatus};
use protocol::thrift;
use protocol::thrift::protocol::{
    TBinaryInputProtocol, TBinaryOutputProtocol, TCompactInputProtocol, TCompactOutputProtocol,
    TFieldIdentifier, TInputProtocol, TMessageIdentifier, TMessageType, TOutputProtocol,
    TSerializable, TStructIdentifier, TType,
};
use protocol::thrift::ApplicationErrorKind;
use protocol::{handle_frame, DecodeLimits, WireProtocol};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

#[derive(Default)]
struct TestHandler {
    seen: Rc<RefCell<Vec<String>>>,
}

fn unsupported<T>(what: &str) -> thrift::Result<T> {
    Err(thrift::Error::Application(thrift::ApplicationError::new(
        ApplicationErrorKind::Unknown,
        format!("{what} is not supported by the test handler"),
    )))
}

impl IClientRPCServiceSyncHandler for TestHandler {
    fn handle_open_session(&self, req: TSOpenSessionReq) -> thrift::Result<TSOpenSessionResp> {
        self.seen.borrow_mut().push(format!(
            "openSession protocol={} zone={} user={} password={:?} config={:?}",
            req.client_protocol.0, req.zone_id, req.username, req.password, req.configuration
        ));
        Ok(TSOpenSessionResp::new(
            TSStatus::new(200, String::new(), None, None, None),
            TSProtocolVersion::IOTDB_SERVICE_PROTOCOL_V3,
            42,
            BTreeMap::new(),
        ))
    }
    fn handle_close_session(&self, _req: TSCloseSessionReq) -> thrift::Result<common::TSStatus> {
        unsupported("close_session")
    }
    fn handle_request_statement_id(&self, session_id: i64) -> thrift::Result<i64> {
        Ok(session_id * 10)
    }
    fn handle_get_time_zone(&self, _session_id: i64) -> thrift::Result<TSGetTimeZoneResp> {
        unsupported("get_time_zone")
    }
    fn handle_set_time_zone(&self, _req: TSSetTimeZoneReq) -> thrift::Result<common::TSStatus> {
        unsupported("set_time_zone")
    }
    fn handle_get_properties(&self) -> thrift::Result<ServerProperties> {
        unsupported("get_properties")
    }
    fn handle_execute_statement(
        &self,
        _req: TSExecuteStatementReq,
    ) -> thrift::Result<TSExecuteStatementResp> {
        unsupported("execute_statement")
    }
    fn handle_execute_query_statement(
        &self,
        _req: TSExecuteStatementReq,
    ) -> thrift::Result<TSExecuteStatementResp> {
        unsupported("execute_query_statement")
    }
    fn handle_execute_update_statement(
        &self,
        _req: TSExecuteStatementReq,
    ) -> thrift::Result<TSExecuteStatementResp> {
        unsupported("execute_update_statement")
    }
    fn handle_execute_batch_statement(
        &self,
        _req: TSExecuteBatchStatementReq,
    ) -> thrift::Result<common::TSStatus> {
        unsupported("execute_batch_statement")
    }
    fn handle_execute_raw_data_query(
        &self,
        _req: TSRawDataQueryReq,
    ) -> thrift::Result<TSExecuteStatementResp> {
        unsupported("execute_raw_data_query")
    }
    fn handle_execute_last_data_query(
        &self,
        _req: TSLastDataQueryReq,
    ) -> thrift::Result<TSExecuteStatementResp> {
        unsupported("execute_last_data_query")
    }
    fn handle_execute_aggregation_query(
        &self,
        _req: TSAggregationQueryReq,
    ) -> thrift::Result<TSExecuteStatementResp> {
        unsupported("execute_aggregation_query")
    }
    fn handle_execute_group_by_query_interval_query(
        &self,
        _req: TSGroupByQueryIntervalReq,
    ) -> thrift::Result<TSExecuteStatementResp> {
        unsupported("execute_group_by_query_interval_query")
    }
    fn handle_fetch_results(&self, _req: TSFetchResultsReq) -> thrift::Result<TSFetchResultsResp> {
        unsupported("fetch_results")
    }
    fn handle_execute_statement_v2(
        &self,
        _req: TSExecuteStatementReq,
    ) -> thrift::Result<TSExecuteStatementResp> {
        unsupported("execute_statement_v2")
    }
    fn handle_execute_query_statement_v2(
        &self,
        _req: TSExecuteStatementReq,
    ) -> thrift::Result<TSExecuteStatementResp> {
        unsupported("execute_query_statement_v2")
    }
    fn handle_execute_update_statement_v2(
        &self,
        _req: TSExecuteStatementReq,
    ) -> thrift::Result<TSExecuteStatementResp> {
        unsupported("execute_update_statement_v2")
    }
    fn handle_execute_raw_data_query_v2(
        &self,
        _req: TSRawDataQueryReq,
    ) -> thrift::Result<TSExecuteStatementResp> {
        unsupported("execute_raw_data_query_v2")
    }
    fn handle_execute_last_data_query_v2(
        &self,
        _req: TSLastDataQueryReq,
    ) -> thrift::Result<TSExecuteStatementResp> {
        unsupported("execute_last_data_query_v2")
    }
    fn handle_execute_aggregation_query_v2(
        &self,
        _req: TSAggregationQueryReq,
    ) -> thrift::Result<TSExecuteStatementResp> {
        unsupported("execute_aggregation_query_v2")
    }
    fn handle_execute_fast_last_data_query_for_one_device_v2(
        &self,
        _req: TSFastLastDataQueryForOneDeviceReq,
    ) -> thrift::Result<TSExecuteStatementResp> {
        unsupported("execute_fast_last_data_query_for_one_device_v2")
    }
    fn handle_execute_fast_last_data_query_for_one_prefix_path(
        &self,
        _req: TSFastLastDataQueryForOnePrefixPathReq,
    ) -> thrift::Result<TSExecuteStatementResp> {
        unsupported("execute_fast_last_data_query_for_one_prefix_path")
    }
    fn handle_fetch_results_v2(
        &self,
        _req: TSFetchResultsReq,
    ) -> thrift::Result<TSFetchResultsResp> {
        unsupported("fetch_results_v2")
    }
    fn handle_close_operation(
        &self,
        _req: TSCloseOperationReq,
    ) -> thrift::Result<common::TSStatus> {
        unsupported("close_operation")
    }
    fn handle_cancel_operation(
        &self,
        _req: TSCancelOperationReq,
    ) -> thrift::Result<common::TSStatus> {
        unsupported("cancel_operation")
    }
    fn handle_fetch_metadata(
        &self,
        _req: TSFetchMetadataReq,
    ) -> thrift::Result<TSFetchMetadataResp> {
        unsupported("fetch_metadata")
    }
    fn handle_set_storage_group(
        &self,
        _session_id: i64,
        _storage_group: String,
    ) -> thrift::Result<common::TSStatus> {
        unsupported("set_storage_group")
    }
    fn handle_delete_storage_groups(
        &self,
        _session_id: i64,
        _storage_group: Vec<String>,
    ) -> thrift::Result<common::TSStatus> {
        unsupported("delete_storage_groups")
    }
    fn handle_create_timeseries(
        &self,
        _req: TSCreateTimeseriesReq,
    ) -> thrift::Result<common::TSStatus> {
        unsupported("create_timeseries")
    }
    fn handle_create_aligned_timeseries(
        &self,
        _req: TSCreateAlignedTimeseriesReq,
    ) -> thrift::Result<common::TSStatus> {
        unsupported("create_aligned_timeseries")
    }
    fn handle_create_multi_timeseries(
        &self,
        _req: TSCreateMultiTimeseriesReq,
    ) -> thrift::Result<common::TSStatus> {
        unsupported("create_multi_timeseries")
    }
    fn handle_delete_timeseries(
        &self,
        _session_id: i64,
        _path: Vec<String>,
    ) -> thrift::Result<common::TSStatus> {
        unsupported("delete_timeseries")
    }
    fn handle_create_timeseries_using_schema_template(
        &self,
        _req: TCreateTimeseriesUsingSchemaTemplateReq,
    ) -> thrift::Result<common::TSStatus> {
        unsupported("create_timeseries_using_schema_template")
    }
    fn handle_create_schema_template(
        &self,
        _req: TSCreateSchemaTemplateReq,
    ) -> thrift::Result<common::TSStatus> {
        unsupported("create_schema_template")
    }
    fn handle_append_schema_template(
        &self,
        _req: TSAppendSchemaTemplateReq,
    ) -> thrift::Result<common::TSStatus> {
        unsupported("append_schema_template")
    }
    fn handle_prune_schema_template(
        &self,
        _req: TSPruneSchemaTemplateReq,
    ) -> thrift::Result<common::TSStatus> {
        unsupported("prune_schema_template")
    }
    fn handle_query_schema_template(
        &self,
        _req: TSQueryTemplateReq,
    ) -> thrift::Result<TSQueryTemplateResp> {
        unsupported("query_schema_template")
    }
    fn handle_set_schema_template(
        &self,
        _req: TSSetSchemaTemplateReq,
    ) -> thrift::Result<common::TSStatus> {
        unsupported("set_schema_template")
    }
    fn handle_unset_schema_template(
        &self,
        _req: TSUnsetSchemaTemplateReq,
    ) -> thrift::Result<common::TSStatus> {
        unsupported("unset_schema_template")
    }
    fn handle_drop_schema_template(
        &self,
        _req: TSDropSchemaTemplateReq,
    ) -> thrift::Result<common::TSStatus> {
        unsupported("drop_schema_template")
    }
    fn handle_insert_record(&self, _req: TSInsertRecordReq) -> thrift::Result<common::TSStatus> {
        unsupported("insert_record")
    }
    fn handle_insert_string_record(
        &self,
        _req: TSInsertStringRecordReq,
    ) -> thrift::Result<common::TSStatus> {
        unsupported("insert_string_record")
    }
    fn handle_insert_records(&self, _req: TSInsertRecordsReq) -> thrift::Result<common::TSStatus> {
        unsupported("insert_records")
    }
    fn handle_insert_string_records(
        &self,
        _req: TSInsertStringRecordsReq,
    ) -> thrift::Result<common::TSStatus> {
        unsupported("insert_string_records")
    }
    fn handle_insert_records_of_one_device(
        &self,
        _req: TSInsertRecordsOfOneDeviceReq,
    ) -> thrift::Result<common::TSStatus> {
        unsupported("insert_records_of_one_device")
    }
    fn handle_insert_string_records_of_one_device(
        &self,
        _req: TSInsertStringRecordsOfOneDeviceReq,
    ) -> thrift::Result<common::TSStatus> {
        unsupported("insert_string_records_of_one_device")
    }
    fn handle_insert_tablet(&self, req: TSInsertTabletReq) -> thrift::Result<common::TSStatus> {
        self.seen.borrow_mut().push(format!(
            "insertTablet {} {:?} size={} values={} times={}",
            req.prefix_path,
            req.measurements,
            req.size,
            req.values.len(),
            req.timestamps.len()
        ));
        Ok(TSStatus::new(200, None, None, None, None))
    }
    fn handle_insert_tablets(&self, _req: TSInsertTabletsReq) -> thrift::Result<common::TSStatus> {
        unsupported("insert_tablets")
    }
    fn handle_delete_data(&self, _req: TSDeleteDataReq) -> thrift::Result<common::TSStatus> {
        unsupported("delete_data")
    }
    fn handle_test_insert_record(
        &self,
        _req: TSInsertRecordReq,
    ) -> thrift::Result<common::TSStatus> {
        unsupported("test_insert_record")
    }
    fn handle_test_insert_string_record(
        &self,
        _req: TSInsertStringRecordReq,
    ) -> thrift::Result<common::TSStatus> {
        unsupported("test_insert_string_record")
    }
    fn handle_test_insert_records(
        &self,
        _req: TSInsertRecordsReq,
    ) -> thrift::Result<common::TSStatus> {
        unsupported("test_insert_records")
    }
    fn handle_test_insert_string_records(
        &self,
        _req: TSInsertStringRecordsReq,
    ) -> thrift::Result<common::TSStatus> {
        unsupported("test_insert_string_records")
    }
    fn handle_test_insert_records_of_one_device(
        &self,
        _req: TSInsertRecordsOfOneDeviceReq,
    ) -> thrift::Result<common::TSStatus> {
        unsupported("test_insert_records_of_one_device")
    }
    fn handle_test_insert_tablet(
        &self,
        _req: TSInsertTabletReq,
    ) -> thrift::Result<common::TSStatus> {
        unsupported("test_insert_tablet")
    }
    fn handle_test_insert_tablets(
        &self,
        _req: TSInsertTabletsReq,
    ) -> thrift::Result<common::TSStatus> {
        unsupported("test_insert_tablets")
    }
    fn handle_show_configuration_template(
        &self,
    ) -> thrift::Result<common::TShowConfigurationTemplateResp> {
        unsupported("show_configuration_template")
    }
    fn handle_show_configuration(
        &self,
        _node_id: i32,
    ) -> thrift::Result<common::TShowConfigurationResp> {
        unsupported("show_configuration")
    }
    fn handle_test_connection_empty_r_p_c(&self) -> thrift::Result<common::TSStatus> {
        unsupported("test_connection_empty_r_p_c")
    }
    fn handle_handshake(&self) -> thrift::Result<common::TSStatus> {
        unsupported("handshake")
    }
    fn handle_send_pipe_data(&self, _buff: Vec<u8>) -> thrift::Result<common::TSStatus> {
        unsupported("send_pipe_data")
    }
    fn handle_send_file(
        &self,
        _meta_info: TSyncTransportMetaInfo,
        _buff: Vec<u8>,
    ) -> thrift::Result<common::TSStatus> {
        unsupported("send_file")
    }
    fn handle_pipe_transfer(&self) -> thrift::Result<TPipeTransferResp> {
        unsupported("pipe_transfer")
    }
    fn handle_pipe_subscribe(&self) -> thrift::Result<TPipeSubscribeResp> {
        unsupported("pipe_subscribe")
    }
    fn handle_get_backup_configuration(&self) -> thrift::Result<TSBackupConfigurationResp> {
        unsupported("get_backup_configuration")
    }
    fn handle_fetch_all_connections_info(&self) -> thrift::Result<TSConnectionInfoResp> {
        unsupported("fetch_all_connections_info")
    }
}

fn processor() -> IClientRPCServiceSyncProcessor<TestHandler> {
    processor_seen().0
}

/// A processor and the log of what its handler saw.
fn processor_seen() -> (
    IClientRPCServiceSyncProcessor<TestHandler>,
    Rc<RefCell<Vec<String>>>,
) {
    let h = TestHandler::default();
    let seen = h.seen.clone();
    (IClientRPCServiceSyncProcessor::new(h), seen)
}

/// A request payload: message header + args struct whose field 1 is written by `arg`.
fn call_payload(
    protocol: WireProtocol,
    name: &str,
    arg: impl FnOnce(&mut dyn TOutputProtocol) -> thrift::Result<()>,
) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut bin;
        let mut comp;
        let o: &mut dyn TOutputProtocol = match protocol {
            WireProtocol::Binary => {
                bin = TBinaryOutputProtocol::new(&mut out, true);
                &mut bin
            }
            WireProtocol::Compact => {
                comp = TCompactOutputProtocol::new(&mut out);
                &mut comp
            }
        };
        o.write_message_begin(&TMessageIdentifier::new(name, TMessageType::Call, 7))
            .unwrap();
        o.write_struct_begin(&TStructIdentifier::new("args"))
            .unwrap();
        arg(o).unwrap();
        o.write_field_stop().unwrap();
        o.write_struct_end().unwrap();
        o.write_message_end().unwrap();
        o.flush().unwrap();
    }
    out
}

fn struct_arg<'a, S: TSerializable>(
    s: &'a S,
) -> impl FnOnce(&mut dyn TOutputProtocol) -> thrift::Result<()> + 'a {
    move |o| {
        o.write_field_begin(&TFieldIdentifier::new("req", TType::Struct, 1))?;
        s.write_to_out_protocol(o)?;
        o.write_field_end()
    }
}

enum Reply<T> {
    Success(TMessageIdentifier, T),
    Exception(TMessageIdentifier, thrift::ApplicationError),
}

/// Splits a reply frame and decodes it: success field 0 read by `read`, or an exception.
fn decode_reply<T>(
    frame: &[u8],
    protocol: WireProtocol,
    read: impl FnOnce(&mut dyn TInputProtocol) -> thrift::Result<T>,
) -> Reply<T> {
    let len = u32::from_be_bytes(frame[..4].try_into().unwrap()) as usize;
    assert_eq!(len, frame.len() - 4, "length prefix");
    let mut body = &frame[4..];
    let mut bin;
    let mut comp;
    let i: &mut dyn TInputProtocol = match protocol {
        WireProtocol::Binary => {
            bin = TBinaryInputProtocol::new(&mut body, true);
            &mut bin
        }
        WireProtocol::Compact => {
            comp = TCompactInputProtocol::new(&mut body);
            &mut comp
        }
    };
    let ident = i.read_message_begin().unwrap();
    if ident.message_type == TMessageType::Exception {
        let e = thrift::Error::read_application_error_from_in_protocol(i).unwrap();
        return Reply::Exception(ident, e);
    }
    assert_eq!(ident.message_type, TMessageType::Reply);
    i.read_struct_begin().unwrap();
    let f = i.read_field_begin().unwrap();
    assert_eq!(f.id, Some(0), "success is field 0");
    let v = read(i).unwrap();
    i.read_field_end().unwrap();
    assert_eq!(i.read_field_begin().unwrap().field_type, TType::Stop);
    i.read_struct_end().unwrap();
    i.read_message_end().unwrap();
    Reply::Success(ident, v)
}

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// The captured openSession exchange of the protocol reference (§1.1), binary protocol.
const OPEN_SESSION_REQUEST: &str = "80010001 0000000b 6f70656e53657373696f6e 00000000
    0c0001 080001 00000002 0b0002 00000006 2b30383a3030 0b0003 00000004 726f6f74
    0b0004 00000004 726f6f74 0d0005 0b0b 00000001 00000007 76657273696f6e 00000006 565f305f3133
    00 00";
const OPEN_SESSION_REPLY: &str = "00000049 80010002 0000000b 6f70656e53657373696f6e 00000000
    0c0000 0c0001 080001 000000c8 0b0002 00000000 00 080002 00000002 0a0003 000000000000002a
    0d0004 0b0b 00000000 00 00";

#[test]
fn captured_open_session_gets_the_captured_reply() {
    let (p, seen) = processor_seen();
    let reply = handle_frame(&p, &hex(OPEN_SESSION_REQUEST), &DecodeLimits::default()).unwrap();
    assert_eq!(reply, hex(OPEN_SESSION_REPLY));
    let seen = seen.borrow();
    assert_eq!(
        seen[0],
        "openSession protocol=2 zone=+08:00 user=root password=Some(\"root\") config=Some({\"version\": \"V_0_13\"})"
    );
}

#[test]
fn compact_open_session_round_trip() {
    let mut conf = BTreeMap::new();
    conf.insert("version".to_string(), "V_1_0".to_string());
    let req = TSOpenSessionReq::new(
        TSProtocolVersion::IOTDB_SERVICE_PROTOCOL_V3,
        "Asia/Shanghai".into(),
        "root".into(),
        "root".to_string(),
        conf,
    );
    let payload = call_payload(WireProtocol::Compact, "openSession", struct_arg(&req));
    assert_eq!(&payload[..2], &[0x82, 0x21]);
    let p = processor();
    let reply = handle_frame(&p, &payload, &DecodeLimits::default()).unwrap();
    match decode_reply(
        &reply,
        WireProtocol::Compact,
        TSOpenSessionResp::read_from_in_protocol,
    ) {
        Reply::Success(ident, resp) => {
            assert_eq!(ident.name, "openSession");
            assert_eq!(ident.sequence_number, 7);
            assert_eq!(resp.status.code, 200);
            assert_eq!(resp.session_id, Some(42));
        }
        Reply::Exception(_, e) => panic!("unexpected exception {e}"),
    }
}

#[test]
fn primitive_args_and_results() {
    for proto in [WireProtocol::Binary, WireProtocol::Compact] {
        let payload = call_payload(proto, "requestStatementId", |o| {
            o.write_field_begin(&TFieldIdentifier::new("sessionId", TType::I64, 1))?;
            o.write_i64(5)?;
            o.write_field_end()
        });
        let reply = handle_frame(&processor(), &payload, &DecodeLimits::default()).unwrap();
        match decode_reply(&reply, proto, |i| i.read_i64()) {
            Reply::Success(_, v) => assert_eq!(v, 50),
            Reply::Exception(_, e) => panic!("{e}"),
        }
    }
}

#[test]
fn insert_tablet_reaches_the_handler() {
    for proto in [WireProtocol::Binary, WireProtocol::Compact] {
        let req = TSInsertTabletReq {
            session_id: 1,
            prefix_path: "root.sg.d1".into(),
            measurements: vec!["s1".into()],
            values: vec![0, 0, 0, 1, 0, 0, 0, 2],
            timestamps: vec![0; 16],
            types: vec![1],
            size: 2,
            is_aligned: Some(false),
            write_to_table: None,
            column_categories: None,
            is_compressed: None,
            encoding_types: None,
            compress_type: None,
        };
        let payload = call_payload(proto, "insertTablet", struct_arg(&req));
        let (p, seen) = processor_seen();
        let reply = handle_frame(&p, &payload, &DecodeLimits::default()).unwrap();
        match decode_reply(&reply, proto, common::TSStatus::read_from_in_protocol) {
            Reply::Success(_, s) => assert_eq!(s.code, 200),
            Reply::Exception(_, e) => panic!("{e}"),
        }
        assert_eq!(
            seen.borrow()[0],
            "insertTablet root.sg.d1 [\"s1\"] size=2 values=8 times=16"
        );
    }
}

#[test]
fn unknown_method_is_an_unknown_method_exception() {
    for proto in [WireProtocol::Binary, WireProtocol::Compact] {
        let payload = call_payload(proto, "noSuchMethod", |_| Ok(()));
        let reply = handle_frame(&processor(), &payload, &DecodeLimits::default()).unwrap();
        match decode_reply(&reply, proto, |i| i.read_i64()) {
            Reply::Exception(ident, e) => {
                assert_eq!(ident.name, "noSuchMethod");
                assert_eq!(ident.sequence_number, 7);
                assert_eq!(e.kind, ApplicationErrorKind::UnknownMethod);
            }
            Reply::Success(..) => panic!("expected an exception"),
        }
    }
}

#[test]
fn missing_required_field_is_an_exception_reply() {
    // closeSession with an empty request struct (sessionId missing)
    let payload = call_payload(WireProtocol::Binary, "closeSession", |o| {
        o.write_field_begin(&TFieldIdentifier::new("req", TType::Struct, 1))?;
        o.write_struct_begin(&TStructIdentifier::new("x"))?;
        o.write_field_stop()?;
        o.write_struct_end()?;
        o.write_field_end()
    });
    let reply = handle_frame(&processor(), &payload, &DecodeLimits::default()).unwrap();
    match decode_reply(&reply, WireProtocol::Binary, |i| i.read_i64()) {
        Reply::Exception(ident, e) => {
            assert_eq!(ident.name, "closeSession");
            assert!(e.message.contains("session_id"), "{}", e.message);
        }
        Reply::Success(..) => panic!("expected an exception"),
    }
}

#[test]
fn forged_counts_get_a_protocol_error_reply_not_an_allocation() {
    // deleteTimeseries(1: sessionId, 2: list<string> with 2^31-1 elements) and no elements
    let payload = call_payload(WireProtocol::Binary, "deleteTimeseries", |o| {
        o.write_field_begin(&TFieldIdentifier::new("sessionId", TType::I64, 1))?;
        o.write_i64(1)?;
        o.write_field_end()?;
        o.write_field_begin(&TFieldIdentifier::new("path", TType::List, 2))?;
        o.write_list_begin(&thrift::protocol::TListIdentifier::new(
            TType::String,
            i32::MAX,
        ))
    });
    let reply = handle_frame(&processor(), &payload, &DecodeLimits::default()).unwrap();
    match decode_reply(&reply, WireProtocol::Binary, |i| i.read_i64()) {
        Reply::Exception(ident, e) => {
            assert_eq!(ident.name, "deleteTimeseries");
            assert_eq!(e.kind, ApplicationErrorKind::ProtocolError);
        }
        Reply::Success(..) => panic!("expected an exception"),
    }
}

#[test]
fn unreadable_frames_ask_the_caller_to_close() {
    let p = processor();
    assert!(handle_frame(&p, b"GET / HTTP/1.1", &DecodeLimits::default()).is_err());
    assert!(handle_frame(&p, &[], &DecodeLimits::default()).is_err());
    assert!(handle_frame(&p, &[0x80, 0x01], &DecodeLimits::default()).is_err());
    assert!(
        protocol::exception_reply_for(&[0x80, 0x01], ApplicationErrorKind::ProtocolError, "x")
            .is_none()
    );
}

#[test]
fn reply_messages_are_refused() {
    let mut payload = hex(OPEN_SESSION_REQUEST);
    payload[3] = 2; // REPLY
    let reply = handle_frame(&processor(), &payload, &DecodeLimits::default()).unwrap();
    match decode_reply(&reply, WireProtocol::Binary, |i| i.read_i64()) {
        Reply::Exception(_, e) => assert_eq!(e.kind, ApplicationErrorKind::InvalidMessageType),
        Reply::Success(..) => panic!("expected an exception"),
    }
    payload[3] = 4; // ONEWAY: no reply possible
    assert!(handle_frame(&processor(), &payload, &DecodeLimits::default()).is_err());
}

/// Valid request payloads of both protocols, used as seeds for mutation.
fn seed_payloads() -> Vec<Vec<u8>> {
    let mut conf = BTreeMap::new();
    conf.insert("version".to_string(), "V_1_0".to_string());
    let open = TSOpenSessionReq::new(
        TSProtocolVersion::IOTDB_SERVICE_PROTOCOL_V3,
        "Z".into(),
        "root".into(),
        "root".to_string(),
        conf,
    );
    let tablet = TSInsertTabletReq {
        session_id: 1,
        prefix_path: "root.sg.d1".into(),
        measurements: vec!["s1".into(), "s2".into()],
        values: vec![1; 24],
        timestamps: vec![0; 16],
        types: vec![4, 1],
        size: 2,
        is_aligned: Some(true),
        write_to_table: None,
        column_categories: Some(vec![1, 2]),
        is_compressed: None,
        encoding_types: None,
        compress_type: None,
    };
    let mut out = vec![hex(OPEN_SESSION_REQUEST)];
    for proto in [WireProtocol::Binary, WireProtocol::Compact] {
        out.push(call_payload(proto, "openSession", struct_arg(&open)));
        out.push(call_payload(proto, "insertTablet", struct_arg(&tablet)));
    }
    out
}

#[test]
fn replies_pass_our_own_validator() {
    for payload in seed_payloads() {
        let reply = handle_frame(&processor(), &payload, &DecodeLimits::default()).unwrap();
        let h = protocol::validate_message(&reply[4..], 64).unwrap();
        assert!(matches!(
            h.message_type,
            protocol::MessageType::Reply | protocol::MessageType::Exception
        ));
    }
}

proptest::proptest! {
    /// Mutated requests never panic the validator, the generated decoders or the
    /// handler path: they are answered or refused.
    #[test]
    fn mutated_requests_never_panic(
        seed in 0usize..5,
        edits in proptest::collection::vec((proptest::num::usize::ANY, proptest::num::u8::ANY), 1..6),
        cut in proptest::option::of(proptest::num::usize::ANY),
    ) {
        let seeds = seed_payloads();
        let mut p = seeds[seed % seeds.len()].clone();
        for (pos, byte) in edits {
            let i = pos % p.len();
            p[i] = byte;
        }
        if let Some(c) = cut {
            p.truncate(c % (p.len() + 1));
        }
        if let Ok(reply) = handle_frame(&processor(), &p, &DecodeLimits::default()) {
            proptest::prop_assert!(protocol::validate_message(&reply[4..], 64).is_ok());
        }
    }
}
