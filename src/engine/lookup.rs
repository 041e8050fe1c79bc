//! What a lookup node asks the IO side for, and how its JSON answer becomes variables. Pure:
//! templates are filled from the call's variables, answers are read by dotted paths.

use crate::dialplan::Lookup;
use std::collections::BTreeMap;
use std::time::Duration;

/// One HTTP request for the IO side to make ([`super::Action::Lookup`]).
#[derive(Debug, Clone, PartialEq)]
pub struct LookupRequest {
    /// `GET` or `POST`.
    pub method: String,
    /// The URL, variables filled in (URL-encoded).
    pub url: String,
    /// Header name → value; `secret:NAME` is filled by the IO side from its configuration.
    pub headers: Vec<(String, String)>,
    /// JSON body, for POST.
    pub body: Option<String>,
    /// How long the IO side may take; the engine also gives up then.
    pub timeout: Duration,
}

impl LookupRequest {
    /// The request a lookup node makes with the call's variables `vars`.
    pub fn build(spec: &Lookup, vars: &BTreeMap<String, String>) -> Self {
        let value = |v: &str| vars.get(v).cloned().unwrap_or_default();
        let url = fill(&spec.url, |v| url_encode(&value(v)));
        let headers = spec
            .headers
            .iter()
            .map(|(k, t)| {
                let v = if t.starts_with("secret:") {
                    t.clone()
                } else {
                    fill(t, value)
                };
                (k.clone(), v)
            })
            .collect();
        let body = (!spec.body.is_empty()).then(|| {
            let obj: serde_json::Map<String, serde_json::Value> = spec
                .body
                .iter()
                .map(|(k, t)| (k.clone(), serde_json::Value::String(fill(t, value))))
                .collect();
            serde_json::Value::Object(obj).to_string()
        });
        LookupRequest {
            method: spec.method.clone(),
            url,
            headers,
            body,
            timeout: spec.timeout,
        }
    }
}

/// `template` with every `{var}` replaced by `value(var)`.
fn fill(template: &str, value: impl Fn(&str) -> String) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            out.push_str(&rest[open..]);
            return out;
        };
        out.push_str(&value(after[..close].trim()));
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The variables an answer gives, or the first field it lacks.
pub fn fields_from(
    spec: &Lookup,
    answer: &serde_json::Value,
) -> Result<Vec<(String, String)>, String> {
    spec.fields
        .iter()
        .map(|(var, path)| {
            let mut at = answer;
            for part in path.split('.') {
                at = match at {
                    serde_json::Value::Object(m) => m.get(part),
                    serde_json::Value::Array(a) => {
                        part.parse::<usize>().ok().and_then(|i| a.get(i))
                    }
                    _ => None,
                }
                .ok_or_else(|| format!("the answer has no \"{path}\""))?;
            }
            let value = match at {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Null => return Err(format!("\"{path}\" is null")),
                other => other.to_string(),
            };
            // A value is a variable for prompts and branches, not a document.
            Ok((var.clone(), value.chars().take(200).collect()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialplan::NodeId;

    fn spec() -> Lookup {
        Lookup {
            url: "http://127.0.0.1:9/accounts/{account}?from={caller}".into(),
            method: "POST".into(),
            headers: vec![
                ("Authorization".into(), "secret:crm".into()),
                ("X-Caller".into(), "{caller}".into()),
            ],
            body: vec![("account".into(), "{account}".into())],
            fields: vec![
                ("balance".into(), "balance".into()),
                ("tier".into(), "customer.tier".into()),
            ],
            timeout: Duration::from_secs(3),
            next: NodeId(0),
            failure: NodeId(1),
        }
    }

    #[test]
    fn requests_fill_variables_and_encode_them_in_the_url() {
        let vars: BTreeMap<String, String> = [
            ("account".to_string(), "1234".to_string()),
            ("caller".to_string(), "+44 20".to_string()),
        ]
        .into();
        let r = LookupRequest::build(&spec(), &vars);
        assert_eq!(r.url, "http://127.0.0.1:9/accounts/1234?from=%2B44%2020");
        assert_eq!(r.headers[0].1, "secret:crm", "secrets are the IO side's");
        assert_eq!(r.headers[1].1, "+44 20");
        assert_eq!(r.body.as_deref(), Some("{\"account\":\"1234\"}"));
    }

    #[test]
    fn fields_are_read_by_path_and_a_missing_one_is_an_error() {
        let answer = serde_json::json!({"balance": 12.5, "customer": {"tier": "gold"}});
        assert_eq!(
            fields_from(&spec(), &answer).unwrap(),
            [
                ("balance".into(), "12.5".into()),
                ("tier".into(), "gold".into())
            ]
        );
        let e = fields_from(&spec(), &serde_json::json!({"balance": 1})).unwrap_err();
        assert!(e.contains("customer.tier"), "{e}");
    }
}
