//! Turning a cookie or a bearer token into a [`Principal`], and starting browser sessions.

use super::role::Role;
use super::token::{constant_time_eq, random_token, token_sha256};
use crate::store::{Store, StoreError, TokenHolder};
use serde::Serialize;

/// How a request proved who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    /// The `humanline_session` cookie of a browser login (state changes need the CSRF token).
    Session,
    /// A user's API token (`humanline user token`).
    UserToken,
    /// The configured `[http] api_token` (supervisor rights).
    ServiceToken,
}

/// Someone authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// User name (`service` for the configured token).
    pub name: String,
    /// What they may do.
    pub role: Role,
    /// The session's CSRF token; `None` for bearer tokens, which need none.
    pub csrf: Option<String>,
    /// How they proved it.
    pub method: AuthMethod,
}

/// The name the configured service token acts under.
pub const SERVICE_NAME: &str = "service";

fn principal(h: TokenHolder, method: AuthMethod) -> Option<Principal> {
    // A role this build does not know grants nothing.
    let role = h.role.parse().ok()?;
    Some(Principal {
        name: h.name,
        role,
        csrf: h.csrf,
        method,
    })
}

/// Starts a session for `user` lasting `ttl_ms`: returns `(cookie token, csrf token)`. Only the
/// cookie's SHA-256 is stored. Expired sessions are swept on the way.
pub fn start_session(
    store: &mut Store,
    user: &str,
    now_ms: i64,
    ttl_ms: i64,
) -> Result<(String, String), StoreError> {
    store.remove_expired_sessions(now_ms)?;
    let (cookie, csrf) = (random_token(), random_token());
    store.add_session(&token_sha256(&cookie), user, &csrf, now_ms, now_ms + ttl_ms)?;
    Ok((cookie, csrf))
}

/// The holder of an unexpired session cookie.
pub fn resolve_cookie(
    store: &Store,
    cookie: &str,
    now_ms: i64,
) -> Result<Option<Principal>, StoreError> {
    Ok(store
        .session_holder(&token_sha256(cookie), now_ms)?
        .and_then(|h| principal(h, AuthMethod::Session)))
}

/// The holder of a bearer token: the configured service token (a supervisor) or a user's token.
pub fn resolve_bearer(
    store: &Store,
    token: &str,
    service_token: &str,
) -> Result<Option<Principal>, StoreError> {
    if !service_token.is_empty() && constant_time_eq(token.as_bytes(), service_token.as_bytes()) {
        return Ok(Some(Principal {
            name: SERVICE_NAME.into(),
            role: Role::Supervisor,
            csrf: None,
            method: AuthMethod::ServiceToken,
        }));
    }
    Ok(store
        .api_token_holder(&token_sha256(token))?
        .and_then(|h| principal(h, AuthMethod::UserToken)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::UserRecord;

    fn store_with(name: &str, role: &str) -> Store {
        let mut s = Store::open_in_memory().unwrap();
        s.add_user(&UserRecord {
            name: name.into(),
            role: role.into(),
            password_hash: String::new(),
            sip_realm: String::new(),
            sip_ha1_md5: String::new(),
            sip_ha1_sha256: String::new(),
            created_at_ms: 0,
        })
        .unwrap();
        s
    }

    #[test]
    fn a_session_lasts_its_ttl_and_carries_its_csrf() {
        let mut s = store_with("ann", "supervisor");
        let (cookie, csrf) = start_session(&mut s, "ann", 1_000, 500).unwrap();
        let p = resolve_cookie(&s, &cookie, 1_499).unwrap().unwrap();
        assert_eq!(p.role, Role::Supervisor);
        assert_eq!(p.csrf.as_deref(), Some(csrf.as_str()));
        assert_eq!(resolve_cookie(&s, &cookie, 1_500).unwrap(), None);
        assert_eq!(resolve_cookie(&s, "forged", 1_100).unwrap(), None);
    }

    #[test]
    fn bearer_tokens_service_and_user() {
        let mut s = store_with("bob", "agent");
        let t = random_token();
        s.add_api_token(&token_sha256(&t), "bob", "", 0).unwrap();
        let p = resolve_bearer(&s, &t, "svc").unwrap().unwrap();
        assert_eq!(
            (p.name.as_str(), p.role, p.method),
            ("bob", Role::Agent, AuthMethod::UserToken)
        );
        let p = resolve_bearer(&s, "svc", "svc").unwrap().unwrap();
        assert_eq!(
            (p.role, p.method),
            (Role::Supervisor, AuthMethod::ServiceToken)
        );
        assert_eq!(resolve_bearer(&s, "nope", "svc").unwrap(), None);
        assert_eq!(resolve_bearer(&s, "", "").unwrap(), None);
    }

    #[test]
    fn unknown_stored_role_grants_nothing() {
        let mut s = store_with("eve", "admin");
        let (cookie, _) = start_session(&mut s, "eve", 0, 100).unwrap();
        assert_eq!(resolve_cookie(&s, &cookie, 1).unwrap(), None);
    }
}
