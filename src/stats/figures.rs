//! The queue figures and their formulas: from a [`Tally`] of raw sums to the rates and averages a
//! supervisor reads. Pure. Each formula is written once in [`FORMULAS`] (shown on the pages next
//! to its figure) and computed once here; a rate whose denominator is zero is `None` (shown as a
//! dash, `null` in JSON), never 0 or 100 %.
//!
//! Service level follows Asterisk's two definitions (`queue_log`/`show queue`): SL counts answered
//! calls only, SL2 also counts callers who hung up within the threshold as served (they gave up
//! before the target would have been missed). "Within" includes the threshold itself
//! (`wait <= T`), as Asterisk does.

use serde::Serialize;

use crate::store::stats::Tally;

/// A figure's key and its formula in Russian, in the order the pages show them.
pub const FORMULAS: &[(&str, &str)] = &[
    ("offered", "звонки, поступившие в рабочее время"),
    ("answered", "звонки, принятые оператором"),
    (
        "abandoned",
        "звонившие, положившие трубку в ожидании оператора (включая короткие)",
    ),
    (
        "abandoned_short",
        "из них положили трубку быстрее порога короткого сброса",
    ),
    ("voicemail", "звонки, направленные на голосовую почту"),
    ("off_hours", "звонки в нерабочее время"),
    (
        "service_level",
        "SL = принятые за T / принятые (первое определение Asterisk)",
    ),
    (
        "service_level2",
        "SL2 = (принятые за T + сброшенные за T) / (принятые + сброшенные) (второе определение Asterisk)",
    ),
    ("asa_secs", "ASA = сумма ожидания до ответа / принятые"),
    (
        "longest_wait_secs",
        "наибольшее ожидание до ответа или до сброса",
    ),
    ("avg_abandon_secs", "сумма ожидания до сброса / сброшенные"),
    (
        "abandon_rate",
        "(сброшенные − короткие) / (поступившие − короткие)",
    ),
    (
        "aht_secs",
        "AHT = (разговор + поствызывная обработка) / принятые",
    ),
    (
        "occupancy",
        "занятость = (разговор + обработка) / (время на линии: доступен, в разговоре, в обработке)",
    ),
];

/// The queue figures of a group of calls.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Figures {
    /// The group: the hour, the day or the operator's id (none in a summary).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub key: String,
    pub calls: i64,
    pub offered: i64,
    pub answered: i64,
    pub abandoned: i64,
    pub abandoned_short: i64,
    pub voicemail: i64,
    pub voicemail_left: i64,
    pub off_hours: i64,
    pub voicemail_by_reason: VoicemailReasons,
    pub service_level: Option<f64>,
    pub service_level2: Option<f64>,
    pub asa_secs: Option<f64>,
    pub longest_wait_secs: f64,
    pub avg_abandon_secs: Option<f64>,
    pub abandon_rate: Option<f64>,
    pub aht_secs: Option<f64>,
    pub talk_secs: f64,
    pub wrap_up_secs: f64,
    /// Set where the time operators staffed the line is known (summary, by operator).
    pub occupancy: Option<f64>,
}

/// Why calls went to voicemail.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct VoicemailReasons {
    pub off_hours: i64,
    pub choice: i64,
    pub timeout: i64,
    pub no_answer: i64,
    pub no_operator: i64,
}

fn ratio(num: i64, den: i64) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

fn secs(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

/// The figures of a tally.
pub fn figures(t: &Tally) -> Figures {
    let per = |ms: i64, n: i64| ratio(ms, n).map(|v| v / 1000.0);
    let vm = VoicemailReasons {
        off_hours: t.vm_off_hours,
        choice: t.vm_choice,
        timeout: t.vm_timeout,
        no_answer: t.vm_no_answer,
        no_operator: t.voicemail - t.vm_off_hours - t.vm_choice - t.vm_timeout - t.vm_no_answer,
    };
    Figures {
        key: t.k.clone(),
        calls: t.calls,
        offered: t.offered,
        answered: t.answered,
        abandoned: t.abandoned,
        abandoned_short: t.abandoned_short,
        voicemail: t.voicemail,
        voicemail_left: t.voicemail_left,
        off_hours: t.off_hours,
        voicemail_by_reason: vm,
        service_level: ratio(t.answered_in_sl, t.answered),
        service_level2: ratio(
            t.answered_in_sl + t.abandoned_in_sl,
            t.answered + t.abandoned,
        ),
        asa_secs: per(t.answer_wait_ms, t.answered),
        longest_wait_secs: secs(t.longest_wait_ms),
        avg_abandon_secs: per(t.abandon_wait_ms, t.abandoned),
        abandon_rate: ratio(
            t.abandoned - t.abandoned_short,
            t.offered - t.abandoned_short,
        ),
        aht_secs: per(t.talk_ms + t.wrap_up_ms, t.answered),
        talk_secs: secs(t.talk_ms),
        wrap_up_secs: secs(t.wrap_up_ms),
        occupancy: None,
    }
}

/// Occupancy from handled time and the time on the line (`None` when nobody staffed it).
pub fn occupancy(handled_ms: i64, staffed_ms: i64) -> Option<f64> {
    ratio(handled_ms, staffed_ms).map(|v| v.min(1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_none_without_a_denominator() {
        let f = figures(&Tally::default());
        assert_eq!(f.service_level, None);
        assert_eq!(f.service_level2, None);
        assert_eq!(f.asa_secs, None);
        assert_eq!(f.abandon_rate, None);
        assert_eq!(f.aht_secs, None);
        assert_eq!(occupancy(5, 0), None);
    }

    #[test]
    fn both_service_levels_and_the_abandon_rate() {
        // 4 answered (3 within T), 2 abandoned (1 within T, 1 of them short), 10 offered.
        let t = Tally {
            offered: 10,
            answered: 4,
            answered_in_sl: 3,
            abandoned: 2,
            abandoned_short: 1,
            abandoned_in_sl: 1,
            answer_wait_ms: 40_000,
            talk_ms: 400_000,
            wrap_up_ms: 120_000,
            voicemail: 3,
            vm_off_hours: 1,
            vm_choice: 1,
            ..Tally::default()
        };
        let f = figures(&t);
        assert_eq!(f.service_level, Some(0.75));
        assert_eq!(f.service_level2, Some(4.0 / 6.0));
        assert_eq!(f.abandon_rate, Some(1.0 / 9.0));
        assert_eq!(f.asa_secs, Some(10.0));
        assert_eq!(f.aht_secs, Some(130.0));
        assert_eq!(f.voicemail_by_reason.no_operator, 1);
        assert_eq!(occupancy(30, 60), Some(0.5));
    }
}
