// iotdb-rs: the IoTDB client service `IClientRPCService` and its request/response
// structures, as spoken by the official IoTDB clients 1.0.x, 1.3.x and 2.0.x.
//
// Written for iotdb-rs from the wire facts in the project's protocol reference:
// names, field ids and field types follow what the clients send and expect.
// Requiredness is ours: a request field is "required" only if every client version
// always sends it and the server cannot do without it; response fields keep the
// requiredness the clients rely on (e.g. `status`, `hasResultSet`).
//
// Regenerate the Rust code with scripts/gen-thrift after editing.

include "common.thrift"


// ---------------------------------------------------------------- sessions

enum TSProtocolVersion {
  IOTDB_SERVICE_PROTOCOL_V1 = 0,
  IOTDB_SERVICE_PROTOCOL_V2 = 1,
  IOTDB_SERVICE_PROTOCOL_V3 = 2
}

struct TSOpenSessionReq {
  // clients send 2 (V3)
  1: required TSProtocolVersion client_protocol = TSProtocolVersion.IOTDB_SERVICE_PROTOCOL_V3
  2: required string zoneId
  3: required string username
  4: optional string password
  // {"version": "V_0_13" | "V_1_0", 2.0: "sql_dialect", "db"}
  5: optional map<string, string> configuration
}

struct TSOpenSessionResp {
  1: required common.TSStatus status
  2: required TSProtocolVersion serverProtocolVersion = TSProtocolVersion.IOTDB_SERVICE_PROTOCOL_V1
  3: optional i64 sessionId
  // 2.0 clients read "timestamp_precision"
  4: optional map<string, string> configuration
}

struct TSCloseSessionReq {
  1: required i64 sessionId
}

struct TSSetTimeZoneReq {
  1: required i64 sessionId
  2: required string timeZone
}

struct TSGetTimeZoneResp {
  1: required common.TSStatus status
  2: required string timeZone
}

// ---------------------------------------------------------------- statements and results

struct TSExecuteStatementReq {
  1: required i64 sessionId
  2: required string statement
  3: required i64 statementId
  // 1.3/2.0 execute_statement puts its timeout here (often 0) and omits 5
  4: optional i32 fetchSize
  5: optional i64 timeout
  6: optional bool enableRedirectQuery
  7: optional bool jdbcQuery
}

struct TSExecuteBatchStatementReq {
  1: required i64 sessionId
  2: required list<string> statements
}

// V1 result batch: time column + per value column the non-null values and a bitmap.
struct TSQueryDataSet {
  1: required binary time
  2: required list<binary> valueList
  3: required list<binary> bitmapList
}

// Never produced by IoTDB 1.x; kept so that the field ids stay reserved.
struct TSQueryNonAlignDataSet {
  1: required list<binary> timeList
  2: required list<binary> valueList
}

struct TSTracingInfo {
  1: required list<string> activityList
  2: required list<i64> elapsedTimeList
  3: optional i32 seriesPathNum
  4: optional i32 seqFileNum
  5: optional i32 unSeqFileNum
  6: optional i32 sequenceChunkNum
  7: optional i64 sequenceChunkPointNum
  8: optional i32 unsequenceChunkNum
  9: optional i64 unsequenceChunkPointNum
  10: optional i32 totalPageNum
  11: optional i32 overlappedPageNum
}

struct TSExecuteStatementResp {
  1: required common.TSStatus status
  2: optional i64 queryId
  // output column names, without the time column
  3: optional list<string> columns
  4: optional string operationType
  5: optional bool ignoreTimeStamp
  // type names, one per entry of `columns`
  6: optional list<string> dataTypeList
  // V1 methods answer with this ...
  7: optional TSQueryDataSet queryDataSet
  8: optional TSQueryNonAlignDataSet nonAlignQueryDataSet
  9: optional map<string, i32> columnNameIndexMap
  10: optional list<string> sgColumns
  11: optional list<i8> aliasColumns
  12: optional TSTracingInfo tracingInfo
  // ... V2 methods with serialized TsBlocks here
  13: optional list<binary> queryResult
  14: optional bool moreData
  // 2.0
  15: optional string database
  16: optional bool tableModel
  17: optional list<i32> columnIndex2TsBlockColumnIndexList
}

struct TSFetchResultsReq {
  1: required i64 sessionId
  // original SQL ("" for raw/last queries); unused by the server
  2: optional string statement
  3: required i32 fetchSize
  4: required i64 queryId
  5: optional bool isAlign
  6: optional i64 timeout
  // 2.0
  7: optional i64 statementId
}

struct TSFetchResultsResp {
  1: required common.TSStatus status
  2: required bool hasResultSet
  3: required bool isAlign
  4: optional TSQueryDataSet queryDataSet
  5: optional TSQueryNonAlignDataSet nonAlignQueryDataSet
  6: optional list<binary> queryResult
  7: optional bool moreData
}

struct TSCloseOperationReq {
  1: required i64 sessionId
  2: optional i64 queryId
  3: optional i64 statementId
}

struct TSCancelOperationReq {
  1: required i64 sessionId
  2: required i64 queryId
}

struct TSGetOperationStatusReq {
  1: required i64 sessionId
  2: required i64 queryId
}

struct TSFetchMetadataReq {
  1: required i64 sessionId
  2: required string type
  3: optional string columnPath
}

struct TSFetchMetadataResp {
  1: required common.TSStatus status
  2: optional string metadataInJson
  3: optional list<string> columnsList
  4: optional string dataType
}

struct TSRawDataQueryReq {
  1: required i64 sessionId
  2: required list<string> paths
  3: optional i32 fetchSize
  4: required i64 startTime
  5: required i64 endTime
  6: required i64 statementId
  7: optional bool enableRedirectQuery
  8: optional bool jdbcQuery
  9: optional i64 timeout
  // 1.3
  10: optional bool legalPathNodes
}

struct TSLastDataQueryReq {
  1: required i64 sessionId
  2: required list<string> paths
  3: optional i32 fetchSize
  4: required i64 time
  5: required i64 statementId
  6: optional bool enableRedirectQuery
  7: optional bool jdbcQuery
  8: optional i64 timeout
  // 1.3
  9: optional bool legalPathNodes
}

// 1.3: last values of some measurements of one device
struct TSFastLastDataQueryForOneDeviceReq {
  1: required i64 sessionId
  2: required string db
  3: required string deviceId
  4: required list<string> sensors
  5: optional i32 fetchSize
  6: required i64 statementId
  7: optional bool enableRedirectQuery
  8: optional bool jdbcQuery
  9: optional i64 timeout
  10: optional bool legalPathNodes
}

// 2.0: last values of everything under some path prefixes
struct TSFastLastDataQueryForOnePrefixPathReq {
  1: required i64 sessionId
  2: required list<string> prefixes
  3: optional i32 fetchSize
  4: required i64 statementId
  5: optional bool enableRedirectQuery
  6: optional bool jdbcQuery
  7: optional i64 timeout
}

// 1.3: aggregation over series, optionally in time windows
struct TSAggregationQueryReq {
  1: required i64 sessionId
  2: required i64 statementId
  3: required list<string> paths
  4: required list<common.TAggregationType> aggregations
  5: optional i64 startTime
  6: optional i64 endTime
  7: optional i64 interval
  8: optional i64 slidingStep
  9: optional i32 fetchSize
  10: optional i64 timeout
  11: optional bool legalPathNodes
}

// 1.3: one aggregation of one series in fixed windows
struct TSGroupByQueryIntervalReq {
  1: required i64 sessionId
  2: required i64 statementId
  3: required string device
  4: required string measurement
  5: required i32 dataType
  6: required common.TAggregationType aggregationType
  7: optional string database
  8: optional i64 startTime
  9: optional i64 endTime
  10: optional i64 interval
  11: optional i32 fetchSize
  12: optional i64 timeout
  13: optional bool isAligned
}

// ---------------------------------------------------------------- writes

struct TSInsertRecordReq {
  1: required i64 sessionId
  2: required string prefixPath
  3: required list<string> measurements
  // per value: type byte + big-endian value
  4: required binary values
  5: required i64 timestamp
  6: optional bool isAligned
  // 2.0 table model (the spelling is the clients')
  7: optional bool isWriteToTable
  8: optional list<i8> columnCategoryies
}

struct TSInsertStringRecordReq {
  1: required i64 sessionId
  2: required string prefixPath
  3: required list<string> measurements
  4: required list<string> values
  5: required i64 timestamp
  6: optional bool isAligned
  7: optional i64 timeout
}

struct TSInsertRecordsReq {
  1: required i64 sessionId
  2: required list<string> prefixPaths
  3: required list<list<string>> measurementsList
  4: required list<binary> valuesList
  5: required list<i64> timestamps
  6: optional bool isAligned
}

struct TSInsertRecordsOfOneDeviceReq {
  1: required i64 sessionId
  2: required string prefixPath
  3: required list<list<string>> measurementsList
  4: required list<binary> valuesList
  5: required list<i64> timestamps
  6: optional bool isAligned
}

struct TSInsertStringRecordsReq {
  1: required i64 sessionId
  2: required list<string> prefixPaths
  3: required list<list<string>> measurementsList
  4: required list<list<string>> valuesList
  5: required list<i64> timestamps
  6: optional bool isAligned
}

struct TSInsertStringRecordsOfOneDeviceReq {
  1: required i64 sessionId
  2: required string prefixPath
  3: required list<list<string>> measurementsList
  4: required list<list<string>> valuesList
  5: required list<i64> timestamps
  6: optional bool isAligned
}

struct TSInsertTabletReq {
  1: required i64 sessionId
  2: required string prefixPath
  3: required list<string> measurements
  // column-major values (+ optional null bitmap block)
  4: required binary values
  // rows x big-endian i64
  5: required binary timestamps
  6: required list<i32> types
  7: required i32 size
  8: optional bool isAligned
  // 2.0 table model
  9: optional bool writeToTable
  10: optional list<i8> columnCategories
  // newer clients may compress the buffers; declared so that the server can refuse them
  11: optional bool isCompressed
  12: optional list<i8> encodingTypes
  13: optional i8 compressType
}

struct TSInsertTabletsReq {
  1: required i64 sessionId
  2: required list<string> prefixPaths
  3: required list<list<string>> measurementsList
  4: required list<binary> valuesList
  5: required list<binary> timestampsList
  6: required list<list<i32>> typesList
  7: required list<i32> sizeList
  8: optional bool isAligned
}

struct TSDeleteDataReq {
  1: required i64 sessionId
  2: required list<string> paths
  3: required i64 startTime
  4: required i64 endTime
}

// ---------------------------------------------------------------- schema

struct TSCreateTimeseriesReq {
  1: required i64 sessionId
  2: required string path
  3: required i32 dataType
  4: required i32 encoding
  5: required i32 compressor
  6: optional map<string, string> props
  7: optional map<string, string> tags
  8: optional map<string, string> attributes
  9: optional string measurementAlias
}

struct TSCreateAlignedTimeseriesReq {
  1: required i64 sessionId
  2: required string prefixPath
  3: required list<string> measurements
  4: required list<i32> dataTypes
  5: required list<i32> encodings
  6: required list<i32> compressors
  7: optional list<string> measurementAlias
  8: optional list<map<string, string>> tagsList
  9: optional list<map<string, string>> attributesList
}

struct TSCreateMultiTimeseriesReq {
  1: required i64 sessionId
  2: required list<string> paths
  3: required list<i32> dataTypes
  4: required list<i32> encodings
  5: required list<i32> compressors
  6: optional list<map<string, string>> propsList
  7: optional list<map<string, string>> tagsList
  8: optional list<map<string, string>> attributesList
  9: optional list<string> measurementAliasList
}

struct TSCreateSchemaTemplateReq {
  1: required i64 sessionId
  2: required string name
  3: required binary serializedTemplate
}

struct TSAppendSchemaTemplateReq {
  1: required i64 sessionId
  2: required string name
  3: required bool isAligned
  4: required list<string> measurements
  5: required list<i32> dataTypes
  6: required list<i32> encodings
  7: required list<i32> compressors
}

struct TSPruneSchemaTemplateReq {
  1: required i64 sessionId
  2: required string name
  3: required string path
}

// queryType: 0 COUNT_MEASUREMENTS, 1 IS_MEASUREMENT, 2 PATH_EXIST, 3 SHOW_MEASUREMENTS,
// 4 SHOW_TEMPLATES, 5 SHOW_SET_TEMPLATES, 6 SHOW_USING_TEMPLATES
struct TSQueryTemplateReq {
  1: required i64 sessionId
  2: required string name
  3: required i32 queryType
  4: optional string measurement
}

struct TSQueryTemplateResp {
  1: required common.TSStatus status
  2: required i32 queryType
  3: optional bool result
  4: optional i32 count
  5: optional list<string> measurements
}

struct TSSetSchemaTemplateReq {
  1: required i64 sessionId
  2: required string templateName
  3: required string prefixPath
}

// note: prefixPath comes before templateName here
struct TSUnsetSchemaTemplateReq {
  1: required i64 sessionId
  2: required string prefixPath
  3: required string templateName
}

struct TSDropSchemaTemplateReq {
  1: required i64 sessionId
  2: required string templateName
}

// 1.3
struct TCreateTimeseriesUsingSchemaTemplateReq {
  1: required i64 sessionId
  2: required list<string> devicePathList
}

// ---------------------------------------------------------------- server information

// Numbered as in IoTDB 1.3+ (1.0 used 5..8 for watermark fields and 9..11 for the last three).
struct ServerProperties {
  1: required string version
  2: required list<string> supportedTimeAggregationOperations
  3: required string timestampPrecision
  4: optional i32 maxConcurrentClientNum
  5: optional i32 thriftMaxFrameSize
  6: optional bool isReadOnly
  7: optional string buildInfo
  8: optional string logo
}

struct TSBackupConfigurationResp {
  1: required common.TSStatus status
  2: optional bool enableOperationSync
  3: optional string secondaryAddress
  4: optional i32 secondaryPort
}

enum TSConnectionType {
  THRIFT_BASED = 0,
  MQTT_BASED = 1,
  INTERNAL = 2,
  REST_BASED = 3
}

struct TSConnectionInfo {
  1: required string userName
  2: required i64 logInTime
  // ip:port of a Thrift connection, client id of an MQTT one
  3: required string connectionId
  4: required TSConnectionType type
}

struct TSConnectionInfoResp {
  1: required list<TSConnectionInfo> connectionInfoList
}

// ---------------------------------------------------------------- sync / pipe (cluster features)

struct TSyncIdentityInfo {
  1: required string pipeName
  2: required i64 createTime
  3: required string version
  4: required string database
}

struct TSyncTransportMetaInfo {
  1: required string fileName
  2: required i64 startIndex
}

struct TPipeTransferReq {
  1: required i8 version
  2: required i16 type
  3: required binary body
}

struct TPipeTransferResp {
  1: required common.TSStatus status
  2: optional binary body
}

struct TPipeSubscribeReq {
  1: required i8 version
  2: required i16 type
  3: optional binary body
}

struct TPipeSubscribeResp {
  1: required common.TSStatus status
  2: required i8 version
  3: required i16 type
  4: optional list<binary> body
}

// ---------------------------------------------------------------- the service

service IClientRPCService {
  // sessions
  TSOpenSessionResp openSession(1: TSOpenSessionReq req)
  common.TSStatus closeSession(1: TSCloseSessionReq req)
  i64 requestStatementId(1: i64 sessionId)
  TSGetTimeZoneResp getTimeZone(1: i64 sessionId)
  common.TSStatus setTimeZone(1: TSSetTimeZoneReq req)
  ServerProperties getProperties()

  // statements, V1 (TSQueryDataSet results)
  TSExecuteStatementResp executeStatement(1: TSExecuteStatementReq req)
  TSExecuteStatementResp executeQueryStatement(1: TSExecuteStatementReq req)
  TSExecuteStatementResp executeUpdateStatement(1: TSExecuteStatementReq req)
  common.TSStatus executeBatchStatement(1: TSExecuteBatchStatementReq req)
  TSExecuteStatementResp executeRawDataQuery(1: TSRawDataQueryReq req)
  TSExecuteStatementResp executeLastDataQuery(1: TSLastDataQueryReq req)
  TSExecuteStatementResp executeAggregationQuery(1: TSAggregationQueryReq req)
  TSExecuteStatementResp executeGroupByQueryIntervalQuery(1: TSGroupByQueryIntervalReq req)
  TSFetchResultsResp fetchResults(1: TSFetchResultsReq req)

  // statements, V2 (TsBlock results)
  TSExecuteStatementResp executeStatementV2(1: TSExecuteStatementReq req)
  TSExecuteStatementResp executeQueryStatementV2(1: TSExecuteStatementReq req)
  TSExecuteStatementResp executeUpdateStatementV2(1: TSExecuteStatementReq req)
  TSExecuteStatementResp executeRawDataQueryV2(1: TSRawDataQueryReq req)
  TSExecuteStatementResp executeLastDataQueryV2(1: TSLastDataQueryReq req)
  TSExecuteStatementResp executeAggregationQueryV2(1: TSAggregationQueryReq req)
  TSExecuteStatementResp executeFastLastDataQueryForOneDeviceV2(1: TSFastLastDataQueryForOneDeviceReq req)
  TSExecuteStatementResp executeFastLastDataQueryForOnePrefixPath(1: TSFastLastDataQueryForOnePrefixPathReq req)
  TSFetchResultsResp fetchResultsV2(1: TSFetchResultsReq req)

  // operations
  common.TSStatus closeOperation(1: TSCloseOperationReq req)
  common.TSStatus cancelOperation(1: TSCancelOperationReq req)
  TSFetchMetadataResp fetchMetadata(1: TSFetchMetadataReq req)

  // schema
  common.TSStatus setStorageGroup(1: i64 sessionId, 2: string storageGroup)
  common.TSStatus deleteStorageGroups(1: i64 sessionId, 2: list<string> storageGroup)
  common.TSStatus createTimeseries(1: TSCreateTimeseriesReq req)
  common.TSStatus createAlignedTimeseries(1: TSCreateAlignedTimeseriesReq req)
  common.TSStatus createMultiTimeseries(1: TSCreateMultiTimeseriesReq req)
  common.TSStatus deleteTimeseries(1: i64 sessionId, 2: list<string> path)
  common.TSStatus createTimeseriesUsingSchemaTemplate(1: TCreateTimeseriesUsingSchemaTemplateReq req)

  // templates
  common.TSStatus createSchemaTemplate(1: TSCreateSchemaTemplateReq req)
  common.TSStatus appendSchemaTemplate(1: TSAppendSchemaTemplateReq req)
  common.TSStatus pruneSchemaTemplate(1: TSPruneSchemaTemplateReq req)
  TSQueryTemplateResp querySchemaTemplate(1: TSQueryTemplateReq req)
  common.TSStatus setSchemaTemplate(1: TSSetSchemaTemplateReq req)
  common.TSStatus unsetSchemaTemplate(1: TSUnsetSchemaTemplateReq req)
  common.TSStatus dropSchemaTemplate(1: TSDropSchemaTemplateReq req)

  // writes
  common.TSStatus insertRecord(1: TSInsertRecordReq req)
  common.TSStatus insertStringRecord(1: TSInsertStringRecordReq req)
  common.TSStatus insertRecords(1: TSInsertRecordsReq req)
  common.TSStatus insertStringRecords(1: TSInsertStringRecordsReq req)
  common.TSStatus insertRecordsOfOneDevice(1: TSInsertRecordsOfOneDeviceReq req)
  common.TSStatus insertStringRecordsOfOneDevice(1: TSInsertStringRecordsOfOneDeviceReq req)
  common.TSStatus insertTablet(1: TSInsertTabletReq req)
  common.TSStatus insertTablets(1: TSInsertTabletsReq req)
  common.TSStatus deleteData(1: TSDeleteDataReq req)

  // write dry runs (answer success without writing)
  common.TSStatus testInsertRecord(1: TSInsertRecordReq req)
  common.TSStatus testInsertStringRecord(1: TSInsertStringRecordReq req)
  common.TSStatus testInsertRecords(1: TSInsertRecordsReq req)
  common.TSStatus testInsertStringRecords(1: TSInsertStringRecordsReq req)
  common.TSStatus testInsertRecordsOfOneDevice(1: TSInsertRecordsOfOneDeviceReq req)
  common.TSStatus testInsertTablet(1: TSInsertTabletReq req)
  common.TSStatus testInsertTablets(1: TSInsertTabletsReq req)

  // configuration (1.3+)
  common.TShowConfigurationTemplateResp showConfigurationTemplate()
  common.TShowConfigurationResp showConfiguration(1: i32 nodeId)
  common.TSStatus testConnectionEmptyRPC()

  // cluster / sync features iotdb-rs does not offer. IoTDB declares the argument of
  // handshake, pipeTransfer and pipeSubscribe without an id (it travels as field -1);
  // the Thrift 0.17 Rust generator mishandles negative ids, so these three are declared
  // without arguments: whatever a client sends is skipped and the handler answers with
  // a status saying the feature is not supported.
  common.TSStatus handshake()
  common.TSStatus sendPipeData(1: binary buff)
  common.TSStatus sendFile(1: TSyncTransportMetaInfo metaInfo, 2: binary buff)
  TPipeTransferResp pipeTransfer()
  TPipeSubscribeResp pipeSubscribe()
  TSBackupConfigurationResp getBackupConfiguration()
  TSConnectionInfoResp fetchAllConnectionsInfo()
}
