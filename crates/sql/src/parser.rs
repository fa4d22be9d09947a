//! The recursive-descent parser: tokens → [`Statement`].
//!
//! Statement parsing lives here; expressions, literals and time values are in `expr.rs`.
//! Every loop consumes at least one token per iteration and every recursion goes through a
//! depth guard, so parsing is linear in the input and cannot overflow the stack.

use crate::ast::*;
use crate::lexer::{line_col, tokenize, Tok, Token};
use model::path::quote_node;
use model::{CompressionType, Error, PartialPath, PathPattern, Result, TSDataType, TSEncoding};

/// Maximum depth of an expression tree handed to callers (a path or constant is depth 1,
/// `a + b` is 2, `a + b + c` is 3). Code that walks trees recursively can rely on it.
pub const MAX_DEPTH: usize = 256;

/// Maximum recursion of the parser itself (parentheses, function calls, unary operators and
/// operands of tighter-binding operators nested inside each other). Deep recursion continues on
/// heap-allocated stack segments, so the parser cannot overflow the caller's stack.
pub const MAX_NESTING: usize = 512;

/// Words that are never identifiers or node names without back-quotes. The operator words
/// (`and`, `or`, `not`, `in`, `is`, `contains`, `between`) are not among them: IoTDB takes
/// them as node names wherever a node can stand (`root.sg.in`, `SELECT between FROM …`), and
/// the expression parser reads them as operators only where an operator can stand.
const RESERVED: &[&str] = &["root", "time", "timestamp", "true", "false", "null", "nan"];

/// True if `w` is one of the reserved words.
pub(crate) fn is_reserved(w: &str) -> bool {
    RESERVED.iter().any(|r| r.eq_ignore_ascii_case(w))
}

/// True for the words that cannot begin an operand: clause keywords (`FROM`, `WHERE`, …) and
/// the binary operator words `AND`, `OR`, `LIKE`, `REGEXP`.
pub(crate) fn ends_operand(w: &str) -> bool {
    matches!(
        w.to_ascii_lowercase().as_str(),
        "from"
            | "as"
            | "where"
            | "group"
            | "having"
            | "order"
            | "fill"
            | "limit"
            | "offset"
            | "slimit"
            | "soffset"
            | "align"
            | "into"
            | "and"
            | "or"
            | "like"
            | "regexp"
    )
}

/// True if the word is a number literal (`123`, `1e5`, `1E-3`) rather than a name.
pub(crate) fn is_number_word(w: &str) -> bool {
    let b = w.as_bytes();
    let d = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if d == 0 {
        return false;
    }
    if d == b.len() {
        return true;
    }
    if !matches!(b[d], b'e' | b'E') {
        return false;
    }
    let mut rest = &b[d + 1..];
    if let Some((b'+' | b'-', r)) = rest.split_first() {
        rest = r;
    }
    !rest.is_empty() && rest.iter().all(u8::is_ascii_digit)
}

/// Splits a duration word (`1h30m`, `2mo`, `10ms`) into (months, milliseconds).
/// `y` = 365 days; `us`/`ns` round down to milliseconds. `None` if it is not a duration.
pub(crate) fn parse_duration(w: &str) -> Option<(i64, i64)> {
    let lower = w.to_ascii_lowercase();
    let b = lower.as_bytes();
    if b.is_empty() || !b[0].is_ascii_digit() {
        return None;
    }
    let (mut months, mut millis, mut micros) = (0i64, 0i64, 0i128);
    let mut i = 0;
    while i < b.len() {
        let s = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if s == i {
            return None;
        }
        let n: i64 = lower[s..i].parse().ok()?;
        let u = i;
        while i < b.len() && b[i].is_ascii_alphabetic() {
            i += 1;
        }
        let unit_ms: i64 = match &lower[u..i] {
            "y" => 365 * 86_400_000,
            "mo" => {
                months = months.checked_add(n)?;
                continue;
            }
            "w" => 7 * 86_400_000,
            "d" => 86_400_000,
            "h" => 3_600_000,
            "m" => 60_000,
            "s" => 1000,
            "ms" => 1,
            "us" => {
                micros += n as i128;
                continue;
            }
            "ns" => {
                micros += n as i128 / 1000;
                continue;
            }
            _ => return None,
        };
        millis = millis.checked_add(n.checked_mul(unit_ms)?)?;
    }
    millis = millis.checked_add(i64::try_from(micros / 1000).ok()?)?;
    Some((months, millis))
}

/// The parser state.
pub(crate) struct Parser<'a> {
    pub(crate) src: &'a str,
    pub(crate) toks: Vec<Token>,
    pub(crate) pos: usize,
    pub(crate) nesting: usize,
}

/// Parses one statement.
pub fn parse_statement(sql: &str) -> Result<Statement> {
    let toks = tokenize(sql)?;
    let mut p = Parser {
        src: sql,
        toks,
        pos: 0,
        nesting: 0,
    };
    p.statement()
}

/// Parses one expression (used for tests and for callers that hold expression text).
pub fn parse_expression(text: &str) -> Result<Expression> {
    let toks = tokenize(text)?;
    let mut p = Parser {
        src: text,
        toks,
        pos: 0,
        nesting: 0,
    };
    let e = p.expr()?;
    p.expect_eof()?;
    Ok(e)
}

impl<'a> Parser<'a> {
    // ------------------------------------------------------------ token helpers

    pub(crate) fn peek(&self) -> &Tok {
        self.peek_at(0)
    }

    pub(crate) fn peek_at(&self, n: usize) -> &Tok {
        let i = (self.pos + n).min(self.toks.len() - 1);
        &self.toks[i].tok
    }

    pub(crate) fn token(&self, n: usize) -> &Token {
        let i = (self.pos + n).min(self.toks.len() - 1);
        &self.toks[i]
    }

    pub(crate) fn advance(&mut self) -> Token {
        let t = self.token(0).clone();
        if self.pos < self.toks.len() - 1 {
            self.pos += 1;
        }
        t
    }

    /// True if tokens `n` and `n + 1` (relative to the cursor) touch (no whitespace between).
    pub(crate) fn adjacent(&self, n: usize) -> bool {
        let a = self.token(n);
        let b = self.token(n + 1);
        b.tok != Tok::Eof && a.end == b.start
    }

    pub(crate) fn is_kw_at(&self, n: usize, kw: &str) -> bool {
        matches!(self.peek_at(n), Tok::Word(w) if w.eq_ignore_ascii_case(kw))
    }

    pub(crate) fn is_kw(&self, kw: &str) -> bool {
        self.is_kw_at(0, kw)
    }

    pub(crate) fn eat_kw(&mut self, kw: &str) -> bool {
        if self.is_kw(kw) {
            self.advance();
            true
        } else {
            false
        }
    }

    pub(crate) fn expect_kw(&mut self, kw: &str) -> Result<()> {
        if self.eat_kw(kw) {
            Ok(())
        } else {
            Err(self.expecting(kw))
        }
    }

    pub(crate) fn eat(&mut self, t: &Tok) -> bool {
        if self.peek() == t {
            self.advance();
            true
        } else {
            false
        }
    }

    pub(crate) fn expect(&mut self, t: &Tok, shown: &str) -> Result<()> {
        if self.eat(t) {
            Ok(())
        } else {
            Err(self.expecting(shown))
        }
    }

    pub(crate) fn expect_eof(&mut self) -> Result<()> {
        if *self.peek() == Tok::Eof {
            Ok(())
        } else {
            Err(self.error_here("extraneous input", "<EOF>"))
        }
    }

    /// The text of token `t` as ANTLR shows it.
    pub(crate) fn text_of(&self, t: &Token) -> String {
        if t.tok == Tok::Eof {
            "<EOF>".to_string()
        } else {
            self.src.get(t.start..t.end).unwrap_or("").to_string()
        }
    }

    /// `line L:C mismatched input 'x' expecting WHAT` at the current token.
    pub(crate) fn expecting(&self, what: &str) -> Error {
        self.error_here("mismatched input", what)
    }

    fn error_here(&self, kind: &str, what: &str) -> Error {
        let t = self.token(0);
        let (line, col) = line_col(self.src, t.start);
        Error::SqlParse(format!(
            "line {line}:{col} {kind} '{}' expecting {what}",
            self.text_of(t)
        ))
    }

    /// A semantic error (the text parses but IoTDB rejects it while building the plan).
    pub(crate) fn semantic(msg: impl Into<String>) -> Error {
        Error::Semantic(msg.into())
    }

    fn unsupported(what: &str) -> Error {
        Error::Unsupported(format!("{what} is not supported yet"))
    }

    // ------------------------------------------------------------ names and paths

    /// True if the current token can be a (non-wildcard) node word.
    fn is_node_word(w: &str) -> bool {
        !is_reserved(w) && !is_number_word(w) && parse_duration(w).is_none()
    }

    /// An identifier (template, user, role, tag key …), raw.
    pub(crate) fn identifier(&mut self, what: &str) -> Result<String> {
        match self.peek().clone() {
            Tok::Word(w) if Self::is_node_word(&w) => {
                self.advance();
                Ok(w)
            }
            Tok::QuotedId(s) if !s.is_empty() => {
                self.advance();
                Ok(s)
            }
            _ => Err(self.expecting(what)),
        }
    }

    /// One path node in canonical form. `wild` allows `*`, `**` and partial wildcards;
    /// `in_expr` makes a trailing `*` a wildcard only when it cannot be a multiplication.
    pub(crate) fn node(&mut self, wild: bool, in_expr: bool) -> Result<String> {
        let node = self.node_unchecked(wild, in_expr)?;
        model::path::check_limits(std::slice::from_ref(&node))?;
        Ok(node)
    }

    fn node_unchecked(&mut self, wild: bool, in_expr: bool) -> Result<String> {
        match self.peek().clone() {
            Tok::QuotedId(raw) => {
                if raw.is_empty() {
                    return Err(self.expecting("a node name (back-quoted names may not be empty)"));
                }
                self.advance();
                Ok(quote_node(&raw))
            }
            Tok::DoubleStar if wild => {
                self.advance();
                Ok("**".to_string())
            }
            Tok::Star if wild => {
                let mut s = "*".to_string();
                if self.adjacent(0) {
                    if let Tok::Word(w) = self.peek_at(1).clone() {
                        if Self::is_node_word(&w) || w.bytes().all(|c| c.is_ascii_digit()) {
                            self.advance();
                            self.advance();
                            s.push_str(&w);
                            self.trailing_star(&mut s, in_expr);
                            return Ok(s);
                        }
                    }
                }
                self.advance();
                Ok(s)
            }
            Tok::Word(w) if Self::is_node_word(&w) => {
                self.advance();
                let mut s = w;
                if wild {
                    self.trailing_star(&mut s, in_expr);
                }
                Ok(s)
            }
            _ => Err(self.expecting(if wild {
                "a node name or wildcard"
            } else {
                "a node name"
            })),
        }
    }

    /// Appends an adjacent `*` to a node (`wf*`), unless in an expression the star is a
    /// multiplication (`s1*s2`, `s1 * 2`).
    fn trailing_star(&mut self, s: &mut String, in_expr: bool) {
        let prev = self.pos.saturating_sub(1);
        let star_touches = self.peek() == &Tok::Star
            && self.toks.get(prev).map(|t| t.end) == Some(self.token(0).start);
        if !star_touches {
            return;
        }
        if in_expr {
            let operand_follows = match self.peek_at(1) {
                Tok::Word(w) => {
                    !(ends_operand(w)
                        || matches!(
                            w.to_ascii_lowercase().as_str(),
                            "in" | "is" | "between" | "contains" | "not"
                        ))
                }
                Tok::QuotedId(_)
                | Tok::Str(_)
                | Tok::DateTime(_)
                | Tok::LParen
                | Tok::Minus
                | Tok::Plus
                | Tok::Not
                | Tok::Star
                | Tok::DoubleStar => true,
                _ => false,
            };
            if operand_follows {
                return;
            }
        }
        self.advance();
        s.push('*');
    }

    fn expect_root(&mut self) -> Result<()> {
        if self.eat_kw("root") {
            Ok(())
        } else {
            Err(self.expecting("ROOT"))
        }
    }

    /// `root(.node)*` with wildcards allowed.
    pub(crate) fn prefix_path(&mut self) -> Result<PathPattern> {
        self.expect_root()?;
        let mut nodes = vec!["root".to_string()];
        while self.eat(&Tok::Dot) {
            nodes.push(self.node(true, false)?);
        }
        model::path::check_limits(&nodes)?;
        Ok(PathPattern::from_nodes(nodes))
    }

    /// `root(.node)+` without wildcards.
    fn full_path(&mut self) -> Result<PartialPath> {
        self.expect_root()?;
        let mut nodes = vec!["root".to_string()];
        while self.eat(&Tok::Dot) {
            nodes.push(self.node(false, false)?);
        }
        model::path::check_limits(&nodes)?;
        Ok(PartialPath::from_nodes(nodes))
    }

    fn opt_prefix_path(&mut self) -> Result<Option<PathPattern>> {
        if self.is_kw("root") {
            Ok(Some(self.prefix_path()?))
        } else {
            Ok(None)
        }
    }

    fn prefix_paths(&mut self) -> Result<Vec<PathPattern>> {
        let mut v = vec![self.prefix_path()?];
        while self.eat(&Tok::Comma) {
            v.push(self.prefix_path()?);
        }
        Ok(v)
    }

    // ------------------------------------------------------------ small pieces

    /// A non-negative integer literal as text.
    fn uint_text(&mut self, what: &str) -> Result<String> {
        match self.peek().clone() {
            Tok::Word(w) if !w.is_empty() && w.bytes().all(|c| c.is_ascii_digit()) => {
                self.advance();
                Ok(w)
            }
            _ => Err(self.expecting(what)),
        }
    }

    fn uint(&mut self, what: &str) -> Result<i64> {
        let t = self.uint_text(what)?;
        t.parse::<i64>()
            .map_err(|_| Self::semantic(format!("{t} is out of range for {what}")))
    }

    fn usize_value(&mut self, what: &str) -> Result<usize> {
        let v = self.uint(what)?;
        usize::try_from(v).map_err(|_| Self::semantic(format!("{v} is out of range for {what}")))
    }

    fn eq_op(&mut self) -> Result<()> {
        if self.eat(&Tok::Eq) || self.eat(&Tok::DEq) {
            Ok(())
        } else {
            Err(self.expecting("'='"))
        }
    }

    fn scope(&mut self) -> Result<Option<Scope>> {
        if !self.eat_kw("ON") {
            return Ok(None);
        }
        if self.eat_kw("LOCAL") {
            Ok(Some(Scope::Local))
        } else if self.eat_kw("CLUSTER") {
            Ok(Some(Scope::Cluster))
        } else {
            Err(self.expecting("{LOCAL, CLUSTER}"))
        }
    }

    /// `STORAGE GROUP` or `DATABASE`/`DATABASES` (the plural when `plural`).
    fn database_word(&mut self, plural: bool) -> bool {
        if self.is_kw("STORAGE") && self.is_kw_at(1, "GROUP") {
            self.advance();
            self.advance();
            true
        } else if plural {
            self.eat_kw("DATABASES")
        } else {
            self.eat_kw("DATABASE")
        }
    }

    /// A `attributeKey` / `attributeValue`: identifier or constant, as raw text.
    pub(crate) fn attr_text(&mut self, what: &str) -> Result<String> {
        match self.peek().clone() {
            Tok::Str(s) | Tok::QuotedId(s) | Tok::DateTime(s) => {
                self.advance();
                Ok(s)
            }
            Tok::Word(_) | Tok::Minus | Tok::Plus | Tok::Dot => {
                if let Some(lit) = self.try_number()? {
                    return Ok(crate::display::literal_text(&lit));
                }
                match self.peek().clone() {
                    Tok::Word(w) => {
                        self.advance();
                        Ok(w)
                    }
                    _ => Err(self.expecting(what)),
                }
            }
            _ => Err(self.expecting(what)),
        }
    }

    fn attr_pair(&mut self) -> Result<(String, String)> {
        let k = self.attr_text("an attribute key")?;
        self.eq_op()?;
        let v = self.attr_text("an attribute value")?;
        Ok((k, v))
    }

    /// True if the next tokens are `key =` (an attribute pair starts here).
    fn pair_follows(&self, n: usize) -> bool {
        let key = matches!(
            self.peek_at(n),
            Tok::Word(_) | Tok::Str(_) | Tok::QuotedId(_)
        );
        key && matches!(self.peek_at(n + 1), Tok::Eq | Tok::DEq)
    }

    fn pair_list_in_parens(&mut self) -> Result<Vec<(String, String)>> {
        self.expect(&Tok::LParen, "'('")?;
        let mut v = vec![self.attr_pair()?];
        while self.eat(&Tok::Comma) {
            v.push(self.attr_pair()?);
        }
        self.expect(&Tok::RParen, "')'")?;
        Ok(v)
    }

    fn pair_list(&mut self) -> Result<Vec<(String, String)>> {
        let mut v = vec![self.attr_pair()?];
        while self.eat(&Tok::Comma) {
            v.push(self.attr_pair()?);
        }
        Ok(v)
    }

    // ------------------------------------------------------------ statements

    pub(crate) fn statement(&mut self) -> Result<Statement> {
        self.eat_kw("DEBUG");
        let first = match self.peek() {
            Tok::Word(w) => w.to_ascii_uppercase(),
            _ => String::new(),
        };
        let st =
            match first.as_str() {
                "SELECT" => Statement::Query(Box::new(self.query()?)),
                "INSERT" => self.insert()?,
                "DELETE" => self.delete()?,
                "DROP" => self.drop()?,
                "CREATE" => self.create()?,
                "SET" => self.set()?,
                "UNSET" => self.unset()?,
                "SHOW" => self.show()?,
                "COUNT" => self.count()?,
                "ALTER" => self.alter()?,
                "DEACTIVATE" => {
                    self.advance();
                    self.deactivate_rest()?
                }
                "GRANT" | "REVOKE" => self.grant_revoke()?,
                "LIST" => self.list()?,
                "FLUSH" => self.flush()?,
                "MERGE" | "FULL" => {
                    let full = self.eat_kw("FULL");
                    self.expect_kw("MERGE")?;
                    Statement::Merge {
                        full,
                        scope: self.scope()?,
                    }
                }
                "CLEAR" => {
                    self.advance();
                    self.expect_kw("CACHE")?;
                    Statement::ClearCache {
                        scope: self.scope()?,
                    }
                }
                "LOAD" => self.load()?,
                "EXPLAIN" => {
                    self.advance();
                    Statement::Explain(Box::new(self.query()?))
                }
                "KILL" => self.kill()?,
                "SETTLE" => return Err(Self::unsupported("SETTLE")),
                "REMOVE" => return Err(Self::unsupported("REMOVE (TsFile)")),
                "UNLOAD" => return Err(Self::unsupported("UNLOAD (TsFile)")),
                "MIGRATE" => return Err(Self::unsupported("MIGRATE REGION")),
                "START" | "STOP" => {
                    let what = if self.is_kw_at(1, "PIPE") {
                        "PIPE"
                    } else {
                        "TRIGGER"
                    };
                    return Err(Self::unsupported(&format!("{first} {what}")));
                }
                _ => return Err(self.expecting(
                    "{ALTER, CLEAR, COUNT, CREATE, DELETE, DROP, EXPLAIN, FLUSH, GRANT, INSERT, \
                     KILL, LIST, LOAD, MERGE, REVOKE, SELECT, SET, SHOW, UNSET}",
                )),
            };
        self.eat(&Tok::Semi);
        self.expect_eof()?;
        Ok(st)
    }

    // ---- CREATE

    fn create(&mut self) -> Result<Statement> {
        self.expect_kw("CREATE")?;
        if self.database_word(false) {
            let path = self.prefix_path()?;
            let attributes = self.database_attributes()?;
            return Ok(Statement::CreateDatabase { path, attributes });
        }
        if self.eat_kw("ALIGNED") {
            self.expect_kw("TIMESERIES")?;
            let device = self.full_path()?;
            self.expect(&Tok::LParen, "'('")?;
            let mut measurements = Vec::new();
            loop {
                let name = self.node(false, false)?;
                let spec = self.measurement_spec()?;
                measurements.push((name, spec));
                if !self.eat(&Tok::Comma) {
                    break;
                }
            }
            self.expect(&Tok::RParen, "')'")?;
            return Ok(Statement::CreateAlignedTimeseries {
                device,
                measurements,
            });
        }
        if self.eat_kw("TIMESERIES") {
            if (self.is_kw("OF") || self.is_kw("USING")) && self.is_kw_at(1, "SCHEMA") {
                self.advance();
                self.expect_kw("SCHEMA")?;
                self.expect_kw("TEMPLATE")?;
                self.expect_kw("ON")?;
                let path = self.prefix_path()?;
                return Ok(Statement::ActivateSchemaTemplate { path });
            }
            let path = self.full_path()?;
            let spec = self.measurement_spec()?;
            return Ok(Statement::CreateTimeseries { path, spec });
        }
        if self.is_kw("SCHEMA") || self.is_kw("TEMPLATE") {
            self.eat_kw("SCHEMA");
            self.expect_kw("TEMPLATE")?;
            let name = self.identifier("a template name")?;
            let aligned = self.eat_kw("ALIGNED");
            self.expect(&Tok::LParen, "'('")?;
            let mut measurements = Vec::new();
            loop {
                let m = self.node(false, false)?;
                let spec = self.measurement_spec()?;
                measurements.push((m, spec));
                if !self.eat(&Tok::Comma) {
                    break;
                }
            }
            self.expect(&Tok::RParen, "')'")?;
            return Ok(Statement::CreateSchemaTemplate {
                name,
                aligned,
                measurements,
            });
        }
        if self.eat_kw("USER") {
            let user = self.identifier("a user name")?;
            let password = self.string_literal("a password string")?;
            return Ok(Statement::Auth(AuthStatement::CreateUser {
                user,
                password,
            }));
        }
        if self.eat_kw("ROLE") {
            let role = self.identifier("a role name")?;
            return Ok(Statement::Auth(AuthStatement::CreateRole { role }));
        }
        for (kw, what) in [
            ("FUNCTION", "CREATE FUNCTION"),
            ("TRIGGER", "CREATE TRIGGER"),
            ("STATELESS", "CREATE TRIGGER"),
            ("STATEFUL", "CREATE TRIGGER"),
            ("CONTINUOUS", "CREATE CONTINUOUS QUERY"),
            ("CQ", "CREATE CONTINUOUS QUERY"),
            ("PIPE", "CREATE PIPE"),
            ("PIPESINK", "CREATE PIPESINK"),
        ] {
            if self.is_kw(kw) {
                return Err(Self::unsupported(what));
            }
        }
        Err(self.expecting(
            "{DATABASE, STORAGE, ALIGNED, TIMESERIES, SCHEMA, USER, ROLE, FUNCTION, TRIGGER, \
             CONTINUOUS, PIPE}",
        ))
    }

    fn string_literal(&mut self, what: &str) -> Result<String> {
        match self.peek().clone() {
            Tok::Str(s) => {
                self.advance();
                Ok(s)
            }
            _ => Err(self.expecting(what)),
        }
    }

    fn database_attributes(&mut self) -> Result<DatabaseAttributes> {
        let mut a = DatabaseAttributes::default();
        if !self.eat_kw("WITH") {
            return Ok(a);
        }
        loop {
            let key = match self.peek() {
                Tok::Word(w) => w.to_ascii_uppercase(),
                _ => String::new(),
            };
            let slot = match key.as_str() {
                "TTL" => &mut a.ttl,
                "SCHEMA_REPLICATION_FACTOR" => &mut a.schema_replication_factor,
                "DATA_REPLICATION_FACTOR" => &mut a.data_replication_factor,
                "TIME_PARTITION_INTERVAL" => &mut a.time_partition_interval,
                _ => {
                    return Err(self.expecting(
                        "{TTL, SCHEMA_REPLICATION_FACTOR, DATA_REPLICATION_FACTOR, \
                         TIME_PARTITION_INTERVAL}",
                    ))
                }
            };
            self.advance();
            self.eq_op()?;
            let t = self.uint_text("an integer")?;
            let v = t
                .parse::<i64>()
                .map_err(|_| Self::semantic(format!("{key} value {t} is out of range")))?;
            *slot = Some(v);
            // attributes are separated by optional commas
            if !self.eat(&Tok::Comma) && !self.is_database_attribute_word() {
                break;
            }
        }
        Ok(a)
    }

    fn is_database_attribute_word(&self) -> bool {
        [
            "TTL",
            "SCHEMA_REPLICATION_FACTOR",
            "DATA_REPLICATION_FACTOR",
            "TIME_PARTITION_INTERVAL",
        ]
        .iter()
        .any(|k| self.is_kw(k))
    }

    /// `attributeClauses` of CREATE TIMESERIES / aligned measurements / templates.
    fn measurement_spec(&mut self) -> Result<MeasurementSpec> {
        let mut alias = None;
        if self.peek() == &Tok::LParen {
            self.advance();
            alias = Some(match self.peek().clone() {
                Tok::QuotedId(s) => {
                    self.advance();
                    s
                }
                _ => self.node(false, false)?,
            });
            self.expect(&Tok::RParen, "')'")?;
        }
        self.eat_kw("WITH");
        // The data type: `[DATATYPE =] T`.
        if self.pair_follows(0) {
            let key = self.attr_text("DATATYPE")?;
            if !key.eq_ignore_ascii_case("DATATYPE") {
                return Err(Self::semantic(format!("expecting datatype but got {key}")));
            }
            self.eq_op()?;
        }
        let type_text = self.attr_text("a data type")?;
        let data_type = TSDataType::parse(&type_text)?;
        let mut spec = MeasurementSpec {
            alias,
            data_type,
            encoding: None,
            compressor: None,
            props: Vec::new(),
            tags: Vec::new(),
            attributes: Vec::new(),
        };
        loop {
            // pairs are separated by optional commas; a comma followed by something other than
            // `key =` ends the measurement (next aligned measurement) when inside a list
            let n = usize::from(self.peek() == &Tok::Comma);
            if !self.pair_follows(n) {
                break;
            }
            if n == 1 {
                self.advance();
            }
            let (k, v) = self.attr_pair()?;
            let ku = k.to_ascii_uppercase();
            match ku.as_str() {
                "ENCODING" => {
                    spec.encoding = Some(TSEncoding::from_name(&v).ok_or_else(|| {
                        Self::semantic(format!("Unsupported encoding: {}", v.to_uppercase()))
                    })?)
                }
                "COMPRESSOR" | "COMPRESSION" => {
                    spec.compressor = Some(CompressionType::from_name(&v).ok_or_else(|| {
                        Self::semantic(format!("Unsupported compression: {}", v.to_uppercase()))
                    })?)
                }
                "DATATYPE" => spec.data_type = TSDataType::parse(&v)?,
                _ => spec.props.push((ku, v)),
            }
        }
        if self.is_kw("TAGS") && self.peek_at(1) == &Tok::LParen {
            self.advance();
            spec.tags = self.pair_list_in_parens()?;
        }
        if self.is_kw("ATTRIBUTES") && self.peek_at(1) == &Tok::LParen {
            self.advance();
            spec.attributes = self.pair_list_in_parens()?;
        }
        Ok(spec)
    }

    // ---- DELETE / DROP

    fn delete(&mut self) -> Result<Statement> {
        self.expect_kw("DELETE")?;
        if self.eat_kw("FROM") {
            let paths = self.prefix_paths()?;
            let where_clause = if self.eat_kw("WHERE") {
                Some(self.expr()?)
            } else {
                None
            };
            return Ok(Statement::Delete {
                paths,
                where_clause,
            });
        }
        if self.database_word(false) {
            return Ok(Statement::DeleteDatabases {
                paths: self.prefix_paths()?,
            });
        }
        if self.eat_kw("TIMESERIES") {
            if self.eat_kw("OF") {
                return self.deactivate_rest();
            }
            return Ok(Statement::DeleteTimeseries {
                paths: self.prefix_paths()?,
            });
        }
        if self.eat_kw("PARTITION") {
            let path = self.prefix_path()?;
            let mut partitions = vec![self.uint("a partition id")?];
            while self.eat(&Tok::Comma) {
                partitions.push(self.uint("a partition id")?);
            }
            return Ok(Statement::DeletePartition { path, partitions });
        }
        Err(self.expecting("{FROM, DATABASE, STORAGE, TIMESERIES, PARTITION}"))
    }

    /// After `DEACTIVATE` or `DELETE TIMESERIES OF`: `SCHEMA TEMPLATE [t] FROM p, …`.
    fn deactivate_rest(&mut self) -> Result<Statement> {
        self.expect_kw("SCHEMA")?;
        self.expect_kw("TEMPLATE")?;
        let name = if self.is_kw("FROM") && !self.is_kw_at(1, "FROM") {
            None
        } else {
            Some(self.identifier("a template name")?)
        };
        self.expect_kw("FROM")?;
        Ok(Statement::DeactivateSchemaTemplate {
            name,
            paths: self.prefix_paths()?,
        })
    }

    fn drop(&mut self) -> Result<Statement> {
        self.expect_kw("DROP")?;
        if self.database_word(false) {
            return Ok(Statement::DeleteDatabases {
                paths: self.prefix_paths()?,
            });
        }
        if self.eat_kw("TIMESERIES") {
            return Ok(Statement::DeleteTimeseries {
                paths: self.prefix_paths()?,
            });
        }
        if self.is_kw("SCHEMA") || self.is_kw("TEMPLATE") {
            self.eat_kw("SCHEMA");
            self.expect_kw("TEMPLATE")?;
            return Ok(Statement::DropSchemaTemplate {
                name: self.identifier("a template name")?,
            });
        }
        if self.eat_kw("USER") {
            return Ok(Statement::Auth(AuthStatement::DropUser {
                user: self.identifier("a user name")?,
            }));
        }
        if self.eat_kw("ROLE") {
            return Ok(Statement::Auth(AuthStatement::DropRole {
                role: self.identifier("a role name")?,
            }));
        }
        for (kw, what) in [
            ("FUNCTION", "DROP FUNCTION"),
            ("TRIGGER", "DROP TRIGGER"),
            ("CONTINUOUS", "DROP CONTINUOUS QUERY"),
            ("CQ", "DROP CONTINUOUS QUERY"),
            ("PIPE", "DROP PIPE"),
            ("PIPESINK", "DROP PIPESINK"),
        ] {
            if self.is_kw(kw) {
                return Err(Self::unsupported(what));
            }
        }
        Err(self.expecting("{DATABASE, STORAGE, TIMESERIES, SCHEMA, USER, ROLE}"))
    }

    // ---- SET / UNSET

    fn set(&mut self) -> Result<Statement> {
        self.expect_kw("SET")?;
        if self.is_kw("STORAGE") {
            self.advance();
            self.expect_kw("GROUP")?;
            self.expect_kw("TO")?;
            let path = self.prefix_path()?;
            let attributes = self.database_attributes()?;
            return Ok(Statement::CreateDatabase { path, attributes });
        }
        if self.eat_kw("TTL") {
            self.expect_kw("TO")?;
            let path = self.prefix_path()?;
            let ttl = self.uint("a TTL in milliseconds")?;
            return Ok(Statement::SetTtl { path, ttl });
        }
        if self.is_kw("SCHEMA") || self.is_kw("TEMPLATE") {
            self.eat_kw("SCHEMA");
            self.expect_kw("TEMPLATE")?;
            let name = self.identifier("a template name")?;
            self.expect_kw("TO")?;
            let path = self.prefix_path()?;
            return Ok(Statement::SetSchemaTemplate { name, path });
        }
        if self.eat_kw("SYSTEM") {
            self.expect_kw("TO")?;
            let readonly = if self.eat_kw("READONLY") {
                true
            } else if self.eat_kw("RUNNING") {
                false
            } else {
                return Err(self.expecting("{READONLY, RUNNING}"));
            };
            return Ok(Statement::SetSystemStatus {
                readonly,
                scope: self.scope()?,
            });
        }
        Err(self.expecting("{STORAGE, TTL, SCHEMA, SYSTEM}"))
    }

    fn unset(&mut self) -> Result<Statement> {
        self.expect_kw("UNSET")?;
        if self.eat_kw("TTL") {
            self.expect_kw("TO")?;
            return Ok(Statement::UnsetTtl {
                path: self.prefix_path()?,
            });
        }
        if self.is_kw("SCHEMA") || self.is_kw("TEMPLATE") {
            self.eat_kw("SCHEMA");
            self.expect_kw("TEMPLATE")?;
            let name = self.identifier("a template name")?;
            self.expect_kw("FROM")?;
            let path = self.prefix_path()?;
            return Ok(Statement::UnsetSchemaTemplate { name, path });
        }
        Err(self.expecting("{TTL, SCHEMA}"))
    }

    // ---- SHOW / COUNT

    fn tag_filter(&mut self) -> Result<Option<TagFilter>> {
        if !self.eat_kw("WHERE") {
            return Ok(None);
        }
        // 1.1+ spelling `TAGS(key) = value` is accepted too.
        let key = if self.is_kw("TAGS") && self.peek_at(1) == &Tok::LParen {
            self.advance();
            self.advance();
            let k = self.attr_text("a tag key")?;
            self.expect(&Tok::RParen, "')'")?;
            k
        } else {
            self.attr_text("a tag key")?
        };
        if self.eat_kw("CONTAINS") {
            let value = self.attr_text("a tag value")?;
            return Ok(Some(TagFilter::Contains { key, value }));
        }
        self.eq_op()?;
        let value = self.attr_text("a tag value")?;
        Ok(Some(TagFilter::Equals { key, value }))
    }

    /// `LIMIT n [OFFSET m]` / `OFFSET m LIMIT n` (row pagination of SHOW statements).
    fn row_pagination(&mut self) -> Result<(Option<u64>, Option<u64>)> {
        let (mut limit, mut offset) = (None, None);
        loop {
            if limit.is_none() && self.eat_kw("LIMIT") {
                limit = Some(self.limit_value("LIMIT")?);
            } else if offset.is_none() && self.eat_kw("OFFSET") {
                offset = Some(self.offset_value("OFFSET")?);
            } else {
                return Ok((limit, offset));
            }
        }
    }

    /// A LIMIT/SLIMIT value: a positive Int32.
    pub(crate) fn limit_value(&mut self, kw: &str) -> Result<u64> {
        let t = self.uint_text("an integer")?;
        let (n, sym) = if kw == "LIMIT" {
            ("N", "N")
        } else {
            ("SN", "SN")
        };
        let v: i64 = t.parse().unwrap_or(i64::MAX);
        if v > i32::MAX as i64 {
            return Err(Self::semantic(format!(
                "Out of range. {kw} <{n}>: {sym} should be Int32."
            )));
        }
        if v <= 0 {
            return Err(Self::semantic(format!(
                "{kw} <{n}>: {sym} should be greater than 0."
            )));
        }
        Ok(v as u64)
    }

    /// An OFFSET/SOFFSET value: a non-negative Int32.
    pub(crate) fn offset_value(&mut self, kw: &str) -> Result<u64> {
        let t = self.uint_text("an integer")?;
        let v: i64 = t.parse().unwrap_or(i64::MAX);
        if v > i32::MAX as i64 {
            return Err(Self::semantic(format!(
                "Out of range. {kw} <{kw}Value>: {kw}Value should be Int32."
            )));
        }
        Ok(v as u64)
    }

    fn show(&mut self) -> Result<Statement> {
        self.expect_kw("SHOW")?;
        if self.is_kw("STORAGE") && self.is_kw_at(1, "GROUP") || self.is_kw("DATABASES") {
            self.database_word(true);
            return Ok(Statement::ShowDatabases {
                path: self.opt_prefix_path()?,
            });
        }
        if self.is_kw("LATEST") || self.is_kw("TIMESERIES") {
            let latest = self.eat_kw("LATEST");
            self.expect_kw("TIMESERIES")?;
            let path = self.opt_prefix_path()?;
            let filter = self.tag_filter()?;
            let (limit, offset) = self.row_pagination()?;
            return Ok(Statement::ShowTimeseries {
                path,
                latest,
                filter,
                limit,
                offset,
            });
        }
        if self.eat_kw("DEVICES") {
            let path = self.opt_prefix_path()?;
            let mut with_database = false;
            if self.eat_kw("WITH") {
                if !self.database_word(false) {
                    return Err(self.expecting("{DATABASE, STORAGE}"));
                }
                with_database = true;
            }
            let (limit, offset) = self.row_pagination()?;
            return Ok(Statement::ShowDevices {
                path,
                with_database,
                limit,
                offset,
            });
        }
        if self.eat_kw("CHILD") {
            if self.eat_kw("PATHS") {
                return Ok(Statement::ShowChildPaths {
                    path: self.opt_prefix_path()?,
                });
            }
            self.expect_kw("NODES")?;
            return Ok(Statement::ShowChildNodes {
                path: self.opt_prefix_path()?,
            });
        }
        if self.eat_kw("TTL") {
            self.expect_kw("ON")?;
            return Ok(Statement::ShowTtl {
                paths: self.prefix_paths()?,
            });
        }
        if self.eat_kw("ALL") {
            self.expect_kw("TTL")?;
            return Ok(Statement::ShowAllTtl);
        }
        if self.eat_kw("CLUSTER") {
            let details = self.eat_kw("DETAILS");
            return Ok(Statement::ShowCluster { details });
        }
        if self.eat_kw("DATANODES") {
            return Ok(Statement::ShowDataNodes);
        }
        if self.eat_kw("CONFIGNODES") {
            return Ok(Statement::ShowConfigNodes);
        }
        if self.eat_kw("VERSION") {
            return Ok(Statement::ShowVersion);
        }
        if self.eat_kw("VARIABLES") {
            return Ok(Statement::ShowVariables);
        }
        if self.eat_kw("FUNCTIONS") {
            return Ok(Statement::ShowFunctions);
        }
        if self.eat_kw("TRIGGERS") {
            return Ok(Statement::ShowTriggers);
        }
        if self.eat_kw("CQS") {
            return Ok(Statement::ShowContinuousQueries);
        }
        if self.is_kw("CONTINUOUS") {
            self.advance();
            self.expect_kw("QUERIES")?;
            return Ok(Statement::ShowContinuousQueries);
        }
        if self.is_kw("QUERIES") || self.is_kw("QUERY") && self.is_kw_at(1, "PROCESSLIST") {
            if !self.eat_kw("QUERIES") {
                self.expect_kw("QUERY")?;
                self.expect_kw("PROCESSLIST")?;
            }
            let where_clause = if self.eat_kw("WHERE") {
                Some(self.expr()?)
            } else {
                None
            };
            let order_by = if self.is_kw("ORDER") {
                self.order_by()?
            } else {
                Vec::new()
            };
            let (limit, offset) = self.row_pagination()?;
            return Ok(Statement::ShowQueries {
                where_clause,
                order_by,
                limit,
                offset,
            });
        }
        if self.is_kw("REGIONS")
            || (self.is_kw("SCHEMA") || self.is_kw("DATA")) && self.is_kw_at(1, "REGIONS")
        {
            let kind = if self.eat_kw("SCHEMA") {
                Some(RegionKind::Schema)
            } else if self.eat_kw("DATA") {
                Some(RegionKind::Data)
            } else {
                None
            };
            self.expect_kw("REGIONS")?;
            let mut databases = Vec::new();
            if self.eat_kw("OF") {
                if !self.database_word(false) {
                    return Err(self.expecting("{DATABASE, STORAGE}"));
                }
                databases = self.prefix_paths()?;
            }
            return Ok(Statement::ShowRegions { kind, databases });
        }
        if self.is_kw("SCHEMA") && self.is_kw_at(1, "TEMPLATES") || self.is_kw("TEMPLATES") {
            self.eat_kw("SCHEMA");
            self.advance();
            return Ok(Statement::ShowSchemaTemplates);
        }
        if self.eat_kw("NODES") {
            self.expect_kw("IN")?;
            self.eat_kw("SCHEMA");
            self.expect_kw("TEMPLATE")?;
            return Ok(Statement::ShowNodesInSchemaTemplate {
                name: self.identifier("a template name")?,
            });
        }
        if self.eat_kw("PATHS") {
            if self.eat_kw("SET") {
                self.eat_kw("SCHEMA");
                self.expect_kw("TEMPLATE")?;
                return Ok(Statement::ShowPathsSetSchemaTemplate {
                    name: self.identifier("a template name")?,
                });
            }
            let path = self.opt_prefix_path()?;
            self.expect_kw("USING")?;
            self.eat_kw("SCHEMA");
            self.expect_kw("TEMPLATE")?;
            return Ok(Statement::ShowPathsUsingSchemaTemplate {
                path,
                name: self.identifier("a template name")?,
            });
        }
        for (kws, what) in [
            (&["FLUSH"][..], "SHOW FLUSH INFO"),
            (&["LOCK"][..], "SHOW LOCK INFO"),
            (&["QUERY"][..], "SHOW QUERY RESOURCE"),
            (
                &["PIPE", "PIPES", "PIPESINK", "PIPESINKS", "PIPESINKTYPE"][..],
                "SHOW PIPE",
            ),
            (
                &["REGIONID", "TIMESLOTID", "SERIESSLOTID", "DATA", "SCHEMA"][..],
                "SHOW ... SLOT/REGION ID",
            ),
        ] {
            if kws.iter().any(|k| self.is_kw(k)) {
                return Err(Self::unsupported(what));
            }
        }
        Err(self.expecting(
            "{DATABASES, STORAGE, TIMESERIES, LATEST, DEVICES, CHILD, TTL, ALL, CLUSTER, \
             DATANODES, CONFIGNODES, REGIONS, SCHEMA, NODES, PATHS, VERSION, VARIABLES, \
             FUNCTIONS, TRIGGERS, QUERIES}",
        ))
    }

    fn count(&mut self) -> Result<Statement> {
        self.expect_kw("COUNT")?;
        if self.database_word(true) {
            return Ok(Statement::CountDatabases {
                path: self.opt_prefix_path()?,
            });
        }
        if self.eat_kw("DEVICES") {
            return Ok(Statement::CountDevices {
                path: self.opt_prefix_path()?,
            });
        }
        if self.eat_kw("TIMESERIES") {
            let path = self.opt_prefix_path()?;
            let filter = self.tag_filter()?;
            let mut group_by_level = None;
            if self.eat_kw("GROUP") {
                self.expect_kw("BY")?;
                self.expect_kw("LEVEL")?;
                self.eq_op()?;
                group_by_level = Some(self.usize_value("a level")?);
            }
            return Ok(Statement::CountTimeseries {
                path,
                filter,
                group_by_level,
            });
        }
        if self.eat_kw("NODES") {
            let path = self.prefix_path()?;
            self.expect_kw("LEVEL")?;
            self.eq_op()?;
            let level = self.usize_value("a level")?;
            return Ok(Statement::CountNodes { path, level });
        }
        Err(self.expecting("{DATABASES, STORAGE, DEVICES, TIMESERIES, NODES}"))
    }

    // ---- ALTER

    fn alter(&mut self) -> Result<Statement> {
        self.expect_kw("ALTER")?;
        if self.eat_kw("USER") {
            let user = if self.is_kw("root") {
                self.advance();
                "root".to_string()
            } else {
                self.identifier("a user name")?
            };
            self.expect_kw("SET")?;
            self.expect_kw("PASSWORD")?;
            let password = self.string_literal("a password string")?;
            return Ok(Statement::Auth(AuthStatement::AlterUser { user, password }));
        }
        self.expect_kw("TIMESERIES")?;
        let path = self.full_path()?;
        let op = if self.eat_kw("RENAME") {
            let from = self.attr_text("a key")?;
            self.expect_kw("TO")?;
            let to = self.attr_text("a key")?;
            AlterOp::Rename { from, to }
        } else if self.eat_kw("SET") {
            AlterOp::Set(self.pair_list()?)
        } else if self.eat_kw("DROP") {
            let mut keys = vec![self.attr_text("a key")?];
            while self.eat(&Tok::Comma) {
                keys.push(self.attr_text("a key")?);
            }
            AlterOp::Drop(keys)
        } else if self.eat_kw("ADD") {
            if self.eat_kw("TAGS") {
                AlterOp::AddTags(self.pair_list()?)
            } else if self.eat_kw("ATTRIBUTES") {
                AlterOp::AddAttributes(self.pair_list()?)
            } else {
                return Err(self.expecting("{TAGS, ATTRIBUTES}"));
            }
        } else if self.eat_kw("UPSERT") {
            let mut alias = None;
            if self.eat_kw("ALIAS") {
                self.eq_op()?;
                alias = Some(self.attr_text("an alias")?);
            }
            let mut tags = Vec::new();
            if self.eat_kw("TAGS") {
                tags = self.pair_list_in_parens()?;
            }
            let mut attributes = Vec::new();
            if self.eat_kw("ATTRIBUTES") {
                attributes = self.pair_list_in_parens()?;
            }
            AlterOp::Upsert {
                alias,
                tags,
                attributes,
            }
        } else {
            return Err(self.expecting("{RENAME, SET, DROP, ADD, UPSERT}"));
        };
        Ok(Statement::AlterTimeseries { path, op })
    }

    // ---- DCL

    fn privileges(&mut self) -> Result<Vec<String>> {
        let mut v = Vec::new();
        loop {
            match self.peek().clone() {
                Tok::Word(w) if !is_number_word(&w) => {
                    self.advance();
                    v.push(w.to_ascii_uppercase());
                }
                Tok::Str(s) => {
                    self.advance();
                    v.push(s.to_ascii_uppercase());
                }
                _ => return Err(self.expecting("a privilege")),
            }
            if !self.eat(&Tok::Comma) {
                return Ok(v);
            }
        }
    }

    fn on_paths(&mut self) -> Result<Vec<PathPattern>> {
        if self.eat_kw("ON") {
            self.prefix_paths()
        } else {
            Ok(Vec::new())
        }
    }

    fn user_name(&mut self) -> Result<String> {
        if self.eat_kw("root") {
            Ok("root".to_string())
        } else {
            self.identifier("a user name")
        }
    }

    fn grant_revoke(&mut self) -> Result<Statement> {
        let grant = self.eat_kw("GRANT");
        if !grant {
            self.expect_kw("REVOKE")?;
        }
        if self.is_kw("WATERMARK_EMBEDDING") {
            return Err(Self::unsupported("WATERMARK_EMBEDDING"));
        }
        let target = if self.is_kw("USER") && self.is_kw_at(2, "PRIVILEGES") {
            self.advance();
            Some(Grantee::User(self.identifier("a user name")?))
        } else if self.is_kw("ROLE") && self.is_kw_at(2, "PRIVILEGES") {
            self.advance();
            Some(Grantee::Role(self.identifier("a role name")?))
        } else {
            None
        };
        if let Some(target) = target {
            self.expect_kw("PRIVILEGES")?;
            let privileges = self.privileges()?;
            let paths = self.on_paths()?;
            let st = if grant {
                AuthStatement::Grant {
                    target,
                    privileges,
                    paths,
                }
            } else {
                AuthStatement::Revoke {
                    target,
                    privileges,
                    paths,
                }
            };
            return Ok(Statement::Auth(st));
        }
        let role = self.identifier("a role name")?;
        if grant {
            self.expect_kw("TO")?;
            let user = self.identifier("a user name")?;
            Ok(Statement::Auth(AuthStatement::GrantRoleToUser {
                role,
                user,
            }))
        } else {
            self.expect_kw("FROM")?;
            let user = self.identifier("a user name")?;
            Ok(Statement::Auth(AuthStatement::RevokeRoleFromUser {
                role,
                user,
            }))
        }
    }

    fn list(&mut self) -> Result<Statement> {
        self.expect_kw("LIST")?;
        if self.eat_kw("USER") {
            let of_role = if self.eat_kw("OF") {
                self.expect_kw("ROLE")?;
                Some(self.identifier("a role name")?)
            } else {
                None
            };
            return Ok(Statement::Auth(AuthStatement::ListUser { of_role }));
        }
        if self.eat_kw("ROLE") {
            let of_user = if self.eat_kw("OF") {
                self.expect_kw("USER")?;
                Some(self.user_name()?)
            } else {
                None
            };
            return Ok(Statement::Auth(AuthStatement::ListRole { of_user }));
        }
        if self.eat_kw("PRIVILEGES") {
            let target = if self.eat_kw("USER") {
                Grantee::User(self.user_name()?)
            } else if self.eat_kw("ROLE") {
                Grantee::Role(self.identifier("a role name")?)
            } else {
                return Err(self.expecting("{USER, ROLE}"));
            };
            let paths = self.on_paths()?;
            return Ok(Statement::Auth(AuthStatement::ListPrivileges {
                target,
                paths,
            }));
        }
        Err(self.expecting("{USER, ROLE, PRIVILEGES}"))
    }

    // ---- utility

    fn flush(&mut self) -> Result<Statement> {
        self.expect_kw("FLUSH")?;
        let mut paths = Vec::new();
        if self.is_kw("root") {
            paths = self.prefix_paths()?;
        }
        let sequence = if self.eat_kw("true") {
            Some(true)
        } else if self.eat_kw("false") {
            Some(false)
        } else {
            None
        };
        Ok(Statement::Flush {
            paths,
            sequence,
            scope: self.scope()?,
        })
    }

    fn load(&mut self) -> Result<Statement> {
        self.expect_kw("LOAD")?;
        if self.is_kw("CONFIGURATION") {
            return Err(Self::unsupported("LOAD CONFIGURATION"));
        }
        if self.is_kw("TIMESERIES") {
            return Err(Self::unsupported("LOAD TIMESERIES"));
        }
        let file = self.string_literal("a file path string")?;
        let mut options = LoadOptions::default();
        loop {
            let n = usize::from(self.peek() == &Tok::Comma && !options_is_empty(&options));
            let key = match self.peek_at(n) {
                Tok::Word(w) => w.to_ascii_uppercase(),
                _ => break,
            };
            if !matches!(key.as_str(), "SGLEVEL" | "VERIFY" | "ONSUCCESS") {
                break;
            }
            for _ in 0..=n {
                self.advance();
            }
            self.eq_op()?;
            match key.as_str() {
                "SGLEVEL" => options.sglevel = Some(self.uint("an integer")?),
                "VERIFY" => {
                    options.verify = Some(if self.eat_kw("true") {
                        true
                    } else if self.eat_kw("false") {
                        false
                    } else {
                        return Err(self.expecting("{true, false}"));
                    })
                }
                _ => {
                    options.delete_on_success = Some(if self.eat_kw("DELETE") {
                        true
                    } else if self.eat_kw("NONE") {
                        false
                    } else {
                        return Err(self.expecting("{DELETE, NONE}"));
                    })
                }
            }
        }
        Ok(Statement::LoadFile { file, options })
    }

    fn kill(&mut self) -> Result<Statement> {
        self.expect_kw("KILL")?;
        if self.eat_kw("ALL") {
            self.expect_kw("QUERIES")?;
            return Ok(Statement::KillQuery { query_id: None });
        }
        self.expect_kw("QUERY")?;
        let query_id = match self.peek().clone() {
            Tok::Str(s) => {
                self.advance();
                Some(s)
            }
            Tok::Word(w) if w.bytes().all(|c| c.is_ascii_digit()) => {
                self.advance();
                Some(w)
            }
            _ => None,
        };
        Ok(Statement::KillQuery { query_id })
    }

    // ---- INSERT

    fn insert(&mut self) -> Result<Statement> {
        self.expect_kw("INSERT")?;
        self.expect_kw("INTO")?;
        let device = self.full_path()?;
        self.expect(&Tok::LParen, "'('")?;
        let has_time = if self.is_kw("time") || self.is_kw("timestamp") {
            self.advance();
            true
        } else {
            false
        };
        let mut measurements = Vec::new();
        loop {
            let comma = self.eat(&Tok::Comma);
            if self.peek() == &Tok::RParen {
                if comma || measurements.is_empty() {
                    return Err(self.expecting("a measurement name"));
                }
                break;
            }
            if !comma && (has_time || !measurements.is_empty()) {
                return Err(self.expecting("{',', ')'}"));
            }
            measurements.push(self.node(false, false)?);
        }
        self.expect(&Tok::RParen, "')'")?;
        let aligned = self.eat_kw("ALIGNED");
        self.expect_kw("VALUES")?;
        let mut rows = Vec::new();
        loop {
            self.expect(&Tok::LParen, "'('")?;
            let time = if has_time {
                // a string is taken here and refused when the time is evaluated (IoTDB: 701)
                if let Tok::Str(text) = self.peek().clone() {
                    self.advance();
                    Some(Expression::Constant(Literal::String(text)))
                } else {
                    Some(self.time_value()?)
                }
            } else {
                None
            };
            let mut values = Vec::new();
            loop {
                let comma = self.eat(&Tok::Comma);
                if self.peek() == &Tok::RParen {
                    if comma && !values.is_empty() {
                        return Err(self.expecting("a value"));
                    }
                    break;
                }
                if !comma && (has_time || !values.is_empty()) {
                    return Err(self.expecting("{',', ')'}"));
                }
                if self.peek() == &Tok::LParen {
                    return Err(Self::unsupported(
                        "The aligned tuple form of INSERT values ((v1, v2), …)",
                    ));
                }
                values.push(self.insert_value()?);
            }
            self.expect(&Tok::RParen, "')'")?;
            if values.len() != measurements.len() {
                return Err(Self::semantic(format!(
                    "the measurementList's size {} is not consistent with the valueList's size {}",
                    measurements.len(),
                    values.len()
                )));
            }
            rows.push(InsertValues { time, values });
            if !self.eat(&Tok::Comma) && self.peek() != &Tok::LParen {
                break;
            }
        }
        if !has_time && rows.len() > 1 {
            return Err(Self::semantic("need timestamps when insert multi rows"));
        }
        Ok(Statement::Insert(InsertStatement {
            device,
            measurements,
            aligned,
            rows,
        }))
    }

    // ---- SELECT

    pub(crate) fn query(&mut self) -> Result<QueryStatement> {
        self.expect_kw("SELECT")?;
        let last = self.is_kw("LAST") && !self.starts_clause_after_last();
        if last {
            self.advance();
        }
        let mut select = Vec::new();
        loop {
            let expr = self.expr()?;
            let alias = if self.eat_kw("AS") {
                Some(self.attr_text("an alias")?)
            } else {
                None
            };
            select.push(ResultColumn { expr, alias });
            if !self.eat(&Tok::Comma) {
                break;
            }
        }
        let into = if self.eat_kw("INTO") {
            Some(self.parse_into_items()?)
        } else {
            None
        };
        self.expect_kw("FROM")?;
        let from = self.prefix_paths()?;
        let where_clause = if self.eat_kw("WHERE") {
            Some(self.expr()?)
        } else {
            None
        };
        let group_by = if self.is_kw("GROUP") {
            Some(self.group_by()?)
        } else {
            None
        };
        let having = if self.eat_kw("HAVING") {
            Some(self.expr()?)
        } else {
            None
        };
        let mut q = QueryStatement {
            select,
            last,
            into,
            from,
            where_clause,
            group_by,
            having,
            order_by: Vec::new(),
            fill: None,
            limit: None,
            offset: None,
            slimit: None,
            soffset: None,
            align_by_device: false,
        };
        // ORDER BY and FILL (either order), then pagination (any order), then ALIGN BY.
        let mut stage = 0;
        let mut seen_order = false;
        while let Tok::Word(w) = self.peek() {
            let kw = w.to_ascii_uppercase();
            let kw_stage = match kw.as_str() {
                "ORDER" if !seen_order => 0,
                "FILL" if q.fill.is_none() => 0,
                "LIMIT" if q.limit.is_none() => 1,
                "OFFSET" if q.offset.is_none() => 1,
                "SLIMIT" if q.slimit.is_none() => 1,
                "SOFFSET" if q.soffset.is_none() => 1,
                "ALIGN" if stage < 2 => 2,
                _ => break,
            };
            if kw_stage < stage {
                break;
            }
            stage = kw_stage;
            match kw.as_str() {
                "ORDER" => {
                    q.order_by = self.order_by()?;
                    seen_order = true;
                }
                "FILL" => q.fill = Some(self.fill()?),
                "LIMIT" => {
                    self.advance();
                    q.limit = Some(self.limit_value("LIMIT")?);
                }
                "OFFSET" => {
                    self.advance();
                    q.offset = Some(self.offset_value("OFFSET")?);
                }
                "SLIMIT" => {
                    self.advance();
                    q.slimit = Some(self.limit_value("SLIMIT")?);
                }
                "SOFFSET" => {
                    self.advance();
                    q.soffset = Some(self.offset_value("SOFFSET")?);
                }
                _ => {
                    self.advance();
                    self.expect_kw("BY")?;
                    if self.eat_kw("DEVICE") {
                        q.align_by_device = true;
                    } else if !self.eat_kw("TIME") {
                        return Err(self.expecting("{TIME, DEVICE}"));
                    }
                }
            }
        }
        // Select items are suffixes of the FROM prefixes: IoTDB refuses a full path there
        // (2.0: 701 as below; 1.0 answered 507 `Check metadata error: …`). (ALIGN BY DEVICE
        // reports its own error later; LAST queries may name full paths.)
        if !q.last && !q.align_by_device && q.select.iter().any(|c| c.expr.has_full_path()) {
            return Err(Error::Semantic(
                "Path can not start with root in select clause.".into(),
            ));
        }
        Ok(q)
    }

    /// `SELECT last FROM …`: `last` is a series named "last", not the LAST keyword.
    fn starts_clause_after_last(&self) -> bool {
        matches!(self.peek_at(1), Tok::Comma)
            || self.is_kw_at(1, "FROM")
            || self.is_kw_at(1, "AS")
            || matches!(self.peek_at(1), Tok::Dot | Tok::LParen)
    }

    fn parse_into_items(&mut self) -> Result<Vec<IntoItem>> {
        let mut items = Vec::new();
        loop {
            let aligned = self.eat_kw("ALIGNED");
            let mut device = Vec::new();
            let full = self.is_kw("root");
            loop {
                device.push(self.parse_into_node()?);
                if !self.eat(&Tok::Dot) {
                    break;
                }
            }
            if full {
                device[0] = "root".to_string();
            }
            self.expect(&Tok::LParen, "'('")?;
            let mut measurements = vec![self.parse_into_node()?];
            while self.eat(&Tok::Comma) {
                measurements.push(self.parse_into_node()?);
            }
            self.expect(&Tok::RParen, "')'")?;
            items.push(IntoItem {
                aligned,
                device,
                full,
                measurements,
            });
            if !self.eat(&Tok::Comma) {
                return Ok(items);
            }
        }
    }

    fn parse_into_node(&mut self) -> Result<String> {
        match self.peek().clone() {
            Tok::Word(w) if !is_number_word(&w) => {
                self.advance();
                Ok(w)
            }
            Tok::QuotedId(s) if !s.is_empty() => {
                self.advance();
                Ok(quote_node(&s))
            }
            _ => Err(self.expecting("a node name")),
        }
    }

    fn order_by(&mut self) -> Result<Vec<OrderBy>> {
        self.expect_kw("ORDER")?;
        self.expect_kw("BY")?;
        let mut v = Vec::new();
        loop {
            let key =
                match self.peek() {
                    Tok::Word(w) => match w.to_ascii_uppercase().as_str() {
                        "TIME" => SortKey::Time,
                        "TIMESERIES" => SortKey::Timeseries,
                        "DEVICE" => SortKey::Device,
                        "QUERYID" => SortKey::QueryId,
                        "DATANODEID" => SortKey::DataNodeId,
                        "ELAPSEDTIME" => SortKey::ElapsedTime,
                        "STATEMENT" => SortKey::Statement,
                        _ => {
                            return Err(self.expecting(
                                "{TIME, TIMESERIES, DEVICE, QUERYID, DATANODEID, ELAPSEDTIME, \
                             STATEMENT}",
                            ))
                        }
                    },
                    _ => return Err(self.expecting(
                        "{TIME, TIMESERIES, DEVICE, QUERYID, DATANODEID, ELAPSEDTIME, STATEMENT}",
                    )),
                };
            self.advance();
            let descending = if self.eat_kw("DESC") {
                true
            } else {
                self.eat_kw("ASC");
                false
            };
            v.push(OrderBy { key, descending });
            if !self.eat(&Tok::Comma) {
                return Ok(v);
            }
        }
    }

    fn fill(&mut self) -> Result<Fill> {
        self.expect_kw("FILL")?;
        self.expect(&Tok::LParen, "'('")?;
        let f = if self.eat_kw("PREVIOUS") {
            if self.eat(&Tok::Comma) {
                Fill::PreviousWithin(self.interval()?)
            } else {
                Fill::Previous
            }
        } else if self.eat_kw("LINEAR") {
            Fill::Linear
        } else {
            Fill::Constant(self.literal()?)
        };
        self.expect(&Tok::RParen, "')'")?;
        Ok(f)
    }

    fn group_by(&mut self) -> Result<GroupBy> {
        self.expect_kw("GROUP")?;
        self.expect_kw("BY")?;
        let mut g = GroupBy {
            time: None,
            level: Vec::new(),
            tags: Vec::new(),
        };
        loop {
            if self.eat_kw("LEVEL") {
                if !g.level.is_empty() {
                    return Err(self.expecting("{TIME, '(', TAGS}"));
                }
                self.eq_op()?;
                g.level.push(self.usize_value("a level")?);
                while self.peek() == &Tok::Comma
                    && matches!(self.peek_at(1), Tok::Word(w) if w.bytes().all(|c| c.is_ascii_digit()))
                {
                    self.advance();
                    g.level.push(self.usize_value("a level")?);
                }
            } else if self.is_kw("TAGS") && self.peek_at(1) == &Tok::LParen {
                if !g.tags.is_empty() {
                    return Err(self.expecting("{TIME, '(', LEVEL}"));
                }
                self.advance();
                self.advance();
                g.tags.push(self.identifier("a tag key")?);
                while self.eat(&Tok::Comma) {
                    g.tags.push(self.identifier("a tag key")?);
                }
                self.expect(&Tok::RParen, "')'")?;
            } else if (self.is_kw("TIME") && self.peek_at(1) == &Tok::LParen)
                || self.peek() == &Tok::LParen
            {
                if g.time.is_some() {
                    return Err(self.expecting("{LEVEL, TAGS}"));
                }
                self.eat_kw("TIME");
                g.time = Some(self.time_window()?);
            } else {
                return Err(self.expecting("{TIME, '(', LEVEL, TAGS}"));
            }
            if !self.eat(&Tok::Comma) {
                return Ok(g);
            }
        }
    }

    fn time_window(&mut self) -> Result<TimeWindow> {
        self.expect(&Tok::LParen, "'('")?;
        let (mut start, mut end, mut left_open) = (None, None, false);
        if matches!(self.peek(), Tok::LBracket | Tok::LParen) {
            left_open = self.advance().tok == Tok::LParen;
            start = Some(self.time_value()?);
            self.expect(&Tok::Comma, "','")?;
            end = Some(self.time_value()?);
            if left_open {
                self.expect(&Tok::RBracket, "']'")?;
            } else {
                self.expect(&Tok::RParen, "')'")?;
            }
            self.expect(&Tok::Comma, "','")?;
        }
        let interval = self.interval()?;
        let step = if self.eat(&Tok::Comma) {
            Some(self.interval()?)
        } else {
            None
        };
        self.expect(&Tok::RParen, "')'")?;
        Ok(TimeWindow {
            start,
            end,
            interval,
            step,
            left_open,
        })
    }

    fn interval(&mut self) -> Result<Interval> {
        if let Tok::Word(w) = self.peek().clone() {
            if let Some((months, millis)) = parse_duration(&w) {
                self.advance();
                return Ok(Interval {
                    months,
                    millis,
                    text: w,
                });
            }
        }
        Err(self.expecting("a duration (e.g. 1d, 10m)"))
    }
}

fn options_is_empty(o: &LoadOptions) -> bool {
    o.sglevel.is_none() && o.verify.is_none() && o.delete_on_success.is_none()
}
