//! The bundled demo endpoint: a few accounts of "Example Telecom", served by the HTTP server at
//! `GET /api/demo/accounts/{account}` and answered directly by the simulator, so the demo plans'
//! lookup works with no outside system.

use serde_json::{json, Value};

/// The path prefix the demo endpoint answers under.
pub const PATH: &str = "/api/demo/accounts/";

/// The demo account `account`, or `None` (the endpoint answers 404).
pub fn account(account: &str) -> Option<Value> {
    let (name, balance, due, tier) = match account {
        "12345670" => ("Ada Lovelace", "1234.50", "2027-01-05", "gold"),
        "87654321" => ("Li Wei", "0.00", "2027-01-20", "standard"),
        "13800138" => ("王芳", "88.80", "2027-02-01", "standard"),
        _ => return None,
    };
    Some(json!({
        "account": account,
        "name": name,
        "balance": balance,
        "due": due,
        "customer": { "tier": tier },
    }))
}

/// What the demo endpoint answers to `url`, when `url` is one of its: the account's JSON, or
/// an error as the HTTP client would word it. `None` for other URLs.
pub fn answer(url: &str) -> Option<Result<Value, String>> {
    let path = url
        .strip_prefix("http://")
        .and_then(|r| r.find('/').map(|i| &r[i..]))?;
    let id = path.strip_prefix(PATH)?;
    let id = id.split(['?', '#']).next().unwrap_or("");
    Some(account(id).ok_or_else(|| "the endpoint answered 404".to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_accounts_answer_and_others_are_not_found() {
        let a = answer("http://127.0.0.1:8080/api/demo/accounts/12345670")
            .unwrap()
            .unwrap();
        assert_eq!(a["customer"]["tier"], "gold");
        assert!(answer("http://127.0.0.1:8080/api/demo/accounts/1")
            .unwrap()
            .is_err());
        assert!(answer("http://127.0.0.1:8080/other").is_none());
    }
}
