//! `humanline check`: one test per problem kind, through the real binary, asserting the
//! `file:line:col: error:` line, the message and the hint.

mod common;

use std::path::Path;
use std::process::Command;

/// A valid plan; tests replace one line (1-based) to introduce exactly one problem.
const BASE: &str = r#"name = "t"
language = "en"
start = "welcome"

[escalation]
zero_out = "0"

[nodes.welcome]
say = "welcome"
next = "menu"

[nodes.menu]
ask = "main_menu"
choices = [
  { dtmf = "1", words = ["billing"], go = "bye" },
  { dtmf = "2", words = ["technical"], go = "bye" },
]

[nodes.bye]
say = "goodbye"
hangup = true
"#;

fn with_line(n: usize, text: &str) -> String {
    BASE.lines()
        .enumerate()
        .map(|(i, l)| if i + 1 == n { text } else { l })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

fn write_wav(path: &Path) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for i in 0..800 {
        w.write_sample(((i as f32 * 0.3).sin() * 8000.0) as i16)
            .unwrap();
    }
    w.finalize().unwrap();
}

/// Runs `humanline check` on `src` with a schedule file `schedules/NAME.toml` for each
/// `(NAME, source)`.
fn check_with_schedules(src: &str, schedules: &[(&str, &str)]) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("schedules")).unwrap();
    for (name, text) in schedules {
        std::fs::write(dir.path().join(format!("schedules/{name}.toml")), text).unwrap();
    }
    check_in(dir, src)
}

/// Runs `humanline check` on `src` (with prompts welcome, main_menu, goodbye, account_ask,
/// account_confirm and digit_0-9 present).
fn check(src: &str) -> (i32, String) {
    check_in(tempfile::tempdir().unwrap(), src)
}

fn check_in(dir: tempfile::TempDir, src: &str) -> (i32, String) {
    std::fs::create_dir_all(dir.path().join("dialplans")).unwrap();
    std::fs::create_dir_all(dir.path().join("prompts/en")).unwrap();
    for p in [
        "welcome",
        "main_menu",
        "goodbye",
        "account_ask",
        "account_confirm",
    ]
    .into_iter()
    .chain(humanline::dialplan::DIGIT_PROMPTS)
    {
        write_wav(&dir.path().join(format!("prompts/en/{p}.wav")));
    }
    std::fs::write(dir.path().join("dialplans/t.toml"), src).unwrap();
    let out = Command::new(common::bin())
        .current_dir(dir.path())
        .args(["check", "dialplans/t.toml"])
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Asserts exit 1 and an error at `line` whose message contains `msg`, followed by a hint.
fn assert_error(src: &str, line: usize, msg: &str) -> String {
    let (code, err) = check(src);
    assert_eq!(code, 1, "exit code; stderr:\n{err}");
    let prefix = format!("dialplans/t.toml:{line}:");
    let hit = err
        .lines()
        .find(|l| l.starts_with(&prefix) && l.contains(": error: ") && l.contains(msg));
    assert!(
        hit.is_some(),
        "expected an error at line {line} containing {msg:?}; got:\n{err}"
    );
    assert!(err.contains("= hint: "), "no hint:\n{err}");
    err
}

#[test]
fn the_base_plan_and_the_demo_plans_are_valid() {
    let (code, err) = check(BASE);
    assert_eq!(code, 0, "{err}");
    let out = Command::new(common::bin())
        .current_dir(common::repo())
        .args([
            "check",
            "dialplans/support.toml",
            "dialplans/support_zh.toml",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).matches("ok: ").count(),
        2
    );
}

#[test]
fn toml_syntax_error() {
    let err = assert_error(&with_line(10, "next = \"menu"), 10, "");
    assert!(err.contains("fix the TOML syntax"), "{err}");
}

#[test]
fn unknown_key() {
    let err = assert_error(&with_line(10, "nxt = \"menu\""), 10, "unknown field `nxt`");
    assert!(err.contains("README"), "hint points at the docs: {err}");
}

#[test]
fn wrong_type() {
    assert_error(&with_line(21, "hangup = \"yes\""), 21, "invalid type");
}

#[test]
fn missing_start_node() {
    let err = assert_error(
        &with_line(3, "start = \"welcom\""),
        3,
        "start refers to node \"welcom\", which does not exist",
    );
    assert!(err.contains("did you mean \"welcome\""), "{err}");
}

#[test]
fn reference_to_a_missing_node() {
    assert_error(
        &with_line(
            15,
            "  { dtmf = \"1\", words = [\"billing\"], go = \"billing\" },",
        ),
        15,
        "go refers to node \"billing\", which does not exist",
    );
}

#[test]
fn unreachable_node() {
    let src = format!("{BASE}\n[nodes.orphan]\nsay = \"goodbye\"\nhangup = true\n");
    assert_error(&src, 23, "node \"orphan\" is unreachable");
}

#[test]
fn missing_prompt_file() {
    assert_error(
        &with_line(9, "say = \"welcom\""),
        9,
        "prompt \"welcom\" has no file",
    );
}

#[test]
fn prompt_file_in_the_wrong_format() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("x.wav");
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 44100,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(&p, spec).unwrap();
    w.write_sample(0i16).unwrap();
    w.write_sample(0i16).unwrap();
    w.finalize().unwrap();
    let why = humanline::prompts::check_wav(&p).unwrap_err();
    assert!(why.contains("44100 Hz") && why.contains("8000 Hz"), "{why}");
}

#[test]
fn duplicate_digit_in_one_node() {
    assert_error(
        &with_line(
            16,
            "  { dtmf = \"1\", words = [\"technical\"], go = \"bye\" },",
        ),
        16,
        "uses key \"1\", already used by choice 1",
    );
}

#[test]
fn choice_reusing_the_zero_out_digit() {
    assert_error(
        &with_line(
            16,
            "  { dtmf = \"0\", words = [\"technical\"], go = \"bye\" },",
        ),
        16,
        "the zero-out key",
    );
}

#[test]
fn choice_using_the_repeat_key() {
    // "*" replays the question at every node unless the plan names another repeat key.
    let err = assert_error(
        &with_line(
            16,
            "  { dtmf = \"*\", words = [\"technical\"], go = \"bye\" },",
        ),
        16,
        "choice 2 uses \"*\", the repeat key",
    );
    assert!(
        err.contains("give this choice another key") && err.contains("repeat_key = \"#\""),
        "the hint says what to do: {err}"
    );
    // With another repeat key the same choice is fine, and that key is refused instead.
    let src = with_line(
        16,
        "  { dtmf = \"*\", words = [\"technical\"], go = \"bye\" },",
    )
    .replace(
        "start = \"welcome\"",
        "start = \"welcome\"\nrepeat_key = \"#\"",
    );
    let (code, err) = check(&src);
    assert_eq!(code, 0, "{err}");
    let src = with_line(
        15,
        "  { dtmf = \"#\", words = [\"billing\"], go = \"bye\" },",
    )
    .replace(
        "start = \"welcome\"",
        "start = \"welcome\"\nrepeat_key = \"#\"",
    );
    // The inserted line moves the choice from line 15 to 16.
    assert_error(&src, 16, "choice 1 uses \"#\", the repeat key");
}

#[test]
fn repeat_key_that_is_the_zero_out_or_not_a_key() {
    let src = BASE.replace(
        "start = \"welcome\"",
        "start = \"welcome\"\nrepeat_key = \"0\"",
    );
    let err = assert_error(&src, 4, "repeat_key \"0\" is the zero-out key");
    assert!(err.contains("always reaches a person"), "{err}");
    let src = BASE.replace(
        "start = \"welcome\"",
        "start = \"welcome\"\nrepeat_key = \"**\"",
    );
    assert_error(&src, 4, "repeat_key \"**\" is not one key");
}

#[test]
fn attempt_to_disable_the_zero_out() {
    for v in ["false", "\"\"", "\"none\"", "\"off\""] {
        let err = assert_error(
            &with_line(6, &format!("zero_out = {v}")),
            6,
            "the zero-out cannot be switched off",
        );
        assert!(err.contains("always on"), "{err}");
    }
}

#[test]
fn node_from_which_no_human_can_be_reached() {
    // welcome goes straight to the goodbye: nobody is ever listened to.
    let err = assert_error(
        &with_line(10, "next = \"bye\""),
        19,
        "no human can be reached",
    );
    assert!(err.contains("welcome → bye"), "{err}");
}

#[test]
fn loop_that_never_waits_for_the_caller() {
    let src = with_line(10, "next = \"again\"")
        + "\n[nodes.again]\nsay = \"welcome\"\nnext = \"welcome\"\n";
    let err = assert_error(&src, 8, "loop that never waits for the caller");
    assert!(err.contains("welcome → again → welcome"), "{err}");
}

#[test]
fn every_problem_is_reported_not_just_the_first() {
    let src =
        with_line(9, "say = \"nope\"").replace("go = \"bye\" },\n]", "go = \"nowhere\" },\n]");
    let (code, err) = check(&src);
    assert_eq!(code, 1);
    assert!(
        err.contains("t.toml:9:") && err.contains("t.toml:16:"),
        "{err}"
    );
    assert!(err.contains("2 errors"), "{err}");
}

#[test]
fn unreadable_file_is_a_clear_error() {
    let out = Command::new(common::bin())
        .args(["check", "/nonexistent/plan.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read the dialplan"));
}

// ---- collect nodes and guard rails ----

/// BASE with welcome → account (a collect node at line 23) → menu; `extra` lines follow
/// line 26.
fn with_collect(extra: &str) -> String {
    with_line(10, "next = \"account\"")
        + "\n[nodes.account]\ncollect = \"account_ask\"\nvar = \"account\"\nnext = \"menu\"\n"
        + extra
}

#[test]
fn a_valid_collect_node_passes() {
    let (code, err) = check(&with_collect(
        "min_digits = 8\nmax_digits = 8\nluhn = true\nconfirm = \"account_confirm\"\nsensitive = true\n",
    ));
    assert_eq!(code, 0, "{err}");
}

#[test]
fn collect_terminator_that_is_the_repeat_key() {
    let err = assert_error(
        &with_collect("terminator = \"*\"\n"),
        27,
        "terminator \"*\" is the repeat key",
    );
    assert!(err.contains("keep their meaning in a collect"), "{err}");
}

#[test]
fn collect_when_the_repeat_key_is_a_digit_leaves_no_zero_out() {
    let src = with_collect("").replace(
        "start = \"welcome\"",
        "start = \"welcome\"\nrepeat_key = \"9\"",
    );
    let err = assert_error(&src, 24, "leaves the caller no zero-out");
    assert!(err.contains("repeat_key = \"*\""), "{err}");
}

#[test]
fn collect_with_more_min_than_max_digits() {
    assert_error(
        &with_collect("min_digits = 9\nmax_digits = 4\n"),
        27,
        "min_digits = 9 is more than max_digits = 4",
    );
}

#[test]
fn collect_with_a_pattern_that_is_not_a_pattern() {
    let err = assert_error(
        &with_collect("pattern = \"4[0-9\"\n"),
        27,
        "is not a valid pattern",
    );
    assert!(err.contains("regular expression"), "{err}");
}

#[test]
fn collect_without_a_variable() {
    let src = with_collect("").replace("var = \"account\"\n", "");
    assert_error(&src, 23, "collect node \"account\" has no var");
}

#[test]
fn collect_whose_failure_path_hangs_up_without_a_person() {
    let err = assert_error(
        &with_collect("failure = \"bye\"\n"),
        23,
        "the failure path of \"account\" ends the call without a person",
    );
    assert!(err.contains("point failure at a transfer"), "{err}");
}

#[test]
fn collect_read_back_without_a_confirm_question() {
    assert_error(
        &with_collect("readback = \"welcome\"\n"),
        27,
        "has a readback but no confirm question",
    );
}

#[test]
fn collect_key_on_an_ask_node() {
    let err = assert_error(
        &with_line(13, "ask = \"main_menu\"\nluhn = true"),
        12,
        "is a ask node but also has luhn",
    );
    assert!(err.contains("collect+var+next"), "{err}");
}

#[test]
fn guard_rails_out_of_range() {
    assert_error(
        &with_line(6, "zero_out = \"0\"\nmax_node_visits = 1"),
        7,
        "max_node_visits = 1 is out of range",
    );
    assert_error(
        &with_line(6, "zero_out = \"0\"\nmax_ivr_seconds = 5.0"),
        7,
        "max_ivr_seconds = 5 is out of range",
    );
}

// ---- hours nodes and schedules ----

/// BASE starting at an hours node (line 23) that opens the menu and closes to a goodbye.
fn with_hours(extra: &str) -> String {
    with_line(3, "start = \"hours\"")
        + "\n[nodes.hours]\nhours = \"support\"\nopen = \"welcome\"\nclosed = \"menu\"\n"
        + extra
}

const SCHEDULE: &str = "timezone = \"Europe/London\"\n[weekly]\nmon = \"08:00-18:00\"\n";

#[test]
fn hours_node_with_a_valid_schedule_passes() {
    let (code, err) = check_with_schedules(&with_hours(""), &[("support", SCHEDULE)]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn hours_node_naming_a_schedule_without_a_file() {
    let err = assert_error(&with_hours(""), 24, "schedule \"support\" has no file");
    assert!(err.contains("timezone"), "{err}");
}

#[test]
fn hours_node_without_a_closed_way() {
    let src = with_hours("").replace("closed = \"menu\"\n", "");
    let (code, err) = check_with_schedules(&src, &[("support", SCHEDULE)]);
    assert_eq!(code, 1);
    assert!(
        err.contains("dialplans/t.toml:23:") && err.contains("needs open and closed"),
        "{err}"
    );
}

#[test]
fn schedule_problems_are_reported_at_the_schedules_own_line() {
    let bad = "timezone = \"Mars/Olympus\"\n[weekly]\nmon = \"18:00-08:00\"\nfunday = \"closed\"\n[[holiday]]\ndate = \"2026-02-30\"\n";
    let (code, err) = check_with_schedules(&with_hours(""), &[("support", bad)]);
    assert_eq!(code, 1, "{err}");
    for (line, msg) in [
        (1, "no time zone \"Mars/Olympus\""),
        (3, "past midnight is two"),
        (4, "\"funday\" is not a day"),
        (6, "is not a date"),
    ] {
        assert!(
            err.lines().any(
                |l| l.starts_with(&format!("schedules/support.toml:{line}:")) && l.contains(msg)
            ),
            "line {line}: {msg}\n{err}"
        );
    }
}

#[test]
fn language_node_whose_prompts_are_missing_in_the_new_language() {
    // The temporary prompts folder has English prompts only.
    let src =
        with_line(10, "next = \"to_zh\"") + "\n[nodes.to_zh]\nlanguage = \"zh\"\nnext = \"menu\"\n";
    let err = assert_error(
        &src,
        13,
        "prompt \"main_menu\" has no file prompts/zh/main_menu.wav",
    );
    assert!(err.contains("prompts/zh/main_menu.txt"), "{err}");
    let bad =
        with_line(10, "next = \"to_fr\"") + "\n[nodes.to_fr]\nlanguage = \"fr\"\nnext = \"menu\"\n";
    assert_error(&bad, 24, "unknown language \"fr\"");
}

// ---- lookup nodes ----

/// BASE with welcome → find (a lookup node at line 23) → menu; `extra` lines follow line 26.
fn with_lookup(extra: &str) -> String {
    with_line(10, "next = \"find\"")
        + "\n[nodes.find]\nlookup = \"http://127.0.0.1:8080/api/demo/accounts/{caller}\"\nfields = { tier = \"customer.tier\" }\nnext = \"menu\"\n"
        + extra
}

#[test]
fn a_valid_lookup_node_passes() {
    let (code, err) = check(&with_lookup("failure = \"menu\"\n"));
    assert_eq!(code, 0, "{err}");
}

#[test]
fn lookup_without_a_failure_branch() {
    let err = assert_error(
        &with_lookup(""),
        23,
        "lookup node \"find\" has no failure branch",
    );
    assert!(err.contains("never a dead end"), "{err}");
}

#[test]
fn lookup_whose_failure_branch_hangs_up() {
    assert_error(
        &with_lookup("failure = \"bye\"\n"),
        23,
        "the failure path of \"find\" ends the call without a person",
    );
}

#[test]
fn lookup_naming_a_variable_no_node_sets() {
    let src = with_lookup("failure = \"menu\"\n").replace("{caller}", "{acount}");
    assert_error(&src, 24, "{acount} names a variable no node sets");
}

#[test]
fn lookup_that_is_not_a_url_or_has_a_bad_method() {
    let src = with_lookup("failure = \"menu\"\n").replace("http://127.0.0.1:8080", "ftp://x");
    assert_error(&src, 24, "is not an http:// or https:// URL");
    assert_error(
        &with_lookup("failure = \"menu\"\nmethod = \"DELETE\"\n"),
        28,
        "method \"DELETE\" is not GET or POST",
    );
}

#[test]
fn collect_prompt_that_does_not_announce_star_zero_gets_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("prompts/en")).unwrap();
    std::fs::write(
        dir.path().join("prompts/en/account_ask.txt"),
        "Please key in your account number.",
    )
    .unwrap();
    let (code, err) = check_in(dir, &with_collect(""));
    assert_eq!(code, 0, "a warning only: {err}");
    assert!(
        err.contains("dialplans/t.toml:24:")
            && err.contains("does not tell callers that *0 reaches a person here"),
        "{err}"
    );
}
