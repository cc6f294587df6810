//! The blocklist and the per-number limits, pure. A supervisor blocks a caller's number, a number
//! prefix (every number beginning with it), an e-mail sender or a mail domain (with its
//! subdomains); [`Blocklist`] answers which rule, if any, blocks a caller ID or a sender address.
//! Rules are stored normalised ([`normalise`]): numbers and prefixes in E.164, addresses and
//! domains in lowercase, so that one rule catches every way of writing the same thing.
//!
//! [`CallLimits`] are the per-number limits (voicemails per Moscow day, calls per hour; 0 = off);
//! routing compares them with what the caller already did ([`CallerRecord`]).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::named_enum;
use super::phone::{CallerId, PhoneNumber};

named_enum! {
    /// What a blocklist rule matches.
    pub enum RuleKind: "blocklist kind" {
        /// One caller number (E.164).
        Number = "number",
        /// Every caller number beginning with these digits (E.164, with `+`).
        Prefix = "prefix",
        /// One e-mail sender address.
        Email = "email",
        /// A mail domain and its subdomains.
        Domain = "domain",
    }
}

/// One blocklist rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rule {
    pub id: i64,
    pub kind: RuleKind,
    /// The normalised value (see [`normalise`]).
    pub value: String,
    pub reason: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

/// Why a rule's value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("not a valid phone number")]
    Number,
    #[error("a prefix is `+` and 1 to 15 digits, e.g. +7800")]
    Prefix,
    #[error("not a valid e-mail address")]
    Email,
    #[error("not a valid mail domain")]
    Domain,
}

/// The stored form of a rule's value: numbers in E.164, a prefix as `+digits` (spaces, dashes and
/// brackets dropped), addresses and domains trimmed and lowercased (`*.` or `@` before a domain
/// dropped).
pub fn normalise(kind: RuleKind, input: &str) -> Result<String, RuleError> {
    let input = input.trim();
    match kind {
        RuleKind::Number => PhoneNumber::parse(input)
            .map(|n| n.as_str().to_owned())
            .map_err(|_| RuleError::Number),
        RuleKind::Prefix => prefix(input).ok_or(RuleError::Prefix),
        RuleKind::Email => email(input).ok_or(RuleError::Email),
        RuleKind::Domain => {
            let d = input.trim_start_matches("*.").trim_start_matches('@');
            domain(d).ok_or(RuleError::Domain)
        }
    }
}

fn prefix(input: &str) -> Option<String> {
    let rest = input.strip_prefix('+').unwrap_or(input);
    if rest
        .chars()
        .any(|c| !(c.is_ascii_digit() || " -()".contains(c)))
    {
        return None;
    }
    let digits: String = rest.chars().filter(char::is_ascii_digit).collect();
    (1..=15)
        .contains(&digits.len())
        .then(|| format!("+{digits}"))
}

fn email(input: &str) -> Option<String> {
    let a = input.to_lowercase();
    let (local, dom) = a.rsplit_once('@')?;
    let ok_local = !local.is_empty()
        && local.len() <= 64
        && !local
            .chars()
            .any(|c| c.is_whitespace() || "<>@,;\"".contains(c));
    (ok_local && domain(dom).is_some()).then_some(a)
}

fn domain(input: &str) -> Option<String> {
    let d = input.to_lowercase();
    let d = d.strip_suffix('.').unwrap_or(&d);
    let labels: Vec<&str> = d.split('.').collect();
    let ok = d.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        });
    ok.then(|| d.to_owned())
}

/// The caller ID as the rules see it: E.164 when it is a valid number, else `+digits` when the
/// provider gave an international form (a spoofed or unallocated number can still match a
/// prefix), else nothing (hidden, "anonymous").
fn caller_key(caller: &CallerId) -> Option<String> {
    if let Some(n) = caller.number() {
        return Some(n.as_str().to_owned());
    }
    let rest = caller.raw().trim().strip_prefix('+')?;
    (!rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit())).then(|| format!("+{rest}"))
}

/// The rules in force, indexed for matching.
#[derive(Debug, Clone, Default)]
pub struct Blocklist {
    rules: Vec<Rule>,
    numbers: HashMap<String, usize>,
    emails: HashMap<String, usize>,
    domains: HashMap<String, usize>,
    /// Indexes of prefix rules, longest first (the most specific rule is reported).
    prefixes: Vec<usize>,
}

impl Blocklist {
    /// Indexes `rules` (values as stored, i.e. normalised).
    pub fn new(rules: Vec<Rule>) -> Blocklist {
        let mut b = Blocklist::default();
        for (i, r) in rules.iter().enumerate() {
            match r.kind {
                RuleKind::Number => {
                    b.numbers.insert(r.value.clone(), i);
                }
                RuleKind::Email => {
                    b.emails.insert(r.value.clone(), i);
                }
                RuleKind::Domain => {
                    b.domains.insert(r.value.clone(), i);
                }
                RuleKind::Prefix => b.prefixes.push(i),
            }
        }
        b.prefixes
            .sort_by_key(|&i| std::cmp::Reverse(rules[i].value.len()));
        b.rules = rules;
        b
    }

    /// Every rule, as given.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The rule blocking a caller ID (as the provider gave it), if any: the number's own rule
    /// first, else the longest matching prefix.
    pub fn blocks_number(&self, caller: &str) -> Option<&Rule> {
        self.blocks_caller(&CallerId::new(caller))
    }

    /// [`Blocklist::blocks_number`] for a caller ID already wrapped (its parse shared).
    pub fn blocks_caller(&self, caller: &CallerId) -> Option<&Rule> {
        let key = caller_key(caller)?;
        if let Some(&i) = self.numbers.get(&key) {
            return Some(&self.rules[i]);
        }
        self.prefixes
            .iter()
            .map(|&i| &self.rules[i])
            .find(|r| key.starts_with(&r.value))
    }

    /// The rule blocking an e-mail sender (`user@host`, or `Name <user@host>`), if any: the
    /// address's own rule first, else its domain's, else the nearest parent domain's.
    pub fn blocks_email(&self, address: &str) -> Option<&Rule> {
        let a = address.trim();
        let a = match (a.rfind('<'), a.rfind('>')) {
            (Some(l), Some(r)) if l < r => &a[l + 1..r],
            _ => a,
        };
        let a = a.trim().to_lowercase();
        if let Some(&i) = self.emails.get(&a) {
            return Some(&self.rules[i]);
        }
        let (_, mut dom) = a.rsplit_once('@')?;
        dom = dom.strip_suffix('.').unwrap_or(dom);
        loop {
            if let Some(&i) = self.domains.get(dom) {
                return Some(&self.rules[i]);
            }
            dom = dom.split_once('.')?.1;
        }
    }
}

/// The per-number limits (0 = off).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallLimits {
    /// Voicemails one number may leave per Moscow day.
    pub voicemails_per_day: u32,
    /// Calls one number may make per hour (a sliding hour).
    pub calls_per_hour: u32,
}

impl CallLimits {
    /// Whether a caller who made `calls` other calls in the last hour is over the hourly limit.
    pub fn calls_over(&self, calls: u32) -> bool {
        self.calls_per_hour > 0 && calls >= self.calls_per_hour
    }

    /// Whether a caller who left `voicemails` today may not leave another.
    pub fn voicemails_over(&self, voicemails: u32) -> bool {
        self.voicemails_per_day > 0 && voicemails >= self.voicemails_per_day
    }
}

/// What routing knows about the caller beyond the call itself, read before the step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CallerRecord {
    /// The blocklist rule blocking the caller's number.
    pub blocked_by: Option<i64>,
    /// The caller's other calls started in the last hour.
    pub calls_last_hour: u32,
    /// The caller's voicemails of today (Moscow day).
    pub voicemails_today: u32,
}

#[cfg(test)]
#[path = "blocklist_tests.rs"]
mod tests;
