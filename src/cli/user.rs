//! `humanline user add|list|remove|passwd|language|token`: the accounts of the people who answer and run
//! the line, in the database named by the configuration (like `serve`).

use anyhow::{bail, Context};
use clap::Subcommand;
use humanline::auth::{self, Role};
use humanline::config::Config;
use humanline::store::{now_ms, Store, UserRecord};
use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;

/// Environment variable read for the password when no flag gives it.
const PASSWORD_ENV: &str = "HUMANLINE_PASSWORD";

/// What to do with accounts.
#[derive(Subcommand)]
pub enum UserCommand {
    /// Create an account (agent, supervisor or operator).
    Add {
        /// User name: the login and the SIP user name a phone registers as.
        name: String,
        /// agent (takes calls), supervisor (watches and may take calls), operator (dialplans).
        #[arg(long)]
        role: Role,
        #[command(flatten)]
        password: PasswordSource,
    },
    /// List accounts.
    List,
    /// Delete an account with its sessions and tokens.
    Remove {
        /// User name.
        name: String,
    },
    /// Set a new password (ends the user's browser sessions).
    Passwd {
        /// User name.
        name: String,
        #[command(flatten)]
        password: PasswordSource,
    },
    /// Set the language the user hears the line in (a warm transfer's spoken brief): en or
    /// zh; "caller" follows each caller's language (the default).
    Language {
        /// User name.
        name: String,
        /// en, zh or caller.
        language: String,
    },
    /// Print a new API bearer token for the user (only its hash is kept: copy it now).
    Token {
        /// User name.
        name: String,
        /// What the token is for (shown nowhere yet; kept with it).
        #[arg(long, default_value = "")]
        label: String,
    },
}

/// Where the password comes from. Without a flag: $HUMANLINE_PASSWORD, else a prompt on a TTY.
#[derive(clap::Args)]
#[group(multiple = false)]
pub struct PasswordSource {
    /// The password (visible in the process list and shell history: prefer the others).
    #[arg(long)]
    password: Option<String>,
    /// Read the password from the first line of standard input.
    #[arg(long)]
    password_stdin: bool,
}

impl PasswordSource {
    fn read(&self, name: &str) -> anyhow::Result<String> {
        if let Some(p) = &self.password {
            return Ok(p.clone());
        }
        if self.password_stdin {
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .context("reading the password from standard input")?;
            return Ok(line.trim_end_matches(['\r', '\n']).to_string());
        }
        if let Ok(p) = std::env::var(PASSWORD_ENV) {
            return Ok(p);
        }
        if !std::io::stdin().is_terminal() {
            bail!("no password given: use --password, --password-stdin or ${PASSWORD_ENV}");
        }
        let first = rpassword::prompt_password(format!("Password for {name}: "))
            .context("reading the password")?;
        let again =
            rpassword::prompt_password("Same password again: ").context("reading the password")?;
        if first != again {
            bail!("the two passwords differ; nothing changed");
        }
        Ok(first)
    }
}

/// What "opening …" names in an error: the Postgres database or the SQLite file.
fn store_name(cfg: &humanline::config::Config) -> String {
    match &cfg.store.postgres {
        Some(c) => format!("opening the Postgres database {c:?}"),
        None => format!("opening database {}", cfg.paths.database.display()),
    }
}

/// Runs one `user` subcommand against the database of `config` (default: humanline.toml when
/// it exists, else the built-in defaults).
pub fn run(config: Option<PathBuf>, cmd: UserCommand) -> anyhow::Result<ExitCode> {
    let cfg = super::load_config(config)?;
    let mut store = Store::open_configured(&cfg).with_context(|| store_name(&cfg))?;
    match cmd {
        UserCommand::Add {
            name,
            role,
            password,
        } => add(&cfg, &mut store, &name, role, &password),
        UserCommand::List => list(&store),
        UserCommand::Remove { name } => {
            if !store.remove_user(&name)? {
                bail!("no user named {name}");
            }
            println!("removed {name}");
            Ok(ExitCode::SUCCESS)
        }
        UserCommand::Passwd { name, password } => {
            if store.user(&name)?.is_none() {
                bail!("no user named {name}");
            }
            let c = auth::new_credentials(&name, &cfg.sip.realm, &password.read(&name)?)?;
            store.set_user_password(
                &name,
                &c.password_hash,
                &c.realm,
                &c.ha1_md5,
                &c.ha1_sha256,
            )?;
            println!("password of {name} changed; their browser sessions ended");
            Ok(ExitCode::SUCCESS)
        }
        UserCommand::Language { name, language } => {
            let stored = match language.as_str() {
                "caller" => "",
                l => match humanline::dialplan::Language::from_code(l) {
                    Some(lang) => lang.code(),
                    None => bail!("language {l:?}: use en, zh or caller"),
                },
            };
            if !store.set_user_language(&name, stored)? {
                bail!("no user named {name}");
            }
            println!("{name} hears the line in {language}");
            Ok(ExitCode::SUCCESS)
        }
        UserCommand::Token { name, label } => {
            if store.user(&name)?.is_none() {
                bail!("no user named {name}");
            }
            let token = auth::random_token();
            store.add_api_token(&auth::token_sha256(&token), &name, &label, now_ms())?;
            println!("{token}");
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn add(
    cfg: &Config,
    store: &mut Store,
    name: &str,
    role: Role,
    password: &PasswordSource,
) -> anyhow::Result<ExitCode> {
    auth::check_user_name(name)?;
    if store.user(name)?.is_some() {
        bail!("user {name} already exists (humanline user passwd {name} sets a new password)");
    }
    let c = auth::new_credentials(name, &cfg.sip.realm, &password.read(name)?)?;
    let added = store.add_user(&UserRecord {
        name: name.to_string(),
        role: role.as_str().to_string(),
        password_hash: c.password_hash,
        sip_realm: c.realm,
        sip_ha1_md5: c.ha1_md5,
        sip_ha1_sha256: c.ha1_sha256,
        created_at_ms: now_ms(),
    })?;
    if !added {
        bail!("user {name} already exists");
    }
    println!("added {role} {name}");
    Ok(ExitCode::SUCCESS)
}

fn list(store: &Store) -> anyhow::Result<ExitCode> {
    let users = store.users()?;
    if users.is_empty() {
        println!("no users (humanline user add NAME --role agent)");
        return Ok(ExitCode::SUCCESS);
    }
    let width = users.iter().map(|u| u.name.len()).max().unwrap_or(4).max(4);
    println!("{:width$}  {:10}  SIP REALM", "NAME", "ROLE");
    for u in users {
        println!("{:width$}  {:10}  {}", u.name, u.role, u.sip_realm);
    }
    Ok(ExitCode::SUCCESS)
}
