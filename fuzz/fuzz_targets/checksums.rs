//! The chunk checksum sidecar reader (`<file>.tsfile.checksums`) on arbitrary bytes, as
//! stored and with its own CRC made to match, then its per-chunk lookups and checks.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| storage::fuzzing::checksums(data));
