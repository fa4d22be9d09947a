//! IoTDB's built-in row-wise functions besides the math ones: the string functions (`length`,
//! `upper`, `lower`, `trim`, `string_contains`, `string_matches`, `locate`, `startswith`,
//! `endswith`, `concat`, `substr`, `strcmp`), the constant functions (`const`, `pi`, `e`) and
//! the per-point selectors `in_range` and `on_off`: argument and attribute checks, result
//! types, and row-wise evaluation. (Functions that need neighbouring points or the whole
//! series, such as `difference` or `top_k`, are not here.)
//!
//! Semantics follow the Java methods IoTDB calls: lengths and positions count UTF-16 code
//! units, `trim` strips characters up to U+0020, `string_matches` must match the whole text
//! (Java `String.matches`), `strcmp` is `String.compareTo`.

use model::{Column, ColumnData, Error, Result, TSDataType, Value};
use regex::Regex;

/// A built-in string function with its parsed attributes.
#[derive(Debug, Clone)]
pub enum RowFn {
    /// `length(s)`: INT32 number of UTF-16 units.
    Length,
    /// `upper(s)`.
    Upper,
    /// `lower(s)`.
    Lower,
    /// `trim(s)`: strips leading/trailing characters `<= ' '`.
    Trim,
    /// `string_contains(s, 's'='x')`: BOOLEAN.
    Contains(String),
    /// `string_matches(s, 'regex'='r')`: BOOLEAN, whole-text match.
    Matches(Regex),
    /// `locate(s, 'target'='x'[, 'reverse'='true'])`: INT32 index or -1.
    Locate {
        /// Searched text.
        target: String,
        /// Last occurrence instead of the first.
        reverse: bool,
    },
    /// `startswith(s, 'target'='x')`: BOOLEAN.
    StartsWith(String),
    /// `endswith(s, 'target'='x')`: BOOLEAN.
    EndsWith(String),
    /// `concat(s…, 'target1'='a', …[, 'series_behind'='true'])`: TEXT.
    Concat {
        /// The `targetN` texts in attribute order.
        targets: Vec<String>,
        /// Series values after the targets instead of before.
        series_behind: bool,
    },
    /// `substr(s, 'start'='i'[, 'end'='j'])`: TEXT, Java `substring`.
    Substr {
        /// First UTF-16 index.
        start: usize,
        /// End index (exclusive); to the end when absent.
        end: Option<usize>,
    },
    /// `strcmp(a, b)`: INT32, Java `compareTo`.
    Strcmp,
    /// `const(x, 'value'='v', 'type'='T')`: the constant `v` of type `T` at every point of `x`.
    Const(Value),
    /// `pi(x)`: π (DOUBLE) at every point of `x`.
    Pi,
    /// `e(x)`: e (DOUBLE) at every point of `x`.
    E,
    /// `in_range(x, 'lower'='l', 'upper'='u')`: BOOLEAN `l <= x <= u`.
    InRange {
        /// Lower bound (inclusive).
        lower: f64,
        /// Upper bound (inclusive).
        upper: f64,
    },
    /// `on_off(x, 'threshold'='t')`: BOOLEAN `x >= t`.
    OnOff(f64),
}

fn attr<'a>(attrs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v.as_str())
}

fn required<'a>(attrs: &'a [(String, String)], key: &str, func: &str) -> Result<&'a str> {
    attr(attrs, key).ok_or_else(|| {
        Error::Semantic(format!(
            "Error occurred during inferring UDF data type: attribute \"{key}\" is required but was not provided for function {func}."
        ))
    })
}

fn parse_index(v: &str, key: &str) -> Result<usize> {
    v.trim().parse::<usize>().map_err(|_| {
        Error::Semantic(format!(
            "Illegal attribute {key}={v}: expected a non-negative integer"
        ))
    })
}

fn parse_f64(v: &str, key: &str) -> Result<f64> {
    v.trim()
        .parse::<f64>()
        .map_err(|_| Error::Semantic(format!("Illegal attribute {key}={v}: expected a number")))
}

fn parse_const(attrs: &[(String, String)], func: &str) -> Result<Value> {
    let ty = required(attrs, "type", func)?;
    let ty = TSDataType::from_name(&ty.trim().to_ascii_uppercase())
        .filter(|t| t.is_v1())
        .ok_or_else(|| Error::Semantic(format!("Illegal attribute type={ty}")))?;
    let v = required(attrs, "value", func)?;
    Value::parse_as(v, ty).map_err(|_| {
        Error::Semantic(format!(
            "Illegal attribute value={v} for type {}",
            ty.name()
        ))
    })
}

fn parse_bool(v: &str, key: &str) -> Result<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(Error::Semantic(format!(
            "Illegal attribute {key}={v}: expected true or false"
        ))),
    }
}

impl RowFn {
    /// The names [`RowFn::resolve`] accepts.
    pub const NAMES: &'static [&'static str] = &[
        "length",
        "upper",
        "lower",
        "trim",
        "string_contains",
        "string_matches",
        "locate",
        "startswith",
        "endswith",
        "concat",
        "substr",
        "strcmp",
        "const",
        "pi",
        "e",
        "in_range",
        "on_off",
    ];

    /// The function named `name` (case-insensitive) with `args` series arguments and
    /// `attrs`; `None` when the name is not a string function.
    pub fn resolve(name: &str, args: usize, attrs: &[(String, String)]) -> Option<Result<RowFn>> {
        let lower = name.to_ascii_lowercase();
        let f = |r: Result<RowFn>, want: usize| -> Result<RowFn> {
            if args != want {
                return Err(Error::Semantic(format!(
                    "Error occurred during inferring UDF data type: the number of the input series is not valid. expected: {want}. actual: {args}."
                )));
            }
            r
        };
        Some(match lower.as_str() {
            "length" => f(Ok(RowFn::Length), 1),
            "upper" => f(Ok(RowFn::Upper), 1),
            "lower" => f(Ok(RowFn::Lower), 1),
            "trim" => f(Ok(RowFn::Trim), 1),
            "string_contains" => f(
                required(attrs, "s", name).map(|s| RowFn::Contains(s.to_string())),
                1,
            ),
            "string_matches" => f(
                required(attrs, "regex", name).and_then(|r| {
                    Regex::new(&format!("^(?:{r})$"))
                        .map(RowFn::Matches)
                        .map_err(|e| Error::Semantic(format!("Illegal regex {r}: {e}")))
                }),
                1,
            ),
            "locate" => f(
                required(attrs, "target", name).and_then(|t| {
                    Ok(RowFn::Locate {
                        target: t.to_string(),
                        reverse: match attr(attrs, "reverse") {
                            Some(v) => parse_bool(v, "reverse")?,
                            None => false,
                        },
                    })
                }),
                1,
            ),
            "startswith" => f(
                required(attrs, "target", name).map(|t| RowFn::StartsWith(t.to_string())),
                1,
            ),
            "endswith" => f(
                required(attrs, "target", name).map(|t| RowFn::EndsWith(t.to_string())),
                1,
            ),
            "concat" => {
                if args == 0 {
                    return Some(Err(Error::Semantic(
                        "Error occurred during inferring UDF data type: concat needs at least one input series."
                            .into(),
                    )));
                }
                let mut series_behind = false;
                let mut targets = Vec::new();
                for (k, v) in attrs {
                    let lk = k.to_ascii_lowercase();
                    if lk == "series_behind" {
                        match parse_bool(v, k) {
                            Ok(b) => series_behind = b,
                            Err(e) => return Some(Err(e)),
                        }
                    } else if lk.starts_with("target") {
                        targets.push(v.clone());
                    }
                }
                Ok(RowFn::Concat {
                    targets,
                    series_behind,
                })
            }
            "substr" => f(
                required(attrs, "start", name).and_then(|s| {
                    Ok(RowFn::Substr {
                        start: parse_index(s, "start")?,
                        end: match attr(attrs, "end") {
                            Some(e) => Some(parse_index(e, "end")?),
                            None => None,
                        },
                    })
                }),
                1,
            ),
            "strcmp" => f(Ok(RowFn::Strcmp), 2),
            "const" => f(parse_const(attrs, name).map(RowFn::Const), 1),
            "pi" => f(Ok(RowFn::Pi), 1),
            "e" => f(Ok(RowFn::E), 1),
            "in_range" => f(
                required(attrs, "lower", name).and_then(|l| {
                    Ok(RowFn::InRange {
                        lower: parse_f64(l, "lower")?,
                        upper: parse_f64(required(attrs, "upper", name)?, "upper")?,
                    })
                }),
                1,
            ),
            "on_off" => f(
                required(attrs, "threshold", name)
                    .and_then(|t| parse_f64(t, "threshold"))
                    .map(RowFn::OnOff),
                1,
            ),
            _ => return None,
        })
    }

    /// The input types the function accepts (`None`: any).
    pub fn input_types(&self) -> Option<&'static [TSDataType]> {
        const TEXT: &[TSDataType] = &[TSDataType::Text];
        const NUMERIC: &[TSDataType] = &[
            TSDataType::Int32,
            TSDataType::Int64,
            TSDataType::Float,
            TSDataType::Double,
        ];
        match self {
            RowFn::Const(_) | RowFn::Pi | RowFn::E => None,
            RowFn::InRange { .. } | RowFn::OnOff(_) => Some(NUMERIC),
            _ => Some(TEXT),
        }
    }

    /// The result type.
    pub fn output_type(&self) -> TSDataType {
        match self {
            RowFn::Const(v) => v.data_type(),
            RowFn::Pi | RowFn::E => TSDataType::Double,
            RowFn::InRange { .. } | RowFn::OnOff(_) => TSDataType::Boolean,
            RowFn::Length | RowFn::Locate { .. } | RowFn::Strcmp => TSDataType::Int32,
            RowFn::Upper
            | RowFn::Lower
            | RowFn::Trim
            | RowFn::Concat { .. }
            | RowFn::Substr { .. } => TSDataType::Text,
            RowFn::Contains(_) | RowFn::Matches(_) | RowFn::StartsWith(_) | RowFn::EndsWith(_) => {
                TSDataType::Boolean
            }
        }
    }

    /// One output value from the inputs' texts (`None` = null input).
    fn apply(&self, inputs: &[Option<String>]) -> Result<Option<Value>> {
        let text = |s: String| Some(Value::Text(s.into_bytes()));
        if let RowFn::Concat {
            targets,
            series_behind,
        } = self
        {
            if inputs.iter().all(Option::is_none) {
                return Ok(None);
            }
            let series: String = inputs.iter().flatten().map(String::as_str).collect();
            let extra: String = targets.concat();
            return Ok(text(if *series_behind {
                extra + &series
            } else {
                series + &extra
            }));
        }
        if let RowFn::Strcmp = self {
            let (Some(Some(a)), Some(Some(b))) = (inputs.first(), inputs.get(1)) else {
                return Ok(None);
            };
            return Ok(Some(Value::Int32(java_compare(a, b))));
        }
        let Some(Some(s)) = inputs.first() else {
            return Ok(None);
        };
        Ok(match self {
            RowFn::Length => Some(Value::Int32(
                i32::try_from(s.encode_utf16().count()).unwrap_or(i32::MAX),
            )),
            RowFn::Upper => text(s.to_uppercase()),
            RowFn::Lower => text(s.to_lowercase()),
            RowFn::Trim => text(s.trim_matches(|c: char| c <= ' ').to_string()),
            RowFn::Contains(x) => Some(Value::Boolean(s.contains(x.as_str()))),
            RowFn::Matches(re) => Some(Value::Boolean(re.is_match(s))),
            RowFn::StartsWith(x) => Some(Value::Boolean(s.starts_with(x.as_str()))),
            RowFn::EndsWith(x) => Some(Value::Boolean(s.ends_with(x.as_str()))),
            RowFn::Locate { target, reverse } => {
                let found = if *reverse {
                    s.rfind(target.as_str())
                } else {
                    s.find(target.as_str())
                };
                Some(Value::Int32(match found {
                    Some(byte) => utf16_len(&s[..byte]),
                    None => -1,
                }))
            }
            RowFn::Substr { start, end } => {
                let units: Vec<u16> = s.encode_utf16().collect();
                let end = end.unwrap_or(units.len());
                if *start > end || end > units.len() {
                    return Err(Error::QueryProcess(format!(
                        "substr: begin {start}, end {end}, length {}",
                        units.len()
                    )));
                }
                text(String::from_utf16_lossy(&units[*start..end]))
            }
            RowFn::Concat { .. }
            | RowFn::Strcmp
            | RowFn::Const(_)
            | RowFn::Pi
            | RowFn::E
            | RowFn::InRange { .. }
            | RowFn::OnOff(_) => None,
        })
    }

    /// Evaluates over the argument columns (all of one length; their TEXT type is checked by
    /// the analyzer, anything else reads as null).
    pub fn eval(&self, args: &[Column], n: usize) -> Result<Column> {
        let mut b = crate::result::ColumnBuilder::new(self.output_type(), n);
        if self.input_types() != Some(&[TSDataType::Text][..]) {
            // Per-point functions of a (numeric or any) series: null where the input is null.
            let Some(a) = args.first() else {
                return Err(Error::internal("function without an input series"));
            };
            for row in 0..n {
                let x = if a.is_null(row) { None } else { a.value(row) };
                let out = x.map(|x| match self {
                    RowFn::Const(v) => v.clone(),
                    RowFn::Pi => Value::Double(std::f64::consts::PI),
                    RowFn::E => Value::Double(std::f64::consts::E),
                    RowFn::InRange { lower, upper } => {
                        Value::Boolean(x.as_f64().is_some_and(|x| *lower <= x && x <= *upper))
                    }
                    RowFn::OnOff(t) => Value::Boolean(x.as_f64().is_some_and(|x| x >= *t)),
                    _ => Value::Boolean(false),
                });
                match out {
                    Some(v) => b.push(Some(&v)),
                    None => b.push_null(),
                }
            }
            return Ok(b.finish());
        }
        let mut inputs: Vec<Option<String>> = Vec::with_capacity(args.len());
        for row in 0..n {
            inputs.clear();
            for a in args {
                inputs.push(match (a.is_null(row), &a.data) {
                    (false, ColumnData::Binary(v)) => v
                        .get(row)
                        .map(|bytes| String::from_utf8_lossy(bytes).into_owned()),
                    _ => None,
                });
            }
            match self.apply(&inputs)? {
                Some(v) => b.push(Some(&v)),
                None => b.push_null(),
            }
        }
        Ok(b.finish())
    }
}

fn utf16_len(s: &str) -> i32 {
    i32::try_from(s.encode_utf16().count()).unwrap_or(i32::MAX)
}

/// Java `String.compareTo`: the first differing UTF-16 unit's difference, else the length
/// difference.
fn java_compare(a: &str, b: &str) -> i32 {
    let (ua, ub): (Vec<u16>, Vec<u16>) = (a.encode_utf16().collect(), b.encode_utf16().collect());
    for (x, y) in ua.iter().zip(&ub) {
        if x != y {
            return i32::from(*x) - i32::from(*y);
        }
    }
    utf16_len(a) - utf16_len(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(f: &RowFn, s: &str) -> Option<Value> {
        f.apply(&[Some(s.to_string())]).unwrap()
    }

    fn resolve(name: &str, args: usize, attrs: &[(&str, &str)]) -> Result<RowFn> {
        let attrs: Vec<(String, String)> = attrs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        RowFn::resolve(name, args, &attrs).unwrap()
    }

    #[test]
    fn java_string_semantics() {
        let t = |s: &str| Some(Value::Text(s.as_bytes().to_vec()));
        assert_eq!(one(&RowFn::Length, "  padded  "), Some(Value::Int32(10)));
        assert_eq!(one(&RowFn::Trim, "\t x \n"), t("x"));
        assert_eq!(one(&RowFn::Upper, "a,b"), t("A,B"));
        let m = resolve("string_matches", 1, &[("regex", "[A-Z].*")]).unwrap();
        assert_eq!(one(&m, "Hello"), Some(Value::Boolean(true)));
        assert_eq!(one(&m, "xHello"), Some(Value::Boolean(false)));
        let l = resolve("LOCATE", 1, &[("target", "l")]).unwrap();
        assert_eq!(one(&l, "World"), Some(Value::Int32(3)));
        assert_eq!(one(&l, "abc"), Some(Value::Int32(-1)));
        let c = resolve("concat", 1, &[("target1", "_x"), ("target2", "_y")]).unwrap();
        assert_eq!(one(&c, "Hello"), t("Hello_x_y"));
        let s = resolve("substr", 1, &[("start", "1"), ("end", "3")]).unwrap();
        assert_eq!(one(&s, "Hello"), t("el"));
        assert!(s.apply(&[Some("a".into())]).is_err());
        assert_eq!(java_compare("abc", "abd"), -1);
        assert_eq!(java_compare("ab", "abcd"), -2);
        assert!(resolve("strcmp", 1, &[]).is_err());
        assert!(resolve("locate", 1, &[]).is_err());
        assert!(RowFn::resolve("nope", 1, &[]).is_none());
    }
}
