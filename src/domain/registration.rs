//! Registration numbers: every request (from a voicemail, a letter, or made by hand) gets a
//! human-readable number such as `ШП-2026-000123` when it is created, which the caller hears and
//! is sent, and which staff search by. The format is configurable (`callbacks.registration_format`)
//! as a template with two placeholders: `{seq}` (the request's sequence number, optionally padded
//! with zeros to a width, `{seq:06}`) and `{year}` (the Moscow year of the request). With `{year}`
//! the sequence starts again at 1 every year (its counter's scope is the year); without it one
//! counter runs for ever (scope 0). The counters live in the database and only ever grow, so a
//! number is never given twice, whichever instance creates the request. This module is pure: it
//! renders numbers, says which counter a request draws from, and recognises a number typed into
//! a search box.

use std::fmt;

use chrono::{DateTime, Datelike, Utc};

use crate::calendar::MOSCOW;

/// The default template.
pub const DEFAULT_FORMAT: &str = "ШП-{year}-{seq:06}";

/// A parsed registration-number template.
#[derive(Clone, PartialEq, Eq)]
pub struct RegistrationFormat {
    parts: Vec<Part>,
    source: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Year,
    Seq { width: usize },
}

impl fmt::Debug for RegistrationFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RegistrationFormat({:?})", self.source)
    }
}

impl Default for RegistrationFormat {
    fn default() -> Self {
        RegistrationFormat::parse(DEFAULT_FORMAT).expect("the default format is valid")
    }
}

impl RegistrationFormat {
    /// Parses a template; the error says what is wrong in Russian-free words for the config
    /// error message.
    pub fn parse(template: &str) -> Result<RegistrationFormat, String> {
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut rest = template;
        let (mut seq, mut year) = (0, 0);
        while let Some(open) = rest.find('{') {
            if rest[..open].contains('}') {
                return Err(format!("a '}}' without '{{' in {template:?}"));
            }
            text.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let close = after
                .find('}')
                .ok_or_else(|| format!("an unclosed '{{' in {template:?}"))?;
            let name = &after[..close];
            let part = match name {
                "year" => {
                    year += 1;
                    Part::Year
                }
                "seq" => {
                    seq += 1;
                    Part::Seq { width: 0 }
                }
                _ => match name.strip_prefix("seq:") {
                    Some(w) if !w.is_empty() && w.chars().all(|c| c.is_ascii_digit()) => {
                        let width: usize = w.parse().map_err(|_| format!("bad width {w:?}"))?;
                        if width > 12 {
                            return Err(format!("the width of {{seq:{w}}} is over 12"));
                        }
                        seq += 1;
                        Part::Seq { width }
                    }
                    _ => {
                        return Err(format!(
                            "unknown placeholder {{{name}}} (known: {{year}}, {{seq}}, {{seq:06}})"
                        ));
                    }
                },
            };
            if !text.is_empty() {
                parts.push(Part::Text(std::mem::take(&mut text)));
            }
            parts.push(part);
            rest = &after[close + 1..];
        }
        if rest.contains('}') {
            return Err(format!("a '}}' without '{{' in {template:?}"));
        }
        text.push_str(rest);
        if !text.is_empty() {
            parts.push(Part::Text(text));
        }
        if seq != 1 {
            return Err(format!("{template:?} must contain {{seq}} exactly once"));
        }
        if year > 1 {
            return Err(format!("{template:?} contains {{year}} more than once"));
        }
        if template.chars().count() > 40 {
            return Err("the template is longer than 40 characters".into());
        }
        Ok(RegistrationFormat {
            parts,
            source: template.to_owned(),
        })
    }

    /// The template as configured.
    pub fn template(&self) -> &str {
        &self.source
    }

    /// Whether numbers carry the year (and the sequence restarts every year).
    pub fn yearly(&self) -> bool {
        self.parts.contains(&Part::Year)
    }

    /// The counter a request created in Moscow year `year` draws from.
    pub fn scope(&self, year: i32) -> i64 {
        if self.yearly() { i64::from(year) } else { 0 }
    }

    /// The counter a request created at `at` draws from.
    pub fn scope_at(&self, at: DateTime<Utc>) -> i64 {
        self.scope(moscow_year(at))
    }

    /// The number of the `seq`-th request of the counter a request created at `at` draws from.
    pub fn number_at(&self, at: DateTime<Utc>, seq: i64) -> String {
        self.render(moscow_year(at), seq)
    }

    /// The number of the `seq`-th request of `year`.
    pub fn render(&self, year: i32, seq: i64) -> String {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Year => out.push_str(&year.to_string()),
                Part::Seq { width } => out.push_str(&format!("{seq:0width$}")),
            }
        }
        out
    }

    /// The number as stored and searched: a search box query that reads as a number of this
    /// format, ignoring case, spaces and the kind of dash, and accepting the sequence without its
    /// zeros (`шп-2026-123`). `None` when the query is not such a number.
    pub fn recognise(&self, query: &str) -> Option<String> {
        let q = normalise(query);
        let mut rest = q.as_str();
        let (mut year, mut seq) = (None, None);
        for (i, p) in self.parts.iter().enumerate() {
            match p {
                Part::Text(t) => {
                    rest = rest.strip_prefix(normalise(t).as_str())?;
                    // "№ 123" for "№{seq}": a gap after the text is not part of the number.
                    rest = rest.strip_prefix('-').unwrap_or(rest);
                }
                Part::Year | Part::Seq { .. } => {
                    // Digits up to the next literal text (or the end).
                    let next = self.parts[i + 1..].iter().find_map(|p| match p {
                        Part::Text(t) => Some(normalise(t)),
                        _ => None,
                    });
                    let end = rest
                        .char_indices()
                        .find(|(_, c)| !c.is_ascii_digit())
                        .map_or(rest.len(), |(at, _)| at);
                    let digits = &rest[..end];
                    if digits.is_empty() || digits.len() > 18 {
                        return None;
                    }
                    if next.as_deref().is_some_and(|n| !rest[end..].starts_with(n)) {
                        return None;
                    }
                    let n: i64 = digits.parse().ok()?;
                    if matches!(p, Part::Year) {
                        year = Some(i32::try_from(n).ok()?);
                    } else {
                        seq = Some(n);
                    }
                    rest = &rest[end..];
                }
            }
        }
        if !rest.is_empty() {
            return None;
        }
        let seq = seq.filter(|s| *s > 0)?;
        Some(self.render(year.unwrap_or(0), seq))
    }
}

/// Lower case; every run of spaces and dashes one hyphen-minus (`ШП 2026 — 123` is
/// `шп-2026-123`), none at the ends; Latin look-alikes of Cyrillic letters as Cyrillic (what a
/// person copying a number by eye may type).
fn normalise(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut gap = false;
    for c in s.chars() {
        if c.is_whitespace() || "-‐‑‒–—−".contains(c) {
            gap = true;
            continue;
        }
        if gap && !out.is_empty() {
            out.push('-');
        }
        gap = false;
        out.push(c);
    }
    out.chars()
        .map(|c| match c {
            'A' | 'a' => 'а',
            'B' => 'в',
            'C' | 'c' => 'с',
            'E' | 'e' => 'е',
            'H' => 'н',
            'K' | 'k' => 'к',
            'M' => 'м',
            'O' | 'o' => 'о',
            'P' | 'p' => 'р',
            'T' => 'т',
            'X' | 'x' => 'х',
            'Y' | 'y' => 'у',
            c => c,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

/// The year of `at` in Moscow (a request made at 01:00 on 1 January, Moscow time, is of the new
/// year although it is still the old one in UTC).
pub fn moscow_year(at: DateTime<Utc>) -> i32 {
    at.with_timezone(&MOSCOW).year()
}

/// The digits a caller hears: the sequence number at the end of `number`, without its leading
/// zeros (`ШП-2026-000123` → 123). `None` when the number does not end in digits.
pub fn spoken_sequence(number: &str) -> Option<u64> {
    let start = number
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_ascii_digit())
        .last()
        .map(|(at, _)| at)?;
    number[start..].parse().ok()
}

#[cfg(test)]
mod tests;
