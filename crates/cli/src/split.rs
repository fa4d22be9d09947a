//! Splitting input into SQL statements at `;` outside quotes, and telling whether what was
//! typed so far ends a statement.

/// Splits `text` into the statements it ends with `;` (quotes `'…'`, `"…"` and `` `…` ``
/// may contain `;`; a doubled quote inside a quoted string is an escaped quote). Returns the
/// complete statements (trimmed, without the `;`, empty ones dropped) and the unterminated
/// rest.
pub fn split_statements(text: &str) -> (Vec<String>, String) {
    let mut out = Vec::new();
    let mut quote: Option<char> = None;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        match quote {
            // a doubled quote closes and reopens the string: same outcome as staying in it
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' || c == '`' => quote = Some(c),
            None if c == ';' => {
                let stmt = text[start..i].trim();
                if !stmt.is_empty() {
                    out.push(stmt.to_string());
                }
                start = i + 1;
            }
            None => {}
        }
    }
    (out, text[start..].to_string())
}

/// Every statement of `text`: those ended by `;`, then the unterminated rest if any.
pub fn all_statements(text: &str) -> Vec<String> {
    let (mut stmts, rest) = split_statements(text);
    if !rest.trim().is_empty() {
        stmts.push(rest.trim().to_string());
    }
    stmts
}

/// Every statement of a file (see [`all_statements`]).
pub fn statements_of_file(path: &std::path::Path) -> Result<Vec<String>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok(all_statements(&text))
}

/// True for the shell's own commands, which need no `;` (`quit`, `exit`, `help`,
/// `set time_zone=…`, `show time_zone`, `set time_display_type=…`, `set fetch_size=…` …).
pub fn is_client_command(text: &str) -> bool {
    let t = text
        .trim()
        .trim_end_matches(';')
        .trim()
        .to_ascii_lowercase();
    let t = t.split_whitespace().collect::<Vec<_>>().join(" ");
    matches!(t.as_str(), "quit" | "exit" | "help")
        || [
            "set time_display_type",
            "show time_display_type",
            "set time_zone",
            "show time_zone",
            "set fetch_size",
            "show fetch_size",
            "set max_display_num",
            "show max_display_num",
        ]
        .iter()
        .any(|p| t.starts_with(p))
}

/// True when the typed text can be run: blank, a client command, or ending with a
/// complete statement (`;` outside quotes, nothing but blanks after it).
pub fn is_complete(text: &str) -> bool {
    if text.trim().is_empty() || is_client_command(text) {
        return true;
    }
    let (stmts, rest) = split_statements(text);
    !stmts.is_empty() && rest.trim().is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_outside_quotes() {
        let (s, rest) =
            split_statements("select 'a;b' from root.sg; insert into x values(1);\n sel");
        assert_eq!(
            s,
            vec!["select 'a;b' from root.sg", "insert into x values(1)"]
        );
        assert_eq!(rest.trim(), "sel");
        let (s, _) = split_statements("select `a;b`, \"c;\"\"d\" from t;;");
        assert_eq!(s, vec!["select `a;b`, \"c;\"\"d\" from t"]);
    }

    #[test]
    fn completeness() {
        assert!(is_complete("select *\nfrom root.**;"));
        assert!(!is_complete("select *\nfrom root.**"));
        assert!(!is_complete("insert into root.a(time,s) values(1,'x;"));
        assert!(is_complete("quit"));
        assert!(is_complete("set time_zone=+08:00"));
        assert!(is_complete("  "));
        assert!(is_complete(
            "select count(s) from root.p.d group by ([0, 10000000), 1ms);"
        ));
    }
}
