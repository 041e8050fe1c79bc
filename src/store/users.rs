//! People (agents, supervisors, operators), their browser sessions and API tokens. Tokens are
//! stored as SHA-256 only; the caller hashes them (see `auth::token_sha256`).

use super::db::{vals, Row};
use super::{Store, StoreError};

/// One account as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// Login and SIP user name.
    pub name: String,
    /// `agent`, `supervisor` or `operator`.
    pub role: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// Realm the HA1 values were computed for.
    pub sip_realm: String,
    /// MD5(name:realm:password), hex.
    pub sip_ha1_md5: String,
    /// SHA-256(name:realm:password), hex.
    pub sip_ha1_sha256: String,
    /// When the account was made, ms since the epoch.
    pub created_at_ms: i64,
}

/// Who holds a session or a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenHolder {
    /// User name.
    pub name: String,
    /// Role as stored.
    pub role: String,
    /// The session's CSRF token (`None` for API tokens).
    pub csrf: Option<String>,
}

fn user_from_row(r: &Row) -> Result<UserRecord, StoreError> {
    Ok(UserRecord {
        name: r.get(0)?,
        role: r.get(1)?,
        password_hash: r.get(2)?,
        sip_realm: r.get(3)?,
        sip_ha1_md5: r.get(4)?,
        sip_ha1_sha256: r.get(5)?,
        created_at_ms: r.get(6)?,
    })
}

const USER_COLUMNS: &str =
    "name, role, password_hash, sip_realm, sip_ha1_md5, sip_ha1_sha256, created_at_ms";

impl Store {
    /// Adds an account; `false` when the name is taken (nothing is changed then).
    pub fn add_user(&mut self, u: &UserRecord) -> Result<bool, StoreError> {
        let n = self.conn.execute(
            "INSERT INTO users (name, role, password_hash, sip_realm, sip_ha1_md5, sip_ha1_sha256, created_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (name) DO NOTHING",
            vals![
                &u.name,
                &u.role,
                &u.password_hash,
                &u.sip_realm,
                &u.sip_ha1_md5,
                &u.sip_ha1_sha256,
                u.created_at_ms
            ],
        )?;
        Ok(n == 1)
    }

    /// Sets the language `name` hears the line in (`""`: the caller's); `false` when there is
    /// no such user.
    pub fn set_user_language(&mut self, name: &str, language: &str) -> Result<bool, StoreError> {
        let n = self.conn.execute(
            "UPDATE users SET language = ?1 WHERE name = ?2",
            vals![language, name],
        )?;
        Ok(n == 1)
    }

    /// The language `name` hears the line in, when one is set.
    pub fn user_language(&self, name: &str) -> Result<Option<String>, StoreError> {
        let row = self
            .conn
            .row("SELECT language FROM users WHERE name = ?1", vals![name])?;
        Ok(match row {
            Some(r) => Some(r.get::<String>(0)?).filter(|l| !l.is_empty()),
            None => None,
        })
    }

    /// One account by name.
    pub fn user(&self, name: &str) -> Result<Option<UserRecord>, StoreError> {
        self.conn
            .row(
                &format!("SELECT {USER_COLUMNS} FROM users WHERE name = ?1"),
                vals![name],
            )?
            .as_ref()
            .map(user_from_row)
            .transpose()
    }

    /// Every account, by name.
    pub fn users(&self) -> Result<Vec<UserRecord>, StoreError> {
        self.conn
            .rows(
                &format!("SELECT {USER_COLUMNS} FROM users ORDER BY name"),
                vec![],
            )?
            .iter()
            .map(user_from_row)
            .collect()
    }

    /// Removes an account with its sessions and tokens; `false` when there was none.
    pub fn remove_user(&mut self, name: &str) -> Result<bool, StoreError> {
        let n = self.conn.batch(vec![
            ("DELETE FROM sessions WHERE user_name = ?1", vals![name]),
            ("DELETE FROM api_tokens WHERE user_name = ?1", vals![name]),
            ("DELETE FROM users WHERE name = ?1", vals![name]),
        ])?;
        Ok(n.get(2) == Some(&1))
    }

    /// Replaces a password (hash and HA1 values) and ends the user's browser sessions;
    /// `false` when there is no such user.
    pub fn set_user_password(
        &mut self,
        name: &str,
        password_hash: &str,
        realm: &str,
        ha1_md5: &str,
        ha1_sha256: &str,
    ) -> Result<bool, StoreError> {
        let n = self.conn.batch(vec![
            (
                "UPDATE users SET password_hash = ?2, sip_realm = ?3, sip_ha1_md5 = ?4, sip_ha1_sha256 = ?5
                 WHERE name = ?1",
                vals![name, password_hash, realm, ha1_md5, ha1_sha256],
            ),
            ("DELETE FROM sessions WHERE user_name = ?1", vals![name]),
        ])?;
        Ok(n.first() == Some(&1))
    }

    /// Starts a browser session.
    pub fn add_session(
        &mut self,
        token_sha256: &str,
        user: &str,
        csrf: &str,
        created_at_ms: i64,
        expires_at_ms: i64,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO sessions (token_sha256, user_name, csrf_token, created_at_ms, expires_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            vals![token_sha256, user, csrf, created_at_ms, expires_at_ms],
        )?;
        Ok(())
    }

    /// The user of an unexpired session.
    pub fn session_holder(
        &self,
        token_sha256: &str,
        now_ms: i64,
    ) -> Result<Option<TokenHolder>, StoreError> {
        self.conn
            .row(
                "SELECT u.name, u.role, s.csrf_token FROM sessions s JOIN users u ON u.name = s.user_name
                 WHERE s.token_sha256 = ?1 AND s.expires_at_ms > ?2",
                vals![token_sha256, now_ms],
            )?
            .map(|r| {
                Ok(TokenHolder {
                    name: r.get(0)?,
                    role: r.get(1)?,
                    csrf: Some(r.get(2)?),
                })
            })
            .transpose()
    }

    /// Ends a session; `false` when there was none.
    pub fn remove_session(&mut self, token_sha256: &str) -> Result<bool, StoreError> {
        let n = self.conn.execute(
            "DELETE FROM sessions WHERE token_sha256 = ?1",
            vals![token_sha256],
        )?;
        Ok(n == 1)
    }

    /// Deletes sessions that expired before `now_ms`; how many.
    pub fn remove_expired_sessions(&mut self, now_ms: i64) -> Result<usize, StoreError> {
        self.conn.execute(
            "DELETE FROM sessions WHERE expires_at_ms <= ?1",
            vals![now_ms],
        )
    }

    /// Stores a new API token for `user`.
    pub fn add_api_token(
        &mut self,
        token_sha256: &str,
        user: &str,
        label: &str,
        created_at_ms: i64,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO api_tokens (token_sha256, user_name, label, created_at_ms) VALUES (?1, ?2, ?3, ?4)",
            vals![token_sha256, user, label, created_at_ms],
        )?;
        Ok(())
    }

    /// The user an API token belongs to.
    pub fn api_token_holder(&self, token_sha256: &str) -> Result<Option<TokenHolder>, StoreError> {
        self.conn
            .row(
                "SELECT u.name, u.role FROM api_tokens t JOIN users u ON u.name = t.user_name
                 WHERE t.token_sha256 = ?1",
                vals![token_sha256],
            )?
            .map(|r| {
                Ok(TokenHolder {
                    name: r.get(0)?,
                    role: r.get(1)?,
                    csrf: None,
                })
            })
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alice() -> UserRecord {
        UserRecord {
            name: "alice".into(),
            role: "agent".into(),
            password_hash: "$argon2id$x".into(),
            sip_realm: "humanline".into(),
            sip_ha1_md5: "m".into(),
            sip_ha1_sha256: "s".into(),
            created_at_ms: 1,
        }
    }

    #[test]
    fn users_sessions_and_tokens_round_trip() {
        let mut s = Store::open_in_memory().unwrap();
        assert!(s.add_user(&alice()).unwrap());
        assert!(!s.add_user(&alice()).unwrap(), "a name is taken once");
        assert_eq!(s.user("alice").unwrap(), Some(alice()));
        s.add_session("h1", "alice", "c1", 0, 100).unwrap();
        let h = s.session_holder("h1", 50).unwrap().unwrap();
        assert_eq!((h.name.as_str(), h.csrf.as_deref()), ("alice", Some("c1")));
        assert_eq!(s.session_holder("h1", 100).unwrap(), None, "expired");
        s.add_api_token("t1", "alice", "phone", 0).unwrap();
        assert_eq!(s.api_token_holder("t1").unwrap().unwrap().role, "agent");
        assert!(s.set_user_password("alice", "p", "r", "m2", "s2").unwrap());
        assert_eq!(
            s.session_holder("h1", 50).unwrap(),
            None,
            "password change logs out"
        );
        assert!(s.remove_user("alice").unwrap());
        assert_eq!(s.api_token_holder("t1").unwrap(), None);
        assert!(s.users().unwrap().is_empty());
    }
}
