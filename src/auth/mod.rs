//! Who may do what: accounts (argon2id password hashes, SIP digest HA1), roles, browser sessions
//! with their CSRF tokens, API bearer tokens and failure rate limits.
//!
//! ```text
//!  humanline user add/passwd ─► accounts::new_credentials ─► store (users)
//!  POST /login ─► accounts::check_password ─► sessions::start ─► store (sessions) ─► cookie
//!  request ─► sessions::resolve_cookie / resolve_bearer ─► Principal { name, role, csrf }
//!  REGISTER ─► (HA1 from the store) ─► sip::digest
//! ```
//! Owns the rules (who is a valid user name, how long a password must be, how a token is
//! stored); the SQL lives in [`crate::store`], the HTTP glue in [`crate::http`]. Nothing here
//! touches a socket; the rate limiter takes the time as an argument.

mod accounts;
mod ratelimit;
mod role;
mod sessions;
mod token;

pub use accounts::{
    check_password, check_user_name, hash_password, new_credentials, sip_ha1, verify_password,
    AccountError, Credentials, MIN_PASSWORD_LEN,
};
pub use ratelimit::FailureLimiter;
pub use role::Role;
pub use sessions::{
    resolve_bearer, resolve_cookie, start_session, AuthMethod, Principal, SERVICE_NAME,
};
pub use token::{constant_time_eq, random_token, token_sha256};
