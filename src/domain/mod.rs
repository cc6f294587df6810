//! The pure domain core: who uses the hotline (users, roles), who answers it (operators, their
//! contact and presence), and later the call state machine, routing, phone numbers and callback
//! priority. Nothing here does I/O or reads a clock: time and state arrive as arguments, so every
//! rule can be tested directly.

pub mod blocklist;
pub mod call;
pub mod callback;
pub mod facts;
pub mod forecast;
pub mod notify;
pub mod operator;
pub mod phone;
pub mod pseudonym;
pub mod registration;
pub mod routing;
pub mod user;
pub mod voicemail;

/// A value that did not parse as one of a fixed set of names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not a valid {what}; expected one of: {expected}")]
pub struct UnknownName {
    pub what: &'static str,
    pub value: String,
    pub expected: &'static str,
}

/// Declares a fieldless enum stored and shown by a fixed lowercase name, with `as_str`, `FromStr`,
/// `Display` and serde in that name.
macro_rules! named_enum {
    ($(#[$m:meta])* $vis:vis enum $name:ident : $what:literal { $($(#[$vm:meta])* $var:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis enum $name { $($(#[$vm])* $var),+ }
        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$var),+];
            /// The stored and displayed name.
            pub fn as_str(self) -> &'static str { match self { $($name::$var => $s),+ } }
        }
        impl std::str::FromStr for $name {
            type Err = $crate::domain::UnknownName;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($s => Ok($name::$var),)+
                    _ => Err($crate::domain::UnknownName {
                        what: $what,
                        value: s.to_owned(),
                        expected: concat!($($s, " "),+),
                    }),
                }
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.as_str()) }
        }
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> { s.serialize_str(self.as_str()) }
        }
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use named_enum;
