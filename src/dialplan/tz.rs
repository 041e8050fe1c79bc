//! Time zones for schedules: an IANA name read once from the system's zoneinfo (TZif v2+, with
//! its POSIX rule for times after the last listed change), or a fixed offset ("+08:00", "UTC").
//! Read when a plan is loaded; the engine only asks [`Zone::offset_at`], which does no IO.

use std::path::Path;

/// Where IANA zone files live on Debian and most Unix systems.
pub const ZONEINFO: &str = "/usr/share/zoneinfo";

/// A time zone: what to add to UTC at a given moment.
#[derive(Debug, Clone, PartialEq)]
pub struct Zone {
    name: String,
    /// Moments (Unix seconds) the offset changes, and the offset from each on.
    transitions: Vec<(i64, i32)>,
    /// Offset before the first transition (or always, for fixed zones).
    initial: i32,
    /// The rule after the last transition.
    rule: Option<PosixRule>,
}

impl Zone {
    /// A zone that is always `offset` seconds from UTC.
    pub fn fixed(name: &str, offset: i32) -> Self {
        Zone {
            name: name.to_string(),
            transitions: Vec::new(),
            initial: offset,
            rule: None,
        }
    }

    /// Reads `name`: "UTC", a fixed offset ("+08:00", "-05:00"), or an IANA name under `dir`.
    pub fn load(name: &str, dir: &Path) -> Result<Self, String> {
        let n = name.trim();
        if n.eq_ignore_ascii_case("utc") || n.eq_ignore_ascii_case("gmt") || n == "Z" {
            return Ok(Zone::fixed(n, 0));
        }
        if let Some(off) = fixed_offset(n) {
            return Ok(Zone::fixed(n, off));
        }
        if n.is_empty() || n.contains("..") || n.starts_with('/') {
            return Err(format!("\"{n}\" is not a time zone name"));
        }
        let bytes = std::fs::read(dir.join(n))
            .map_err(|_| format!("no time zone \"{n}\" in {}", dir.display()))?;
        let mut z = parse_tzif(&bytes).ok_or_else(|| format!("{n}: unreadable zone file"))?;
        z.name = n.to_string();
        Ok(z)
    }

    /// The zone's name as written.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Seconds to add to UTC at Unix time `t`.
    pub fn offset_at(&self, t: i64) -> i32 {
        match self.transitions.last() {
            None => return self.rule.as_ref().map_or(self.initial, |r| r.offset_at(t)),
            Some((last, off)) if t >= *last => {
                return self.rule.as_ref().map_or(*off, |r| r.offset_at(t));
            }
            _ => {}
        }
        match self.transitions.partition_point(|(at, _)| *at <= t) {
            0 => self.initial,
            i => self.transitions[i - 1].1,
        }
    }
}

/// "+08:00", "-0530", "+8": seconds east of UTC.
fn fixed_offset(s: &str) -> Option<i32> {
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let (h, m) = match rest.split_once(':') {
        Some((h, m)) => (h, m),
        None if rest.len() == 4 => rest.split_at(2),
        None => (rest, "0"),
    };
    let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 14 && m < 60).then_some(sign * (h * 3600 + m * 60))
}

fn be32(b: &[u8], at: usize) -> Option<i64> {
    b.get(at..at + 4)
        .map(|s| i64::from(i32::from_be_bytes([s[0], s[1], s[2], s[3]])))
}

fn be64(b: &[u8], at: usize) -> Option<i64> {
    let s = b.get(at..at + 8)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(s);
    Some(i64::from_be_bytes(a))
}

/// Parses a TZif file (RFC 8536). Uses the 64-bit block of version 2+ files, else version 1.
fn parse_tzif(b: &[u8]) -> Option<Zone> {
    if b.get(0..4)? != b"TZif" {
        return None;
    }
    let counts = |at: usize| -> Option<[usize; 6]> {
        let mut c = [0usize; 6];
        for (i, v) in c.iter_mut().enumerate() {
            *v = usize::try_from(be32(b, at + 20 + 4 * i)?).ok()?;
        }
        Some(c)
    };
    let [isut, isstd, leap, timecnt, typecnt, charcnt] = counts(0)?;
    let v1_len = timecnt * 5 + typecnt * 6 + charcnt + leap * 8 + isstd + isut;
    let (base, time_size, c) = if b[4] >= b'2' {
        let second = 44 + v1_len;
        (second + 44, 8, counts(second)?)
    } else {
        (44, 4, [isut, isstd, leap, timecnt, typecnt, charcnt])
    };
    let [isut, isstd, leap, timecnt, typecnt, charcnt] = c;
    if typecnt == 0 {
        return None;
    }
    let idx_at = base + timecnt * time_size;
    let types_at = idx_at + timecnt;
    let utoff = |i: usize| be32(b, types_at + 6 * i).map(|v| v as i32);
    let mut transitions = Vec::with_capacity(timecnt);
    for i in 0..timecnt {
        let t = if time_size == 8 {
            be64(b, base + 8 * i)?
        } else {
            be32(b, base + 4 * i)?
        };
        let ty = usize::from(*b.get(idx_at + i)?);
        if ty >= typecnt {
            return None;
        }
        transitions.push((t, utoff(ty)?));
    }
    // Before the first transition: the first standard-time type (RFC 8536 §3.2), else type 0.
    let initial = (0..typecnt)
        .find(|&i| b.get(types_at + 6 * i + 4) == Some(&0))
        .map_or_else(|| utoff(0), utoff)?;
    let end = types_at + typecnt * 6 + charcnt + leap * (time_size + 4) + isstd + isut;
    let rule = (time_size == 8)
        .then(|| b.get(end..))
        .flatten()
        .and_then(|f| std::str::from_utf8(f).ok())
        .and_then(|f| f.trim().lines().next().map(str::to_string))
        .and_then(|f| PosixRule::parse(&f));
    Some(Zone {
        name: String::new(),
        transitions,
        initial,
        rule,
    })
}

/// A POSIX TZ rule such as `GMT0BST,M3.5.0/1,M10.5.0` or `CST-8` (only `M` date rules; a zone
/// with another form keeps standard time after its last listed change).
#[derive(Debug, Clone, PartialEq)]
struct PosixRule {
    std: i32,
    dst: Option<(i32, MonthRule, MonthRule)>,
}

/// `Mm.w.d/time`: day `d` (0 = Sunday) of week `w` (5 = last) of month `m`, at `time` local.
#[derive(Debug, Clone, Copy, PartialEq)]
struct MonthRule {
    month: u32,
    week: u32,
    weekday: u32,
    secs: i64,
}

impl PosixRule {
    fn parse(s: &str) -> Option<Self> {
        let mut p = s;
        p = skip_name(p)?;
        let (std_posix, rest) = take_offset(p)?;
        let std = -std_posix;
        if rest.is_empty() {
            return Some(PosixRule { std, dst: None });
        }
        let rest = skip_name(rest)?;
        let (dst, rest) = match take_offset(rest) {
            Some((o, r)) if !rest.starts_with(',') => (-o, r),
            _ => (std + 3600, rest),
        };
        let rest = rest.strip_prefix(',')?;
        let (a, b) = rest.split_once(',')?;
        Some(PosixRule {
            std,
            dst: Some((dst, MonthRule::parse(a)?, MonthRule::parse(b)?)),
        })
    }

    fn offset_at(&self, t: i64) -> i32 {
        let Some((dst, start, end)) = self.dst else {
            return self.std;
        };
        let year = civil_from_days((t + i64::from(self.std)).div_euclid(86_400)).0;
        let on = start.utc(year, self.std);
        let off = end.utc(year, dst);
        let in_dst = if on < off {
            t >= on && t < off
        } else {
            !(t >= off && t < on)
        };
        if in_dst {
            dst
        } else {
            self.std
        }
    }
}

impl MonthRule {
    fn parse(s: &str) -> Option<Self> {
        let s = s.strip_prefix('M')?;
        let (date, time) = s.split_once('/').unwrap_or((s, "2"));
        let mut it = date.split('.').map(|x| x.parse::<u32>().ok());
        let (month, week, weekday) = (it.next()??, it.next()??, it.next()??);
        if !(1..=12).contains(&month) || !(1..=5).contains(&week) || weekday > 6 {
            return None;
        }
        let (sign, time) = match time.strip_prefix('-') {
            Some(t) => (-1, t),
            None => (1, time.trim_start_matches('+')),
        };
        let mut parts = time.split(':').map(|x| x.parse::<i64>().ok());
        let h = parts.next()??;
        let m = parts.next().flatten().unwrap_or(0);
        let sec = parts.next().flatten().unwrap_or(0);
        Some(MonthRule {
            month,
            week,
            weekday,
            secs: sign * (h * 3600 + m * 60 + sec),
        })
    }

    /// The moment (UTC) this rule fires in `year`, `offset` being the local offset before it.
    fn utc(&self, year: i64, offset: i32) -> i64 {
        let first = days_from_civil(year, self.month, 1);
        let first_wd = weekday(first);
        let mut day = first + i64::from((self.weekday + 7 - first_wd) % 7);
        day += 7 * i64::from(self.week - 1);
        let (ny, nm) = if self.month == 12 {
            (year + 1, 1)
        } else {
            (year, self.month + 1)
        };
        while day >= days_from_civil(ny, nm, 1) {
            day -= 7;
        }
        day * 86_400 + self.secs - i64::from(offset)
    }
}

fn skip_name(s: &str) -> Option<&str> {
    if let Some(r) = s.strip_prefix('<') {
        return r.split_once('>').map(|(_, r)| r);
    }
    let n = s
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(s.len());
    (n >= 3).then(|| &s[n..])
}

/// A POSIX offset (`5`, `-8`, `-5:30`): seconds *west* of UTC, and the rest.
fn take_offset(s: &str) -> Option<(i32, &str)> {
    let n = s
        .find(|c: char| !(c.is_ascii_digit() || c == ':' || c == '+' || c == '-'))
        .unwrap_or(s.len());
    let (num, rest) = s.split_at(n);
    if num.is_empty() {
        return None;
    }
    let (sign, num) = match num.strip_prefix('-') {
        Some(r) => (-1, r),
        None => (1, num.trim_start_matches('+')),
    };
    let mut parts = num.split(':').map(|x| x.parse::<i32>().ok());
    let h = parts.next()??;
    let m = parts.next().flatten().unwrap_or(0);
    Some((sign * (h * 3600 + m * 60), rest))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number from [`days_from_civil`]: (year, month, day).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Day of the week of a day number: 0 = Sunday.
pub fn weekday(days: i64) -> u32 {
    (days + 4).rem_euclid(7) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i64, m: u32, d: u32, h: i64) -> i64 {
        days_from_civil(y, m, d) * 86_400 + h * 3600
    }

    #[test]
    fn civil_dates_round_trip_and_know_their_weekday() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(
            civil_from_days(days_from_civil(2026, 12, 25)),
            (2026, 12, 25)
        );
        assert_eq!(weekday(days_from_civil(2026, 12, 25)), 5, "a Friday");
        assert_eq!(civil_from_days(days_from_civil(2024, 2, 29)), (2024, 2, 29));
    }

    #[test]
    fn fixed_offsets_and_utc() {
        let dir = Path::new(ZONEINFO);
        assert_eq!(Zone::load("+08:00", dir).unwrap().offset_at(0), 8 * 3600);
        assert_eq!(
            Zone::load("-0530", dir).unwrap().offset_at(0),
            -(5 * 3600 + 1800)
        );
        assert_eq!(Zone::load("UTC", dir).unwrap().offset_at(0), 0);
        assert!(Zone::load("../etc/passwd", dir).is_err());
    }

    #[test]
    fn posix_rules_switch_on_the_right_sundays() {
        let london = PosixRule::parse("GMT0BST,M3.5.0/1,M10.5.0").unwrap();
        // 2030 (past any listed transition): BST from 31 March 01:00 UTC to 27 October 01:00 UTC.
        assert_eq!(london.offset_at(at(2030, 3, 31, 0)), 0);
        assert_eq!(london.offset_at(at(2030, 3, 31, 2)), 3600);
        assert_eq!(london.offset_at(at(2030, 10, 27, 0)), 3600);
        assert_eq!(london.offset_at(at(2030, 10, 27, 2)), 0);
        let shanghai = PosixRule::parse("CST-8").unwrap();
        assert_eq!(shanghai.offset_at(at(2030, 7, 1, 0)), 8 * 3600);
        let sydney = PosixRule::parse("AEST-10AEDT,M10.1.0,M4.1.0/3").unwrap();
        assert_eq!(
            sydney.offset_at(at(2030, 1, 15, 0)),
            11 * 3600,
            "southern summer"
        );
        assert_eq!(sydney.offset_at(at(2030, 7, 15, 0)), 10 * 3600);
    }

    #[test]
    fn system_zones_when_present() {
        let dir = Path::new(ZONEINFO);
        if !dir.join("Europe/London").is_file() {
            return; // no tzdata on this machine; the rules above are still checked
        }
        let london = Zone::load("Europe/London", dir).unwrap();
        assert_eq!(london.offset_at(at(2026, 12, 25, 12)), 0);
        assert_eq!(london.offset_at(at(2026, 7, 1, 12)), 3600);
        let sh = Zone::load("Asia/Shanghai", dir).unwrap();
        assert_eq!(sh.offset_at(at(2026, 7, 1, 12)), 8 * 3600);
        assert!(Zone::load("Mars/Olympus", dir).is_err());
    }
}
