//! Scheduled backups (DESIGN §9): every `backup_every_hours` a backup in `backup_dir`, named by
//! the start of its period (`keyturn-20261204-0000.backup`), the oldest deleted beyond
//! `backup_keep`. A period whose file exists already is skipped, so a restarted instance (or a
//! second one writing to the same folder) does not take it again.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::sync::watch;

use crate::state::AppState;

const PREFIX: &str = "keyturn-";
const SUFFIX: &str = ".backup";

/// The file of the period `now` falls in.
fn file_for(dir: &Path, now: i64, every_hours: u64) -> PathBuf {
    let period = every_hours.max(1) as i64 * 3600;
    let start = now - now.rem_euclid(period);
    let at = chrono::DateTime::from_timestamp(start, 0).unwrap_or_default();
    dir.join(format!("{PREFIX}{}{SUFFIX}", at.format("%Y%m%d-%H%M")))
}

/// `keyturn-YYYYMMDD-HHMM.backup`: a scheduled backup (a manual `keyturn-before-upgrade.backup`
/// beside them is neither counted nor deleted).
fn is_scheduled(name: &str) -> bool {
    let Some(stamp) = name.strip_prefix(PREFIX).and_then(|n| n.strip_suffix(SUFFIX)) else { return false };
    let b = stamp.as_bytes();
    b.len() == 13 && b[8] == b'-' && b.iter().enumerate().all(|(i, c)| i == 8 || c.is_ascii_digit())
}

/// The scheduled backups in `dir`, oldest first.
pub fn list(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(is_scheduled))
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found
}

/// Takes this period's backup if it is not there yet, then deletes the oldest beyond
/// `backup_keep`. Returns the file written, if any.
pub async fn run_once(state: &AppState) -> anyhow::Result<Option<PathBuf>> {
    let Some(dir) = state.settings.backup_dir.clone() else { return Ok(None) };
    std::fs::create_dir_all(&dir).map_err(|e| anyhow::anyhow!("backup_dir {}: {e}", dir.display()))?;
    let now = state.clock.now();
    let file = file_for(&dir, now, state.settings.backup_every_hours);
    let written = if file.exists() {
        None
    } else {
        // Another instance writing to the same folder may finish first: its file stays.
        match crate::db::backup::backup(&state.db, &file, now, crate::db::backup::Existing::Keep).await? {
            Some(done) => {
                tracing::info!(event = "backup_written", file = %file.display(), rows = done.rows, "scheduled backup written");
                Some(file)
            }
            None => None,
        }
    };
    let all = list(&dir);
    let keep = state.settings.backup_keep.max(1);
    for old in all.iter().take(all.len().saturating_sub(keep)) {
        match std::fs::remove_file(old) {
            Ok(()) => tracing::info!(event = "backup_deleted", file = %old.display(), "old scheduled backup deleted"),
            Err(e) => {
                tracing::warn!(event = "backup_delete_failed", file = %old.display(), error = %e, "could not delete an old backup")
            }
        }
    }
    Ok(written)
}

/// Checks at start and every five minutes until shutdown (nothing to do without `backup_dir`).
pub async fn run(state: AppState, mut shutdown: watch::Receiver<bool>) {
    if state.settings.backup_dir.is_none() {
        return;
    }
    let mut wait = Duration::ZERO;
    loop {
        tokio::select! {
            _ = shutdown.changed() => return,
            _ = tokio::time::sleep(wait) => {}
        }
        wait = Duration::from_secs(300);
        if let Err(e) = run_once(&state).await {
            tracing::error!(event = "backup_failed", error = %e, "scheduled backup failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_period_has_one_file_named_by_its_start() {
        let dir = Path::new("/b");
        // 2026-12-04 07:30 UTC.
        let t = 1_796_369_400;
        assert_eq!(file_for(dir, t, 24), Path::new("/b/keyturn-20261204-0000.backup"));
        assert_eq!(file_for(dir, t, 6), Path::new("/b/keyturn-20261204-0600.backup"));
        assert_eq!(file_for(dir, t + 3600, 24), file_for(dir, t, 24));
        assert_ne!(file_for(dir, t + 86_400, 24), file_for(dir, t, 24));
        assert!(is_scheduled("keyturn-20261204-0600.backup"));
        assert!(!is_scheduled("keyturn-before-upgrade.backup"));
        assert!(!is_scheduled(".keyturn-20261204-0600.backup.0123456789abcdef.partial"));
    }
}
