//! Salvage of a TsFile with a damaged tail: the sequential chunk-group scan of an arbitrary
//! file and the decoding of every chunk it finds (without checksums, and with a check that
//! fails every other chunk), as recovery does.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| storage::fuzzing::chunk_scan(data));
