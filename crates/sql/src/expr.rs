//! Expressions, literals and time values (the continuation of the parser in `parser.rs`).
//!
//! Precedence, lowest first (IoTDB 1.0 grammar order): `OR` < `AND` < `[NOT] IN` <
//! `IS [NOT] NULL` < `[NOT] BETWEEN` < `[NOT] LIKE|REGEXP` < comparisons < `+ -` < `* / %` <
//! unary `- + ! NOT` < primaries.

use crate::ast::*;
use crate::lexer::{line_col, Tok};
use crate::parser::{is_number_word, parse_duration, Parser, MAX_DEPTH};
use model::{Error, Result, TSDataType};

impl<'a> Parser<'a> {
    /// Enters one nesting level; fails cleanly past [`MAX_DEPTH`].
    fn enter(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            let t = self.token(0);
            let (line, col) = line_col(self.src, t.start);
            return Err(Error::SqlParse(format!(
                "line {line}:{col} expression nested too deeply (more than {MAX_DEPTH} levels)"
            )));
        }
        Ok(())
    }

    fn is_not_at(&self, n: usize) -> bool {
        matches!(self.peek_at(n), Tok::Not) || self.is_kw_at(n, "NOT")
    }

    /// A full expression.
    pub(crate) fn expr(&mut self) -> Result<Expression> {
        let saved = self.depth;
        self.enter()?;
        let r = self.or_expr();
        self.depth = saved;
        r
    }

    fn binary(op: BinaryOp, left: Expression, right: Expression) -> Expression {
        Expression::Binary {
            op,
            left: Box::new(left),
            right: Box::new(right),
        }
    }

    fn or_expr(&mut self) -> Result<Expression> {
        let saved = self.depth;
        let mut e = self.and_expr()?;
        while matches!(self.peek(), Tok::Or) || self.is_kw("OR") {
            self.advance();
            self.enter()?;
            let r = self.and_expr()?;
            e = Self::binary(BinaryOp::Or, e, r);
        }
        self.depth = saved;
        Ok(e)
    }

    fn and_expr(&mut self) -> Result<Expression> {
        let saved = self.depth;
        let mut e = self.in_expr()?;
        while matches!(self.peek(), Tok::And) || self.is_kw("AND") {
            self.advance();
            self.enter()?;
            let r = self.in_expr()?;
            e = Self::binary(BinaryOp::And, e, r);
        }
        self.depth = saved;
        Ok(e)
    }

    fn in_expr(&mut self) -> Result<Expression> {
        let saved = self.depth;
        let mut e = self.is_null_expr()?;
        loop {
            let negated =
                self.is_not_at(0) && (self.is_kw_at(1, "IN") || self.is_kw_at(1, "CONTAINS"));
            if !(negated || self.is_kw("IN") || self.is_kw("CONTAINS")) {
                break;
            }
            if negated {
                self.advance();
            }
            self.advance();
            self.enter()?;
            self.expect(&Tok::LParen, "'('")?;
            let mut list = vec![self.literal()?];
            while self.eat(&Tok::Comma) {
                list.push(self.literal()?);
            }
            self.expect(&Tok::RParen, "')'")?;
            e = Expression::In {
                expr: Box::new(e),
                list,
                negated,
            };
        }
        self.depth = saved;
        Ok(e)
    }

    fn is_null_expr(&mut self) -> Result<Expression> {
        let saved = self.depth;
        let mut e = self.between_expr()?;
        while self.is_kw("IS") {
            self.advance();
            self.enter()?;
            let negated = if self.is_not_at(0) {
                self.advance();
                true
            } else {
                false
            };
            self.expect_kw("NULL")?;
            e = Expression::IsNull {
                expr: Box::new(e),
                negated,
            };
        }
        self.depth = saved;
        Ok(e)
    }

    fn between_expr(&mut self) -> Result<Expression> {
        let saved = self.depth;
        let mut e = self.like_expr()?;
        loop {
            let negated = self.is_not_at(0) && self.is_kw_at(1, "BETWEEN");
            if !negated && !self.is_kw("BETWEEN") {
                break;
            }
            if negated {
                self.advance();
            }
            self.advance();
            self.enter()?;
            let low = self.like_expr()?;
            if !(self.eat(&Tok::And) || self.eat_kw("AND")) {
                return Err(self.expecting("AND"));
            }
            let high = self.like_expr()?;
            e = Expression::Between {
                expr: Box::new(e),
                low: Box::new(low),
                high: Box::new(high),
                negated,
            };
        }
        self.depth = saved;
        Ok(e)
    }

    fn like_expr(&mut self) -> Result<Expression> {
        let saved = self.depth;
        let mut e = self.cmp_expr()?;
        loop {
            let kw_at = |p: &Self, n: usize| p.is_kw_at(n, "LIKE") || p.is_kw_at(n, "REGEXP");
            let negated = self.is_not_at(0) && kw_at(self, 1);
            if !negated && !kw_at(self, 0) {
                break;
            }
            if negated {
                self.advance();
            }
            let like = self.is_kw("LIKE");
            self.advance();
            self.enter()?;
            let pattern = match self.peek().clone() {
                Tok::Str(s) => {
                    self.advance();
                    s
                }
                _ => return Err(self.expecting("STRING_LITERAL")),
            };
            let expr = Box::new(e);
            e = if like {
                Expression::Like {
                    expr,
                    pattern,
                    negated,
                }
            } else {
                Expression::Regexp {
                    expr,
                    pattern,
                    negated,
                }
            };
        }
        self.depth = saved;
        Ok(e)
    }

    fn cmp_expr(&mut self) -> Result<Expression> {
        let saved = self.depth;
        let mut e = self.add_expr()?;
        loop {
            let op = match self.peek() {
                Tok::Eq | Tok::DEq => BinaryOp::Eq,
                Tok::NotEq => BinaryOp::NotEq,
                Tok::Lt => BinaryOp::Lt,
                Tok::LtEq => BinaryOp::LtEq,
                Tok::Gt => BinaryOp::Gt,
                Tok::GtEq => BinaryOp::GtEq,
                _ => break,
            };
            self.advance();
            self.enter()?;
            let r = self.add_expr()?;
            e = Self::binary(op, e, r);
        }
        self.depth = saved;
        Ok(e)
    }

    fn add_expr(&mut self) -> Result<Expression> {
        let saved = self.depth;
        let mut e = self.mul_expr()?;
        loop {
            let op = match self.peek() {
                Tok::Plus => BinaryOp::Add,
                Tok::Minus => BinaryOp::Sub,
                _ => break,
            };
            self.advance();
            self.enter()?;
            let r = self.mul_expr()?;
            e = Self::binary(op, e, r);
        }
        self.depth = saved;
        Ok(e)
    }

    fn mul_expr(&mut self) -> Result<Expression> {
        let saved = self.depth;
        let mut e = self.unary_expr()?;
        loop {
            let op = match self.peek() {
                Tok::Star => BinaryOp::Mul,
                Tok::Div => BinaryOp::Div,
                Tok::Mod => BinaryOp::Mod,
                _ => break,
            };
            self.advance();
            self.enter()?;
            let r = self.unary_expr()?;
            e = Self::binary(op, e, r);
        }
        self.depth = saved;
        Ok(e)
    }

    fn unary_expr(&mut self) -> Result<Expression> {
        let op = match self.peek() {
            Tok::Minus | Tok::Plus => {
                // `-1`, `+2.5` are constants (IoTDB's `constant` rule), `-s1` is a negation.
                if let Some(lit) = self.try_number()? {
                    return Ok(Expression::Constant(lit));
                }
                if self.peek() == &Tok::Minus {
                    UnaryOp::Neg
                } else {
                    UnaryOp::Pos
                }
            }
            Tok::Not => UnaryOp::Not,
            Tok::Word(w) if w.eq_ignore_ascii_case("NOT") => UnaryOp::Not,
            _ => return self.primary(),
        };
        self.advance();
        let saved = self.depth;
        self.enter()?;
        let operand = self.unary_expr()?;
        self.depth = saved;
        Ok(Expression::Unary {
            op,
            expr: Box::new(operand),
        })
    }

    fn primary(&mut self) -> Result<Expression> {
        match self.peek().clone() {
            Tok::LParen => {
                self.advance();
                let e = self.expr()?;
                self.expect(&Tok::RParen, "')'")?;
                Ok(e)
            }
            Tok::Str(s) => {
                self.advance();
                Ok(Expression::Constant(Literal::String(s)))
            }
            Tok::DateTime(s) => {
                self.advance();
                Ok(Expression::Constant(Literal::DateTime(s)))
            }
            Tok::Dot => match self.try_number()? {
                Some(lit) => Ok(Expression::Constant(lit)),
                None => Err(self.expecting("an expression")),
            },
            Tok::Star | Tok::DoubleStar | Tok::QuotedId(_) => self.path_expr(false),
            Tok::Word(w) => {
                let lower = w.to_ascii_lowercase();
                match lower.as_str() {
                    "time" | "timestamp" => {
                        self.advance();
                        return Ok(Expression::Time);
                    }
                    "true" | "false" | "null" | "nan" => {
                        return Ok(Expression::Constant(self.literal()?));
                    }
                    "now" if self.peek_at(1) == &Tok::LParen && self.peek_at(2) == &Tok::RParen => {
                        return Ok(Expression::Constant(self.literal()?));
                    }
                    "root" => return self.path_expr(true),
                    _ => {}
                }
                if w.as_bytes()[0].is_ascii_digit() {
                    if let Some(lit) = self.try_number()? {
                        return Ok(Expression::Constant(lit));
                    }
                    if let Some(ms) = duration_ms(&w) {
                        self.advance();
                        return Ok(Expression::Constant(Literal::Duration(ms)));
                    }
                }
                if self.peek_at(1) == &Tok::LParen && !crate::parser::is_reserved(&w) {
                    return self.function();
                }
                self.path_expr(false)
            }
            _ => Err(self.expecting("an expression")),
        }
    }

    /// A path inside an expression: `root.a.b` (full) or `a.b`, `*`, `s*` (suffix).
    fn path_expr(&mut self, full: bool) -> Result<Expression> {
        let mut nodes = Vec::new();
        if full {
            self.advance();
            nodes.push("root".to_string());
        } else {
            nodes.push(self.node(true, true)?);
        }
        while self.peek() == &Tok::Dot {
            self.advance();
            nodes.push(self.node(true, true)?);
        }
        Ok(Expression::Path(PathRef { nodes, full }))
    }

    fn function(&mut self) -> Result<Expression> {
        let first = self.pos;
        let name = match self.advance().tok {
            Tok::Word(w) => w,
            _ => return Err(self.expecting("a function name")),
        };
        self.expect(&Tok::LParen, "'('")?;
        let saved = self.depth;
        self.enter()?;
        let mut args = Vec::new();
        let mut attributes = Vec::new();
        if self.peek() != &Tok::RParen {
            loop {
                let arg = self.expr()?;
                if args.is_empty()
                    && attributes.is_empty()
                    && name.eq_ignore_ascii_case("cast")
                    && self.eat_kw("AS")
                {
                    let ty = match self.peek().clone() {
                        Tok::Word(t) => TSDataType::parse(&t)?,
                        _ => return Err(self.expecting("a data type")),
                    };
                    self.advance();
                    self.expect(&Tok::RParen, "')'")?;
                    self.depth = saved;
                    return Ok(Expression::Cast {
                        expr: Box::new(arg),
                        ty,
                    });
                }
                match arg {
                    Expression::Binary {
                        op: BinaryOp::Eq,
                        left,
                        right,
                    } if matches!(*left, Expression::Constant(_)) => match (*left, *right) {
                        (Expression::Constant(k), Expression::Constant(Literal::String(v))) => {
                            attributes.push((crate::display::literal_text(&k), v));
                        }
                        _ => {
                            return Err(Self::semantic(
                                "Attributes of functions should be quoted with '' or \"\"",
                            ))
                        }
                    },
                    other => args.push(other),
                }
                if !self.eat(&Tok::Comma) {
                    break;
                }
            }
        }
        self.expect(&Tok::RParen, "')'")?;
        self.depth = saved;
        if !args.iter().any(|a| !matches!(a, Expression::Constant(_))) {
            let text: String = self.toks[first..self.pos]
                .iter()
                .map(|t| self.text_of(t))
                .collect();
            return Err(Self::semantic(format!(
                "Invalid function expression, all the arguments are constant operands: {text}"
            )));
        }
        Ok(Expression::Function {
            name,
            args,
            attributes,
        })
    }

    /// A number with optional sign (`1`, `-2`, `1.5`, `.5`, `1.`, `1e10`, `-1.5E-3`), consumed
    /// only if one is there.
    pub(crate) fn try_number(&mut self) -> Result<Option<Literal>> {
        let (sign, n) = match self.peek() {
            Tok::Minus => ("-", 1),
            Tok::Plus => ("+", 1),
            _ => ("", 0),
        };
        let frac_word = |t: &Tok| match t {
            Tok::Word(f) if is_number_word(f) => Some(f.clone()),
            _ => None,
        };
        let (text, used) = match self.peek_at(n).clone() {
            Tok::Word(w) if !w.is_empty() && w.bytes().all(|c| c.is_ascii_digit()) => {
                if self.peek_at(n + 1) == &Tok::Dot && self.adjacent(n) {
                    match frac_word(self.peek_at(n + 2)) {
                        Some(f) if self.adjacent(n + 1) => (format!("{w}.{f}"), n + 3),
                        _ => (format!("{w}."), n + 2),
                    }
                } else {
                    (w, n + 1)
                }
            }
            Tok::Word(w) if is_number_word(&w) => (w, n + 1),
            Tok::Dot if self.adjacent(n) => match frac_word(self.peek_at(n + 1)) {
                Some(f) => (format!(".{f}"), n + 2),
                None => return Ok(None),
            },
            _ => return Ok(None),
        };
        for _ in 0..used {
            self.advance();
        }
        let full = format!("{sign}{text}");
        let is_real = text.contains(['.', 'e', 'E']);
        if !is_real {
            if let Ok(v) = full.parse::<i64>() {
                return Ok(Some(Literal::Integer(v)));
            }
        }
        let v: f64 = full
            .parse()
            .map_err(|_| Self::semantic(format!("{full} is not a valid number")))?;
        Ok(Some(Literal::Float(v, full)))
    }

    /// A constant (`constant` rule): number, string, boolean, null, NaN, datetime, `now()`.
    pub(crate) fn literal(&mut self) -> Result<Literal> {
        if let Some(n) = self.try_number()? {
            return Ok(n);
        }
        let lit = match self.peek().clone() {
            Tok::Str(s) => Literal::String(s),
            Tok::DateTime(s) => Literal::DateTime(s),
            Tok::Word(w) => match w.to_ascii_lowercase().as_str() {
                "true" => Literal::Boolean(true),
                "false" => Literal::Boolean(false),
                "null" => Literal::Null,
                "nan" => Literal::NaN,
                "now" if self.peek_at(1) == &Tok::LParen && self.peek_at(2) == &Tok::RParen => {
                    self.advance();
                    self.advance();
                    Literal::Now
                }
                _ => return Err(self.expecting("a constant")),
            },
            _ => return Err(self.expecting("a constant")),
        };
        self.advance();
        Ok(lit)
    }

    /// A value of INSERT: a constant.
    pub(crate) fn insert_value(&mut self) -> Result<Literal> {
        self.literal()
    }

    /// `timeValue`: `[+|-]integer`, or a datetime / `now()` followed by `± duration`s.
    pub(crate) fn time_value(&mut self) -> Result<Expression> {
        let at = self.pos;
        if let Some(lit) = self.try_number()? {
            return match lit {
                Literal::Integer(_) => Ok(Expression::Constant(lit)),
                _ => {
                    self.pos = at;
                    Err(self.expecting("a time value (integer, datetime or now())"))
                }
            };
        }
        let base = match self.peek() {
            Tok::DateTime(_) => self.literal()?,
            Tok::Word(w) if w.eq_ignore_ascii_case("now") => self.literal()?,
            _ => return Err(self.expecting("a time value (integer, datetime or now())")),
        };
        let mut e = Expression::Constant(base);
        loop {
            let op = match self.peek() {
                Tok::Plus => BinaryOp::Add,
                Tok::Minus => BinaryOp::Sub,
                _ => break,
            };
            let ms = match self.peek_at(1) {
                Tok::Word(w) => duration_ms(w),
                _ => None,
            };
            let Some(ms) = ms else {
                self.advance();
                return Err(self.expecting("a duration"));
            };
            self.advance();
            self.advance();
            e = Self::binary(op, e, Expression::Constant(Literal::Duration(ms)));
        }
        Ok(e)
    }
}

/// A duration word in milliseconds, `mo` counted as 30 days.
fn duration_ms(w: &str) -> Option<i64> {
    let (months, millis) = parse_duration(w)?;
    months.checked_mul(30 * 86_400_000)?.checked_add(millis)
}
