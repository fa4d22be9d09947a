//! The engine: schema, data regions, WAL and users behind one `Send + Sync` handle.

use crate::api::*;
use crate::config::StorageConfig;
use crate::users::UserStore;
use model::{
    Error, InsertRows, InsertTablet, PartialPath, PathPattern, Result, TemplateDef,
    TemplateMeasurement, Value,
};

fn todo<T>(what: &str) -> Result<T> {
    Err(Error::Unsupported(format!("{what} is not supported yet")))
}

/// The storage engine. Share it as `Arc<Engine>`.
pub struct Engine {
    config: StorageConfig,
    users: UserStore,
}

impl Engine {
    /// Opens (or creates) the engine under `config.data_dir`: loads schema and users, replays the WAL.
    pub fn open(config: StorageConfig) -> Result<Engine> {
        Ok(Engine {
            config,
            users: UserStore::default(),
        })
    }

    /// Syncs the WAL and stops background work. Idempotent.
    pub fn close(&self) -> Result<()> {
        Ok(())
    }

    /// The configuration the engine was opened with.
    pub fn config(&self) -> &StorageConfig {
        &self.config
    }

    /// Creates a database.
    pub fn create_database(&self, _path: &PartialPath) -> Result<()> {
        todo("create database")
    }

    /// Deletes every database matching any pattern, with schema and data.
    pub fn delete_databases(&self, _patterns: &[PathPattern]) -> Result<()> {
        todo("delete database")
    }

    /// Databases matching the pattern, in Java HashMap order of their full names.
    pub fn databases(&self, _pattern: &PathPattern) -> Vec<DatabaseInfo> {
        Vec::new()
    }

    /// Sets (or with `None` unsets) the TTL of the databases matching the pattern.
    pub fn set_ttl(&self, _pattern: &PathPattern, _ttl_ms: Option<i64>) -> Result<()> {
        todo("TTL")
    }

    /// Creates one time series.
    pub fn create_timeseries(&self, _spec: TimeseriesSpec) -> Result<()> {
        todo("create timeseries")
    }

    /// Creates an aligned device with the given measurements.
    pub fn create_aligned_timeseries(
        &self,
        _device: &PartialPath,
        _specs: Vec<TimeseriesSpec>,
    ) -> Result<()> {
        todo("create aligned timeseries")
    }

    /// Deletes the series matching any pattern, with their data.
    pub fn delete_timeseries(&self, _patterns: &[PathPattern]) -> Result<()> {
        todo("delete timeseries")
    }

    /// Series matching the pattern, in IoTDB's expansion order.
    pub fn series(&self, _pattern: &PathPattern) -> Vec<SeriesInfo> {
        Vec::new()
    }

    /// The series at `path` (or `device.alias`).
    pub fn series_info(&self, _path: &PartialPath) -> Option<SeriesInfo> {
        None
    }

    /// Devices matching the pattern.
    pub fn devices(&self, _pattern: &PathPattern) -> Vec<DeviceInfo> {
        Vec::new()
    }

    /// Children of the nodes matching the pattern (SHOW CHILD PATHS).
    pub fn child_paths(&self, _pattern: &PathPattern) -> Vec<(PartialPath, NodeKind)> {
        Vec::new()
    }

    /// Distinct nodes at `level` whose paths match the pattern's prefix (COUNT NODES).
    pub fn nodes_at_level(&self, _pattern: &PathPattern, _level: usize) -> Vec<PartialPath> {
        Vec::new()
    }

    /// Changes tags, attributes or the alias of a series.
    pub fn alter_timeseries(&self, _path: &PartialPath, _op: AlterOp) -> Result<()> {
        todo("alter timeseries")
    }

    /// Creates a schema template.
    pub fn create_template(&self, _t: TemplateDef) -> Result<()> {
        todo("templates")
    }

    /// Drops a schema template that is set nowhere.
    pub fn drop_template(&self, _name: &str) -> Result<()> {
        todo("templates")
    }

    /// Adds measurements to a template.
    pub fn append_template(&self, _name: &str, _ms: Vec<TemplateMeasurement>) -> Result<()> {
        todo("templates")
    }

    /// Removes a measurement (or group) from a template.
    pub fn prune_template(&self, _name: &str, _path: &str) -> Result<()> {
        todo("templates")
    }

    /// Sets a template on a prefix path.
    pub fn set_template(&self, _name: &str, _prefix: &PartialPath) -> Result<()> {
        todo("templates")
    }

    /// Unsets a template from a prefix path.
    pub fn unset_template(&self, _name: &str, _prefix: &PartialPath) -> Result<()> {
        todo("templates")
    }

    /// Activates the template covering `device` on it.
    pub fn activate_template(&self, _device: &PartialPath) -> Result<()> {
        todo("templates")
    }

    /// Deactivates templates on devices matching the patterns, deleting their data.
    pub fn deactivate_template(
        &self,
        _name: Option<&str>,
        _patterns: &[PathPattern],
    ) -> Result<()> {
        todo("templates")
    }

    /// All template names.
    pub fn template_names(&self) -> Vec<String> {
        Vec::new()
    }

    /// A template definition.
    pub fn template(&self, _name: &str) -> Option<TemplateDef> {
        None
    }

    /// Paths the template is set on.
    pub fn paths_template_set_on(&self, _name: &str) -> Result<Vec<PartialPath>> {
        todo("templates")
    }

    /// Devices the template is activated on.
    pub fn paths_template_using_on(&self, _name: &str) -> Result<Vec<PartialPath>> {
        todo("templates")
    }

    /// Inserts a tablet.
    pub fn insert_tablet(&self, _t: &InsertTablet) -> Result<()> {
        todo("insert tablet")
    }

    /// Inserts rows.
    pub fn insert_rows(&self, _rows: &InsertRows) -> Result<()> {
        todo("insert rows")
    }

    /// Reads one series in a time range.
    pub fn read_series(&self, _path: &PartialPath, _range: TimeRange) -> Result<SeriesData> {
        todo("read series")
    }

    /// The latest point of a series.
    pub fn last_point(&self, _path: &PartialPath) -> Result<Option<(i64, Value)>> {
        todo("last point")
    }

    /// Deletes data of series matching the patterns in the inclusive range.
    pub fn delete_data(&self, _patterns: &[PathPattern], _range: TimeRange) -> Result<()> {
        todo("delete data")
    }

    /// Makes everything written so far durable.
    pub fn flush(&self) -> Result<()> {
        todo("flush")
    }

    /// The user store.
    pub fn users(&self) -> &UserStore {
        &self.users
    }
}
