//! Inputs that crashed a fuzz target (`fuzz/`), kept as plain tests: each must now be
//! handled without a panic.

use std::path::Path;

fn input(name: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz_regressions")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// chunk_scan: a chunk whose checked length is shorter than its own header (the scan cut
/// the header off a buffer too short for it).
#[test]
fn chunk_scan_extent_shorter_than_the_header() {
    storage::fuzzing::chunk_scan(&input("chunk_scan-short-extent"));
}
