//! The three roles and what each may reach.

use serde::Serialize;
use std::fmt;
use std::str::FromStr;

/// What a user is allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Takes calls (SIP phone or the browser console); reads the calls it is given.
    Agent,
    /// Watches queues and agents, reads every call, may also take calls and edit dialplans.
    Supervisor,
    /// Edits and publishes dialplans; never reads transcripts.
    Operator,
}

impl Role {
    /// Every role, for help texts.
    pub const ALL: [Role; 3] = [Role::Agent, Role::Supervisor, Role::Operator];

    /// The stored and displayed name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Supervisor => "supervisor",
            Role::Operator => "operator",
        }
    }

    /// The page a user lands on after logging in.
    pub fn home(self) -> &'static str {
        match self {
            Role::Agent => "/agent",
            Role::Supervisor => "/supervisor",
            Role::Operator => "/operator",
        }
    }

    /// Whether this role answers calls (and so may register a SIP phone).
    pub fn takes_calls(self) -> bool {
        matches!(self, Role::Agent | Role::Supervisor)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Role, String> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown role `{s}`: use agent, supervisor or operator"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_through_their_names() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>(), Ok(r));
        }
        assert!("admin".parse::<Role>().is_err());
        assert!(Role::Supervisor.takes_calls() && !Role::Operator.takes_calls());
    }
}
