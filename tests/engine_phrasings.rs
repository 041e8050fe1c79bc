//! Many callers' phrasings, typed, through the simulator at the demo lines' main menus: requests
//! for a person transfer on the first ask, a person named without a clear request is asked
//! about once, negated and reported mentions are not transferred (and are answered where they
//! name a choice), and ordinary answers reach their node. The phrasings and what must happen to
//! each are in `tests/data/phrasings.txt`; every failure is listed before the test fails.

mod common;

use common::{run_demo, signals, transferred};
use humanline::engine::Reason;

/// One line of `phrasings.txt`: language, expectation, what the caller said.
struct Case {
    plan: &'static str,
    expect: String,
    said: String,
}

fn cases() -> Vec<Case> {
    // PHRASINGS=<file> tries another batch in the same format (new phrasings before they join).
    let path = std::env::var("PHRASINGS").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/phrasings.txt").to_string()
    });
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let mut parts = l.splitn(3, '|').map(str::trim);
            let (lang, expect, said) = (parts.next(), parts.next(), parts.next());
            let plan = match lang {
                Some("en") => "support",
                Some("zh") => "support_zh",
                other => panic!("{l:?}: language {other:?}"),
            };
            Case {
                plan,
                expect: expect.unwrap_or_default().to_string(),
                said: said.unwrap_or_else(|| panic!("{l:?}: no text")).to_string(),
            }
        })
        .collect()
}

/// What went wrong with `c`, if anything.
fn wrong(c: &Case) -> Option<String> {
    let confirming = c.expect == "C";
    let script = if confirming {
        format!("say {}\nsilence 12", c.said)
    } else {
        format!("say {}", c.said)
    };
    let r = run_demo(c.plan, &script);
    let how = transferred(&r);
    let asked =
        r.summary.transcript.iter().any(|t| {
            t.text.contains("Do you want to talk to a person") || t.text.contains("转人工吗")
        });
    let path = &r.summary.path;
    let ok = match c.expect.as_str() {
        "H" => how == Some(Reason::HumanRequest) && !asked,
        "C" => how == Some(Reason::HumanRequest) && asked,
        n if n == "N" || n.starts_with("N-") => {
            how != Some(Reason::HumanRequest)
                && n.strip_prefix("N-")
                    .is_none_or(|node| path.iter().any(|p| p == node))
        }
        node => how.is_none() && path.iter().any(|p| p == node),
    };
    (!ok).then(|| {
        format!(
            "[{} {}] {:?}: {:?} via {:?} — {}",
            c.plan,
            c.expect,
            c.said,
            how,
            path,
            signals(&r)
        )
    })
}

#[test]
fn typed_phrasings_do_what_a_caller_expects() {
    let all = cases();
    let batch = std::env::var("PHRASINGS").is_ok();
    if !batch {
        assert!(all.len() >= 200, "{} phrasings", all.len());
        for kind in ["H", "C", "N"] {
            assert!(all.iter().any(|c| c.expect.starts_with(kind)), "no {kind}");
        }
    }
    let failures: Vec<String> = all.iter().filter_map(wrong).collect();
    assert!(
        failures.is_empty(),
        "{} of {} phrasings went wrong:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
}
