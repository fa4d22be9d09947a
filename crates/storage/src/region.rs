//! A data region: all data of one database (memtable + WAL; flushed files join later).

use crate::api::{SeriesData, TimeRange};
use crate::config::WalMode;
use crate::memtable::{merge_newest_wins, MemTable};
use crate::wal::{Wal, WalEntry};
use model::{ColumnData, PartialPath, Result, TSDataType, Value};
use parking_lot::RwLock;
use std::path::PathBuf;

/// Mutable state of a region.
///
/// Seam for the TsFile issue: flushing will move `working` into a list of sealed
/// memtables being written out, then into a set of sequence/unsequence files plus their
/// deletion records (mods). [`DataRegion::read_series`] already merges a list of sources
/// oldest-first with newest-wins semantics; flushed files and sealed memtables join that
/// list in front of the working memtable.
#[derive(Debug, Default)]
struct RegionState {
    working: MemTable,
}

/// All data of one database.
pub(crate) struct DataRegion {
    /// Stable id (names the WAL directory; never reused).
    pub(crate) id: u64,
    state: RwLock<RegionState>,
    wal: Wal,
}

impl DataRegion {
    /// Opens the region whose WAL lives in `dir`, replaying it.
    pub(crate) fn open(id: u64, dir: PathBuf, mode: WalMode) -> Result<DataRegion> {
        let mut state = RegionState::default();
        let wal = Wal::open(dir, mode, &mut state.working)?;
        Ok(DataRegion {
            id,
            state: RwLock::new(state),
            wal,
        })
    }

    /// Logs `entry` to the WAL (when enabled) and then applies it to the memtable, under
    /// one lock so that WAL order equals apply order. In `Sync` mode waits for the fsync
    /// (outside the lock, so concurrent writers share fsyncs).
    pub(crate) fn write(&self, entry: &WalEntry, scratch: &mut Vec<u8>) -> Result<()> {
        scratch.clear();
        if self.wal.mode() != WalMode::Disable {
            entry.encode_framed(scratch)?;
        }
        let ticket = {
            let mut st = self.state.write();
            let ticket = self.wal.append(scratch)?;
            entry.apply(&mut st.working);
            ticket
        };
        if self.wal.mode() == WalMode::Sync {
            if let Some(t) = ticket {
                t.sync()?;
            }
        }
        Ok(())
    }

    /// Reads one series: merged, sorted, deduplicated, deletions applied.
    pub(crate) fn read_series(
        &self,
        device: &PartialPath,
        measurement: &str,
        data_type: TSDataType,
        range: TimeRange,
    ) -> SeriesData {
        let phys = data_type.physical();
        let empty = || SeriesData {
            times: Vec::new(),
            values: ColumnData::empty(phys),
        };
        if range.is_empty() {
            return empty();
        }
        let mut sources = Vec::with_capacity(1);
        {
            let st = self.state.read();
            match st.working.series(device, measurement) {
                Some(buf) if buf.data_type() != phys => return empty(),
                Some(buf) if buf.is_sorted() => sources.push(buf.read(range)),
                Some(_) => {}
                None => return empty(),
            }
        }
        if sources.is_empty() {
            let mut st = self.state.write();
            if let Some(buf) = st.working.series_existing_mut(device, measurement) {
                buf.ensure_sorted();
                sources.push(buf.read(range));
            }
        }
        merge_newest_wins(sources, phys)
    }

    /// The latest point of a series.
    pub(crate) fn last_point(
        &self,
        device: &PartialPath,
        measurement: &str,
        data_type: TSDataType,
    ) -> Option<(i64, Value)> {
        let phys = data_type.physical();
        {
            let st = self.state.read();
            let buf = st.working.series(device, measurement)?;
            if buf.data_type() != phys {
                return None;
            }
            if buf.is_sorted() {
                return buf.last();
            }
        }
        let mut st = self.state.write();
        let buf = st.working.series_existing_mut(device, measurement)?;
        buf.ensure_sorted();
        buf.last()
    }

    /// Fsyncs the WAL.
    pub(crate) fn sync_wal(&self) -> Result<()> {
        self.wal.sync()
    }

    /// Number of buffered points (diagnostics and tests).
    #[allow(dead_code)]
    pub(crate) fn buffered_points(&self) -> u64 {
        self.state.read().working.points()
    }
}
