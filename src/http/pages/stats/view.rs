//! Russian formatting of the figures for the statistics pages: a rate as "66,7 %", seconds as
//! "21,7 с", a dash where a figure is undefined; every shown figure keeps its raw value in a
//! `data-value` attribute (what the browser test compares with the API).

use crate::stats::Figures;
use crate::stats::figures::FORMULAS;

/// A figure as shown: its key, Russian name, text, raw value and formula.
#[derive(Debug, Clone)]
pub struct Shown {
    pub key: &'static str,
    pub name: &'static str,
    pub text: String,
    pub value: String,
    pub formula: &'static str,
}

/// "66,7 %" (or "—").
pub fn percent(v: Option<f64>) -> String {
    v.map(|v| format!("{:.1} %", v * 100.0).replace('.', ","))
        .unwrap_or_else(|| "—".into())
}

/// "21,7 с" (or "—").
pub fn seconds(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.1} с").replace('.', ","))
        .unwrap_or_else(|| "—".into())
}

/// The raw value for `data-value` (empty when undefined).
pub fn raw(v: Option<f64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

fn formula(key: &str) -> &'static str {
    FORMULAS
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, f)| *f)
        .unwrap_or("")
}

/// The call figures of a summary, in the order the page shows them.
pub fn shown(f: &Figures) -> Vec<Shown> {
    let count = |key, name, n: i64| Shown {
        key,
        name,
        text: n.to_string(),
        value: n.to_string(),
        formula: formula(key),
    };
    let rate = |key, name, v: Option<f64>| Shown {
        key,
        name,
        text: percent(v),
        value: raw(v),
        formula: formula(key),
    };
    let secs = |key, name, v: Option<f64>| Shown {
        key,
        name,
        text: seconds(v),
        value: raw(v),
        formula: formula(key),
    };
    vec![
        count("offered", "Поступило в рабочее время", f.offered),
        count("answered", "Принято", f.answered),
        count("abandoned", "Сброшено в ожидании", f.abandoned),
        count("abandoned_short", "из них коротких", f.abandoned_short),
        count("voicemail", "На голосовую почту", f.voicemail),
        count("off_hours", "В нерабочее время", f.off_hours),
        rate(
            "service_level",
            "Уровень обслуживания (SL)",
            f.service_level,
        ),
        rate(
            "service_level2",
            "Уровень обслуживания (SL2)",
            f.service_level2,
        ),
        secs("asa_secs", "Среднее ожидание ответа (ASA)", f.asa_secs),
        secs(
            "longest_wait_secs",
            "Наибольшее ожидание",
            Some(f.longest_wait_secs),
        ),
        secs(
            "avg_abandon_secs",
            "Среднее ожидание до сброса",
            f.avg_abandon_secs,
        ),
        rate("abandon_rate", "Доля сброшенных", f.abandon_rate),
        secs("aht_secs", "Среднее время обслуживания (AHT)", f.aht_secs),
        rate("occupancy", "Занятость операторов", f.occupancy),
    ]
}

/// A row of a figures table as shown.
#[derive(Debug, Clone)]
pub struct Row {
    pub key: String,
    pub label: String,
    pub offered: i64,
    pub answered: i64,
    pub abandoned: i64,
    pub abandoned_short: i64,
    pub voicemail: i64,
    pub off_hours: i64,
    pub sl: String,
    pub sl2: String,
    pub asa: String,
    pub aht: String,
    pub occupancy: String,
}

impl Row {
    pub fn new(label: String, f: &Figures) -> Row {
        Row {
            key: f.key.clone(),
            label,
            offered: f.offered,
            answered: f.answered,
            abandoned: f.abandoned,
            abandoned_short: f.abandoned_short,
            voicemail: f.voicemail,
            off_hours: f.off_hours,
            sl: percent(f.service_level),
            sl2: percent(f.service_level2),
            asa: seconds(f.asa_secs),
            aht: seconds(f.aht_secs),
            occupancy: percent(f.occupancy),
        }
    }
}
