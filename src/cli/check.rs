//! `humanline check`.

use humanline::dialplan::{load_file, LoadOptions};
use std::path::PathBuf;
use std::process::ExitCode;

/// Checks every plan; prints problems to stderr and a line per valid plan to stdout.
pub fn run(plans: &[PathBuf], prompts: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let opts = LoadOptions {
        prompts_dir: prompts,
        skip_prompt_files: false,
    };
    let mut failed = false;
    for path in plans {
        match load_file(path, &opts) {
            Ok(loaded) => {
                for w in &loaded.warnings {
                    eprintln!("{w}");
                }
                println!(
                    "ok: {} (plan \"{}\", {} nodes, {} warning{})",
                    path.display(),
                    loaded.plan.name,
                    loaded.plan.nodes.len(),
                    loaded.warnings.len(),
                    if loaded.warnings.len() == 1 { "" } else { "s" }
                );
            }
            Err(e) => {
                failed = true;
                eprintln!("{e}");
                let n =
                    e.0.iter()
                        .filter(|d| d.severity == humanline::dialplan::Severity::Error)
                        .count();
                eprintln!(
                    "{}: {n} error{}",
                    path.display(),
                    if n == 1 { "" } else { "s" }
                );
            }
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
