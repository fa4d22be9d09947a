//! Plain data types of the engine's public API.

use model::{
    ColumnData, CompressionType, MeasurementSchema, PartialPath, TSDataType, TSEncoding, Value,
};

/// An inclusive time range `[start, end]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    /// First timestamp included.
    pub start: i64,
    /// Last timestamp included.
    pub end: i64,
}

impl TimeRange {
    /// Every timestamp.
    pub const ALL: TimeRange = TimeRange {
        start: i64::MIN,
        end: i64::MAX,
    };

    /// A range with both ends included.
    pub fn new(start: i64, end: i64) -> Self {
        TimeRange { start, end }
    }

    /// True if `t` is inside the range.
    pub fn contains(&self, t: i64) -> bool {
        self.start <= t && t <= self.end
    }

    /// True if no timestamp is inside the range.
    pub fn is_empty(&self) -> bool {
        self.start > self.end
    }
}

/// The points of one series: ascending unique times, one value per time, no nulls.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesData {
    /// Timestamps, strictly ascending.
    pub times: model::Times,
    /// Values, `times.len()` long, of the series' physical type.
    pub values: ColumnData,
}

/// The statistics of a run of points (a flushed chunk) that aggregation may use in place of
/// the points themselves: no other point of the series lies inside `[start, end]`.
#[derive(Debug, Clone, PartialEq)]
pub struct ChunkSummary {
    /// Time of the first point.
    pub start: i64,
    /// Time of the last point.
    pub end: i64,
    /// Number of points.
    pub count: u64,
    /// Sum of the values (numeric and BOOLEAN series).
    pub sum: Option<f64>,
    /// Smallest value (numeric series).
    pub min: Option<Value>,
    /// Largest value (numeric series).
    pub max: Option<Value>,
    /// Value at `start`.
    pub first: Value,
    /// Value at `end`.
    pub last: Value,
}

/// Where some points of a series lie: a flushed chunk or a memtable's buffer. Reads are
/// planned from spans (see `Engine::series_spans`) so that a long series is read in slices
/// of bounded size, each slice a whole number of chunks where the chunks allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeriesSpan {
    /// Time of the first point.
    pub start: i64,
    /// Time of the last point.
    pub end: i64,
    /// Number of points (before deletions; spans may overlap).
    pub count: u64,
    /// True for points in memory, which any time slice reads without decoding.
    pub in_memory: bool,
}

/// A filter's verdict on a run of points known by its statistics: false when the filter
/// holds on none of them (see `Engine::read_series_many_pruned`).
pub type MayHold<'a> = &'a dyn Fn(&ChunkSummary) -> bool;

/// What aggregation makes of a run of points known by its statistics ([`ChunkSummary`]):
/// a flushed chunk, or one page of it, that no other point of the series overlaps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SummaryUse {
    /// Answer from the statistics; the points are not decoded.
    Use,
    /// No point of the run matters (e.g. a value filter rejects every one): drop it unread.
    Skip,
    /// The points are needed: decode them (a page inside may still be usable on its own).
    Decode,
    /// The points are needed only through [`SummaryPolicy::reduce`]: decode each page and
    /// let the policy turn it into a summary (a chunk is still looked at page by page).
    Reduce,
}

/// What [`SummaryPolicy::reduce`] makes of one decoded page.
#[derive(Debug, Clone, PartialEq)]
pub enum PageReduction {
    /// The summary of the page's points that matter (e.g. those a value filter keeps).
    Summary(ChunkSummary),
    /// No point of the page matters.
    Nothing,
    /// The policy cannot summarise these points: they are returned as points.
    Points,
}

/// How aggregation reads runs of points known by their statistics: a verdict per run, and
/// for runs it must see decoded but only needs summarised (see [`SummaryUse::Reduce`]),
/// the reduction of each decoded page. A plain `Fn(&ChunkSummary) -> SummaryUse` is a
/// policy that never reduces.
pub trait SummaryPolicy {
    /// What to make of a run of points known by its statistics.
    fn verdict(&self, run: &ChunkSummary) -> SummaryUse;

    /// Reduces the decoded points of one page (ascending times, no nulls, all inside the
    /// range read) whose verdict was [`SummaryUse::Reduce`].
    fn reduce(&self, times: &[i64], values: &ColumnData) -> model::Result<PageReduction> {
        let _ = (times, values);
        Ok(PageReduction::Points)
    }
}

impl<F: Fn(&ChunkSummary) -> SummaryUse> SummaryPolicy for F {
    fn verdict(&self, run: &ChunkSummary) -> SummaryUse {
        self(run)
    }
}

/// One series read for aggregation: the points of `data` plus runs of points described only
/// by their statistics (`summaries`, ascending and disjoint, none overlapping a point of
/// `data`). Together they are exactly what `Engine::read_series` returns.
#[derive(Debug, Clone, PartialEq)]
pub struct SummarizedSeries {
    /// Points not covered by a summary.
    pub data: SeriesData,
    /// Chunk statistics, ascending by time.
    pub summaries: Vec<ChunkSummary>,
}

/// One database as listed by SHOW DATABASES.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseInfo {
    /// Full database path.
    pub path: PartialPath,
    /// TTL in milliseconds, `None` when unset.
    pub ttl_ms: Option<i64>,
    /// Time partition interval in milliseconds.
    pub time_partition_interval_ms: i64,
    /// Id of the database's data region (each database has exactly one).
    pub region_id: u64,
}

/// A time series to create.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeseriesSpec {
    /// Full series path (for aligned creation: the measurement's full path).
    pub path: PartialPath,
    /// Data type.
    pub data_type: TSDataType,
    /// Encoding.
    pub encoding: TSEncoding,
    /// Compressor.
    pub compressor: CompressionType,
    /// Extra properties (`MAX_POINT_NUMBER`, SDT `LOSS`…), kept as given.
    pub props: Vec<(String, String)>,
    /// Tags.
    pub tags: Vec<(String, String)>,
    /// Attributes.
    pub attributes: Vec<(String, String)>,
    /// Measurement alias.
    pub alias: Option<String>,
}

impl TimeseriesSpec {
    /// A spec with the type's default encoding, SNAPPY, and no props/tags/attributes/alias.
    pub fn new(path: PartialPath, data_type: TSDataType) -> Self {
        TimeseriesSpec {
            path,
            data_type,
            encoding: data_type.default_encoding(),
            compressor: CompressionType::Snappy,
            props: Vec::new(),
            tags: Vec::new(),
            attributes: Vec::new(),
            alias: None,
        }
    }
}

/// One series as listed by SHOW TIMESERIES.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesInfo {
    /// Full path.
    pub path: PartialPath,
    /// Alias, if any.
    pub alias: Option<String>,
    /// The database that owns the series.
    pub database: PartialPath,
    /// Type, encoding, compressor (name = last node).
    pub schema: MeasurementSchema,
    /// Tags in Java HashMap order.
    pub tags: Vec<(String, String)>,
    /// Attributes in Java HashMap order.
    pub attributes: Vec<(String, String)>,
    /// Extra properties given at creation, in Java HashMap order.
    pub props: Vec<(String, String)>,
    /// True if the device is aligned.
    pub aligned: bool,
    /// Name of the template that provides the series, if any.
    pub template: Option<String>,
}

/// One device as listed by SHOW DEVICES.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    /// Full device path.
    pub path: PartialPath,
    /// The database that owns the device.
    pub database: PartialPath,
    /// True if the device is aligned.
    pub aligned: bool,
    /// Name of the template activated on the device, if any.
    pub template: Option<String>,
}

/// The kind of a schema-tree node, as SHOW CHILD PATHS prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NodeKind {
    /// `root`.
    Root,
    /// An internal node above a database ("SG INTERNAL" in 1.0).
    DatabaseInternal,
    /// A database node.
    Database,
    /// An internal node below a database that is not a device.
    Internal,
    /// A device (has series directly below it).
    Device,
    /// A time series.
    Timeseries,
}

impl NodeKind {
    /// IoTDB 1.0's name of the node type.
    pub fn name(self) -> &'static str {
        match self {
            NodeKind::Root => "ROOT",
            NodeKind::DatabaseInternal => "SG INTERNAL",
            NodeKind::Database => "DATABASE",
            NodeKind::Internal => "INTERNAL",
            NodeKind::Device => "DEVICE",
            NodeKind::Timeseries => "TIMESERIES",
        }
    }
}

/// An ALTER TIMESERIES operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlterOp {
    /// `RENAME k TO k2`: renames a tag or attribute key.
    Rename {
        /// Old key.
        from: String,
        /// New key.
        to: String,
    },
    /// `SET k=v,…`: changes values of existing tags or attributes.
    Set(Vec<(String, String)>),
    /// `DROP k,…`: removes tags or attributes.
    Drop(Vec<String>),
    /// `ADD TAGS k=v,…`.
    AddTags(Vec<(String, String)>),
    /// `ADD ATTRIBUTES k=v,…`.
    AddAttributes(Vec<(String, String)>),
    /// `UPSERT [ALIAS=a] [TAGS(..)] [ATTRIBUTES(..)]`.
    Upsert {
        /// New alias.
        alias: Option<String>,
        /// Tags to add or overwrite.
        tags: Vec<(String, String)>,
        /// Attributes to add or overwrite.
        attributes: Vec<(String, String)>,
    },
}
