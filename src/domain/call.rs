//! A call's life as a state machine. Every stored call event carries the state it left the call
//! in; the routing core moves a call only along the transitions below, so an out-of-order or
//! re-delivered event can never bring a finished call back to life.
//!
//! ```text
//! incoming ─┬─▶ ringing_operator ─┬─▶ connected ─▶ completed
//!           │        ▲            ├─▶ queued / voicemail / goodbye (operator did not answer)
//!           ├─▶ queued ─▶ connecting ─▶ ringing_operator
//!           │     └──────────────────▶ voicemail / goodbye / abandoned
//!           ├─▶ voicemail ─▶ voicemail_left ─▶ completed
//!           └─▶ goodbye ─▶ completed            (any live state ─▶ abandoned when the caller hangs up)
//! ```

use super::named_enum;

named_enum! {
    /// Where a call is in its life.
    pub enum CallState: "call state" {
        /// Arrived; no decision yet.
        Incoming = "incoming",
        /// An operator's phone is ringing for this call.
        RingingOperator = "ringing_operator",
        /// Waiting in the hold queue.
        Queued = "queued",
        /// Taken out of the queue for a freed operator; the provider is moving the call.
        Connecting = "connecting",
        /// Talked to an operator.
        Connected = "connected",
        /// Leaving a voice message.
        Voicemail = "voicemail",
        /// A voice message was left.
        VoicemailLeft = "voicemail_left",
        /// Told when to call again and hung up on (no voicemail possible).
        Goodbye = "goodbye",
        /// The caller hung up before talking to anyone or leaving a message.
        Abandoned = "abandoned",
        /// Over after a conversation or a message.
        Completed = "completed",
    }
}

impl CallState {
    /// True once nothing more can happen to the call.
    pub fn is_final(self) -> bool {
        matches!(self, CallState::Abandoned | CallState::Completed)
    }

    /// True when the caller is still on the line waiting for the hotline.
    pub fn is_waiting(self) -> bool {
        matches!(
            self,
            CallState::Incoming
                | CallState::Queued
                | CallState::Connecting
                | CallState::RingingOperator
        )
    }

    /// Whether the machine allows moving from `self` to `next` (staying put is always allowed).
    pub fn can_become(self, next: CallState) -> bool {
        use CallState::*;
        if self == next {
            return true;
        }
        match self {
            Abandoned | Completed => false,
            Incoming => next != Connecting && next != VoicemailLeft,
            RingingOperator => matches!(
                next,
                Connected | Queued | Voicemail | Goodbye | Abandoned | RingingOperator
            ),
            Queued => matches!(
                next,
                Connecting | RingingOperator | Voicemail | Goodbye | Abandoned
            ),
            Connecting => matches!(
                next,
                RingingOperator | Queued | Voicemail | Goodbye | Abandoned
            ),
            Connected => matches!(next, Completed),
            Voicemail => matches!(next, VoicemailLeft | Abandoned | Completed),
            VoicemailLeft => matches!(next, Completed),
            Goodbye => matches!(next, Completed | Abandoned),
        }
    }

    /// The state a call ends in when the provider reports it over, given where it was.
    pub fn when_ended(self) -> CallState {
        match self {
            CallState::Connected
            | CallState::VoicemailLeft
            | CallState::Goodbye
            | CallState::Completed => CallState::Completed,
            _ => CallState::Abandoned,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::CallState::{self, *};

    #[test]
    fn final_states_never_move() {
        for s in CallState::ALL {
            assert!(!Completed.can_become(*s) || *s == Completed);
            assert!(!Abandoned.can_become(*s) || *s == Abandoned);
        }
    }

    #[test]
    fn the_main_paths_are_allowed() {
        let paths: &[&[CallState]] = &[
            &[Incoming, RingingOperator, Connected, Completed],
            &[
                Incoming,
                RingingOperator,
                Queued,
                Connecting,
                RingingOperator,
                Connected,
                Completed,
            ],
            &[Incoming, Queued, Voicemail, VoicemailLeft, Completed],
            &[Incoming, Goodbye, Completed],
            &[Incoming, Queued, Abandoned],
        ];
        for path in paths {
            for w in path.windows(2) {
                assert!(w[0].can_become(w[1]), "{} -> {}", w[0], w[1]);
            }
        }
        assert!(!Connected.can_become(Queued));
        assert!(!Incoming.can_become(Connecting));
    }

    #[test]
    fn ending() {
        assert_eq!(Connected.when_ended(), Completed);
        assert_eq!(Queued.when_ended(), Abandoned);
        assert_eq!(RingingOperator.when_ended(), Abandoned);
        assert_eq!(Goodbye.when_ended(), Completed);
    }
}
