//! A data region: all data of one database (memtable + WAL; flushed files join later).

use crate::api::{SeriesData, TimeRange};
use crate::config::WalMode;
use crate::memtable::{merge_newest_wins, MemTable};
use crate::wal::{Wal, WalEntry};
use model::{ColumnData, PartialPath, Result, TSDataType, Value};
use parking_lot::RwLock;
use std::path::PathBuf;

/// Until memtables are flushed into TsFiles the WAL is the only copy of the data, so
/// at open it is rewritten to the live points when the replayed segments are many or
/// mostly garbage (deleted or overwritten points).
fn should_checkpoint(segments: usize, bytes: u64, points: u64) -> bool {
    const MANY_SEGMENTS: usize = 8;
    const BIG: u64 = 64 << 20;
    let live_estimate = points.saturating_mul(16);
    segments >= MANY_SEGMENTS || (bytes > BIG && bytes > live_estimate.saturating_mul(2))
}

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
        let region = DataRegion {
            id,
            state: RwLock::new(state),
            wal,
        };
        let (segments, bytes) = region.wal.replayed();
        if should_checkpoint(segments, bytes, region.buffered_points()) {
            region.checkpoint()?;
        }
        Ok(region)
    }

    /// Rewrites the WAL to hold only the live points (see `Wal::checkpoint`).
    pub(crate) fn checkpoint(&self) -> Result<()> {
        let mut st = self.state.write();
        self.wal.checkpoint(&mut st.working)
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

    /// Number of buffered points.
    pub(crate) fn buffered_points(&self) -> u64 {
        self.state.read().working.points()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wal::{WalColumn, WalTablet};
    use model::ColumnData;
    use std::borrow::Cow;

    fn tablet(dev: &PartialPath, t0: i64, n: i64) -> WalEntry<'static> {
        WalEntry::Tablet(WalTablet {
            device: Cow::Owned(dev.clone()),
            times: Cow::Owned((t0..t0 + n).collect()),
            columns: vec![WalColumn {
                measurement: Cow::Owned("s".into()),
                data: Cow::Owned(ColumnData::Int64((t0..t0 + n).collect())),
                nulls: None,
            }],
        })
    }

    #[test]
    fn checkpoint_keeps_live_points_and_drops_history() {
        let dir = tempfile::tempdir().unwrap();
        let wal = dir.path().join("r");
        let dev = PartialPath::parse("root.sg.d").unwrap();
        let mut scratch = Vec::new();
        for round in 0..3 {
            let r = DataRegion::open(0, wal.clone(), WalMode::Sync).unwrap();
            r.write(&tablet(&dev, round * 100, 100), &mut scratch)
                .unwrap();
        }
        let r = DataRegion::open(0, wal.clone(), WalMode::Sync).unwrap();
        assert_eq!(r.wal.replayed().0, 3);
        r.write(
            &WalEntry::Delete {
                series: vec![(dev.clone(), "s".into())],
                range: TimeRange::new(0, 149),
            },
            &mut scratch,
        )
        .unwrap();
        r.checkpoint().unwrap();
        drop(r);
        let files = std::fs::read_dir(&wal).unwrap().count();
        assert_eq!(files, 1, "old segments replaced by the checkpoint segment");
        let r = DataRegion::open(0, wal, WalMode::Sync).unwrap();
        let d = r.read_series(&dev, "s", TSDataType::Int64, TimeRange::ALL);
        assert_eq!(d.times, (150..300).collect::<Vec<_>>());
        assert_eq!(d.values, ColumnData::Int64((150..300).collect()));
    }

    #[test]
    fn checkpoint_policy() {
        assert!(!should_checkpoint(1, 1 << 20, 0));
        assert!(should_checkpoint(8, 0, 0));
        assert!(should_checkpoint(2, 100 << 20, 1000));
        assert!(!should_checkpoint(2, 100 << 20, 10 << 20));
    }
}
