//! Typed values stored as text: statuses and kinds as enums ([`text_enum!`]) whose variants
//! carry the exact strings the database, the JSON and the OpenAPI document hold, so an
//! impossible status does not compile. [`text_value!`] gives any type with `as_str` and
//! `FromStr` the diesel (SQLite, PostgreSQL and the `MultiConnection` backend), serde and
//! `Display` impls; an unknown string read from the database is an error naming it, never a panic.
//! [`text_id!`] declares the id newtypes (`OrderId`, …), stored as the same plain text.

use std::fmt;

/// A string that is none of a text enum's values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {value:?}")]
pub struct UnknownValue {
    /// What was being read (`order status`, …).
    pub what: &'static str,
    /// The string as found.
    pub value: String,
}

impl UnknownValue {
    pub fn new(what: &'static str, value: &str) -> Self {
        UnknownValue { what, value: value.to_string() }
    }
}

/// The message of a column value that is none of its type's values.
pub fn unknown_in_db(what: &str, value: &str) -> Box<dyn std::error::Error + Send + Sync> {
    format!("unknown {what} {value:?} in the database").into()
}

/// Writes `s` (for `Display` impls).
pub fn write_str(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_str(s)
}

/// Implements diesel `ToSql`/`FromSql` (as `Text`, on every backend whose `String`/`str` are
/// text, the `MultiConnection` backend included), serde and `Display` for `$ty`, which has
/// `fn as_str(&self) -> &str` and `FromStr`. Its derive list must hold `diesel::AsExpression`
/// and `diesel::deserialize::FromSqlRow` with `#[diesel(sql_type = diesel::sql_types::Text)]`.
#[macro_export]
macro_rules! text_value {
    ($ty:ty, $what:literal) => {
        impl<DB: diesel::backend::Backend> diesel::serialize::ToSql<diesel::sql_types::Text, DB> for $ty
        where
            str: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
        {
            fn to_sql<'b>(&'b self, out: &mut diesel::serialize::Output<'b, '_, DB>) -> diesel::serialize::Result {
                <str as diesel::serialize::ToSql<diesel::sql_types::Text, DB>>::to_sql(self.as_str(), out)
            }
        }

        impl<DB: diesel::backend::Backend> diesel::deserialize::FromSql<diesel::sql_types::Text, DB> for $ty
        where
            String: diesel::deserialize::FromSql<diesel::sql_types::Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> diesel::deserialize::Result<Self> {
                let s = <String as diesel::deserialize::FromSql<diesel::sql_types::Text, DB>>::from_sql(bytes)?;
                s.parse().map_err(|_| $crate::db::types::unknown_in_db($what, &s))
            }
        }

        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
                s.parse().map_err(|_| serde::de::Error::custom(format_args!("unknown {} {:?}", $what, s)))
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                $crate::db::types::write_str(f, self.as_str())
            }
        }
    };
}

/// Declares an enum stored as text: each variant with its exact stored string.
///
/// ```ignore
/// text_enum! {
///     /// An order's state.
///     pub enum OrderStatus("order status") {
///         PendingPayment = "pending_payment",
///         Paid = "paid",
///     }
/// }
/// ```
///
/// Gives `ALL`, `as_str`, `FromStr` ([`UnknownValue`]), `Display`, serde, diesel (`Text`) and
/// poem-openapi `Enum` (the document lists the values; the JSON strings are the stored ones).
#[macro_export]
macro_rules! text_enum {
    ($(#[$meta:meta])* $vis:vis enum $name:ident($what:literal) {
        $( $(#[$vmeta:meta])* $variant:ident = $text:literal ),* $(,)?
    }) => {
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash,
            diesel::AsExpression, diesel::deserialize::FromSqlRow, poem_openapi::Enum,
        )]
        #[diesel(sql_type = diesel::sql_types::Text)]
        $(#[$meta])*
        $vis enum $name {
            $( $(#[$vmeta])* #[oai(rename = $text)] $variant, )*
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$( $name::$variant, )*];

            /// The stored (and JSON) string.
            pub fn as_str(&self) -> &'static str {
                match self {
                    $( $name::$variant => $text, )*
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::db::types::UnknownValue;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $( $text => Ok($name::$variant), )*
                    _ => Err($crate::db::types::UnknownValue::new($what, s)),
                }
            }
        }

        $crate::text_value!($name, $what);
    };
}

/// Declares an id newtype stored as text (the random ids of `crypto::random_id`): diesel,
/// serde and `Display` as the plain string, `Deref<Target = str>`, and comparisons with
/// strings, so `&order.id` still passes where a `&str` is taken.
#[macro_export]
macro_rules! text_id {
    ($(#[$meta:meta])* $vis:vis struct $name:ident($what:literal);) => {
        #[derive(
            Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default,
            diesel::AsExpression, diesel::deserialize::FromSqlRow,
        )]
        #[diesel(sql_type = diesel::sql_types::Text)]
        $(#[$meta])*
        $vis struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::convert::Infallible;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Ok($name(s.to_string()))
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                $name(s)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                $name(s.to_string())
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;

            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }

        impl PartialEq<$name> for String {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }

        $crate::text_value!($name, $what);
    };
}

#[cfg(test)]
mod tests {
    use diesel::prelude::*;
    use diesel::sql_types::Text;

    crate::text_enum! {
        /// A test enum.
        pub enum Colour("colour") {
            Red = "red",
            DarkBlue = "dark_blue",
        }
    }

    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Text)]
        c: Colour,
    }

    #[test]
    fn strings_round_trip() {
        for c in Colour::ALL {
            assert_eq!(c.as_str().parse::<Colour>(), Ok(*c));
            assert_eq!(c.to_string(), c.as_str());
            assert_eq!(serde_json::to_value(c).unwrap(), serde_json::json!(c.as_str()));
            assert_eq!(serde_json::from_value::<Colour>(serde_json::json!(c.as_str())).unwrap(), *c);
        }
        let err = "Dark_Blue".parse::<Colour>().unwrap_err();
        assert_eq!(err.to_string(), "unknown colour \"Dark_Blue\"");
        assert!(serde_json::from_value::<Colour>(serde_json::json!("green")).is_err());
    }

    #[test]
    fn the_database_holds_the_strings_and_an_unknown_one_is_an_error() {
        let mut conn = crate::db::DbConn::Sqlite(diesel::SqliteConnection::establish(":memory:").unwrap());
        let row: Row =
            diesel::sql_query("SELECT ? AS c").bind::<Text, _>(Colour::DarkBlue).get_result(&mut conn).unwrap();
        assert_eq!(row.c, Colour::DarkBlue);
        let raw: Vec<String> = diesel::sql_query("SELECT ? AS c")
            .bind::<Text, _>(Colour::Red)
            .load::<RawRow>(&mut conn)
            .unwrap()
            .into_iter()
            .map(|r| r.c)
            .collect();
        assert_eq!(raw, ["red"]);
        let err = diesel::sql_query("SELECT 'green' AS c").get_result::<Row>(&mut conn).err().expect("unknown value");
        assert!(err.to_string().contains("unknown colour \"green\""), "{err}");
    }

    crate::text_id! {
        /// A test id.
        pub struct ThingId("thing id");
    }

    #[derive(QueryableByName)]
    struct IdRow {
        #[diesel(sql_type = Text)]
        id: ThingId,
    }

    #[test]
    fn ids_are_their_plain_strings() {
        let id: ThingId = "thg_1".to_string().into();
        assert_eq!(id, "thg_1");
        assert_eq!(id.to_string(), "thg_1");
        assert_eq!(serde_json::to_value(&id).unwrap(), serde_json::json!("thg_1"));
        assert_eq!(String::from(id.clone()), "thg_1");
        let mut conn = crate::db::DbConn::Sqlite(diesel::SqliteConnection::establish(":memory:").unwrap());
        let row: IdRow = diesel::sql_query("SELECT ? AS id").bind::<Text, _>(&id).get_result(&mut conn).unwrap();
        assert_eq!(row.id, id);
    }

    #[derive(QueryableByName)]
    struct RawRow {
        #[diesel(sql_type = Text)]
        c: String,
    }
}
