//! The emergency "closed now" switch of the line, audited: every change is a row (closed or
//! open again, why, who, when); the newest row is the state calls get.

use super::db::vals;
use super::{now_ms, Store, StoreError};

/// One change of the switch.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LineSwitchChange {
    /// True: closed now; false: back to the schedules.
    pub closed: bool,
    /// Why (shown to agents and in the calls' signals).
    pub reason: Option<String>,
    /// Who changed it.
    pub changed_by: Option<String>,
    /// When (ms since the epoch).
    pub changed_at_ms: i64,
}

impl Store {
    /// Records a change of the switch.
    pub fn set_line_closed(
        &mut self,
        closed: bool,
        reason: Option<&str>,
        by: Option<&str>,
    ) -> Result<LineSwitchChange, StoreError> {
        let at = now_ms();
        self.conn.execute(
            "INSERT INTO line_switches (closed, reason, changed_by, changed_at_ms) VALUES (?1, ?2, ?3, ?4)",
            vals![i64::from(closed), reason, by, at],
        )?;
        Ok(LineSwitchChange {
            closed,
            reason: reason.map(str::to_string),
            changed_by: by.map(str::to_string),
            changed_at_ms: at,
        })
    }

    /// The last changes of the switch, newest first (the first is the state now).
    pub fn line_switch_history(&self, limit: i64) -> Result<Vec<LineSwitchChange>, StoreError> {
        self.conn
            .rows(
                "SELECT closed, reason, changed_by, changed_at_ms FROM line_switches ORDER BY id DESC LIMIT ?1",
                vals![limit],
            )?
            .iter()
            .map(|r| {
                Ok(LineSwitchChange {
                    closed: r.get::<i64>(0)? != 0,
                    reason: r.get(1)?,
                    changed_by: r.get(2)?,
                    changed_at_ms: r.get(3)?,
                })
            })
            .collect()
    }
}
