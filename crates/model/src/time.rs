//! Time zones as clients send them, datetime and duration literals.
//!
//! Timestamps are i64 milliseconds since the epoch (IoTDB's default precision).

use crate::error::{Error, Result};
use chrono::{FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone as _};

/// A session time zone: a fixed offset or a named region.
#[derive(Debug, Clone, PartialEq)]
pub enum TimeZone {
    /// `+08:00`, `+0800`, `UTC+8`, `Z` …
    Fixed(FixedOffset),
    /// `Asia/Shanghai`, `Etc/UTC` …
    Named(chrono_tz::Tz),
}

impl Default for TimeZone {
    fn default() -> Self {
        TimeZone::Fixed(FixedOffset::east_opt(0).expect("zero offset"))
    }
}

fn parse_offset(s: &str) -> Option<FixedOffset> {
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let (h, m, sec) = if let Some((h, m)) = rest.split_once(':') {
        let (m, sec) = m.split_once(':').unwrap_or((m, "0"));
        (
            h.parse::<i32>().ok()?,
            m.parse::<i32>().ok()?,
            sec.parse::<i32>().ok()?,
        )
    } else if rest.len() <= 2 {
        (rest.parse::<i32>().ok()?, 0, 0)
    } else if rest.len() == 4 {
        (
            rest[..2].parse::<i32>().ok()?,
            rest[2..].parse::<i32>().ok()?,
            0,
        )
    } else {
        return None;
    };
    if !rest.chars().all(|c| c.is_ascii_digit() || c == ':') || h > 18 || m > 59 || sec > 59 {
        return None;
    }
    FixedOffset::east_opt(sign * (h * 3600 + m * 60 + sec))
}

impl TimeZone {
    /// Parses a zone id the way Java's `ZoneId.of` accepts them (plus the `+0800` form).
    pub fn parse(id: &str) -> Result<Self> {
        let s = id.trim();
        let bad = || Error::TimeZone(format!("Unknown time zone: {id}"));
        if s.is_empty() {
            return Err(bad());
        }
        if s == "Z" || s.eq_ignore_ascii_case("UTC") || s.eq_ignore_ascii_case("GMT") || s == "UT" {
            return Ok(TimeZone::default());
        }
        if let Some(off) = parse_offset(s) {
            return Ok(TimeZone::Fixed(off));
        }
        for prefix in ["UTC", "GMT", "UT"] {
            if let Some(rest) = s.strip_prefix(prefix) {
                if let Some(off) = parse_offset(rest) {
                    return Ok(TimeZone::Fixed(off));
                }
            }
        }
        s.parse::<chrono_tz::Tz>()
            .map(TimeZone::Named)
            .map_err(|_| bad())
    }

    /// The offset in seconds east of UTC at the given instant.
    pub fn offset_secs_at(&self, epoch_ms: i64) -> i32 {
        match self {
            TimeZone::Fixed(f) => f.local_minus_utc(),
            TimeZone::Named(tz) => match chrono::DateTime::from_timestamp_millis(epoch_ms) {
                Some(dt) => tz
                    .offset_from_utc_datetime(&dt.naive_utc())
                    .fix()
                    .local_minus_utc(),
                None => 0,
            },
        }
    }

    /// Converts a local wall-clock time to epoch milliseconds.
    pub fn local_to_epoch_ms(&self, local: &NaiveDateTime) -> i64 {
        match self {
            TimeZone::Fixed(f) => {
                local.and_utc().timestamp_millis() - f.local_minus_utc() as i64 * 1000
            }
            TimeZone::Named(tz) => match tz.from_local_datetime(local).earliest() {
                Some(dt) => dt.timestamp_millis(),
                None => local.and_utc().timestamp_millis(),
            },
        }
    }
}

/// Parses a datetime literal (`2017-11-01T00:08:00.000`, `2017/11/01 00:00:00`,
/// `2016-11-16T16:22:33+08:00`, `2017-11-01`) into epoch milliseconds; literals without
/// an offset are read in `zone`.
pub fn parse_datetime(text: &str, zone: &TimeZone) -> Result<i64> {
    let bad = || Error::Semantic(format!("Input time format {text} error"));
    let s = text.trim();
    if s.len() < 8 || s.len() > 40 {
        return Err(bad());
    }
    let sep = s.as_bytes().get(4).copied().ok_or_else(bad)?;
    if !matches!(sep, b'-' | b'/' | b'.') {
        return Err(bad());
    }
    let normalized: String = s
        .char_indices()
        .map(|(i, c)| {
            if i < 10 && c as u32 == sep as u32 {
                '-'
            } else {
                c
            }
        })
        .collect();
    let (date_part, rest) =
        normalized.split_at(normalized.find(['T', ' ']).unwrap_or(normalized.len()));
    let date = NaiveDate::parse_from_str(date_part, "%Y-%m-%d").map_err(|_| bad())?;
    let rest = rest.trim_start_matches(['T', ' ']);
    let (time_part, offset) = match rest.find(['+', '-', 'Z']) {
        Some(i) => (&rest[..i], Some(&rest[i..])),
        None => (rest, None),
    };
    let time = if time_part.is_empty() {
        NaiveTime::MIN
    } else {
        NaiveTime::parse_from_str(time_part, "%H:%M:%S%.f")
            .or_else(|_| NaiveTime::parse_from_str(time_part, "%H:%M"))
            .map_err(|_| bad())?
    };
    let local = date.and_time(time);
    match offset {
        None => Ok(zone.local_to_epoch_ms(&local)),
        Some("Z") => Ok(local.and_utc().timestamp_millis()),
        Some(off) => {
            let off = parse_offset(off).ok_or_else(bad)?;
            Ok(local.and_utc().timestamp_millis() - off.local_minus_utc() as i64 * 1000)
        }
    }
}

/// Parses a duration literal such as `1d`, `1h30m`, `10ms`, `1mo` (30 days) into milliseconds.
pub fn parse_duration_ms(text: &str) -> Result<i64> {
    let bad = || Error::Semantic(format!("Illegal duration: {text}"));
    let s = text.trim().to_ascii_lowercase();
    if s.is_empty() {
        return Err(bad());
    }
    let bytes = s.as_bytes();
    let mut i = 0;
    let mut total: i64 = 0;
    while i < bytes.len() {
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if start == i {
            return Err(bad());
        }
        let n: i64 = s[start..i].parse().map_err(|_| bad())?;
        let ustart = i;
        while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
            i += 1;
        }
        let unit_ms: i64 = match &s[ustart..i] {
            "y" => 365 * 86_400_000,
            "mo" => 30 * 86_400_000,
            "w" => 7 * 86_400_000,
            "d" => 86_400_000,
            "h" => 3_600_000,
            "m" => 60_000,
            "s" => 1000,
            "ms" => 1,
            "us" | "ns" => 0,
            _ => return Err(bad()),
        };
        total = n
            .checked_mul(unit_ms)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(bad)?;
    }
    Ok(total)
}

/// The current time in epoch milliseconds.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Formats epoch milliseconds as ISO-8601 in the zone (`2017-11-01T00:08:00.000+08:00`).
pub fn format_iso(epoch_ms: i64, zone: &TimeZone) -> String {
    let off = zone.offset_secs_at(epoch_ms);
    let fixed = FixedOffset::east_opt(off).unwrap_or(FixedOffset::east_opt(0).expect("zero"));
    match chrono::DateTime::from_timestamp_millis(epoch_ms) {
        Some(dt) => dt
            .with_timezone(&fixed)
            .format("%Y-%m-%dT%H:%M:%S%.3f%:z")
            .to_string(),
        None => epoch_ms.to_string(),
    }
}

/// A DATE value as IoTDB stores it (the int `yyyyMMdd`) from `yyyy-MM-dd`; `None` when the
/// text is not a valid date (IoTDB's range: years 1000 to 9999).
pub fn parse_date(text: &str) -> Option<i32> {
    use chrono::Datelike as _;
    let d = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()?;
    (1000..=9999)
        .contains(&d.year())
        .then(|| d.year() * 10000 + d.month() as i32 * 100 + d.day() as i32)
}

/// Renders a DATE value (`yyyyMMdd`) as `yyyy-MM-dd`, as IoTDB prints it; a value that is
/// not a valid date is printed as the number it is.
pub fn format_date(v: i32) -> String {
    match NaiveDate::from_ymd_opt(v / 10000, (v / 100 % 100) as u32, (v % 100) as u32) {
        Some(d) if v > 0 => d.format("%Y-%m-%d").to_string(),
        _ => v.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(parse_date("2024-04-01"), Some(20240401));
        assert_eq!(parse_date(" 1000-01-01 "), Some(10000101));
        for bad in ["2024-02-30", "2024-4-1x", "999-01-01", "20240401", ""] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
        assert_eq!(format_date(20240401), "2024-04-01");
        assert_eq!(format_date(20241399), "20241399");
        assert_eq!(format_date(-1), "-1");
    }

    #[test]
    fn zones() {
        for (id, secs) in [
            ("+0800", 28800),
            ("+08:00", 28800),
            ("UTC+8", 28800),
            ("GMT-05:30", -19800),
            ("Z", 0),
            ("Etc/UTC", 0),
            ("-0000", 0),
        ] {
            assert_eq!(TimeZone::parse(id).unwrap().offset_secs_at(0), secs, "{id}");
        }
        assert_eq!(
            TimeZone::parse("Asia/Shanghai")
                .unwrap()
                .offset_secs_at(1_500_000_000_000),
            28800
        );
        assert!(TimeZone::parse("Mars/Base").is_err());
        assert!(TimeZone::parse("+25").is_err());
    }

    #[test]
    fn datetimes() {
        let utc = TimeZone::default();
        let cn = TimeZone::parse("+08:00").unwrap();
        assert_eq!(
            parse_datetime("1970-01-01T00:00:01.000", &utc).unwrap(),
            1000
        );
        assert_eq!(parse_datetime("1970-01-01T08:00:00", &cn).unwrap(), 0);
        assert_eq!(
            parse_datetime("1970/01/01 08:00:00+08:00", &utc).unwrap(),
            0
        );
        assert_eq!(parse_datetime("1970.01.02", &utc).unwrap(), 86_400_000);
        assert_eq!(
            parse_datetime("2017-11-01T00:08:00.000", &cn).unwrap(),
            1509466080000
        );
        assert!(parse_datetime("2017-13-01", &utc).is_err());
        assert!(parse_datetime("hello", &utc).is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration_ms("1h30m").unwrap(), 5_400_000);
        assert_eq!(parse_duration_ms("10ms").unwrap(), 10);
        assert_eq!(parse_duration_ms("1mo").unwrap(), 30 * 86_400_000);
        assert!(parse_duration_ms("1x").is_err());
        assert!(parse_duration_ms("99999999999999999y").is_err());
    }
}
