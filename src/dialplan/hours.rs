//! Opening hours: a schedule (weekly hours, dated holidays, a time zone) read from a file
//! operators edit, and whether the line is open, closed or on holiday at a moment.
//!
//! ```toml
//! # schedules/support.toml
//! timezone = "Europe/London"        # an IANA name, or "+08:00", or "UTC"
//! [weekly]
//! mon = "08:00-20:00"               # one range, a list of ranges, or "closed"
//! sat = ["09:00-12:00", "13:00-17:00"]
//! sun = "closed"                    # a day not listed is closed too
//! [[holiday]]
//! date = "2026-12-25"
//! name = "Christmas Day"
//! [[holiday]]
//! date = "2026-12-24"
//! name = "Christmas Eve"
//! open = "08:00-12:00"              # a short day: open then, on holiday the rest of it
//! ```

use super::tz::{civil_from_days, days_from_civil, weekday, Zone};
use serde::Serialize;

/// Minutes since local midnight: `[start, end)`.
pub type Range = (u32, u32);

/// A validated schedule.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    /// Its name (the file's stem).
    pub name: String,
    /// The zone its hours are in.
    pub zone: Zone,
    /// Open ranges per weekday, Monday first.
    pub weekly: [Vec<Range>; 7],
    /// Dated exceptions.
    pub holidays: Vec<Holiday>,
}

/// One dated holiday.
#[derive(Debug, Clone, PartialEq)]
pub struct Holiday {
    /// Days since 1970-01-01 (local date).
    pub day: i64,
    /// What it is called ("Christmas Day").
    pub name: String,
    /// Hours open that day, if any (a short day).
    pub open: Vec<Range>,
}

/// Whether the line is open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum HoursStatus {
    /// Within the hours.
    Open,
    /// Outside the hours.
    Closed,
    /// A holiday (outside its short-day hours, if it has some).
    Holiday {
        /// The holiday's name.
        name: String,
    },
}

impl Schedule {
    /// The status at Unix time `t`, and the local time it was judged at ("Fri 2026-12-25 10:00").
    pub fn status_at(&self, t: i64) -> (HoursStatus, String) {
        let local = t + i64::from(self.zone.offset_at(t));
        let day = local.div_euclid(86_400);
        let minute = (local.rem_euclid(86_400) / 60) as u32;
        let (y, m, d) = civil_from_days(day);
        let wd = weekday(day);
        const NAMES: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
        let shown = format!(
            "{} {y:04}-{m:02}-{d:02} {:02}:{:02} {}",
            NAMES[wd as usize],
            minute / 60,
            minute % 60,
            self.zone.name()
        );
        let within = |ranges: &[Range]| ranges.iter().any(|(a, b)| minute >= *a && minute < *b);
        if let Some(h) = self.holidays.iter().find(|h| h.day == day) {
            return if within(&h.open) {
                (HoursStatus::Open, shown)
            } else {
                (
                    HoursStatus::Holiday {
                        name: h.name.clone(),
                    },
                    shown,
                )
            };
        }
        // weekly[] is Monday first; weekday() is Sunday first.
        let idx = (wd as usize + 6) % 7;
        if within(&self.weekly[idx]) {
            (HoursStatus::Open, shown)
        } else {
            (HoursStatus::Closed, shown)
        }
    }
}

/// Parses "08:00-18:00" (end may be "24:00"): minutes `[start, end)`.
pub fn parse_range(s: &str) -> Result<Range, String> {
    let (a, b) = s
        .split_once('-')
        .ok_or_else(|| format!("\"{s}\" is not a range like \"08:00-18:00\""))?;
    let (a, b) = (parse_clock(a.trim())?, parse_clock(b.trim())?);
    if a >= b {
        return Err(format!(
            "\"{s}\" ends before it starts; a range past midnight is two: \"22:00-24:00\" and \"00:00-02:00\" the next day"
        ));
    }
    Ok((a, b))
}

fn parse_clock(s: &str) -> Result<u32, String> {
    let bad = || format!("\"{s}\" is not a time like \"08:30\"");
    let (h, m) = s.split_once(':').ok_or_else(bad)?;
    let (h, m): (u32, u32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if m >= 60 || h > 24 || (h == 24 && m > 0) {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

/// Parses "2026-12-25" into a day number.
pub fn parse_date(s: &str) -> Result<i64, String> {
    let bad = || format!("\"{s}\" is not a date like \"2026-12-25\"");
    let mut it = s.trim().split('-');
    let (y, m, d) = (it.next(), it.next(), it.next());
    if it.next().is_some() {
        return Err(bad());
    }
    let y: i64 = y.and_then(|v| v.parse().ok()).ok_or_else(bad)?;
    let m: u32 = m.and_then(|v| v.parse().ok()).ok_or_else(bad)?;
    let d: u32 = d.and_then(|v| v.parse().ok()).ok_or_else(bad)?;
    let day = days_from_civil(y, m, d);
    if !(1..=12).contains(&m) || civil_from_days(day) != (y, m, d) {
        return Err(bad());
    }
    Ok(day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule() -> Schedule {
        let mut weekly: [Vec<Range>; 7] = Default::default();
        for d in weekly.iter_mut().take(5) {
            d.push(parse_range("08:00-18:00").unwrap());
        }
        Schedule {
            name: "t".into(),
            zone: Zone::fixed("+08:00", 8 * 3600),
            weekly,
            holidays: vec![
                Holiday {
                    day: parse_date("2026-12-25").unwrap(),
                    name: "Christmas Day".into(),
                    open: vec![],
                },
                Holiday {
                    day: parse_date("2026-12-24").unwrap(),
                    name: "Christmas Eve".into(),
                    open: vec![parse_range("08:00-12:00").unwrap()],
                },
            ],
        }
    }

    /// Unix time of a local (+08:00) date and hour.
    fn local(y: i64, m: u32, d: u32, h: i64) -> i64 {
        days_from_civil(y, m, d) * 86_400 + h * 3600 - 8 * 3600
    }

    #[test]
    fn open_in_the_weekly_hours_closed_outside_and_at_weekends() {
        let s = schedule();
        assert_eq!(s.status_at(local(2026, 12, 21, 9)).0, HoursStatus::Open);
        assert_eq!(s.status_at(local(2026, 12, 21, 18)).0, HoursStatus::Closed);
        assert_eq!(
            s.status_at(local(2026, 12, 19, 10)).0,
            HoursStatus::Closed,
            "Sat"
        );
        let (_, shown) = s.status_at(local(2026, 12, 21, 9));
        assert_eq!(shown, "Mon 2026-12-21 09:00 +08:00");
    }

    #[test]
    fn a_holiday_overrides_the_week_and_a_short_day_opens_in_its_hours() {
        let s = schedule();
        let xmas = HoursStatus::Holiday {
            name: "Christmas Day".into(),
        };
        assert_eq!(s.status_at(local(2026, 12, 25, 10)).0, xmas, "a Friday");
        assert_eq!(s.status_at(local(2026, 12, 24, 10)).0, HoursStatus::Open);
        assert!(matches!(
            s.status_at(local(2026, 12, 24, 14)).0,
            HoursStatus::Holiday { .. }
        ));
    }

    #[test]
    fn ranges_and_dates_are_checked() {
        assert_eq!(parse_range("00:00-24:00"), Ok((0, 1440)));
        assert!(parse_range("18:00-08:00")
            .unwrap_err()
            .contains("past midnight"));
        assert!(parse_range("8-18").is_err());
        assert!(parse_date("2026-02-30").is_err());
        assert!(parse_date("2026-13-01").is_err());
    }
}
