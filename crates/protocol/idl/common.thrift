// iotdb-rs: shared Thrift structures of the IoTDB client protocol.
//
// Written for iotdb-rs from the wire facts collected in the project's protocol
// reference (struct names, field ids and field types must match what IoTDB clients
// put on the wire). Field requiredness is our own choice: "required" only where we
// rely on the field always being present; everything else is optional so that we
// accept what every client version sends.
//
// Regenerate the Rust code with scripts/gen-thrift after editing.


// A host and port (used for redirection; a single-node server never sends one).
struct TEndPoint {
  1: required string ip
  2: required i32 port
}

// Result code + message carried by nearly every response.
struct TSStatus {
  1: required i32 code
  2: optional string message
  // per-item statuses of a MULTIPLE_ERROR (302) answer
  3: optional list<TSStatus> subStatus
  4: optional TEndPoint redirectNode
  // added by IoTDB 1.3
  5: optional bool needRetry
}

// Consensus group kinds of an IoTDB cluster.
enum TConsensusGroupType {
  ConfigRegion = 0,
  DataRegion = 1,
  SchemaRegion = 2
}

struct TConsensusGroupId {
  1: required TConsensusGroupType type
  2: required i32 id
}

struct TSeriesPartitionSlot {
  1: required i32 slotId
}

struct TTimePartitionSlot {
  1: required i64 startTime
}

struct TNodeResource {
  1: required i32 cpuCoreNum
  2: required i64 maxMemory
}

struct TConfigNodeLocation {
  1: required i32 configNodeId
  2: required TEndPoint internalEndPoint
  3: required TEndPoint consensusEndPoint
}

struct TDataNodeLocation {
  1: required i32 dataNodeId
  2: required TEndPoint clientRpcEndPoint
  3: required TEndPoint internalEndPoint
  4: required TEndPoint mPPDataExchangeEndPoint
  5: required TEndPoint dataRegionConsensusEndPoint
  6: required TEndPoint schemaRegionConsensusEndPoint
}

struct TDataNodeConfiguration {
  1: required TDataNodeLocation location
  2: required TNodeResource resource
}

struct TRegionReplicaSet {
  1: required TConsensusGroupId regionId
  2: required list<TDataNodeLocation> dataNodeLocations
}

enum TRegionMigrateFailedType {
  AddPeerFailed = 0,
  RemovePeerFailed = 1,
  RemoveConsensusGroupFailed = 2,
  DeleteRegionFailed = 3,
  CreateRegionFailed = 4
}

// FLUSH request: isSeq is the text "true"/"false"; no databases = all.
struct TFlushReq {
  1: optional string isSeq
  2: optional list<string> storageGroups
  // newer servers: restrict to region ids
  3: optional list<string> regionIds
}

// One node of the schema tree (SHOW CHILD PATHS style answers).
struct TSchemaNode {
  1: required string nodeName
  2: required i8 nodeType
}

// SET TTL request.
struct TSetTTLReq {
  1: required list<string> storageGroupPathPattern
  2: required i64 TTL
  // newer servers: whether the pattern names a database
  3: optional bool isDataBase
}

struct TFile {
  1: required string fileName
  2: required binary file
}

struct TFilesResp {
  1: required TSStatus status
  2: required list<TFile> files
}

// Aggregation functions of the aggregation-query RPCs (IoTDB 1.3+; 2.0 adds 15..31).
enum TAggregationType {
  COUNT = 0,
  AVG = 1,
  SUM = 2,
  FIRST_VALUE = 3,
  LAST_VALUE = 4,
  MAX_TIME = 5,
  MIN_TIME = 6,
  MAX_VALUE = 7,
  MIN_VALUE = 8,
  EXTREME = 9,
  COUNT_IF = 10,
  TIME_DURATION = 11,
  MODE = 12,
  COUNT_TIME = 13,
  STDDEV = 14,
  STDDEV_POP = 15,
  STDDEV_SAMP = 16,
  VARIANCE = 17,
  VAR_POP = 18,
  VAR_SAMP = 19,
  MAX_BY = 20,
  MIN_BY = 21,
  UDAF = 22,
  FIRST = 23,
  LAST = 24,
  FIRST_BY = 25,
  LAST_BY = 26,
  MIN = 27,
  MAX = 28,
  COUNT_ALL = 29,
  APPROX_COUNT_DISTINCT = 30,
  APPROX_MOST_FREQUENT = 31
}

// Answer of showConfigurationTemplate (IoTDB 1.3+).
struct TShowConfigurationTemplateResp {
  1: required TSStatus status
  2: required string content
}

// Answer of showConfiguration (IoTDB 1.3+).
struct TShowConfigurationResp {
  1: required TSStatus status
  2: required string content
}
