//! The neutral call model every provider adapter translates to and from.
//!
//! A provider tells us what happened to a call ([`CallEvent`]); the routing core answers with what
//! the call should do next ([`Reply`], a short list of [`Verb`]s). Adapters (`twilio.rs`, later
//! `zadarma.rs`) verify the provider's signature, parse its request into a `CallEvent`, and render a
//! `Reply` into the provider's language (TwiML, JSON). Follow-up requests the provider makes (the
//! result of a dial, a queue wait tick, digits entered) are named by a [`Step`], which each adapter
//! maps to its own URLs. No provider name appears outside the adapters.

use chrono::TimeDelta;

use crate::domain::operator::ContactKind;
use crate::speech::Utterance;

pub mod twilio;
pub mod zadarma;

/// Where a follow-up request of the provider goes (rendered by the adapter as a URL).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    /// The result of dialing an operator.
    DialResult,
    /// A periodic tick while the caller waits in the hold queue (announcements are fetched here).
    QueueWait,
    /// The caller left the hold queue (bridged, hung up, left for voicemail, redirected).
    QueueLeft,
    /// Digits pressed while waiting in the queue (1 = leave a voicemail).
    QueueMenu,
    /// A queued caller is being connected to a freed operator.
    Connect,
    /// The callback number entered on the keypad (`attempt` counts from 0).
    VoicemailNumber { attempt: u8 },
    /// The caller category chosen on the keypad (`attempt` counts from 0).
    VoicemailCategory { attempt: u8 },
    /// The voice message was recorded (or the caller pressed the finish key).
    Recorded,
    /// The provider reports a recording's status (ready to download, absent, failed).
    RecordingReady,
}

/// What a provider reports about a call.
#[derive(Debug, Clone, PartialEq)]
pub struct CallEvent {
    /// The provider's id of the call (Twilio `CallSid`).
    pub call_id: String,
    /// Caller and called numbers as the provider gave them (E.164, SIP URI, or missing).
    pub from: Option<String>,
    pub to: Option<String>,
    pub kind: EventKind,
}

/// The kinds of call events.
#[derive(Debug, Clone, PartialEq)]
pub enum EventKind {
    /// A new inbound call asks what to do.
    Incoming,
    /// The dialed operator's leg ended.
    DialEnded {
        outcome: DialOutcome,
        talk: TimeDelta,
    },
    /// A wait tick in the hold queue.
    QueueWait { position: u32, waited: TimeDelta },
    /// The caller left the queue.
    QueueLeft {
        result: QueueResult,
        waited: TimeDelta,
    },
    /// Digits entered at a step (`None` when the caller entered nothing before the timeout).
    Digits { step: Step, digits: Option<String> },
    /// A queued caller's redirect to a freed operator arrived.
    Connect { operator_id: i64 },
    /// The call's own status changed; `sequence` orders callbacks that arrive out of order.
    Status {
        status: CallStatus,
        sequence: Option<u32>,
        duration: Option<TimeDelta>,
    },
    /// Recording the voice message ended; `recording` is `None` when nothing was recorded.
    Recorded {
        recording: Option<Recording>,
        digits: Option<String>,
    },
    /// A recording's status callback (may arrive after the call ended).
    RecordingReady {
        recording: Recording,
        status: RecordingStatus,
    },
}

/// A recording at the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recording {
    /// The provider's id (Twilio `RecordingSid`).
    pub id: String,
    /// Where to download it from.
    pub url: String,
    pub duration: Option<TimeDelta>,
}

/// What the provider says about a recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordingStatus {
    /// The file is ready to download.
    Completed,
    /// Nothing usable was recorded (too short or silent).
    Absent,
    Failed,
    InProgress,
}

/// How dialing an operator ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialOutcome {
    /// The operator answered and the conversation ended.
    Answered,
    Busy,
    NoAnswer,
    Failed,
    /// The caller hung up while the operator's phone rang.
    Canceled,
}

/// Why a caller left the hold queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueResult {
    /// Connected to an operator from the queue.
    Bridged,
    /// We asked the caller to leave (maximum wait, pressed 1, last operator logged off).
    Left,
    /// Moved out of the queue by the REST API (to a freed operator).
    Redirected,
    /// The caller hung up while waiting.
    Hangup,
    /// The provider failed.
    Error,
}

/// A call's own status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallStatus {
    Queued,
    Ringing,
    InProgress,
    Completed,
    Busy,
    NoAnswer,
    Failed,
    Canceled,
}

impl CallStatus {
    /// True once the call is over.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            CallStatus::Completed
                | CallStatus::Busy
                | CallStatus::NoAnswer
                | CallStatus::Failed
                | CallStatus::Canceled
        )
    }
}

/// How a call reaches an operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DialTarget {
    pub operator_id: i64,
    pub kind: ContactKind,
    /// E.164 number, SIP URI or extension.
    pub contact: String,
}

/// One thing a call should do.
#[derive(Debug, Clone, PartialEq)]
pub enum Verb {
    /// Speak (clips or TTS, as the adapter is configured).
    Say(Utterance),
    /// Silence.
    Pause(TimeDelta),
    /// Ring an operator for at most `ring_timeout`; the result arrives at [`Step::DialResult`].
    Dial {
        target: DialTarget,
        ring_timeout: TimeDelta,
        caller_id: Option<String>,
    },
    /// Put the caller in the hold queue `queue`; ticks arrive at [`Step::QueueWait`], leaving at [`Step::QueueLeft`].
    Enqueue { queue: String },
    /// Collect up to `max_digits` digits while `prompt` plays; the digits arrive at `step`.
    Gather {
        prompt: Vec<Verb>,
        max_digits: u32,
        timeout: TimeDelta,
        finish_on_key: Option<char>,
        step: Step,
    },
    /// Record a voice message after a beep, at most `max_length`, ending on `finish_on_key`; the
    /// result arrives at [`Step::Recorded`], the file's status at [`Step::RecordingReady`].
    Record {
        max_length: TimeDelta,
        finish_on_key: char,
    },
    /// Continue at `step` (as if it had been reached with no input).
    Redirect(Step),
    /// Leave the hold queue (only valid while queued).
    Leave,
    /// End the call.
    Hangup,
}

/// What a call should do next, in order.
pub type Reply = Vec<Verb>;

/// Control of live calls through the provider's REST API (the part of an adapter that calls out).
#[async_trait::async_trait]
pub trait CallControl: Send + Sync {
    /// The provider's name as stored with calls (`twilio`).
    fn provider(&self) -> &'static str;
    /// Moves a caller waiting in the hold queue to a freed operator: the provider then asks
    /// [`Step::Connect`] what to do, and the routing core dials that operator.
    async fn connect_queued(&self, call_id: &str, operator_id: i64) -> Result<(), ControlError>;
}

/// Why the provider refused to act on a live call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ControlError {
    /// The call is over (the caller hung up and we never heard of it): end it on our side too.
    #[error("the call is no longer in progress: {0}")]
    CallOver(String),
    /// Anything else (a timeout, a 5xx, a refusal): the caller keeps their place in the queue.
    #[error("{0}")]
    Failed(String),
}

/// Why fetching a recording failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The provider has no such recording (yet, or any more).
    #[error("the provider has no such recording")]
    NotFound,
    /// A timeout, a network failure or a 5xx: try again later.
    #[error("temporary failure: {0}")]
    Temporary(String),
    /// Anything else (authentication, a bad request): retrying may help once configuration is fixed.
    #[error("failed: {0}")]
    Failed(String),
}

/// Downloading (and deleting) recordings at the provider.
#[async_trait::async_trait]
pub trait RecordingSource: Send + Sync {
    /// The provider's name as stored with calls.
    fn provider(&self) -> &'static str;
    /// Downloads the recording's audio.
    async fn fetch(&self, recording_id: &str, url: &str) -> Result<Vec<u8>, FetchError>;
    /// Deletes the recording at the provider once it is stored here.
    async fn delete(&self, recording_id: &str) -> Result<(), FetchError>;
}

/// One click-to-call: ring the operator, and once they answer connect the caller, showing the
/// hotline's number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackDial {
    /// Our attempt id; the provider's callbacks about this call carry it.
    pub attempt_id: i64,
    /// The operator who clicked, and how they are reached.
    pub operator: DialTarget,
    /// The caller to connect (E.164; personal data).
    pub caller: String,
}

/// Why a click-to-call could not be placed.
#[derive(Debug, thiserror::Error)]
pub enum DialError {
    /// The provider refused it (a bad number, an account problem); the reason is for operators.
    #[error("the provider refused the call: {0}")]
    Refused(String),
    /// The provider could not be reached or failed; another click may work.
    #[error("the provider is unavailable: {0}")]
    Unavailable(String),
    /// This instance cannot dial (e.g. no caller ID configured).
    #[error("click-to-call is not configured: {0}")]
    NotConfigured(String),
}

/// Places click-to-call callbacks through the provider's API.
#[async_trait::async_trait]
pub trait CallbackDialer: Send + Sync {
    /// The provider's name (`twilio`).
    fn provider(&self) -> &'static str;
    /// Starts the call; returns the provider's call id. Called once per attempt.
    async fn dial(&self, d: &CallbackDial) -> Result<String, DialError>;
}
