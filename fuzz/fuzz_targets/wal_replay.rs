//! WAL replay on arbitrary segment bytes (see `storage::fuzzing::wal_replay`).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| storage::fuzzing::wal_replay(data));
