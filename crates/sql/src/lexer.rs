//! The lexer: statement text → tokens with byte spans.
//!
//! IoTDB's words are context dependent (keywords double as node names, node names may start
//! with digits, `1d` is a duration, `1e5` a number), so the lexer produces one generic
//! [`Tok::Word`] for every run of name characters and the parser decides what it means.
//! Only datetime literals (`2017-11-01T00:08:00.000+08:00`) need lexer-level lookahead and are
//! produced as one [`Tok::DateTime`] token, exactly like IoTDB's lexer does.

use model::{Error, Result};

/// A token kind (with its payload where one is needed).
#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// A run of name characters: keyword, identifier, integer, duration, exponent number …
    Word(String),
    /// A back-quoted identifier, back-quotes removed and doubled back-quotes collapsed.
    QuotedId(String),
    /// A `'…'` / `"…"` string, quotes removed and doubled quotes collapsed.
    Str(String),
    /// A datetime literal as written.
    DateTime(String),
    /// A binary literal `X'0a1b'`, decoded.
    Binary(Vec<u8>),
    /// `.`
    Dot,
    /// `,`
    Comma,
    /// `;`
    Semi,
    /// `*`
    Star,
    /// `**`
    DoubleStar,
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `[`
    LBracket,
    /// `]`
    RBracket,
    /// `+`
    Plus,
    /// `-`
    Minus,
    /// `/`
    Div,
    /// `%`
    Mod,
    /// `=`
    Eq,
    /// `==`
    DEq,
    /// `!=` or `<>`
    NotEq,
    /// `<`
    Lt,
    /// `<=`
    LtEq,
    /// `>`
    Gt,
    /// `>=`
    GtEq,
    /// `&` or `&&`
    And,
    /// `|` or `||`
    Or,
    /// `!`
    Not,
    /// End of input.
    Eof,
}

/// A token with its byte span in the source.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    /// Kind and payload.
    pub tok: Tok,
    /// Byte offset of the first character.
    pub start: usize,
    /// Byte offset one past the last character.
    pub end: usize,
}

/// True for characters allowed in unquoted names (IoTDB's `NAME_CHAR`).
pub fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(c, '_' | ':' | '@' | '#' | '$' | '{' | '}')
        || ('\u{2E80}'..='\u{9FFF}').contains(&c)
}

/// `line L:C` of a byte offset, as ANTLR prints it (line from 1, column in characters from 0).
pub fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(src.len());
    let mut line = 1;
    let mut col = 0;
    for (i, c) in src.char_indices() {
        if i >= offset {
            break;
        }
        if c == '\n' {
            line += 1;
            col = 0;
        } else {
            col += 1;
        }
    }
    (line, col)
}

struct Lexer<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

fn digits_at(b: &[u8], i: usize) -> usize {
    b.get(i..)
        .map(|s| s.iter().take_while(|c| c.is_ascii_digit()).count())
        .unwrap_or(0)
}

impl<'a> Lexer<'a> {
    fn error(&self, at: usize, what: &str) -> Error {
        let (line, col) = line_col(self.src, at);
        Error::SqlParse(format!("line {line}:{col} {what}"))
    }

    fn peek_char(&self) -> Option<char> {
        self.src.get(self.pos..).and_then(|s| s.chars().next())
    }

    /// Length of a datetime literal starting at `i`, if one starts there.
    fn datetime_len(&self, i: usize) -> Option<usize> {
        let b = self.bytes;
        let d1 = digits_at(b, i);
        if d1 == 0 {
            return None;
        }
        let mut j = i + d1;
        let sep = *b.get(j)?;
        if !matches!(sep, b'-' | b'/' | b'.') {
            return None;
        }
        if sep == b'.' && i > 0 && b.get(i - 1) == Some(&b'.') {
            // `root.sg.1.2.3`: a path, never a date.
            return None;
        }
        let seps: &[u8] = if sep == b'.' { b"." } else { b"-/" };
        j += 1;
        let d2 = digits_at(b, j);
        if d2 == 0 {
            return None;
        }
        j += d2;
        if !seps.contains(b.get(j)?) {
            return None;
        }
        j += 1;
        let d3 = digits_at(b, j);
        if d3 == 0 {
            return None;
        }
        j += d3;
        // Optional time part: (T | whitespace) HH:mm:ss[.SSS] [(+|-)HH:mm]
        let mut k = j;
        match b.get(k) {
            Some(b'T') | Some(b't') => k += 1,
            Some(c) if c.is_ascii_whitespace() => {
                while b.get(k).is_some_and(|c| c.is_ascii_whitespace()) {
                    k += 1;
                }
            }
            _ => return Some(j - i),
        }
        let Some(time_len) = time_len(b, k) else {
            return Some(j - i);
        };
        k += time_len;
        if matches!(b.get(k), Some(b'+') | Some(b'-')) {
            let h = digits_at(b, k + 1);
            if h > 0 && b.get(k + 1 + h) == Some(&b':') {
                let m = digits_at(b, k + 2 + h);
                if m > 0 {
                    k += 2 + h + m;
                }
            }
        }
        Some(k - i)
    }

    fn next_token(&mut self) -> Result<Token> {
        let b = self.bytes;
        while self.pos < b.len() && b[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
        let start = self.pos;
        let Some(c) = self.peek_char() else {
            return Ok(Token {
                tok: Tok::Eof,
                start,
                end: start,
            });
        };
        let simple = |tok: Tok, len: usize| (tok, len);
        let next = b.get(start + 1).copied();
        let (tok, len) = match c {
            '.' => simple(Tok::Dot, 1),
            ',' => simple(Tok::Comma, 1),
            ';' => simple(Tok::Semi, 1),
            '*' if next == Some(b'*') => simple(Tok::DoubleStar, 2),
            '*' => simple(Tok::Star, 1),
            '(' => simple(Tok::LParen, 1),
            ')' => simple(Tok::RParen, 1),
            '[' => simple(Tok::LBracket, 1),
            ']' => simple(Tok::RBracket, 1),
            '+' => simple(Tok::Plus, 1),
            '-' => simple(Tok::Minus, 1),
            '/' => simple(Tok::Div, 1),
            '%' => simple(Tok::Mod, 1),
            '=' if next == Some(b'=') => simple(Tok::DEq, 2),
            '=' => simple(Tok::Eq, 1),
            '!' if next == Some(b'=') => simple(Tok::NotEq, 2),
            '!' => simple(Tok::Not, 1),
            '<' if next == Some(b'=') => simple(Tok::LtEq, 2),
            '<' if next == Some(b'>') => simple(Tok::NotEq, 2),
            '<' => simple(Tok::Lt, 1),
            '>' if next == Some(b'=') => simple(Tok::GtEq, 2),
            '>' => simple(Tok::Gt, 1),
            '&' if next == Some(b'&') => simple(Tok::And, 2),
            '&' => simple(Tok::And, 1),
            '|' if next == Some(b'|') => simple(Tok::Or, 2),
            '|' => simple(Tok::Or, 1),
            '\'' | '"' => {
                let (text, len) = self.quoted(start, c)?;
                (Tok::Str(text), len)
            }
            '`' => {
                let (text, len) = self.quoted(start, '`')?;
                (Tok::QuotedId(text), len)
            }
            c if c.is_ascii_digit() => {
                if let Some(len) = self.datetime_len(start) {
                    (Tok::DateTime(self.src[start..start + len].to_string()), len)
                } else {
                    self.word(start)
                }
            }
            'X' | 'x' if next == Some(b'\'') => {
                let (text, len) = self.quoted(start + 1, '\'')?;
                let bytes = decode_hex(&text).ok_or_else(|| {
                    self.error(start, &format!("invalid binary literal X'{text}'"))
                })?;
                (Tok::Binary(bytes), len + 1)
            }
            c if is_name_char(c) => self.word(start),
            other => {
                return Err(self.error(start, &format!("token recognition error at: '{other}'")))
            }
        };
        self.pos = start + len;
        Ok(Token {
            tok,
            start,
            end: start + len,
        })
    }

    fn word(&self, start: usize) -> (Tok, usize) {
        let rest = &self.src[start..];
        let mut len: usize = rest
            .chars()
            .take_while(|&c| is_name_char(c))
            .map(char::len_utf8)
            .sum();
        // `1e-5` / `1E+5`: IoTDB's EXPONENT_NUM_PART is one token including the sign.
        let w = &rest.as_bytes()[..len];
        if w.len() >= 2
            && matches!(w[w.len() - 1], b'e' | b'E')
            && w[..w.len() - 1].iter().all(u8::is_ascii_digit)
            && matches!(rest.as_bytes().get(len), Some(b'+') | Some(b'-'))
        {
            let d = digits_at(rest.as_bytes(), len + 1);
            if d > 0 && !rest[len + 1 + d..].starts_with(is_name_char) {
                len += 1 + d;
            }
        }
        (Tok::Word(rest[..len].to_string()), len)
    }

    /// A quoted string or identifier starting at `start` with quote `q`: (content, byte length).
    /// A doubled quote stands for one quote; a backslash keeps the next character verbatim
    /// (IoTDB does not unescape, but a backslash-quote does not end the literal).
    fn quoted(&self, start: usize, q: char) -> Result<(String, usize)> {
        let mut out = String::new();
        let mut chars = self.src[start + 1..].char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if c == q {
                if chars.peek().map(|&(_, n)| n) == Some(q) {
                    chars.next();
                    out.push(q);
                    continue;
                }
                return Ok((out, i + 2));
            }
            out.push(c);
            if c == '\\' {
                if let Some((_, n)) = chars.next() {
                    out.push(n);
                }
            }
        }
        let shown: String = self.src[start..].chars().take(20).collect();
        Err(self.error(start, &format!("token recognition error at: '{shown}'")))
    }
}

fn time_len(b: &[u8], k: usize) -> Option<usize> {
    let mut j = k;
    for part in 0..3 {
        let d = digits_at(b, j);
        if d == 0 {
            return None;
        }
        j += d;
        if part < 2 {
            if b.get(j) != Some(&b':') {
                return None;
            }
            j += 1;
        }
    }
    if b.get(j) == Some(&b'.') {
        let d = digits_at(b, j + 1);
        if d > 0 {
            j += 1 + d;
        }
    }
    Some(j - k)
}

/// Splits `src` into tokens (the last one is [`Tok::Eof`]).
pub fn tokenize(src: &str) -> Result<Vec<Token>> {
    let mut lx = Lexer {
        src,
        bytes: src.as_bytes(),
        pos: 0,
    };
    let mut out = Vec::new();
    loop {
        let t = lx.next_token()?;
        let eof = t.tok == Tok::Eof;
        out.push(t);
        if eof {
            return Ok(out);
        }
    }
}

/// The bytes of the hex digits of a binary literal (an even number of them), `None` if not hex.
fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        tokenize(s).unwrap().into_iter().map(|t| t.tok).collect()
    }

    fn w(s: &str) -> Tok {
        Tok::Word(s.to_string())
    }

    #[test]
    fn binary_literals() {
        assert_eq!(
            toks("X'0a1B' x'' xy"),
            vec![
                Tok::Binary(vec![0x0a, 0x1b]),
                Tok::Binary(vec![]),
                w("xy"),
                Tok::Eof
            ]
        );
        for bad in ["X'0'", "X'zz'", "X'0a"] {
            assert!(tokenize(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn paths_words_and_numbers() {
        assert_eq!(
            toks("root.sg.d1.s1"),
            vec![
                w("root"),
                Tok::Dot,
                w("sg"),
                Tok::Dot,
                w("d1"),
                Tok::Dot,
                w("s1"),
                Tok::Eof
            ]
        );
        assert_eq!(toks("1.5"), vec![w("1"), Tok::Dot, w("5"), Tok::Eof]);
        assert_eq!(
            toks("1e-5 2E+3x"),
            vec![w("1e-5"), w("2E"), Tok::Plus, w("3x"), Tok::Eof]
        );
        assert_eq!(toks("1h30m"), vec![w("1h30m"), Tok::Eof]);
        assert_eq!(toks("a**"), vec![w("a"), Tok::DoubleStar, Tok::Eof]);
    }

    #[test]
    fn datetimes() {
        assert_eq!(
            toks("time < 2017-11-01T00:08:00.000"),
            vec![
                w("time"),
                Tok::Lt,
                Tok::DateTime("2017-11-01T00:08:00.000".into()),
                Tok::Eof
            ]
        );
        assert_eq!(
            toks("2017-11-01 00:00:00+08:00)"),
            vec![
                Tok::DateTime("2017-11-01 00:00:00+08:00".into()),
                Tok::RParen,
                Tok::Eof
            ]
        );
        assert_eq!(
            toks("2017/11/01 , x"),
            vec![
                Tok::DateTime("2017/11/01".into()),
                Tok::Comma,
                w("x"),
                Tok::Eof
            ]
        );
        assert_eq!(toks("5-3"), vec![w("5"), Tok::Minus, w("3"), Tok::Eof]);
        assert_eq!(
            toks("root.sg.1.2.3"),
            vec![
                w("root"),
                Tok::Dot,
                w("sg"),
                Tok::Dot,
                w("1"),
                Tok::Dot,
                w("2"),
                Tok::Dot,
                w("3"),
                Tok::Eof
            ]
        );
    }

    #[test]
    fn strings_and_quoted() {
        assert_eq!(toks("'it''s'"), vec![Tok::Str("it's".into()), Tok::Eof]);
        assert_eq!(toks("\"a\"\"b\""), vec![Tok::Str("a\"b".into()), Tok::Eof]);
        assert_eq!(toks(r"'a\'b'"), vec![Tok::Str(r"a\'b".into()), Tok::Eof]);
        assert_eq!(
            toks("`a``b.c`"),
            vec![Tok::QuotedId("a`b.c".into()), Tok::Eof]
        );
        assert!(tokenize("'open").is_err());
        let e = tokenize("select ^").unwrap_err().to_string();
        assert!(
            e.contains("line 1:7 token recognition error at: '^'"),
            "{e}"
        );
    }

    #[test]
    fn operators() {
        assert_eq!(
            toks("== = != <> <= >= && & || | ! < >"),
            vec![
                Tok::DEq,
                Tok::Eq,
                Tok::NotEq,
                Tok::NotEq,
                Tok::LtEq,
                Tok::GtEq,
                Tok::And,
                Tok::And,
                Tok::Or,
                Tok::Or,
                Tok::Not,
                Tok::Lt,
                Tok::Gt,
                Tok::Eof
            ]
        );
    }
}
