//! Paths (`root.sg.d1.s1`) and path patterns with `*` / `**` wildcards.
//!
//! Nodes are kept in canonical form: a name that needs quoting (characters outside
//! IoTDB's unquoted set, or a pure number) is stored back-quoted, with inner back-quotes
//! doubled; other names are stored bare, so `` root.`a` `` and `root.a` are the same path.

use crate::error::{Error, Result};
use std::fmt;

/// A concrete path without wildcards.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PartialPath {
    nodes: Vec<String>,
}

/// A path pattern: nodes may be `*` (one node), `**` (one or more nodes) or contain `*`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PathPattern {
    nodes: Vec<String>,
}

/// Most levels a path may have, `root` included. IoTDB declares no limit; a real IoTDB
/// 2.0.1 accepts paths of 2,000 levels and drops the connection at 10,000. iotdb-rs refuses
/// deeper paths with `ILLEGAL_PATH` when a request or statement is decoded, so that nothing
/// downstream (schema walks, TsFile device ids, result headers) sees unbounded depth.
pub const MAX_PATH_DEPTH: usize = 4096;

/// Longest node name, in bytes (UTF-8, back-quotes excluded). A real IoTDB accepts names of
/// 1 MiB; longer ones are refused with `ILLEGAL_PATH` at decode time.
pub const MAX_NODE_NAME_BYTES: usize = 1 << 20;

/// Checks a path's nodes against [`MAX_PATH_DEPTH`] and [`MAX_NODE_NAME_BYTES`]; the error
/// names the path in abbreviated form (it may be megabytes long).
pub fn check_limits(nodes: &[String]) -> Result<()> {
    let illegal = |why: String| Error::IllegalPath(abbreviate(nodes), Some(why));
    if nodes.len() > MAX_PATH_DEPTH {
        return Err(illegal(format!(
            "it has {} levels (at most {MAX_PATH_DEPTH} are allowed)",
            nodes.len()
        )));
    }
    // Canonical nodes may carry back-quotes (and doubled inner ones); the limit is on the raw name.
    let too_long = nodes
        .iter()
        .filter(|n| n.len() > MAX_NODE_NAME_BYTES)
        .map(|n| unquote_node(n).len())
        .find(|&len| len > MAX_NODE_NAME_BYTES);
    if let Some(len) = too_long {
        return Err(illegal(format!(
            "a node name is {len} bytes long (at most {MAX_NODE_NAME_BYTES} are allowed)"
        )));
    }
    Ok(())
}

/// The dotted form of `nodes` for an error message, abbreviated when long.
fn abbreviate(nodes: &[String]) -> String {
    abbreviate_text(&nodes.join("."))
}

/// `text` cut to about 120 bytes, with its full length appended, when longer (paths in
/// error messages may be megabytes long).
fn abbreviate_text(text: &str) -> String {
    const KEEP: usize = 120;
    if text.len() <= KEEP {
        return text.to_string();
    }
    let mut cut = KEEP;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}… ({} bytes)", &text[..cut], text.len())
}

fn is_unquoted_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(c, '_' | ':' | '@' | '#' | '$' | '{' | '}')
        || ('\u{2E80}'..='\u{9FFF}').contains(&c)
}

fn is_real_number(s: &str) -> bool {
    !s.is_empty()
        && s.parse::<f64>().is_ok()
        && s.chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-')
}

/// Returns the canonical form of a raw (unquoted) node name: bare when legal, else back-quoted.
pub fn quote_node(raw: &str) -> String {
    if !raw.is_empty() && raw.chars().all(is_unquoted_char) && !is_real_number(raw) {
        raw.to_string()
    } else {
        format!("`{}`", raw.replace('`', "``"))
    }
}

/// Returns the raw name of a canonical node (strips back-quotes).
pub fn unquote_node(node: &str) -> String {
    if node.len() >= 2 && node.starts_with('`') && node.ends_with('`') {
        node[1..node.len() - 1].replace("``", "`")
    } else {
        node.to_string()
    }
}

/// Node names IoTDB reserves (compared case-insensitively).
const RESERVED_NODE_NAMES: [&str; 3] = ["root", "time", "timestamp"];

/// Checks a measurement name sent by a client as one column of a tablet or record, as
/// IoTDB does before writing: it must be a single legal node name, either back-quoted
/// (inner back-quotes doubled) or bare (IoTDB's unquoted characters, not a pure number,
/// not `root`/`time`/`timestamp`). So `*`, an empty name or `a.b` are refused with
/// [`Error::IllegalPath`] ("`a.b` is not a legal path", status 509).
///
/// Returns the name in canonical node form (`` `s1` `` becomes `s1`).
pub fn check_single_measurement(name: &str) -> Result<String> {
    let illegal = || Error::IllegalPath(name.to_string(), None);
    if let Some(inner) = name
        .strip_prefix('`')
        .and_then(|rest| rest.strip_suffix('`'))
    {
        let mut raw = String::with_capacity(inner.len());
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            if c == '`' && chars.next() != Some('`') {
                return Err(illegal());
            }
            raw.push(c);
        }
        if raw.is_empty() {
            return Err(illegal());
        }
        return Ok(quote_node(&raw));
    }
    let bare_ok = !name.is_empty()
        && name.chars().all(is_unquoted_char)
        && !is_real_number(name)
        && !RESERVED_NODE_NAMES
            .iter()
            .any(|r| name.eq_ignore_ascii_case(r));
    if bare_ok {
        Ok(name.to_string())
    } else {
        Err(illegal())
    }
}

/// Splits a dotted path into canonical nodes. `allow_wildcards` permits `*` in bare nodes.
fn split_nodes(path: &str, allow_wildcards: bool) -> Result<Vec<String>> {
    let illegal = |why: &str| Error::IllegalPath(abbreviate_text(path), Some(why.to_string()));
    let mut nodes = Vec::new();
    let mut chars = path.chars().peekable();
    loop {
        let mut raw = String::new();
        let mut quoted = false;
        if chars.peek() == Some(&'`') {
            quoted = true;
            chars.next();
            loop {
                match chars.next() {
                    Some('`') => {
                        if chars.peek() == Some(&'`') {
                            chars.next();
                            raw.push('`');
                        } else {
                            break;
                        }
                    }
                    Some(c) => raw.push(c),
                    None => return Err(illegal("unclosed back-quote")),
                }
            }
            if !matches!(chars.peek(), None | Some('.')) {
                return Err(illegal("text after a back-quoted node"));
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == '.' {
                    break;
                }
                raw.push(c);
                chars.next();
            }
        }
        if raw.is_empty() {
            return Err(illegal("empty node name"));
        }
        if quoted {
            nodes.push(quote_node(&raw));
        } else {
            let wildcard_ok = allow_wildcards && raw.contains('*');
            if wildcard_ok {
                if raw != "*"
                    && raw != "**"
                    && !raw.chars().all(|c| c == '*' || is_unquoted_char(c))
                {
                    return Err(illegal("illegal characters in node name"));
                }
                if raw.contains("**") && raw != "**" {
                    return Err(illegal("'**' must be a whole node"));
                }
            } else if !raw.chars().all(is_unquoted_char) {
                return Err(illegal(
                    "illegal characters in node name; quote it with back-quotes",
                ));
            } else if is_real_number(&raw) {
                return Err(illegal(
                    "a node name may not be a pure number; quote it with back-quotes",
                ));
            }
            nodes.push(raw);
        }
        match chars.next() {
            Some('.') => continue,
            None => break,
            Some(_) => return Err(illegal("unexpected character")),
        }
    }
    match nodes.first_mut() {
        Some(first) if first.eq_ignore_ascii_case("root") => *first = "root".into(),
        _ => return Err(illegal("a path must start with root")),
    }
    check_limits(&nodes)?;
    Ok(nodes)
}

impl PartialPath {
    /// Parses a concrete path such as `root.sg.d1.s1` (back-quoted nodes allowed).
    pub fn parse(path: &str) -> Result<Self> {
        Ok(PartialPath {
            nodes: split_nodes(path.trim(), false)?,
        })
    }

    /// Builds a path from canonical nodes (first must be `root`).
    pub fn from_nodes(nodes: Vec<String>) -> Self {
        PartialPath { nodes }
    }

    /// The canonical nodes.
    pub fn nodes(&self) -> &[String] {
        &self.nodes
    }

    /// Number of nodes including `root`.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// True for an empty path (never produced by `parse`).
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The last node.
    pub fn last(&self) -> &str {
        self.nodes.last().map(String::as_str).unwrap_or("")
    }

    /// The path without its last node.
    pub fn parent(&self) -> PartialPath {
        let n = self.nodes.len().saturating_sub(1);
        PartialPath {
            nodes: self.nodes[..n].to_vec(),
        }
    }

    /// This path extended by one canonical node.
    pub fn child(&self, node: &str) -> PartialPath {
        let mut nodes = self.nodes.clone();
        nodes.push(node.to_string());
        PartialPath { nodes }
    }

    /// This path extended by a raw measurement name (quoted if needed) or dotted suffix.
    pub fn join(&self, suffix: &str) -> Result<PartialPath> {
        let tail = split_nodes(&format!("root.{suffix}"), false)?;
        let mut nodes = self.nodes.clone();
        nodes.extend(tail.into_iter().skip(1));
        Ok(PartialPath { nodes })
    }

    /// True if `prefix` is a (non-strict) prefix of this path.
    pub fn starts_with(&self, prefix: &PartialPath) -> bool {
        self.nodes.starts_with(&prefix.nodes)
    }

    /// The path as a pattern (no wildcards).
    pub fn to_pattern(&self) -> PathPattern {
        PathPattern {
            nodes: self.nodes.clone(),
        }
    }
}

impl fmt::Display for PartialPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.nodes.join("."))
    }
}

/// True if one pattern node matches one canonical node.
pub fn node_matches(pattern: &str, node: &str) -> bool {
    if pattern == "*" || pattern == "**" {
        return true;
    }
    if !pattern.contains('*') || pattern.starts_with('`') {
        return pattern == node;
    }
    glob(pattern.as_bytes(), node.as_bytes())
}

fn glob(p: &[u8], s: &[u8]) -> bool {
    // Iterative wildcard match with backtracking to the last star: O(len(p) * len(s)).
    let (mut pi, mut si) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while si < s.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some(pi);
            pi += 1;
            mark = si;
        } else if pi < p.len() && p[pi] == s[si] {
            pi += 1;
            si += 1;
        } else if let Some(sp) = star {
            pi = sp + 1;
            mark += 1;
            si = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

/// The set of positions a pattern can be in after consuming some nodes.
/// `(i, inside)`: next pattern node is `i`; `inside` = `i` is `**` that already took a node.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MatchState {
    states: Vec<(usize, bool)>,
}

impl PathPattern {
    /// Parses a pattern such as `root.**`, `root.*.d1.s*`.
    pub fn parse(pattern: &str) -> Result<Self> {
        Ok(PathPattern {
            nodes: split_nodes(pattern.trim(), true)?,
        })
    }

    /// Builds a pattern from canonical nodes.
    pub fn from_nodes(nodes: Vec<String>) -> Self {
        PathPattern { nodes }
    }

    /// The pattern nodes.
    pub fn nodes(&self) -> &[String] {
        &self.nodes
    }

    /// True if any node has a wildcard.
    pub fn has_wildcard(&self) -> bool {
        self.nodes
            .iter()
            .any(|n| n.contains('*') && !n.starts_with('`'))
    }

    /// The concrete path if there are no wildcards.
    pub fn to_path(&self) -> Option<PartialPath> {
        (!self.has_wildcard()).then(|| PartialPath {
            nodes: self.nodes.clone(),
        })
    }

    /// The pattern extended by one more (pattern) node.
    pub fn child(&self, node: &str) -> PathPattern {
        let mut nodes = self.nodes.clone();
        nodes.push(node.to_string());
        PathPattern { nodes }
    }

    fn close(&self, mut states: Vec<(usize, bool)>) -> MatchState {
        let mut extra = Vec::new();
        for &(i, inside) in &states {
            if inside {
                extra.push((i + 1, false));
            }
        }
        states.extend(extra);
        states.sort_unstable();
        states.dedup();
        MatchState { states }
    }

    /// The state before any node is consumed.
    pub fn start(&self) -> MatchState {
        MatchState {
            states: vec![(0, false)],
        }
    }

    /// The state after consuming one more node.
    pub fn step(&self, state: &MatchState, node: &str) -> MatchState {
        let m = self.nodes.len();
        let mut next = Vec::new();
        for &(i, inside) in &state.states {
            if inside {
                next.push((i, true));
            } else if i < m {
                let p = &self.nodes[i];
                if p == "**" {
                    next.push((i, true));
                } else if node_matches(p, node) {
                    next.push((i + 1, false));
                }
            }
        }
        self.close(next)
    }

    /// True if the nodes consumed so far form a full match.
    pub fn is_match(&self, state: &MatchState) -> bool {
        state.states.contains(&(self.nodes.len(), false))
    }

    /// True if some longer path (one or more nodes more) could still match.
    pub fn can_extend(&self, state: &MatchState) -> bool {
        let m = self.nodes.len();
        state.states.iter().any(|&(i, inside)| inside || i < m)
    }

    /// True if the pattern matches the whole path.
    pub fn matches(&self, path: &PartialPath) -> bool {
        self.matches_nodes(path.nodes())
    }

    /// True if the pattern matches the node list.
    pub fn matches_nodes(&self, nodes: &[String]) -> bool {
        let mut st = self.start();
        for n in nodes {
            st = self.step(&st, n);
            if st.states.is_empty() {
                return false;
            }
        }
        self.is_match(&st)
    }

    /// True if the path or some descendant of it could match the pattern.
    pub fn may_match_under(&self, path: &PartialPath) -> bool {
        let mut st = self.start();
        for n in path.nodes() {
            st = self.step(&st, n);
            if st.states.is_empty() {
                return false;
            }
        }
        true
    }
}

impl fmt::Display for PathPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.nodes.join("."))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_measurements_are_checked_like_iotdb() {
        for ok in ["s1", "温度", "a_b", "`a.b`", "`1`", "`x``y`", "TimeX"] {
            assert!(check_single_measurement(ok).is_ok(), "{ok}");
        }
        assert_eq!(check_single_measurement("`s1`").unwrap(), "s1");
        assert_eq!(check_single_measurement("`a.b`").unwrap(), "`a.b`");
        for bad in [
            "*", "", "a.b", "s*", "**", "1", "1e3", "time", "ROOT", "`a`b`", "``", "`", "a b",
        ] {
            let e = check_single_measurement(bad).unwrap_err();
            assert_eq!(e.to_string(), format!("{bad} is not a legal path"));
            assert_eq!(e.status_code(), crate::TSStatusCode::IllegalPath);
        }
    }

    fn p(s: &str) -> PartialPath {
        PartialPath::parse(s).unwrap()
    }

    fn deep(levels: usize) -> String {
        let mut s = "root".to_string();
        for i in 1..levels {
            s.push_str(&format!(".n{i}"));
        }
        s
    }

    #[test]
    fn depth_and_node_length_limits() {
        assert_eq!(p(&deep(MAX_PATH_DEPTH)).len(), MAX_PATH_DEPTH);
        let e = PartialPath::parse(&deep(MAX_PATH_DEPTH + 1)).unwrap_err();
        assert_eq!(e.status_code(), crate::TSStatusCode::IllegalPath);
        let msg = e.to_string();
        assert!(msg.contains("4097 levels"), "{msg}");
        assert!(
            msg.len() < 400,
            "message must be abbreviated: {} bytes",
            msg.len()
        );
        assert!(PathPattern::parse(&format!("{}.**", deep(MAX_PATH_DEPTH))).is_err());

        let name = "x".repeat(MAX_NODE_NAME_BYTES);
        assert!(PartialPath::parse(&format!("root.{name}")).is_ok());
        assert!(PartialPath::parse(&format!("root.`{name}`")).is_ok());
        let e = PartialPath::parse(&format!("root.{name}y"))
            .map(|_| ())
            .unwrap_err();
        assert!(e.to_string().contains("bytes long"), "{e}");
        let e = PartialPath::parse(&format!("root.`{name}y`"))
            .map(|_| ())
            .unwrap_err();
        assert!(e.to_string().len() < 400);
        // Abbreviation never splits a multi-byte character.
        let wide = "中".repeat(MAX_NODE_NAME_BYTES / 3 + 1);
        assert!(PartialPath::parse(&format!("root.{wide}")).is_err());
    }

    #[test]
    fn parse_and_canonical_form() {
        assert_eq!(p("ROOT.sg.d1").to_string(), "root.sg.d1");
        assert_eq!(p("root.sg.`111`.a").to_string(), "root.sg.`111`.a");
        assert_eq!(p("root.`abc`").to_string(), "root.abc");
        assert_eq!(p("root.`a.b`").nodes()[1], "`a.b`");
        assert!(PartialPath::parse("sg.d1").is_err());
        assert!(PartialPath::parse("root..a").is_err());
        assert!(PartialPath::parse("root.111").is_err());
        assert!(PartialPath::parse("root.a*").is_err());
        assert!(PartialPath::parse("root.`unclosed").is_err());
        assert_eq!(unquote_node("`a``b`"), "a`b");
    }

    #[test]
    fn wildcard_matching() {
        let pat = |s: &str| PathPattern::parse(s).unwrap();
        assert!(pat("root.**").matches(&p("root.a.b")));
        assert!(!pat("root.**").matches(&p("root")));
        assert!(pat("root.*.*").matches(&p("root.d.s")));
        assert!(!pat("root.*.*").matches(&p("root.a.d.s")));
        assert!(pat("root.**.s1").matches(&p("root.a.b.s1")));
        assert!(!pat("root.**.s1").matches(&p("root.s1")));
        assert!(pat("root.sg.wf*").matches(&p("root.sg.wf01")));
        assert!(pat("root.sg.*01").matches(&p("root.sg.wf01")));
        assert!(!pat("root.sg.*01").matches(&p("root.sg.wf02")));
        assert!(pat("root.a.**").may_match_under(&p("root.a")));
        assert!(pat("root.a.b").may_match_under(&p("root.a")));
        assert!(!pat("root.a.b").may_match_under(&p("root.c")));
    }

    #[test]
    fn pathological_pattern_is_fast() {
        let pattern = PathPattern::parse(&format!("root{}", ".**".repeat(40))).unwrap();
        let path = PartialPath::from_nodes(
            std::iter::once("root".to_string())
                .chain((0..60).map(|i| format!("n{i}")))
                .collect(),
        );
        assert!(pattern.matches(&path));
    }
}
