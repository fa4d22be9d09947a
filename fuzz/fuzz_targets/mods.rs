//! The mods readers (our mods, IoTDB 1.x `.mods`, IoTDB 2.x `.mods2`) on arbitrary bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| storage::fuzzing::mods(data));
