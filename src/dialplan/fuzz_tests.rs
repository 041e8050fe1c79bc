//! Fuzz target for dialplan text: `load_str` on mutated demo plans and arbitrary text must
//! return a plan or diagnostics that point at a real line, never panic. The operator editor
//! and `humanline check` show these diagnostics to people, so a wrong line is a bug too.

use proptest::prelude::*;
use std::path::Path;

use super::*;
use crate::engine::Program;
use crate::fuzz_support::{config, mutated_one_of};

fn plans() -> Vec<Vec<u8>> {
    vec![
        include_bytes!("../../dialplans/support.toml").to_vec(),
        include_bytes!("../../dialplans/support_zh.toml").to_vec(),
    ]
}

fn check_plan(src: &str) -> Result<(), TestCaseError> {
    let opts = LoadOptions {
        skip_prompt_files: true,
        ..Default::default()
    };
    let lines: Vec<&str> = src.lines().collect();
    let located = |d: &Diagnostic| -> Result<(), TestCaseError> {
        prop_assert!(d.line >= 1 && d.col >= 1, "{}", d);
        prop_assert!(
            d.line <= lines.len().max(1) + 1,
            "line {} of {}",
            d.line,
            lines.len()
        );
        prop_assert!(
            !d.message.trim().is_empty() && !d.hint.trim().is_empty(),
            "{:?}",
            d
        );
        let actual = lines.get(d.line - 1).copied().unwrap_or("");
        prop_assert_eq!(
            d.source_line.as_str(),
            actual,
            "the quoted line is line {}",
            d.line
        );
        prop_assert!(
            d.col <= actual.chars().count() + 1,
            "col {} on {:?}",
            d.col,
            actual
        );
        let _ = d.to_string();
        Ok(())
    };
    match load_str(src, Path::new("fuzz.toml"), &opts) {
        Err(DialplanError(ds)) => {
            prop_assert!(!ds.is_empty(), "an error names at least one problem");
            prop_assert!(ds.iter().any(|d| d.severity == Severity::Error));
            for d in &ds {
                located(d)?;
            }
        }
        Ok(loaded) => {
            for d in &loaded.warnings {
                located(d)?;
            }
            let plan = &loaded.plan;
            prop_assert!(plan.start.0 < plan.nodes.len());
            for n in &plan.nodes {
                prop_assert!(n.kind.successors().iter().all(|s| s.0 < plan.nodes.len()));
            }
            let _ = flow_graph(plan);
            let _ = Program::new(loaded.plan, Default::default());
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn fuzz_dialplan_mutated_demo_plans(bytes in mutated_one_of(plans(), 6)) {
        check_plan(&String::from_utf8_lossy(&bytes))?;
    }

    #[test]
    fn fuzz_dialplan_arbitrary_text(src in prop_oneof![
        ".{0,300}",
        "(\\[{1,2}[a-z.\"]{0,12}\\]{1,2}\n|[a-z_]{1,10} ?= ?(\"[^\"\n]{0,12}\"|-?[0-9]{1,25}|\\[[0-9, \"a-z]{0,20}\\]|\\{[a-z =0-9\"]{0,20}\\}|true|1e999)\n|#.{0,10}\n|\n){0,20}",
    ]) {
        check_plan(&src)?;
    }
}

/// Every prefix of the demo plan (at character boundaries): an editor autosave mid-word.
#[test]
fn fuzz_dialplan_every_prefix_of_the_demo_plan() {
    let src = String::from_utf8(plans().swap_remove(0)).unwrap();
    for (i, _) in src.char_indices().step_by(7) {
        if let Err(e) = check_plan(&src[..i]) {
            panic!("prefix of {i} bytes: {e}");
        }
    }
}

/// Regression from `fuzz_dialplan_mutated_demo_plans`: a newline inside a string in a CRLF
/// file was reported at column 3 of the one-character line `"`, counting the CR.
#[test]
fn an_error_at_the_end_of_a_crlf_line_points_inside_the_line() {
    let src = "name = \"support\"\r\nlanguage = \"en\"\r\nstart = \"a\r\n\"\r\n";
    let opts = LoadOptions {
        skip_prompt_files: true,
        ..Default::default()
    };
    let err = load_str(src, Path::new("crlf.toml"), &opts).unwrap_err();
    let d = &err.0[0];
    assert!(d.col <= d.source_line.chars().count() + 1, "{d}");
    if let Err(e) = check_plan(src) {
        panic!("{e}");
    }
}
