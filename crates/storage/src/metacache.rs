//! The process-wide cache of parsed series metadata (a series' chunk list in one TsFile).
//!
//! A query that reads a long series slice by slice, or a `SELECT LAST` over thousands of
//! series, would otherwise read and parse the same index entries from the files again and
//! again. Entries are keyed by the opening of a file (an id unique in the process, so a
//! file replaced by compaction never answers for its successor) and the series, weighted by
//! their approximate size in bytes, and evicted by `quick_cache`'s S3-FIFO policy once
//! [`CAPACITY_BYTES`] is reached. Files are immutable once sealed, so entries never go stale;
//! deletions are kept apart (in the files' mods) and applied on top.

use quick_cache::sync::Cache;
use quick_cache::Weighter;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use tsfile::metadata::{ChunkMetadata, TimeseriesMetadata};

/// Bytes of parsed metadata the cache keeps at most (counted in the memory budget's last
/// third, with the allocator's retained pages and the readers' buffers).
pub const CAPACITY_BYTES: u64 = 32 << 20;

/// A cached lookup: the series' metadata, or `None` when the file does not hold it.
type Entry = Option<Arc<TimeseriesMetadata>>;

/// A series of one opened file.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    file: u64,
    /// `device`, a NUL, `measurement` (neither can hold a NUL).
    series: Box<str>,
}

impl Key {
    /// The key of `device`'s `measurement` in the file opened as `file`.
    pub(crate) fn new(file: u64, device: &str, measurement: &str) -> Key {
        let mut series = String::with_capacity(device.len() + 1 + measurement.len());
        series.push_str(device);
        series.push('\0');
        series.push_str(measurement);
        Key {
            file,
            series: series.into_boxed_str(),
        }
    }
}

#[derive(Clone)]
struct Bytes;

impl Weighter<Key, Entry> for Bytes {
    fn weight(&self, key: &Key, val: &Entry) -> u64 {
        let meta = val.as_ref().map_or(0, |m| {
            std::mem::size_of::<TimeseriesMetadata>()
                + m.measurement.len()
                + m.chunks.len() * std::mem::size_of::<ChunkMetadata>()
        });
        (std::mem::size_of::<Key>() + key.series.len() + meta + 32) as u64
    }
}

fn cache() -> &'static Cache<Key, Entry, Bytes> {
    static CACHE: OnceLock<Cache<Key, Entry, Bytes>> = OnceLock::new();
    CACHE.get_or_init(|| Cache::with_weighter(64 * 1024, CAPACITY_BYTES, Bytes))
}

/// A new id for an opened file.
pub(crate) fn new_file_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// The cached lookup of `key`, if any (`Some(None)`: the file has no such series).
pub(crate) fn get(key: &Key) -> Option<Entry> {
    cache().get(key)
}

/// Remembers the lookup of `key`.
pub(crate) fn insert(key: Key, entry: Entry) {
    cache().insert(key, entry);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_of_different_openings_or_series_differ() {
        let a = Key::new(1, "root.sg.d", "s");
        assert!(a == Key::new(1, "root.sg.d", "s"));
        assert!(a != Key::new(2, "root.sg.d", "s"));
        // the separator keeps "d" + "s.x" apart from "d.s" + "x"
        assert!(Key::new(1, "root.sg.d", "s.x") != Key::new(1, "root.sg.d.s", "x"));
    }

    #[test]
    fn entries_are_found_until_evicted_and_the_cache_stays_bounded() {
        let file = new_file_id();
        insert(Key::new(file, "root.t.d", "absent"), None);
        assert!(matches!(
            get(&Key::new(file, "root.t.d", "absent")),
            Some(None)
        ));
        assert!(get(&Key::new(file, "root.t.d", "other")).is_none());
        // far more than fits: the weight stays within the capacity
        for i in 0..200_000 {
            insert(
                Key::new(file, "root.t.device_with_a_long_name", &format!("s{i}")),
                None,
            );
        }
        assert!(cache().weight() <= CAPACITY_BYTES);
    }
}
