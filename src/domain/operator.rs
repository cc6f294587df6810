//! Operators: how a call reaches them (phone number, SIP URI or PBX extension) and their presence.

use super::named_enum;

named_enum! {
    /// Whether an operator can take a call now.
    pub enum Presence: "presence" {
        /// Logged in and free.
        Available = "available",
        /// Talking to a caller.
        OnCall = "on_call",
        /// Finishing notes after a call; becomes available after the configured seconds.
        WrapUp = "wrap_up",
        /// Logged in, away for a while (also set by autopause after missed calls).
        Break = "break",
        /// Not working.
        Offline = "offline",
    }
}

impl Presence {
    /// Logged in (counts as staffing the hotline), whether free or not.
    pub fn is_logged_in(self) -> bool {
        !matches!(self, Presence::Offline)
    }
}

named_enum! {
    /// The kind of address an operator is reached at.
    pub enum ContactKind: "contact kind" {
        Phone = "phone",
        Sip = "sip",
        Extension = "extension",
    }
}

/// Checks an operator contact of the given kind; returns it in canonical form.
///
/// A phone number must be E.164 (`+` and 8–15 digits); a SIP URI must start with `sip:` or `sips:`
/// and name a user and host; an extension is 2–8 digits.
pub fn validate_contact(kind: ContactKind, value: &str) -> Result<String, String> {
    let v = value.trim();
    let ok = match kind {
        ContactKind::Phone => {
            let digits = v.strip_prefix('+').unwrap_or("");
            (8..=15).contains(&digits.len())
                && digits.bytes().all(|b| b.is_ascii_digit())
                && !digits.starts_with('0')
        }
        ContactKind::Sip => {
            let rest = v
                .strip_prefix("sip:")
                .or_else(|| v.strip_prefix("sips:"))
                .unwrap_or("");
            matches!(rest.split_once('@'), Some((user, host)) if !user.is_empty() && !host.is_empty() && !rest.contains(char::is_whitespace))
        }
        ContactKind::Extension => {
            (2..=8).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_digit())
        }
    };
    if ok {
        Ok(v.to_owned())
    } else {
        Err(match kind {
            ContactKind::Phone => {
                "a phone number must be in E.164 form, e.g. +74951234567".to_owned()
            }
            ContactKind::Sip => "a SIP URI must look like sip:user@host".to_owned(),
            ContactKind::Extension => "an extension must be 2–8 digits".to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contacts() {
        assert_eq!(
            validate_contact(ContactKind::Phone, " +74951234567 ").unwrap(),
            "+74951234567"
        );
        assert!(validate_contact(ContactKind::Phone, "84951234567").is_err());
        assert!(validate_contact(ContactKind::Phone, "+7495abc4567").is_err());
        assert!(validate_contact(ContactKind::Sip, "sip:op1@pbx.school.ru").is_ok());
        assert!(validate_contact(ContactKind::Sip, "op1@pbx").is_err());
        assert!(validate_contact(ContactKind::Sip, "sip:@pbx").is_err());
        assert!(validate_contact(ContactKind::Extension, "101").is_ok());
        assert!(validate_contact(ContactKind::Extension, "1").is_err());
    }

    #[test]
    fn presence_names() {
        assert_eq!("wrap_up".parse::<Presence>().unwrap(), Presence::WrapUp);
        assert!("busy".parse::<Presence>().is_err());
        assert!(!Presence::Offline.is_logged_in() && Presence::Break.is_logged_in());
    }
}
