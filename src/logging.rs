//! Logging set-up: `tracing` to stderr, text or JSON. Conventions: stable `event` names,
//! never passwords, tokens, card data or full email addresses (use `crypto::mask_email`).

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber (once per process; later calls are ignored).
pub fn init(format: &str, level: &str) {
    let filter = EnvFilter::try_from_env("KEYTURN_LOG").unwrap_or_else(|_| EnvFilter::new(level));
    use std::io::IsTerminal;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let _ = if format == "json" { builder.json().try_init() } else { builder.try_init() };
}
