//! What a gateway's folder gives the registry besides its adapter: its settings group
//! (`<name>/settings.rs`) and how the sandbox imitates its callbacks (`<name>/dialect.rs`).

use crate::config::declare::Group;
use crate::config::{ConfigError, SettingDoc};
use crate::sandbox::dialects::SandboxDialect;

use super::Gateway;

/// A gateway's settings, declared with `settings_group!` in its folder and composed by the
/// registry into [`super::GatewaySettings`] (field named after the folder).
pub trait GatewaySettingsGroup: Group + Default + Clone + std::fmt::Debug + Send + Sync {
    /// Whether its callback settings are present: the gateway is enabled.
    fn enabled(&self) -> bool;
    /// Refuses settings that cannot work (a merchant id without its secret, and so on).
    fn validate(&self) -> Result<(), ConfigError> {
        Ok(())
    }
}

/// One gateway folder, as the registry line names it by its adapter type.
pub trait GatewayFolder: Gateway + Sized {
    /// Its settings (`<name>/settings.rs`).
    type Settings: GatewaySettingsGroup;
    /// How the sandbox speaks its callbacks (`<name>/dialect.rs`).
    const DIALECT: &'static dyn SandboxDialect;
}

/// The settings of a gateway that has none of its own (the sandbox: its settings are the
/// `sandbox_*` ones of the core group).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoSettings;

impl Group for NoSettings {
    const DOCS: &'static [SettingDoc] = &[];

    fn apply_setting(&mut self, _key: &str, _v: &str) -> Result<bool, ConfigError> {
        Ok(false)
    }

    fn is_set(&self, _key: &str) -> Option<bool> {
        None
    }
}

impl GatewaySettingsGroup for NoSettings {
    fn enabled(&self) -> bool {
        false
    }
}
