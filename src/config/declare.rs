//! One declaration per setting: the [`settings_group!`] macro turns a list of
//! `name: Type = default, "shown default", "meaning"` lines into the struct, its `Default`,
//! the reader that applies `KEYTURN_<NAME>` / TOML values, the documentation table and a
//! `Debug` that never prints a value marked `secret`.

use std::net::IpAddr;
use std::path::PathBuf;

use super::{invalid, list, opt, parse, parse_bool, ConfigError, SettingDoc};

/// A type a setting can hold: how it is read from its text form.
pub trait SettingValue: Sized {
    /// Reads the value given for setting `key`.
    fn read(key: &str, v: &str) -> Result<Self, ConfigError>;
    /// Whether it holds a value (an optional setting left unset, or an empty list, does not).
    fn is_set(&self) -> bool {
        true
    }
}

/// A group of settings declared with [`settings_group!`] (implemented by the macro).
pub trait Group {
    /// Its documented settings, in declaration order.
    const DOCS: &'static [SettingDoc];
    /// Applies `key` when it names one of its settings; `Ok(false)` when it does not.
    fn apply_setting(&mut self, key: &str, v: &str) -> Result<bool, ConfigError>;
    /// Whether the setting `key` holds a value; `None` when `key` is none of its settings.
    fn is_set(&self, key: &str) -> Option<bool>;
}

/// Refuses one of two settings that only work together without the other.
pub fn together(a: (&str, bool), b: (&str, bool)) -> Result<(), ConfigError> {
    match (a, b) {
        ((set, true), (missing, false)) | ((missing, false), (set, true)) => {
            Err(invalid(missing, format!("required when {set} is set")))
        }
        _ => Ok(()),
    }
}

impl SettingValue for String {
    fn read(_: &str, v: &str) -> Result<Self, ConfigError> {
        Ok(v.trim().to_string())
    }
}

impl SettingValue for Option<String> {
    fn read(_: &str, v: &str) -> Result<Self, ConfigError> {
        Ok(opt(v))
    }

    fn is_set(&self) -> bool {
        self.is_some()
    }
}

impl SettingValue for PathBuf {
    fn read(_: &str, v: &str) -> Result<Self, ConfigError> {
        Ok(PathBuf::from(v.trim()))
    }
}

impl SettingValue for Option<PathBuf> {
    fn read(_: &str, v: &str) -> Result<Self, ConfigError> {
        Ok(opt(v).map(PathBuf::from))
    }

    fn is_set(&self) -> bool {
        self.is_some()
    }
}

impl SettingValue for Vec<String> {
    fn read(_: &str, v: &str) -> Result<Self, ConfigError> {
        Ok(list(v))
    }

    fn is_set(&self) -> bool {
        !self.is_empty()
    }
}

impl SettingValue for Vec<IpAddr> {
    fn read(key: &str, v: &str) -> Result<Self, ConfigError> {
        list(v).iter().map(|ip| parse(key, ip)).collect()
    }

    fn is_set(&self) -> bool {
        !self.is_empty()
    }
}

impl SettingValue for bool {
    fn read(key: &str, v: &str) -> Result<Self, ConfigError> {
        parse_bool(key, v)
    }
}

macro_rules! numbers {
    ($($t:ty),*) => { $(
        impl SettingValue for $t {
            fn read(key: &str, v: &str) -> Result<Self, ConfigError> {
                parse(key, v)
            }
        }
    )* };
}
numbers!(u32, u64, i32, i64, usize);

/// A setting that takes one of a few words.
pub fn one_of<T: Copy>(key: &str, v: &str, words: &[(&str, T)]) -> Result<T, ConfigError> {
    let v = v.trim();
    words.iter().find(|(w, _)| *w == v).map(|(_, t)| *t).ok_or_else(|| {
        let names: Vec<&str> = words.iter().map(|(w, _)| *w).collect();
        invalid(key, format!("`{v}` is not one of {}", names.join(", ")))
    })
}

/// What `Debug` shows for a value: secrets never, whether set or not.
pub fn shown<T: std::fmt::Debug>(value: &T, secret: bool) -> String {
    if !secret {
        return format!("{value:?}");
    }
    let unset = format!("{value:?}");
    if unset == "None" || unset == "[]" || unset == "\"\"" {
        unset
    } else {
        "\"***\"".to_string()
    }
}

/// Declares a group of settings once. Each line:
/// `[@secret] name: Type = default_expr, "default as documented", "meaning";`
/// `[extra] { field: Type = default_expr, }` adds fields that are not settings themselves.
macro_rules! settings_group {
    (@secret secret) => { true };
    (@secret) => { false };
    (
        $(#[$smeta:meta])*
        pub struct $group:ident, docs $docs:ident, apply $apply:ident;
        $( $(#[$fmeta:meta])* $(@$secret:ident)? $field:ident : $ty:ty = $default:expr, $shown:literal, $doc:literal; )*
        $( [extra] { $( $(#[$xmeta:meta])* $xfield:ident : $xty:ty = $xdefault:expr, )* } )?
    ) => {
        $(#[$smeta])*
        #[derive(Clone)]
        pub struct $group {
            $( $(#[$fmeta])* pub $field: $ty, )*
            $($( $(#[$xmeta])* pub $xfield: $xty, )*)?
        }

        impl Default for $group {
            fn default() -> Self {
                $group {
                    $( $field: $default, )*
                    $($( $xfield: $xdefault, )*)?
                }
            }
        }

        /// The documented settings of this group, in declaration order.
        pub const $docs: &[$crate::config::SettingDoc] = &[
            $( $crate::config::SettingDoc { name: stringify!($field), default: $shown, doc: $doc }, )*
        ];

        impl $group {
            /// Applies `key` when it names a setting of this group; `Ok(false)` when it does not.
            pub fn $apply(&mut self, key: &str, v: &str) -> Result<bool, $crate::config::ConfigError> {
                match key {
                    $( stringify!($field) => {
                        self.$field = <$ty as $crate::config::declare::SettingValue>::read(key, v)?
                    } )*
                    _ => return Ok(false),
                }
                Ok(true)
            }
        }

        impl $crate::config::declare::Group for $group {
            const DOCS: &'static [$crate::config::SettingDoc] = $docs;

            fn apply_setting(&mut self, key: &str, v: &str) -> Result<bool, $crate::config::ConfigError> {
                self.$apply(key, v)
            }

            fn is_set(&self, key: &str) -> Option<bool> {
                match key {
                    $( stringify!($field) => Some($crate::config::declare::SettingValue::is_set(&self.$field)), )*
                    _ => None,
                }
            }
        }

        impl std::fmt::Debug for $group {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                let mut s = f.debug_struct(stringify!($group));
                $( s.field(
                    stringify!($field),
                    &format_args!("{}", $crate::config::declare::shown(&self.$field, settings_group!(@secret $($secret)?))),
                ); )*
                $($( s.field(stringify!($xfield), &self.$xfield); )*)?
                s.finish()
            }
        }
    };
}
pub(crate) use settings_group;
