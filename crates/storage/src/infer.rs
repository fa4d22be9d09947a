//! IoTDB's type inference for string values of series that do not exist yet.

use crate::config::StorageConfig;
use model::TSDataType;

/// Java's `Double.parseDouble` acceptance for decimal text (after trimming): optional
/// sign, digits with an optional fraction, optional exponent, optional `f/F/d/D` suffix,
/// or `Infinity`. Hex floats are not recognised.
fn java_parses_as_double(s: &str) -> bool {
    let s = s.trim_matches(|c: char| c <= ' ');
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    if s == "Infinity" || s == "NaN" {
        return true;
    }
    let s = s.strip_suffix(['f', 'F', 'd', 'D']).unwrap_or(s);
    let (mantissa, exp) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let (int, frac) = match mantissa.split_once('.') {
        Some((a, b)) => (a, b),
        None => (mantissa, ""),
    };
    let digits = |x: &str| x.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() && frac.is_empty() || !digits(int) || !digits(frac) {
        return false;
    }
    match exp {
        None => true,
        Some(e) => {
            let e = e.strip_prefix(['+', '-']).unwrap_or(e);
            !e.is_empty() && digits(e)
        }
    }
}

/// Java's `Long.parseLong`.
fn java_parse_long(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// The type IoTDB 1.0 infers for a string value; `None` for `null`/`NULL` (no value).
///
/// Booleans (`true`/`false`, any case) → `boolean_string_infer_type`; numbers without a
/// `.` → `integer_string_infer_type`, or `long_string_infer_type` when the value is above
/// 2^24 or does not parse as a Java long (as IoTDB decides: `Long.parseLong(s) > 1 << 24`);
/// numbers with a `.` → `floating_string_infer_type`; `NaN` → `nan_string_infer_type`;
/// anything else → TEXT.
pub(crate) fn infer_type(s: &str, config: &StorageConfig) -> Option<TSDataType> {
    if s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("false") {
        return Some(config.boolean_string_infer_type);
    }
    if s != "NaN" && java_parses_as_double(s) {
        if !s.contains('.') {
            let lacks_precision = match java_parse_long(s.trim()) {
                Some(v) => v > (1 << 24),
                None => true,
            };
            return Some(if lacks_precision {
                config.long_string_infer_type
            } else {
                config.integer_string_infer_type
            });
        }
        return Some(config.floating_string_infer_type);
    }
    if s == "null" || s == "NULL" {
        return None;
    }
    if s == "NaN" {
        return Some(config.nan_string_infer_type);
    }
    Some(TSDataType::Text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inference_follows_iotdb_1_0() {
        let c = StorageConfig::default();
        let t = |s| infer_type(s, &c);
        assert_eq!(t("true"), Some(TSDataType::Boolean));
        assert_eq!(t("FALSE"), Some(TSDataType::Boolean));
        assert_eq!(t("15"), Some(TSDataType::Float));
        assert_eq!(t("-3"), Some(TSDataType::Float));
        assert_eq!(t("16777216"), Some(TSDataType::Float));
        assert_eq!(t("16777217"), Some(TSDataType::Double));
        assert_eq!(t("99999999999999999999"), Some(TSDataType::Double));
        assert_eq!(t("1e5"), Some(TSDataType::Double));
        assert_eq!(t("15.0"), Some(TSDataType::Float));
        assert_eq!(t(".5"), Some(TSDataType::Float));
        assert_eq!(t("NaN"), Some(TSDataType::Double));
        assert_eq!(t("null"), None);
        assert_eq!(t("abc"), Some(TSDataType::Text));
        assert_eq!(t("1.2.3"), Some(TSDataType::Text));
        assert_eq!(t(""), Some(TSDataType::Text));
        assert_eq!(t("."), Some(TSDataType::Text));
        assert_eq!(t("1e"), Some(TSDataType::Text));
    }
}
