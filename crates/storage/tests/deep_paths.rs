//! A data directory holding a series far deeper than today's input limits (as an older
//! build could write) stays usable: schema walks, flush, restart and reads run on a small
//! thread stack without overflowing it.

mod common;
use common::*;
use model::{Column, ColumnData, InsertTablet, PartialPath, TSDataType};
use storage::{Engine, TimeRange};

const LEVELS: usize = 5_000;

fn deep_device() -> PartialPath {
    let mut nodes = vec!["root".to_string(), "deep".to_string()];
    nodes.extend((0..LEVELS).map(|i| format!("n{i}")));
    PartialPath::from_nodes(nodes)
}

/// Runs `f` on a thread with a 256 KiB stack, far less than a recursive walk of
/// [`LEVELS`] levels needs.
fn on_small_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(f)
        .unwrap()
        .join()
        .expect("the deep-path scenario panicked or overflowed");
}

#[test]
fn deep_series_survive_flush_restart_and_reads() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    on_small_stack(move || {
        let device = deep_device();
        {
            let e: Engine = open(&root);
            e.insert_tablet(&InsertTablet {
                device: device.clone(),
                measurements: vec!["s1".into()],
                types: vec![TSDataType::Int64],
                times: vec![1, 2, 3],
                columns: vec![Column::new(ColumnData::Int64(vec![10, 20, 30]))],
                aligned: false,
            })
            .unwrap();
            assert_eq!(e.series(&pat("root.**")).len(), 1);
            assert_eq!(e.devices(&pat("root.deep.**")).len(), 1);
            e.flush().unwrap();
            e.close().unwrap();
        }
        // Restart: the schema log, WAL and TsFile all carry the deep path.
        let e = open(&root);
        let series = device.child("s1");
        let data = e.read_series(&series, TimeRange::ALL).unwrap();
        assert_eq!(data.times, vec![1, 2, 3]);
        assert_eq!(e.nodes_at_level(&pat("root.**"), 3).len(), 1);
        e.insert_tablet(&InsertTablet {
            device,
            measurements: vec!["s1".into()],
            types: vec![TSDataType::Int64],
            times: vec![4],
            columns: vec![Column::new(ColumnData::Int64(vec![40]))],
            aligned: false,
        })
        .unwrap();
        e.flush().unwrap();
        assert_eq!(
            e.read_series(&series, TimeRange::ALL).unwrap().times.len(),
            4
        );
        e.delete_timeseries(&[pat("root.deep.**")]).unwrap();
        assert!(e.series(&pat("root.**")).is_empty());
        e.close().unwrap();
    });
}
