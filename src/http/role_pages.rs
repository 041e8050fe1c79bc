//! Who may open each role's home page (`/agent` and `/supervisor` are the console's, in
//! `console.rs`; `/operator` is in `operator_pages.rs`). The role rules:
//! agent page: agent or supervisor; supervisor page: supervisor; operator page: operator or
//! supervisor.

use crate::auth::Role;

/// Who may open `/agent`.
pub const AGENT_PAGE: &[Role] = &[Role::Agent, Role::Supervisor];
/// Who may open `/supervisor`.
pub const SUPERVISOR_PAGE: &[Role] = &[Role::Supervisor];
/// Who may open `/operator`.
pub const OPERATOR_PAGE: &[Role] = &[Role::Operator, Role::Supervisor];
