//! Voicemail facts shared by routing, storage and the callback list: who the caller says they are
//! (their category, used by callback priority) and the flags a voicemail can carry.

use super::named_enum;

named_enum! {
    /// Who is calling, as chosen on the keypad.
    pub enum CallerCategory: "caller category" {
        /// School staff (teachers, administration): key 1.
        Staff = "staff",
        /// A parent or a student: key 2.
        Parent = "parent",
    }
}

impl CallerCategory {
    /// The category for a keypad digit.
    pub fn from_digit(digits: &str) -> Option<CallerCategory> {
        match digits.trim_end_matches('#') {
            "1" => Some(CallerCategory::Staff),
            "2" => Some(CallerCategory::Parent),
            _ => None,
        }
    }
}

/// The callback number could not be confirmed on the keypad; the caller ID (possibly hidden) was kept.
pub const FLAG_NUMBER_UNCONFIRMED: &str = "number_unconfirmed";
/// The caller hung up or nothing was recorded: a callback is still due.
pub const FLAG_NO_RECORDING: &str = "no_recording";
/// No message: the caller hung up waiting in the queue and joined the callback list by their
/// caller ID (`callbacks.abandoned_join_after_secs`).
pub const FLAG_ABANDONED_IN_QUEUE: &str = "abandoned_in_queue";
/// The voicemail has no number that can be called back (the caller ID was hidden and none typed).
pub const FLAG_NO_CALLBACK_NUMBER: &str = "no_callback_number";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits() {
        assert_eq!(CallerCategory::from_digit("1"), Some(CallerCategory::Staff));
        assert_eq!(
            CallerCategory::from_digit("2#"),
            Some(CallerCategory::Parent)
        );
        assert_eq!(CallerCategory::from_digit("3"), None);
        assert_eq!(CallerCategory::from_digit(""), None);
    }
}
