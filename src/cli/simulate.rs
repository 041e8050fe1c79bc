//! `humanline simulate`.

use anyhow::Context;
use humanline::dialplan::{load_file, LoadOptions};
use humanline::engine::Program;
use humanline::simulate::{parse_clock, parse_line, parse_script, Report, SimStart, Simulator};
use humanline::store::{new_call_id, now_ms, CallRecord, Store};
use std::io::{BufRead, IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// Options of `humanline simulate`.
pub struct Options {
    pub plan: PathBuf,
    pub script: Option<PathBuf>,
    pub json: bool,
    pub db: Option<PathBuf>,
    pub prompts: Option<PathBuf>,
    pub elderly: bool,
    /// Wall-clock time the call starts ("2026-12-25T10:00+08:00"); default now.
    pub at: Option<String>,
    /// The operator's emergency "closed now", with why.
    pub closed_now: Option<String>,
    /// Who calls (the variable `caller`).
    pub caller: Option<String>,
}

pub fn run(o: Options) -> anyhow::Result<ExitCode> {
    let opts = LoadOptions {
        prompts_dir: o.prompts.clone(),
        skip_prompt_files: false,
    };
    let loaded = match load_file(&o.plan, &opts) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("{e}");
            eprintln!(
                "{}: not simulated; fix the errors above (humanline check shows the same)",
                o.plan.display()
            );
            return Ok(ExitCode::from(1));
        }
    };
    let (prog, catalog) =
        humanline::prompts::program_and_catalog(loaded.plan, &opts.prompts_dir_for(&o.plan));
    let prog = Arc::new(prog);
    let started_at_ms = now_ms();
    let wall_clock = match &o.at {
        None => None,
        Some(at) => match parse_clock(at) {
            Some(t) => Some(t),
            None => {
                eprintln!("--at \"{at}\" is not a time: write 2026-12-25T10:00 (UTC), or add Z or an offset such as +08:00");
                return Ok(ExitCode::from(2));
            }
        },
    };
    let start = SimStart {
        wall_clock,
        closed_now: o.closed_now.clone(),
        caller: o.caller.clone(),
        ..Default::default()
    };
    let mut sim = Simulator::start_with(Arc::clone(&prog), catalog, start);
    if o.elderly {
        sim.set_elderly();
    }
    let report = match &o.script {
        Some(path) => {
            let src = if path.as_os_str() == "-" {
                let mut s = String::new();
                std::io::stdin().read_to_string(&mut s)?;
                s
            } else {
                std::fs::read_to_string(path)
                    .with_context(|| format!("reading script {}", path.display()))?
            };
            let lines = match parse_script(&src) {
                Ok(l) => l,
                Err(e) => {
                    eprintln!("{}:{e}", path.display());
                    return Ok(ExitCode::from(2));
                }
            };
            for l in &lines {
                sim.apply(l);
            }
            let report = sim.finish();
            print_report(&report, o.json);
            report
        }
        None => interactive(sim, o.json)?,
    };
    if let Some(db) = &o.db {
        store(db, &prog, &report, started_at_ms)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn print_report(report: &Report, json: bool) {
    if json {
        print!("{}", report.to_json_lines());
    } else {
        print!("{}", report.to_text());
    }
}

/// A person types caller actions; events print as they happen.
fn interactive(mut sim: Simulator, json: bool) -> anyhow::Result<Report> {
    let tty = std::io::stdin().is_terminal();
    if tty && !json {
        println!(
            "Simulated call. Type caller actions, one a line; an empty line or Ctrl-D hangs up."
        );
        println!("  say billing | after 4 say um [2s] I don't understand | dtmf 1 | during dtmf 0 | silence 8 | hangup");
    }
    sim.run_until_waiting();
    flush_events(&mut sim, json);
    let prompt = || -> std::io::Result<()> {
        if tty {
            print!("caller> ");
            std::io::stdout().flush()?;
        }
        Ok(())
    };
    prompt()?;
    let stdin = std::io::stdin();
    let mut n = 0;
    for line in stdin.lock().lines() {
        let line = line?;
        n += 1;
        if line.trim().is_empty() && tty {
            break;
        }
        match parse_line(&line, n) {
            Ok(Some(l)) => {
                sim.apply(&l);
                sim.run_until_waiting();
            }
            Ok(None) => {}
            Err(e) => eprintln!("{e}"),
        }
        flush_events(&mut sim, json);
        if sim.ended() {
            break;
        }
        prompt()?;
    }
    let report = sim.finish();
    if json {
        println!("{}", serde_json::to_string(&report.summary)?);
    } else {
        print!("{}", report.summary_text());
    }
    Ok(report)
}

fn flush_events(sim: &mut Simulator, json: bool) {
    for e in sim.new_events() {
        if json {
            println!("{}", humanline::simulate::event_json(e));
        } else {
            println!("{}", humanline::simulate::event_text(e));
        }
    }
}

fn store(
    db: &std::path::Path,
    prog: &Program,
    report: &Report,
    started_at_ms: i64,
) -> anyhow::Result<()> {
    let mut st = Store::open(db).with_context(|| format!("opening database {}", db.display()))?;
    let version = st.save_version(&prog.plan)?;
    let s = &report.summary;
    let events = report
        .events
        .iter()
        .map(|e| {
            let v = serde_json::to_value(e).unwrap_or_default();
            let kind = v
                .get("type")
                .and_then(|t| t.as_str())
                .unwrap_or("event")
                .to_string();
            ((e.t * 1000.0) as i64, kind, v)
        })
        .collect();
    let id = new_call_id();
    st.record_call(&CallRecord {
        id: id.clone(),
        channel: "simulate".into(),
        caller: None,
        dialplan_version_id: version.id,
        started_at_ms,
        duration_ms: (s.duration_s * 1000.0) as i64,
        outcome: report.outcome.clone(),
        context: report.context.clone(),
        events,
        recording_path: None,
        leg: Default::default(),
    })?;
    eprintln!("recorded call {id} in {}", db.display());
    Ok(())
}
