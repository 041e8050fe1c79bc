//! An `hours` node and the schedule file it names (`schedules/NAME.toml`, beside `prompts/`):
//! problems in the schedule are reported at their own file:line.

use super::{Builder, K};
use crate::dialplan::diagnostic::Locator;
use crate::dialplan::hours::{parse_date, parse_range, Holiday, Range, Schedule};
use crate::dialplan::plan::NodeKind;
use crate::dialplan::raw::RawNode;
use crate::dialplan::tz::{Zone, ZONEINFO};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use toml::Spanned;

/// A schedule file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSchedule {
    timezone: Spanned<String>,
    #[serde(default)]
    weekly: BTreeMap<Spanned<String>, Spanned<toml::Value>>,
    #[serde(default)]
    holiday: Vec<RawHoliday>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHoliday {
    date: Spanned<String>,
    name: Option<String>,
    open: Option<Spanned<toml::Value>>,
}

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

impl Builder<'_> {
    pub(super) fn hours_node(&mut self, name: &Spanned<String>, n: &RawNode) -> Option<NodeKind> {
        let at = name.span().start;
        let sched = n.hours.as_ref()?;
        let (Some(open), Some(closed)) = (&n.open, &n.closed) else {
            self.error(
                at,
                K::NodeShape,
                format!("hours node \"{}\" needs open and closed", name.get_ref()),
                "add open = \"NODE\" and closed = \"NODE\" (and holiday = \"NODE\" if holidays differ from closed)",
            );
            return None;
        };
        let loaded = self.schedule(sched);
        let open = self.node_ref(open, "open", K::MissingNode);
        let closed = self.node_ref(closed, "closed", K::MissingNode);
        let holiday = match &n.holiday {
            Some(h) => Some(self.node_ref(h, "holiday", K::MissingNode)?),
            None => None,
        };
        loaded?;
        Some(NodeKind::Hours {
            schedule: sched.get_ref().clone(),
            open: open?,
            closed: closed?,
            holiday,
        })
    }

    /// Loads schedule `name` once per plan; problems are reported in its own file.
    fn schedule(&mut self, name: &Spanned<String>) -> Option<()> {
        let n = name.get_ref();
        if self.schedules.contains_key(n) {
            return Some(());
        }
        if n.is_empty() || n.contains(['/', '\\']) || n.starts_with('.') {
            self.error(
                name.span().start,
                K::BadValue,
                format!("schedule name \"{n}\" is not a plain name"),
                "use a file name without folders, e.g. \"support\" for schedules/support.toml",
            );
            return None;
        }
        let path = self.schedules_dir.join(format!("{n}.toml"));
        let Ok(src) = std::fs::read_to_string(&path) else {
            self.error(
                name.span().start,
                K::MissingSchedule,
                format!("schedule \"{n}\" has no file {}", path.display()),
                format!("create {} with timezone = \"Europe/London\", a [weekly] table (mon = \"08:00-18:00\") and [[holiday]] entries; see the README's \"Hours and holidays\"", path.display()),
            );
            return None;
        };
        let loc = Locator::new(path.clone(), &src);
        let before = self.problems.len();
        let schedule = parse_schedule(n, &src, &loc, &mut self.problems);
        if self.problems.len() > before {
            return None;
        }
        self.schedules.insert(n.clone(), schedule?);
        Some(())
    }
}

/// Reads a schedule's source, pushing every problem (at its line) to `problems`.
fn parse_schedule(
    name: &str,
    src: &str,
    loc: &Locator<'_>,
    problems: &mut Vec<crate::dialplan::Diagnostic>,
) -> Option<Schedule> {
    let raw: RawSchedule = match toml::from_str(src) {
        Ok(r) => r,
        Err(e) => {
            problems.push(loc.error(
                e.span().map_or(0, |s| s.start),
                K::BadSchedule,
                e.message().trim().to_string(),
                "a schedule has timezone = \"…\", [weekly] with mon … sun, and [[holiday]] tables with date, name and optional open",
            ));
            return None;
        }
    };
    let zone = match Zone::load(raw.timezone.get_ref(), Path::new(ZONEINFO)) {
        Ok(z) => Some(z),
        Err(why) => {
            problems.push(loc.error(
                raw.timezone.span().start,
                K::BadSchedule,
                why,
                "use an IANA name such as \"Europe/London\" or \"Asia/Shanghai\", or an offset such as \"+08:00\"",
            ));
            None
        }
    };
    let mut weekly: [Vec<Range>; 7] = Default::default();
    for (day, hours) in &raw.weekly {
        let Some(i) = DAYS.iter().position(|d| d == day.get_ref()) else {
            problems.push(loc.error(
                day.span().start,
                K::BadSchedule,
                format!("\"{}\" is not a day", day.get_ref()),
                "use mon, tue, wed, thu, fri, sat or sun",
            ));
            continue;
        };
        if let Some(r) = ranges(hours, loc, problems) {
            weekly[i] = r;
        }
    }
    let mut holidays = Vec::new();
    let mut seen = BTreeMap::new();
    for h in &raw.holiday {
        let day = match parse_date(h.date.get_ref()) {
            Ok(d) => d,
            Err(why) => {
                problems.push(loc.error(
                    h.date.span().start,
                    K::BadSchedule,
                    why,
                    "write dates as \"YYYY-MM-DD\"",
                ));
                continue;
            }
        };
        if seen.insert(day, ()).is_some() {
            problems.push(loc.error(
                h.date.span().start,
                K::BadSchedule,
                format!("{} is listed twice", h.date.get_ref()),
                "keep one [[holiday]] per date",
            ));
            continue;
        }
        let open = match &h.open {
            Some(v) => ranges(v, loc, problems).unwrap_or_default(),
            None => Vec::new(),
        };
        holidays.push(Holiday {
            day,
            name: h.name.clone().unwrap_or_else(|| "a holiday".into()),
            open,
        });
    }
    Some(Schedule {
        name: name.to_string(),
        zone: zone?,
        weekly,
        holidays,
    })
}

/// `"08:00-18:00"`, `["08:00-12:00", "13:00-17:00"]` or `"closed"`.
fn ranges(
    v: &Spanned<toml::Value>,
    loc: &Locator<'_>,
    problems: &mut Vec<crate::dialplan::Diagnostic>,
) -> Option<Vec<Range>> {
    let at = v.span().start;
    let items: Vec<&str> = match v.get_ref() {
        toml::Value::String(s) if s.trim() == "closed" => return Some(Vec::new()),
        toml::Value::String(s) => vec![s.as_str()],
        toml::Value::Array(a) => a.iter().filter_map(|x| x.as_str()).collect(),
        _ => {
            problems.push(loc.error(
                at,
                K::BadSchedule,
                "hours must be text like \"08:00-18:00\", a list of them, or \"closed\"",
                "write mon = \"08:00-18:00\" or sat = [\"09:00-12:00\", \"13:00-17:00\"]",
            ));
            return None;
        }
    };
    let mut out = Vec::new();
    for s in items {
        match parse_range(s) {
            Ok(r) => out.push(r),
            Err(why) => {
                problems.push(loc.error(
                    at,
                    K::BadSchedule,
                    why,
                    "write ranges as \"HH:MM-HH:MM\" within one day (the end may be 24:00)",
                ));
                return None;
            }
        }
    }
    Some(out)
}
