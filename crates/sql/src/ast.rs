//! The abstract syntax tree of IoTDB's SQL (tree model, 1.0 grammar) plus the statements the
//! server builds directly from RPCs (no SQL text).
//!
//! Conventions used throughout:
//! * Path nodes are kept in the canonical form of [`model::path`]: a node that needs quoting is
//!   stored back-quoted (`` `a.b` ``), every other node bare; wildcard nodes are `*`, `**`, or a
//!   bare node containing `*` (`wf*`). The first node of a full path is always `root`.
//! * Other identifiers (template, user, role, tag keys …) are stored raw (back-quotes removed).
//! * Time values (`2017-11-01T00:00:00`, `now()`, `now() - 1d`, `1509465600000`) are kept as
//!   [`Expression`]s; the executor evaluates them with the session time zone.

use model::{
    CompressionType, InsertRows, InsertTablet, PartialPath, PathPattern, TSDataType, TSEncoding,
    TemplateDef, TemplateMeasurement,
};

/// One parsed statement (or one request the server built from an RPC).
#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    // ---------------------------------------------------------------- databases
    /// `CREATE DATABASE p` / `CREATE STORAGE GROUP p` / `SET STORAGE GROUP TO p` `[WITH …]`.
    CreateDatabase {
        /// The database path (the executor rejects wildcards).
        path: PathPattern,
        /// Optional `WITH TTL=…, …` attributes.
        attributes: DatabaseAttributes,
    },
    /// `DELETE|DROP DATABASE|STORAGE GROUP p[, p]*` (patterns allowed).
    DeleteDatabases {
        /// Patterns of the databases to delete.
        paths: Vec<PathPattern>,
    },
    /// `SHOW DATABASES [p]` / `SHOW STORAGE GROUP [p]`.
    ShowDatabases {
        /// Optional pattern; `None` means `root.**`.
        path: Option<PathPattern>,
    },
    /// `COUNT DATABASES [p]` / `COUNT STORAGE GROUP [p]`.
    CountDatabases {
        /// Optional pattern; `None` means `root.**`.
        path: Option<PathPattern>,
    },

    // ---------------------------------------------------------------- time series
    /// `CREATE TIMESERIES root.sg.d.s [WITH] [DATATYPE=]INT32 …` (full or simplified form).
    CreateTimeseries {
        /// The full path of the series.
        path: PartialPath,
        /// Type, encoding, compressor, alias, props, tags, attributes.
        spec: MeasurementSpec,
    },
    /// `CREATE ALIGNED TIMESERIES root.sg.d(s1 INT32 …, s2 …)`.
    CreateAlignedTimeseries {
        /// The device path.
        device: PartialPath,
        /// `(measurement name (canonical), spec)` in statement order.
        measurements: Vec<(String, MeasurementSpec)>,
    },
    /// `DELETE|DROP TIMESERIES p[, p]*`.
    DeleteTimeseries {
        /// Patterns of the series to delete.
        paths: Vec<PathPattern>,
    },
    /// `ALTER TIMESERIES path <op>`.
    AlterTimeseries {
        /// The full path of the series.
        path: PartialPath,
        /// What to change.
        op: AlterOp,
    },
    /// `SHOW [LATEST] TIMESERIES [p] [WHERE tag = v | tag CONTAINS v] [LIMIT n] [OFFSET m]`.
    ShowTimeseries {
        /// Optional pattern; `None` means `root.**`.
        path: Option<PathPattern>,
        /// `LATEST`: order by the latest data point time.
        latest: bool,
        /// Optional tag/attribute filter.
        filter: Option<TagFilter>,
        /// Row limit.
        limit: Option<u64>,
        /// Row offset.
        offset: Option<u64>,
    },
    /// `COUNT TIMESERIES [p] [WHERE …] [GROUP BY LEVEL = n]`.
    CountTimeseries {
        /// Optional pattern; `None` means `root.**`.
        path: Option<PathPattern>,
        /// Optional tag/attribute filter.
        filter: Option<TagFilter>,
        /// `GROUP BY LEVEL = n`.
        group_by_level: Option<usize>,
    },
    /// `SHOW DEVICES [p] [WITH DATABASE|STORAGE GROUP] [LIMIT n] [OFFSET m]`.
    ShowDevices {
        /// Optional pattern; `None` means `root.**`.
        path: Option<PathPattern>,
        /// Adds the `Database` column.
        with_database: bool,
        /// Row limit.
        limit: Option<u64>,
        /// Row offset.
        offset: Option<u64>,
    },
    /// `COUNT DEVICES [p]`.
    CountDevices {
        /// Optional pattern; `None` means `root.**`.
        path: Option<PathPattern>,
    },
    /// `SHOW CHILD PATHS [p]`.
    ShowChildPaths {
        /// Optional pattern; `None` means `root`.
        path: Option<PathPattern>,
    },
    /// `SHOW CHILD NODES [p]`.
    ShowChildNodes {
        /// Optional pattern; `None` means `root`.
        path: Option<PathPattern>,
    },
    /// `COUNT NODES p LEVEL = n`.
    CountNodes {
        /// The pattern.
        path: PathPattern,
        /// The level to count at.
        level: usize,
    },

    // ---------------------------------------------------------------- schema templates
    /// `CREATE SCHEMA TEMPLATE t [ALIGNED] (m1 T [encoding=E] [compression=C], …)`.
    CreateSchemaTemplate {
        /// Template name (raw).
        name: String,
        /// `ALIGNED` given.
        aligned: bool,
        /// `(measurement name (canonical), spec)` in statement order.
        measurements: Vec<(String, MeasurementSpec)>,
    },
    /// `SET SCHEMA TEMPLATE t TO p`.
    SetSchemaTemplate {
        /// Template name.
        name: String,
        /// The prefix path to set it on.
        path: PathPattern,
    },
    /// `UNSET SCHEMA TEMPLATE t FROM p`.
    UnsetSchemaTemplate {
        /// Template name.
        name: String,
        /// The prefix path it is set on.
        path: PathPattern,
    },
    /// `CREATE TIMESERIES OF SCHEMA TEMPLATE ON p` / `CREATE TIMESERIES USING SCHEMA TEMPLATE ON p`.
    ActivateSchemaTemplate {
        /// The path to activate the template on.
        path: PathPattern,
    },
    /// `DEACTIVATE SCHEMA TEMPLATE [t] FROM p[, p]*` / `DELETE TIMESERIES OF SCHEMA TEMPLATE [t] FROM …`.
    DeactivateSchemaTemplate {
        /// Template name, when given.
        name: Option<String>,
        /// Patterns to deactivate on.
        paths: Vec<PathPattern>,
    },
    /// `DROP SCHEMA TEMPLATE t`.
    DropSchemaTemplate {
        /// Template name.
        name: String,
    },
    /// `SHOW SCHEMA TEMPLATES`.
    ShowSchemaTemplates,
    /// `SHOW NODES IN SCHEMA TEMPLATE t`.
    ShowNodesInSchemaTemplate {
        /// Template name.
        name: String,
    },
    /// `SHOW PATHS SET SCHEMA TEMPLATE t`.
    ShowPathsSetSchemaTemplate {
        /// Template name.
        name: String,
    },
    /// `SHOW PATHS [p] USING SCHEMA TEMPLATE t`.
    ShowPathsUsingSchemaTemplate {
        /// Optional pattern restricting the result.
        path: Option<PathPattern>,
        /// Template name.
        name: String,
    },

    // ---------------------------------------------------------------- data
    /// `INSERT INTO d(timestamp, m…) [ALIGNED] VALUES (…), (…)`.
    Insert(InsertStatement),
    /// `DELETE FROM p[, p]* [WHERE …]`.
    Delete {
        /// Patterns of the series whose data is deleted.
        paths: Vec<PathPattern>,
        /// Time condition, unchecked (the executor accepts only time comparisons joined by AND).
        where_clause: Option<Expression>,
    },
    /// `DELETE PARTITION p n[, n]*` (experimental in IoTDB).
    DeletePartition {
        /// The database path.
        path: PathPattern,
        /// Time partition ids.
        partitions: Vec<i64>,
    },
    /// `SELECT …`.
    Query(Box<QueryStatement>),

    // ---------------------------------------------------------------- utility
    /// `SHOW VERSION`.
    ShowVersion,
    /// `FLUSH [p[, p]*] [true|false] [ON LOCAL|CLUSTER]`.
    Flush {
        /// Databases to flush; empty means all.
        paths: Vec<PathPattern>,
        /// `true` = sequence files only, `false` = unsequence only, `None` = both.
        sequence: Option<bool>,
        /// `ON LOCAL|CLUSTER`.
        scope: Option<Scope>,
    },
    /// `SET TTL TO p <ms>`.
    SetTtl {
        /// Database path or pattern.
        path: PathPattern,
        /// TTL in milliseconds.
        ttl: i64,
    },
    /// `UNSET TTL TO p`.
    UnsetTtl {
        /// Database path or pattern.
        path: PathPattern,
    },
    /// `SHOW TTL ON p[, p]*`.
    ShowTtl {
        /// Database patterns.
        paths: Vec<PathPattern>,
    },
    /// `SHOW ALL TTL`.
    ShowAllTtl,
    /// User, role and privilege statements.
    Auth(AuthStatement),
    /// `SHOW CLUSTER [DETAILS]`.
    ShowCluster {
        /// `DETAILS` given.
        details: bool,
    },
    /// `SHOW DATANODES`.
    ShowDataNodes,
    /// `SHOW CONFIGNODES`.
    ShowConfigNodes,
    /// `SHOW [SCHEMA|DATA] REGIONS [OF DATABASE|STORAGE GROUP p[, p]*]`.
    ShowRegions {
        /// `SCHEMA` / `DATA`, or both when `None`.
        kind: Option<RegionKind>,
        /// Databases to restrict to; empty = all.
        databases: Vec<PathPattern>,
    },
    /// `SHOW VARIABLES`.
    ShowVariables,
    /// `SHOW FUNCTIONS`.
    ShowFunctions,
    /// `SHOW TRIGGERS`.
    ShowTriggers,
    /// `SHOW CONTINUOUS QUERIES` / `SHOW CQS`.
    ShowContinuousQueries,
    /// `SHOW QUERIES [WHERE …] [ORDER BY …] [LIMIT n] [OFFSET m]` / `SHOW QUERY PROCESSLIST`.
    ShowQueries {
        /// Filter over the result columns.
        where_clause: Option<Expression>,
        /// Sort keys.
        order_by: Vec<OrderBy>,
        /// Row limit.
        limit: Option<u64>,
        /// Row offset.
        offset: Option<u64>,
    },
    /// `KILL QUERY ['id']` / `KILL ALL QUERIES`.
    KillQuery {
        /// The query id; `None` = all queries.
        query_id: Option<String>,
    },
    /// `CLEAR CACHE [ON LOCAL|CLUSTER]`.
    ClearCache {
        /// `ON LOCAL|CLUSTER`.
        scope: Option<Scope>,
    },
    /// `MERGE` / `FULL MERGE` `[ON LOCAL|CLUSTER]`.
    Merge {
        /// `FULL` given.
        full: bool,
        /// `ON LOCAL|CLUSTER`.
        scope: Option<Scope>,
    },
    /// `SET SYSTEM TO READONLY|RUNNING [ON LOCAL|CLUSTER]`.
    SetSystemStatus {
        /// `true` for READONLY, `false` for RUNNING.
        readonly: bool,
        /// `ON LOCAL|CLUSTER`.
        scope: Option<Scope>,
    },
    /// `LOAD 'file' [SGLEVEL=n] [VERIFY=true|false] [ONSUCCESS=DELETE|NONE]`.
    LoadFile {
        /// The file or directory path as written.
        file: String,
        /// Options.
        options: LoadOptions,
    },
    /// `EXPLAIN SELECT …`.
    Explain(Box<QueryStatement>),

    // ---------------------------------------------------------------- built from RPCs
    /// `insertTablet(s)` RPC.
    InsertTablet(InsertTablet),
    /// `insertRecord(s)` / `insertStringRecord(s)` / `insertRecordsOfOneDevice` RPCs.
    InsertRows(InsertRows),
    /// `createSchemaTemplate` RPC (serialized template).
    CreateTemplateDef(TemplateDef),
    /// `appendSchemaTemplate` RPC.
    AppendTemplate {
        /// Template name.
        name: String,
        /// Measurements to add.
        measurements: Vec<TemplateMeasurement>,
    },
    /// `pruneSchemaTemplate` RPC.
    PruneTemplate {
        /// Template name.
        name: String,
        /// Dotted path inside the template to remove.
        path: String,
    },
    /// `querySchemaTemplate` RPC.
    TemplateInfo {
        /// Which question is asked.
        kind: TemplateInfoKind,
        /// Template name.
        name: String,
        /// Path argument (meaning depends on `kind`).
        path: String,
    },
    /// `deleteData(paths, start, end)` RPC: inclusive time range.
    DeleteDataRange {
        /// Series patterns.
        paths: Vec<PathPattern>,
        /// Inclusive start time.
        start: i64,
        /// Inclusive end time.
        end: i64,
    },
}

/// The questions of the `querySchemaTemplate` RPC that this executor answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplateInfoKind {
    /// Number of measurements in the template.
    CountMeasurements,
    /// Whether a path inside the template is a measurement.
    IsMeasurement,
    /// Whether a path exists inside the template.
    PathExist,
    /// Measurement paths of the template (optionally under a prefix).
    ShowMeasurements,
    /// Paths the template is set on.
    ShowSetTemplates,
    /// Paths the template is activated on.
    ShowUsingTemplates,
}

/// `WITH` attributes of CREATE DATABASE.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DatabaseAttributes {
    /// `TTL = ms`.
    pub ttl: Option<i64>,
    /// `SCHEMA_REPLICATION_FACTOR = n`.
    pub schema_replication_factor: Option<i64>,
    /// `DATA_REPLICATION_FACTOR = n`.
    pub data_replication_factor: Option<i64>,
    /// `TIME_PARTITION_INTERVAL = ms`.
    pub time_partition_interval: Option<i64>,
}

/// How a measurement is declared in CREATE TIMESERIES / CREATE ALIGNED TIMESERIES / templates.
#[derive(Debug, Clone, PartialEq)]
pub struct MeasurementSpec {
    /// `(alias)` after the path.
    pub alias: Option<String>,
    /// `DATATYPE=…` (required).
    pub data_type: TSDataType,
    /// `ENCODING=…`; `None` = the configured default for the type.
    pub encoding: Option<TSEncoding>,
    /// `COMPRESSOR=…` / `COMPRESSION=…`; `None` = the configured default.
    pub compressor: Option<CompressionType>,
    /// Other `key=value` properties (`MAX_POINT_NUMBER=3`, `LOSS=sdt` …): key upper-cased, value raw.
    pub props: Vec<(String, String)>,
    /// `TAGS(k=v, …)`, raw keys and values.
    pub tags: Vec<(String, String)>,
    /// `ATTRIBUTES(k=v, …)`, raw keys and values.
    pub attributes: Vec<(String, String)>,
}

/// The operation of ALTER TIMESERIES.
#[derive(Debug, Clone, PartialEq)]
pub enum AlterOp {
    /// `RENAME old TO new` (a tag or attribute key).
    Rename {
        /// Current key.
        from: String,
        /// New key.
        to: String,
    },
    /// `SET k=v, …` (existing tags/attributes).
    Set(Vec<(String, String)>),
    /// `DROP k, …`.
    Drop(Vec<String>),
    /// `ADD TAGS k=v, …`.
    AddTags(Vec<(String, String)>),
    /// `ADD ATTRIBUTES k=v, …`.
    AddAttributes(Vec<(String, String)>),
    /// `UPSERT [ALIAS=a] [TAGS(…)] [ATTRIBUTES(…)]`.
    Upsert {
        /// New alias.
        alias: Option<String>,
        /// Tags to insert or update.
        tags: Vec<(String, String)>,
        /// Attributes to insert or update.
        attributes: Vec<(String, String)>,
    },
}

/// The tag filter of SHOW/COUNT TIMESERIES.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagFilter {
    /// `WHERE key = value`.
    Equals {
        /// Tag or attribute key.
        key: String,
        /// Exact value.
        value: String,
    },
    /// `WHERE key CONTAINS value`.
    Contains {
        /// Tag or attribute key.
        key: String,
        /// Substring.
        value: String,
    },
}

/// `INSERT INTO device(...) VALUES ...`.
#[derive(Debug, Clone, PartialEq)]
pub struct InsertStatement {
    /// The device path.
    pub device: PartialPath,
    /// Measurement names (canonical), in column order (the time column excluded).
    pub measurements: Vec<String>,
    /// `ALIGNED` given.
    pub aligned: bool,
    /// The rows; each has `measurements.len()` values.
    pub rows: Vec<InsertValues>,
}

/// One `(t, v1, v2, …)` tuple of INSERT.
#[derive(Debug, Clone, PartialEq)]
pub struct InsertValues {
    /// The time value (integer, datetime, `now()`, date arithmetic); `None` = server time
    /// (only allowed when the column list has no time column and there is a single row).
    pub time: Option<Expression>,
    /// One literal per measurement (`Literal::Null` = no value).
    pub values: Vec<Literal>,
}

/// `ON LOCAL` / `ON CLUSTER`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// `ON LOCAL`.
    Local,
    /// `ON CLUSTER`.
    Cluster,
}

/// `SCHEMA` / `DATA` region kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegionKind {
    /// Schema regions.
    Schema,
    /// Data regions.
    Data,
}

/// Options of `LOAD 'file'`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadOptions {
    /// `SGLEVEL = n`.
    pub sglevel: Option<i64>,
    /// `VERIFY = true|false`.
    pub verify: Option<bool>,
    /// `ONSUCCESS = DELETE|NONE` (`Some(true)` = delete).
    pub delete_on_success: Option<bool>,
}

/// User, role and privilege statements (parsed; the executor decides what it supports).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthStatement {
    /// `CREATE USER u 'pwd'`.
    CreateUser {
        /// User name.
        user: String,
        /// Password.
        password: String,
    },
    /// `ALTER USER u SET PASSWORD 'pwd'`.
    AlterUser {
        /// User name.
        user: String,
        /// New password.
        password: String,
    },
    /// `DROP USER u`.
    DropUser {
        /// User name.
        user: String,
    },
    /// `CREATE ROLE r`.
    CreateRole {
        /// Role name.
        role: String,
    },
    /// `DROP ROLE r`.
    DropRole {
        /// Role name.
        role: String,
    },
    /// `GRANT USER u PRIVILEGES p… [ON path…]` / `GRANT ROLE r PRIVILEGES …`.
    Grant {
        /// The grantee.
        target: Grantee,
        /// Privilege names, upper-cased (`ALL` allowed).
        privileges: Vec<String>,
        /// Paths; empty = `root.**`.
        paths: Vec<PathPattern>,
    },
    /// `REVOKE USER u PRIVILEGES p… [ON path…]` / `REVOKE ROLE r PRIVILEGES …`.
    Revoke {
        /// The grantee.
        target: Grantee,
        /// Privilege names, upper-cased.
        privileges: Vec<String>,
        /// Paths; empty = `root.**`.
        paths: Vec<PathPattern>,
    },
    /// `GRANT r TO u`.
    GrantRoleToUser {
        /// Role name.
        role: String,
        /// User name.
        user: String,
    },
    /// `REVOKE r FROM u`.
    RevokeRoleFromUser {
        /// Role name.
        role: String,
        /// User name.
        user: String,
    },
    /// `LIST USER [OF ROLE r]`.
    ListUser {
        /// Only users having this role.
        of_role: Option<String>,
    },
    /// `LIST ROLE [OF USER u]`.
    ListRole {
        /// Only roles of this user.
        of_user: Option<String>,
    },
    /// `LIST PRIVILEGES USER u [ON p…]` / `LIST PRIVILEGES ROLE r [ON p…]`.
    ListPrivileges {
        /// Whose privileges.
        target: Grantee,
        /// Paths to restrict to.
        paths: Vec<PathPattern>,
    },
}

/// A user or a role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grantee {
    /// A user name.
    User(String),
    /// A role name.
    Role(String),
}

/// A `SELECT` statement.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryStatement {
    /// The result columns, in order.
    pub select: Vec<ResultColumn>,
    /// `SELECT LAST`.
    pub last: bool,
    /// `INTO …` (parsed only).
    pub into: Option<Vec<IntoItem>>,
    /// The FROM prefix paths.
    pub from: Vec<PathPattern>,
    /// `WHERE expr`.
    pub where_clause: Option<Expression>,
    /// `GROUP BY …`.
    pub group_by: Option<GroupBy>,
    /// `HAVING expr`.
    pub having: Option<Expression>,
    /// `ORDER BY …`; empty = time ascending.
    pub order_by: Vec<OrderBy>,
    /// `FILL(…)`.
    pub fill: Option<Fill>,
    /// `LIMIT n`.
    pub limit: Option<u64>,
    /// `OFFSET n`.
    pub offset: Option<u64>,
    /// `SLIMIT n`.
    pub slimit: Option<u64>,
    /// `SOFFSET n`.
    pub soffset: Option<u64>,
    /// `ALIGN BY DEVICE` (false for the default `ALIGN BY TIME`).
    pub align_by_device: bool,
}

/// One item of the select list.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultColumn {
    /// The expression.
    pub expr: Expression,
    /// `AS alias` (raw).
    pub alias: Option<String>,
}

/// One target of `INTO`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntoItem {
    /// `ALIGNED` given.
    pub aligned: bool,
    /// Device path nodes as written (may contain `::` or `${i}` placeholders).
    pub device: Vec<String>,
    /// True if `device` starts with `root`.
    pub full: bool,
    /// Measurement names (may be `::`/placeholders).
    pub measurements: Vec<String>,
}

/// The `GROUP BY` clause.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupBy {
    /// `([start, end), interval[, step])`.
    pub time: Option<TimeWindow>,
    /// `LEVEL = n[, m]*`; empty when absent.
    pub level: Vec<usize>,
    /// `TAGS(k[, k]*)`; empty when absent.
    pub tags: Vec<String>,
}

/// `GROUP BY ([start, end), interval[, step])`.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeWindow {
    /// Range start; `None` when the range is omitted.
    pub start: Option<Expression>,
    /// Range end; `None` when the range is omitted.
    pub end: Option<Expression>,
    /// Window length.
    pub interval: Interval,
    /// Sliding step; `None` = the interval.
    pub step: Option<Interval>,
    /// `(start, end]` instead of `[start, end)`.
    pub left_open: bool,
}

/// A GROUP BY duration: calendar months plus a fixed part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interval {
    /// Calendar months (`mo`).
    pub months: i64,
    /// The fixed part in milliseconds (`y` = 365 d, `w`, `d`, `h`, `m`, `s`, `ms`; `us`/`ns` round down).
    pub millis: i64,
    /// The duration as written.
    pub text: String,
}

/// One `ORDER BY` key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderBy {
    /// What to sort on.
    pub key: SortKey,
    /// `DESC` given.
    pub descending: bool,
}

/// A sort key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    /// `TIME`.
    Time,
    /// `TIMESERIES` (last queries).
    Timeseries,
    /// `DEVICE` (align by device).
    Device,
    /// `QUERYID` (SHOW QUERIES).
    QueryId,
    /// `DATANODEID` (SHOW QUERIES).
    DataNodeId,
    /// `ELAPSEDTIME` (SHOW QUERIES).
    ElapsedTime,
    /// `STATEMENT` (SHOW QUERIES).
    Statement,
}

/// `FILL(…)`.
#[derive(Debug, Clone, PartialEq)]
pub enum Fill {
    /// `FILL(PREVIOUS)`.
    Previous,
    /// `FILL(PREVIOUS, duration)`: fill only from a value at most that far back (in time).
    PreviousWithin(Interval),
    /// `FILL(LINEAR)`.
    Linear,
    /// `FILL(constant)`.
    Constant(Literal),
}

/// A reference to a series (or pattern of series) inside an expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathRef {
    /// Canonical nodes as written; may contain `*`, `**` and partial wildcards (`s*`).
    /// For a full path the first node is `root`.
    pub nodes: Vec<String>,
    /// True if the path starts with `root` (a full path, not joined with FROM prefixes).
    pub full: bool,
}

/// An expression (SELECT items, WHERE, HAVING, time values).
#[derive(Debug, Clone, PartialEq)]
pub enum Expression {
    /// `time` / `timestamp`.
    Time,
    /// A series path or pattern.
    Path(PathRef),
    /// A constant.
    Constant(Literal),
    /// `-x`, `+x`, `!x` / `NOT x`.
    Unary {
        /// The operator.
        op: UnaryOp,
        /// The operand.
        expr: Box<Expression>,
    },
    /// `left op right`.
    Binary {
        /// The operator.
        op: BinaryOp,
        /// Left operand.
        left: Box<Expression>,
        /// Right operand.
        right: Box<Expression>,
    },
    /// `name(args…, 'k'='v'…)`.
    Function {
        /// The function name exactly as typed.
        name: String,
        /// Positional arguments.
        args: Vec<Expression>,
        /// `'key'='value'` attributes, raw, in order.
        attributes: Vec<(String, String)>,
    },
    /// `expr [NOT] IN (c, …)`.
    In {
        /// The tested expression.
        expr: Box<Expression>,
        /// The constants.
        list: Vec<Literal>,
        /// `NOT IN`.
        negated: bool,
    },
    /// `expr [NOT] LIKE 'pattern'`.
    Like {
        /// The tested expression.
        expr: Box<Expression>,
        /// The pattern (`%`, `_`).
        pattern: String,
        /// `NOT LIKE`.
        negated: bool,
    },
    /// `expr [NOT] REGEXP 'regex'`.
    Regexp {
        /// The tested expression.
        expr: Box<Expression>,
        /// The (Java) regular expression.
        pattern: String,
        /// `NOT REGEXP`.
        negated: bool,
    },
    /// `expr IS [NOT] NULL`.
    IsNull {
        /// The tested expression.
        expr: Box<Expression>,
        /// `IS NOT NULL`.
        negated: bool,
    },
    /// `expr [NOT] BETWEEN low AND high`.
    Between {
        /// The tested expression.
        expr: Box<Expression>,
        /// Lower bound (inclusive).
        low: Box<Expression>,
        /// Upper bound (inclusive).
        high: Box<Expression>,
        /// `NOT BETWEEN`.
        negated: bool,
    },
    /// `CAST(expr AS type)`.
    Cast {
        /// The operand.
        expr: Box<Expression>,
        /// The target type.
        ty: TSDataType,
    },
}

impl Expression {
    /// True if a full path (starting with `root`) occurs anywhere in the expression.
    pub fn has_full_path(&self) -> bool {
        match self {
            Expression::Path(r) => r.full,
            Expression::Time | Expression::Constant(_) => false,
            Expression::Function { args, .. } => args.iter().any(Expression::has_full_path),
            Expression::Unary { expr, .. }
            | Expression::In { expr, .. }
            | Expression::Like { expr, .. }
            | Expression::Regexp { expr, .. }
            | Expression::IsNull { expr, .. }
            | Expression::Cast { expr, .. } => expr.has_full_path(),
            Expression::Binary { left, right, .. } => left.has_full_path() || right.has_full_path(),
            Expression::Between {
                expr, low, high, ..
            } => expr.has_full_path() || low.has_full_path() || high.has_full_path(),
        }
    }
}

/// Unary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    /// `-x`
    Neg,
    /// `+x`
    Pos,
    /// `!x` / `NOT x`
    Not,
}

/// Binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Mod,
    /// `=` / `==`
    Eq,
    /// `!=` / `<>`
    NotEq,
    /// `<`
    Lt,
    /// `<=`
    LtEq,
    /// `>`
    Gt,
    /// `>=`
    GtEq,
    /// `AND` / `&` / `&&`
    And,
    /// `OR` / `|` / `||`
    Or,
}

/// A literal value.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// An integer that fits in i64 (sign included).
    Integer(i64),
    /// A real number (or an integer too large for i64), with its text as written (sign included).
    Float(f64, String),
    /// `true` / `false`.
    Boolean(bool),
    /// `'…'` / `"…"`, quotes removed and doubled quotes collapsed.
    String(String),
    /// `X'0a1b'`: the bytes of a BLOB.
    Binary(Vec<u8>),
    /// `null`.
    Null,
    /// `NaN`.
    NaN,
    /// A datetime literal as written (`2017-11-01T00:08:00.000`), resolved later with the session zone.
    DateTime(String),
    /// `now()`.
    Now,
    /// A duration (`1d`, `1h30m`) in milliseconds (`mo` = 30 days, `y` = 365 days).
    Duration(i64),
}
