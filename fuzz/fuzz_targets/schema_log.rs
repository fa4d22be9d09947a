//! Schema recovery from an arbitrary schema log / snapshot (see `storage::fuzzing::schema_log`).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| storage::fuzzing::schema_log(data));
