//! Subcommands: `serve`, `migrate`, `admin create`, `oidc rotate-keys`, `check-config`, `demo`,
//! `backup`, `restore`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::clock::Clock;
use crate::config::{all_settings, Settings};

#[derive(Parser)]
#[command(name = "keyturn", version, about = "Turns a verified payment into a working customer account")]
struct Cli {
    /// Settings file (default: $KEYTURN_CONFIG or ./keyturn.toml when present).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server and the background workers.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage administrators (reads the same settings as `serve`).
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Sign in with keyturn (the OpenID Connect provider).
    Oidc {
        #[command(subcommand)]
        command: OidcCommand,
    },
    /// Validate the settings, show what is in force, and exit.
    CheckConfig {
        /// List every setting with its default instead.
        #[arg(long)]
        list: bool,
        /// Also check that the instance is ready for real customers (reads the database): exits
        /// non-zero naming each problem.
        #[arg(long)]
        production: bool,
    },
    /// Run the whole flow against a throwaway instance and print each step.
    Demo {
        /// Keep the throwaway data folder and print its path.
        #[arg(long)]
        keep: bool,
        /// Use this database instead of a throwaway SQLite file (e.g. a scratch PostgreSQL database).
        #[arg(long)]
        database_url: Option<String>,
        /// Have the sandbox call back in this gateway's format and signature (throwaway secrets
        /// are generated for it), so the flow runs through that gateway's adapter.
        #[arg(long, value_name = "NAME", default_value = "sandbox",
              value_parser = clap::builder::PossibleValuesParser::new(crate::payments::gateways::GatewayId::ALL.iter().map(|d| d.as_str())))]
        gateway: String,
    },
    /// Write every row of the database to FILE from one consistent snapshot, while serving.
    /// The file holds secrets (password hashes, gateway and webhook secrets): keep it safe.
    Backup {
        #[arg(long, value_name = "FILE")]
        to: PathBuf,
    },
    /// Put a backup back into an empty database (this backend or the other one).
    Restore {
        #[arg(long, value_name = "FILE")]
        from: PathBuf,
    },
}

#[derive(Subcommand)]
enum OidcCommand {
    /// Start signing with a new key; the previous keys stay published until their tokens expire,
    /// keys retired longer ago are deleted. Run it on a schedule (e.g. every 90 days).
    RotateKeys,
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create an administrator (e.g. the first owner); the password is read from stdin.
    Create {
        #[arg(long)]
        username: String,
        /// owner | operator | support | catalog | viewer.
        #[arg(long)]
        role: String,
        /// Read the password from the first line of standard input (required: never on the command line).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Demo { keep, database_url, gateway } => crate::demo::run(keep, database_url, &gateway).await,
            Command::CheckConfig { list: true, .. } => {
                for s in all_settings() {
                    println!("KEYTURN_{:<32} default {:<40} {}", s.name.to_uppercase(), s.default, s.doc);
                }
                Ok(())
            }
            command => {
                let (settings, warnings) = Settings::load(cli.config.as_deref())?;
                crate::logging::init(&settings.log_format, &settings.log_level);
                for w in warnings {
                    tracing::warn!(event = "config_warning", "{w}");
                }
                match command {
                    Command::Serve => serve(settings).await,
                    Command::Migrate => migrate(settings).await,
                    Command::Admin { command: AdminCommand::Create { username, role, .. } } => {
                        admin_create(settings, &username, &role).await
                    }
                    Command::Oidc { command: OidcCommand::RotateKeys } => rotate_keys(settings).await,
                    Command::CheckConfig { production, .. } => check_config(settings, production).await,
                    Command::Backup { to } => backup(settings, &to).await,
                    Command::Restore { from } => restore(settings, &from).await,
                    Command::Demo { .. } => unreachable!("handled above"),
                }
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    // Taken over before anything else: a SIGHUP while starting (a config manager reloading
    // early) must not end the process, which is SIGHUP's default; a SIGTERM or Ctrl-C while
    // starting is kept and stops the server gracefully once it runs, never mid-request.
    #[cfg(unix)]
    let (mut hup, mut term, mut int) = {
        use tokio::signal::unix::{signal, SignalKind};
        (
            signal(SignalKind::hangup()).expect("SIGHUP handler"),
            signal(SignalKind::terminate()).expect("SIGTERM handler"),
            signal(SignalKind::interrupt()).expect("SIGINT handler"),
        )
    };
    let app = crate::app::start(settings, Clock::system()).await?;
    // The first start generates the OpenID Connect signing key (tests generate it on first use).
    // A database that is down right now must not stop a started server: the key is then
    // made on first use.
    if let Err(e) = crate::oidc::keys::signing_key(&app.state.db, Clock::system().now()).await {
        tracing::warn!(event = "oidc_key_deferred", error = %e, "the signing key will be made on first use");
    }
    match crate::config::golive::problems(&app.state.settings, &app.state.db).await {
        Ok(problems) => {
            for p in problems {
                tracing::warn!(event = "not_ready_for_production", "{p}");
            }
        }
        Err(e) => tracing::warn!(event = "not_ready_for_production", error = %e, "could not check"),
    }
    println!("keyturn listening on {} (public URL {})", app.addr, app.public_url());
    #[cfg(unix)]
    loop {
        tokio::select! {
            _ = term.recv() => break,
            _ = int.recv() => break,
            _ = hup.recv() => app.reload(),
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
    tracing::info!(event = "stopping", "shutting down: finishing in-flight requests and the current email");
    app.stop().await;
    Ok(())
}

async fn backup(settings: Settings, to: &std::path::Path) -> anyhow::Result<()> {
    let url = settings.database_url();
    let db = tokio::task::spawn_blocking(move || crate::db::Db::open(&url, 1)).await??;
    let done = crate::db::backup::backup(&db, to, Clock::system().now(), crate::db::backup::Existing::Replace)
        .await?
        .expect("a replacing backup is always published");
    println!("backup written to {}: {} rows of {} tables", to.display(), done.rows, done.tables);
    Ok(())
}

async fn restore(settings: Settings, from: &std::path::Path) -> anyhow::Result<()> {
    let url = settings.database_url();
    let db = tokio::task::spawn_blocking(move || crate::db::Db::open(&url, 1)).await??;
    let done = crate::db::backup::restore(&db, from).await?;
    println!("restored {} rows of {} tables from {}", done.rows, done.tables, from.display());
    Ok(())
}

async fn migrate(settings: Settings) -> anyhow::Result<()> {
    let url = settings.database_url();
    let applied = tokio::task::spawn_blocking(move || -> anyhow::Result<usize> {
        let db = crate::db::Db::open(&url, 1)?;
        db.migrate()
    })
    .await??;
    println!("database is up to date ({applied} migrations applied now)");
    Ok(())
}

async fn rotate_keys(settings: Settings) -> anyhow::Result<()> {
    let url = settings.database_url();
    let db = tokio::task::spawn_blocking(move || crate::db::Db::connect(&url, 1)).await??;
    let kid = crate::oidc::keys::rotate(&db, Clock::system().now()).await?;
    println!("OpenID Connect keys rotated: {kid} signs from now on");
    Ok(())
}

async fn admin_create(settings: Settings, username: &str, role: &str) -> anyhow::Result<()> {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    let password = line.strip_suffix('\n').unwrap_or(&line);
    let password = password.strip_suffix('\r').unwrap_or(password);
    let url = settings.database_url();
    let db = tokio::task::spawn_blocking(move || crate::db::Db::connect(&url, 1)).await??;
    let hasher = crate::crypto::PasswordHasherPool::new(1, 1);
    let actor = crate::admin::access::service::Actor { name: crate::audit::CLI, ip: "local" };
    let now = Clock::system().now();
    match crate::admin::access::service::create_admin(&db, &hasher, now, actor, username, role, password).await {
        Ok(a) => {
            println!("administrator {} created with role {}", a.username, a.role);
            Ok(())
        }
        Err(e) => anyhow::bail!("{}", e.parts().1.message),
    }
}

async fn check_config(settings: Settings, production: bool) -> anyhow::Result<()> {
    let mailer = crate::mail::transport::Mailer::from_settings(&settings)?;
    let catalog = std::sync::Arc::new(crate::i18n::Catalog::load()?);
    let templates = crate::mail::templates::Templates::load(settings.templates_dir.as_deref(), catalog.clone())?;
    println!("settings are valid");
    println!("  listen        {}", settings.listen);
    println!(
        "  public URL    {}",
        settings.public_url.clone().unwrap_or_else(|| format!("http://{}", settings.listen))
    );
    let db = settings.database_url();
    let shown = match url::Url::parse(&db) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => db,
    };
    println!("  database      {shown}");
    println!("  mail          {}", mailer.describe(&settings));
    if let (Some(selector), Some(pem)) = (&settings.mail.dkim_selector, &settings.mail.dkim_key) {
        let key = crate::mail::dkim::read_key(pem).map_err(|e| anyhow::anyhow!("dkim_key: {e}"))?;
        println!("  DKIM record   {selector}._domainkey.{} TXT \"{}\"", settings.dkim_domain(), key.dns_record());
    }
    println!("  sandbox       {}", if settings.sandbox_enabled { "ON (turn off in production)" } else { "off" });
    println!("  captcha       {}", if settings.hcaptcha_secret.is_some() { "hCaptcha" } else { "OFF" });
    if settings.sandbox_enabled && settings.sandbox_secret.is_empty() {
        println!(
            "  hint          for several instances set KEYTURN_SANDBOX_SECRET={}",
            crate::app::new_webhook_secret()
        );
    }
    println!("  languages     en, ru, pl, sr (default {})", settings.default_locale.code());
    for (email, done, missing) in templates.missing_translations() {
        let codes = |ls: &[crate::i18n::Locale]| ls.iter().map(|l| l.code()).collect::<Vec<_>>().join(", ");
        println!(
            "  translation   email {email} is customised in {} but not in {}: those customers read the stock text",
            codes(&done),
            codes(&missing)
        );
    }
    for (locale, id) in catalog.missing() {
        println!("  translation   page message {id} is missing in {} (English is shown)", locale.code());
    }
    if !production {
        return Ok(());
    }
    let url = settings.database_url();
    let db = tokio::task::spawn_blocking(move || crate::db::Db::connect(&url, 1)).await??;
    let problems = crate::config::golive::problems(&settings, &db).await?;
    if problems.is_empty() {
        println!("ready for production");
        return Ok(());
    }
    for p in &problems {
        println!("  NOT READY     {p}");
    }
    anyhow::bail!("not ready for production: {} problem(s)", problems.len())
}
