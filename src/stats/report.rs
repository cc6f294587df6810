//! The shapes the statistics are served in: the summary (JSON), the abandoned callers, and CSV
//! export of any table. CSV is UTF-8 with a byte-order mark (so Excel opens Cyrillic correctly);
//! with the `;` separator — what Excel expects in a Russian locale — decimals get a comma too.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::callbacks::CallbackFigures;
use super::figures::{FORMULAS, Figures};
use super::{Range, StatsSettings};
use crate::calendar::MOSCOW;
use crate::store::stats::AbandonedRow;

/// The summary of a range.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub from: String,
    pub to: String,
    pub sl_threshold_secs: i64,
    pub short_abandon_secs: i64,
    #[serde(flatten)]
    pub calls: Figures,
    pub callbacks_created: i64,
    pub callbacks_done: i64,
    pub callbacks_first_attempt_rate: Option<f64>,
    pub callbacks_sla_met_rate: Option<f64>,
    /// When the oldest request not yet closed was made (now, whatever the range).
    pub callbacks_oldest_open_at: Option<String>,
    pub callbacks: CallbackFigures,
    pub formulas: BTreeMap<&'static str, &'static str>,
}

impl Summary {
    pub fn new(
        range: Range,
        s: &StatsSettings,
        mut calls: Figures,
        staffed_ms: i64,
        cb: CallbackFigures,
        oldest: Option<DateTime<Utc>>,
    ) -> Summary {
        let handled = ((calls.talk_secs + calls.wrap_up_secs) * 1000.0) as i64;
        calls.occupancy = super::figures::occupancy(handled, staffed_ms);
        Summary {
            from: range.from.to_string(),
            to: range.to.to_string(),
            sl_threshold_secs: s.sl_threshold.num_seconds(),
            short_abandon_secs: s.short_abandon.num_seconds(),
            calls,
            callbacks_created: cb.created,
            callbacks_done: cb.done,
            callbacks_first_attempt_rate: cb.first_attempt_rate,
            callbacks_sla_met_rate: cb.sla_met_rate,
            callbacks_oldest_open_at: oldest.map(moscow_time),
            callbacks: cb,
            formulas: FORMULAS.iter().copied().collect(),
        }
    }
}

/// An instant as Moscow time with its offset (`2026-12-01T09:00:05+03:00`).
pub fn moscow_time(t: DateTime<Utc>) -> String {
    t.with_timezone(&MOSCOW)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A caller who hung up waiting for an operator.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AbandonedCaller {
    pub call_id: i64,
    /// When the call started (Moscow time).
    pub at: String,
    /// The caller's number as the provider gave it (supervisors only; personal data).
    pub number: Option<String>,
    pub waited_secs: f64,
    /// What became of the caller later: `got_through` (a later call was answered),
    /// `called_back` (a callback reached them), `voicemail` (a later call left a message),
    /// `on_list` (a callback request is open), or `null` (nothing yet).
    pub later: Option<&'static str>,
}

impl From<AbandonedRow> for AbandonedCaller {
    fn from(r: AbandonedRow) -> AbandonedCaller {
        let later = if r.got_through != 0 {
            Some("got_through")
        } else if r.called_back != 0 {
            Some("called_back")
        } else if r.left_voicemail != 0 {
            Some("voicemail")
        } else if r.on_list != 0 {
            Some("on_list")
        } else {
            None
        };
        AbandonedCaller {
            call_id: r.call_id,
            at: moscow_time(crate::store::from_ms(r.started_at_ms)),
            number: r.number,
            waited_secs: (r.abandoned_at_ms - r.started_at_ms) as f64 / 1000.0,
            later,
        }
    }
}

/// A CSV table: a header and its rows of cells.
pub struct Table {
    pub header: Vec<&'static str>,
    pub rows: Vec<Vec<Cell>>,
}

/// A CSV cell.
pub enum Cell {
    Text(String),
    Int(i64),
    Num(Option<f64>),
}

/// The columns of a figures table after its key column.
pub const FIGURE_COLUMNS: [&str; 14] = [
    "offered",
    "answered",
    "abandoned",
    "abandoned_short",
    "voicemail",
    "off_hours",
    "service_level",
    "service_level2",
    "asa_secs",
    "longest_wait_secs",
    "avg_abandon_secs",
    "abandon_rate",
    "aht_secs",
    "occupancy",
];

/// A figures table (by hour, day or operator) with its key column named `key`.
pub fn figures_table(key: &'static str, rows: &[Figures]) -> Table {
    let mut header = vec![key];
    header.extend(FIGURE_COLUMNS);
    let rows = rows
        .iter()
        .map(|f| {
            vec![
                Cell::Text(f.key.clone()),
                Cell::Int(f.offered),
                Cell::Int(f.answered),
                Cell::Int(f.abandoned),
                Cell::Int(f.abandoned_short),
                Cell::Int(f.voicemail),
                Cell::Int(f.off_hours),
                Cell::Num(f.service_level),
                Cell::Num(f.service_level2),
                Cell::Num(f.asa_secs),
                Cell::Num(Some(f.longest_wait_secs)),
                Cell::Num(f.avg_abandon_secs),
                Cell::Num(f.abandon_rate),
                Cell::Num(f.aht_secs),
                Cell::Num(f.occupancy),
            ]
        })
        .collect();
    Table { header, rows }
}

/// The table as CSV: UTF-8 with a BOM, `sep` between cells (`;` also makes the decimal mark a
/// comma), CRLF line ends; an undefined figure is an empty cell.
pub fn to_csv(t: &Table, sep: u8) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .delimiter(sep)
        .terminator(csv::Terminator::CRLF)
        .from_writer(b"\xEF\xBB\xBF".to_vec());
    let num = |v: f64| {
        let s = format!("{}", (v * 10_000.0).round() / 10_000.0);
        if sep == b';' { s.replace('.', ",") } else { s }
    };
    // Writing to a Vec cannot fail.
    let _ = w.write_record(&t.header);
    for row in &t.rows {
        let cells = row.iter().map(|c| match c {
            Cell::Text(s) => s.clone(),
            Cell::Int(n) => n.to_string(),
            Cell::Num(v) => v.map(num).unwrap_or_default(),
        });
        let _ = w.write_record(cells);
    }
    w.into_inner().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_has_a_bom_and_the_russian_excel_variant() {
        let t = Table {
            header: vec!["hour", "service_level", "note"],
            rows: vec![vec![
                Cell::Text("9".into()),
                Cell::Num(Some(0.75)),
                Cell::Text("звонки; \"ок\"".into()),
            ]],
        };
        let comma = to_csv(&t, b',');
        assert!(comma.starts_with(b"\xEF\xBB\xBF"));
        let text = String::from_utf8(comma[3..].to_vec()).unwrap();
        assert_eq!(
            text,
            "hour,service_level,note\r\n9,0.75,\"звонки; \"\"ок\"\"\"\r\n"
        );
        let semi = String::from_utf8(to_csv(&t, b';')[3..].to_vec()).unwrap();
        assert_eq!(
            semi,
            "hour;service_level;note\r\n9;0,75;\"звонки; \"\"ок\"\"\"\r\n"
        );
        let empty = Table {
            header: vec!["x"],
            rows: vec![vec![Cell::Num(None)]],
        };
        assert_eq!(&to_csv(&empty, b',')[3..], b"x\r\n\"\"\r\n");
    }
}
