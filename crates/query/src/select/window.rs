//! GROUP BY time windows: fixed, sliding and calendar-month windows and their bounds.

use super::*;

/// GROUP BY time windows.
#[derive(Clone)]
pub(super) struct WindowPlan {
    pub(super) start: i64,
    pub(super) end: i64,
    pub(super) interval_ms: i64,
    pub(super) interval_months: i64,
    pub(super) step_ms: i64,
    pub(super) step_months: i64,
    pub(super) left_open: bool,
    pub(super) zone: TimeZone,
    pub(super) count: usize,
}

/// Adds calendar months in `zone`, clamping the day to the month's end.
pub(super) fn add_months(t: i64, months: i64, zone: &TimeZone) -> Option<i64> {
    if months == 0 {
        return Some(t);
    }
    let off = zone.offset_secs_at(t) as i64 * 1000;
    let local = chrono::DateTime::from_timestamp_millis(t.checked_add(off)?)?.naive_utc();
    let total = (local.year() as i64) * 12 + local.month0() as i64 + months;
    let y = i32::try_from(total.div_euclid(12)).ok()?;
    let m = total.rem_euclid(12) as u32 + 1;
    let mut day = local.day();
    let date = loop {
        if let Some(d) = NaiveDate::from_ymd_opt(y, m, day) {
            break d;
        }
        if day <= 28 {
            return None;
        }
        day -= 1;
    };
    Some(zone.local_to_epoch_ms(&date.and_time(local.time())))
}

impl WindowPlan {
    pub(super) fn new(w: &TimeWindow, zone: &TimeZone) -> Result<WindowPlan> {
        let (Some(s), Some(e)) = (&w.start, &w.end) else {
            return Err(Error::Unsupported(
                "GROUP BY time without a time range is not supported yet".into(),
            ));
        };
        let start = eval_time(s, zone)?;
        let end = eval_time(e, zone)?;
        if start >= end {
            return Err(Error::Semantic(
                "Start time should be smaller than endTime in GroupBy".into(),
            ));
        }
        let step = w.step.as_ref().unwrap_or(&w.interval);
        if w.interval.months < 0
            || w.interval.millis < 0
            || w.interval.months == 0 && w.interval.millis == 0
        {
            return Err(Error::Semantic(
                "The time interval should be positive.".into(),
            ));
        }
        if step.months < 0 || step.millis < 0 || step.months == 0 && step.millis == 0 {
            return Err(Error::Semantic("The time step should be positive.".into()));
        }
        let mut plan = WindowPlan {
            start,
            end,
            interval_ms: w.interval.millis,
            interval_months: w.interval.months,
            step_ms: step.millis,
            step_months: step.months,
            left_open: w.left_open,
            zone: zone.clone(),
            count: 0,
        };
        plan.count = plan.compute_count();
        Ok(plan)
    }

    /// Inclusive range of data times any window can see.
    pub(super) fn data_range(&self) -> (i64, i64) {
        if self.left_open {
            (self.start.saturating_add(1), self.end)
        } else {
            (self.start, self.end - 1)
        }
    }

    pub(super) fn window_start(&self, k: usize) -> Option<i64> {
        let k = k as i64;
        let base = if self.step_months != 0 {
            add_months(self.start, self.step_months.checked_mul(k)?, &self.zone)?
        } else {
            self.start
        };
        base.checked_add(self.step_ms.checked_mul(k)?)
    }

    pub(super) fn compute_count(&self) -> usize {
        if self.step_months == 0 {
            let span = self.end as i128 - self.start as i128;
            let step = self.step_ms as i128;
            let n = (span + step - 1) / step;
            return n.clamp(0, usize::MAX as i128) as usize;
        }
        let before_end = |k: usize| self.window_start(k).is_some_and(|s| s < self.end);
        let mut hi = 1usize;
        while before_end(hi) {
            hi = hi.saturating_mul(2);
            if hi == usize::MAX {
                break;
            }
        }
        let mut lo = 0usize;
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if before_end(mid) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    pub(super) fn count(&self) -> usize {
        self.count
    }

    /// True if the windows do not overlap and one of them holds every time in `[s, e]`, so
    /// a chunk spanning exactly that can be aggregated from its statistics.
    pub(super) fn holds(&self, s: i64, e: i64) -> bool {
        let disjoint = (self.interval_months == 0
            && self.step_months == 0
            && self.step_ms >= self.interval_ms)
            || (self.step_months == self.interval_months && self.step_ms == self.interval_ms);
        if !disjoint || s > e {
            return false;
        }
        // the last window starting at or before s (after s, when left-open)
        let (mut lo, mut hi) = (0usize, self.count);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let ws = self.window(mid).0;
            if ws < s || (!self.left_open && ws == s) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        if lo == 0 {
            return false;
        }
        let (ws, we) = self.window(lo - 1);
        if self.left_open {
            ws < s && e <= we
        } else {
            ws <= s && e < we
        }
    }

    /// Window k: (start, end) with end clipped to the range end.
    pub(super) fn window(&self, k: usize) -> (i64, i64) {
        let ws = self.window_start(k).unwrap_or(self.end);
        let we = if self.step_months == 0 && self.interval_months == 0 {
            ws.checked_add(self.interval_ms)
        } else {
            // Calendar windows are anchored on the range start, so a clamped month end
            // (Jan 31 → Feb 28) does not shift later windows.
            let kk = i64::try_from(k).ok();
            kk.and_then(|kk| {
                self.step_months
                    .checked_mul(kk)?
                    .checked_add(self.interval_months)
            })
            .and_then(|m| add_months(self.start, m, &self.zone))
            .and_then(|t| t.checked_add(self.step_ms.checked_mul(kk?)?))
            .and_then(|t| t.checked_add(self.interval_ms))
        };
        (ws, we.unwrap_or(i64::MAX).min(self.end))
    }
}

/// The inclusive time bounds of window `k` (everything without GROUP BY).
pub(super) fn window_bounds(windows: Option<&WindowPlan>, k: usize) -> (i64, i64) {
    match windows {
        None => (i64::MIN, i64::MAX),
        Some(w) => {
            let (ws, we) = w.window(k);
            if w.left_open {
                (ws.saturating_add(1), we)
            } else {
                (ws, we.saturating_sub(1))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sql::ast::Interval;

    fn plan(
        start: i64,
        end: i64,
        interval: Interval,
        step: Option<Interval>,
        left_open: bool,
    ) -> WindowPlan {
        let w = TimeWindow {
            start: Some(Expression::Constant(Literal::Integer(start))),
            end: Some(Expression::Constant(Literal::Integer(end))),
            interval,
            step,
            left_open,
        };
        WindowPlan::new(&w, &TimeZone::default()).unwrap()
    }

    fn ms(v: i64) -> Interval {
        Interval {
            months: 0,
            millis: v,
            text: format!("{v}ms"),
        }
    }

    #[test]
    fn sliding_windows_overlap_and_clip() {
        let p = plan(0, 10, ms(4), Some(ms(3)), false);
        assert_eq!(p.count(), 4);
        let w: Vec<(i64, i64)> = (0..p.count()).map(|k| p.window(k)).collect();
        assert_eq!(w, vec![(0, 4), (3, 7), (6, 10), (9, 10)]);
        let p = plan(0, 10, ms(3), None, true);
        assert_eq!(p.data_range(), (1, 10));
        assert_eq!(p.count(), 4);
        assert_eq!(p.window(3), (9, 10));
    }

    #[test]
    fn calendar_month_windows_anchor_on_start() {
        let utc = TimeZone::default();
        let t = |s: &str| model::time::parse_datetime(s, &utc).unwrap();
        let month = Interval {
            months: 1,
            millis: 0,
            text: "1mo".into(),
        };
        let p = plan(t("2023-01-31"), t("2023-05-01"), month, None, false);
        assert_eq!(p.count(), 4);
        assert_eq!(p.window(0), (t("2023-01-31"), t("2023-02-28")));
        assert_eq!(p.window(1), (t("2023-02-28"), t("2023-03-31")));
        assert_eq!(p.window(2), (t("2023-03-31"), t("2023-04-30")));
        assert_eq!(p.window(3), (t("2023-04-30"), t("2023-05-01")));
    }

    #[test]
    fn bad_windows_are_rejected() {
        let w = TimeWindow {
            start: Some(Expression::Constant(Literal::Integer(5))),
            end: Some(Expression::Constant(Literal::Integer(5))),
            interval: ms(1),
            step: None,
            left_open: false,
        };
        assert!(WindowPlan::new(&w, &TimeZone::default()).is_err());
        let w = TimeWindow {
            end: Some(Expression::Constant(Literal::Integer(9))),
            interval: ms(0),
            ..w
        };
        assert!(WindowPlan::new(&w, &TimeZone::default()).is_err());
    }
}
