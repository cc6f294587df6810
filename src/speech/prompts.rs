//! The fixed prompts of the hotline: greeting, queue announcements, working hours, the
//! voicemail and callback steps, goodbyes and the error fallback. Each one is a whole
//! sentence (or two) with its own clip `ru/static/<name>.wav`; numbers in the texts are
//! spelled out so that TTS reads them the same way as the recording. The texts address
//! non-technical callers: polite, short, one action per sentence, keys named in words
//! ("нажмите один", "нажмите решётку").

use serde::{Deserialize, Serialize};

use super::Utterance;

/// A fixed prompt; [`Prompt::utterance`] gives its text and clip. Serialized by its
/// [`name`](Prompt::name) (`"greeting"`, `"all_busy"`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Prompt {
    /// Greets the caller and names the hotline; played first on every call.
    Greeting,
    /// An operator is free: the call is being connected.
    Connecting,
    /// Every operator is busy: please stay on the line (played on entering the queue).
    AllBusy,
    /// In the queue: press 1 to leave a voicemail instead of waiting.
    VoicemailOffer,
    /// The working hours, in words.
    WorkingHours,
    /// Off-hours introduction, followed by [`WorkingHours`](Prompt::WorkingHours) or
    /// [`opens_at`](super::opens_at).
    OffHours,
    /// "Please call back during working hours. Goodbye." — the off-hours ending while
    /// voicemail is not available.
    CallBackLater,
    /// The maximum wait is over: the caller is moved to voicemail.
    ToVoicemail,
    /// Thanks and goodbye.
    Goodbye,
    /// Something went wrong on our side; please call back later.
    TechnicalError,
    /// Caller category: school staff press 1, parents and pupils press 2.
    CategoryMenu,
    /// The key pressed in a menu is not one of the options.
    MenuRetry,
    /// Asks for a callback number when the caller's number is unknown.
    EnterNumber,
    /// After [`number_ending`](super::number_ending): confirm with #, or dial another
    /// number and press #.
    OtherNumber,
    /// The number dialled could not be used; try again.
    NumberNotRecognised,
    /// Leave the message after the beep; press # to finish.
    RecordAfterBeep,
    /// The message is recorded; we will call back during working hours.
    MessageRecorded,
    /// Heard by the operator on a click-to-call once they answer: the caller is being dialed.
    CallbackConnecting,
    /// Heard by the operator who answers a click-to-call for a request they no longer hold: no
    /// connection; the call ends.
    CallbackNotHeld,
    /// The caller's number is on the blocklist: the call ends.
    Blocked,
    /// The caller called too often within the hour: call later; the call ends.
    CallLimit,
    /// The caller left as many messages today as one number may: no new one; the call ends.
    VoicemailLimit,
}

impl Prompt {
    /// Every prompt, in the order of a typical call.
    pub const ALL: [Prompt; 22] = [
        Prompt::Greeting,
        Prompt::Connecting,
        Prompt::AllBusy,
        Prompt::VoicemailOffer,
        Prompt::WorkingHours,
        Prompt::OffHours,
        Prompt::CallBackLater,
        Prompt::ToVoicemail,
        Prompt::Goodbye,
        Prompt::TechnicalError,
        Prompt::CategoryMenu,
        Prompt::MenuRetry,
        Prompt::EnterNumber,
        Prompt::OtherNumber,
        Prompt::NumberNotRecognised,
        Prompt::RecordAfterBeep,
        Prompt::MessageRecorded,
        Prompt::CallbackConnecting,
        Prompt::CallbackNotHeld,
        Prompt::Blocked,
        Prompt::CallLimit,
        Prompt::VoicemailLimit,
    ];

    /// The stable name: the serde value and the clip's file stem (`"all_busy"`).
    pub fn name(self) -> &'static str {
        self.spec().0
    }

    /// The Russian text, as spoken.
    pub fn text(self) -> &'static str {
        self.spec().1
    }

    /// The clip path relative to `audio/prompts/` (`"ru/static/greeting.wav"`).
    pub fn clip(self) -> String {
        format!("ru/static/{}.wav", self.name())
    }

    /// The prompt as something to say.
    pub fn utterance(self) -> Utterance {
        Utterance::clip(self.clip(), self.text())
    }

    fn spec(self) -> (&'static str, &'static str) {
        match self {
            Prompt::Greeting => (
                "greeting",
                "Здравствуйте! Вы позвонили на линию поддержки Школьного портала Московской области.",
            ),
            Prompt::CallbackConnecting => (
                "callback_connecting",
                "Обратный звонок с линии поддержки. Соединяем с абонентом, пожалуйста, подождите.",
            ),
            Prompt::CallbackNotHeld => (
                "callback_not_held",
                "Заявка больше не закреплена за вами. Звонок завершён.",
            ),
            Prompt::Blocked => (
                "blocked",
                "Звонки с вашего номера на линию поддержки не принимаются. До свидания.",
            ),
            Prompt::CallLimit => (
                "call_limit",
                "Вы уже несколько раз звонили на линию поддержки за последний час. \
                 Ваше обращение учтено. Пожалуйста, позвоните позже. До свидания.",
            ),
            Prompt::VoicemailLimit => (
                "voicemail_limit",
                "Сегодня вы уже оставили сообщения на линии поддержки, новое сообщение записать нельзя. \
                 Ваше обращение учтено, оператор перезвонит вам в рабочее время. До свидания.",
            ),
            Prompt::Connecting => (
                "connecting",
                "Соединяем вас с оператором. Пожалуйста, подождите.",
            ),
            Prompt::AllBusy => (
                "all_busy",
                "Все операторы сейчас заняты. Пожалуйста, оставайтесь на линии: \
                 вам ответит первый освободившийся оператор.",
            ),
            Prompt::VoicemailOffer => (
                "voicemail_offer",
                "Если вы не хотите ждать, мы можем перезвонить вам сами. \
                 Чтобы оставить голосовое сообщение, нажмите один.",
            ),
            Prompt::WorkingHours => (
                "working_hours",
                "Линия поддержки работает в рабочие дни с девяти до восемнадцати часов \
                 по московскому времени.",
            ),
            Prompt::OffHours => ("off_hours", "Сейчас линия поддержки не работает."),
            Prompt::CallBackLater => (
                "call_back_later",
                "Пожалуйста, перезвоните в рабочее время. До свидания.",
            ),
            Prompt::ToVoicemail => (
                "to_voicemail",
                "К сожалению, свободных операторов пока нет. \
                 Сейчас вы сможете оставить голосовое сообщение, и оператор вам перезвонит.",
            ),
            Prompt::Goodbye => ("goodbye", "Спасибо за звонок. До свидания."),
            Prompt::TechnicalError => (
                "technical_error",
                "Извините, произошла техническая ошибка. \
                 Пожалуйста, перезвоните немного позже. До свидания.",
            ),
            Prompt::CategoryMenu => (
                "category_menu",
                "Если вы сотрудник школы, нажмите один. Если вы родитель или ученик, нажмите два.",
            ),
            Prompt::MenuRetry => (
                "menu_retry",
                "Не удалось распознать ваш выбор. Пожалуйста, попробуйте ещё раз.",
            ),
            Prompt::EnterNumber => (
                "enter_number",
                "Пожалуйста, наберите номер телефона для обратного звонка и нажмите решётку.",
            ),
            Prompt::OtherNumber => (
                "other_number",
                "Если номер верный, нажмите решётку. \
                 Чтобы указать другой номер, наберите его и нажмите решётку.",
            ),
            Prompt::NumberNotRecognised => (
                "number_not_recognised",
                "Не удалось распознать номер. Пожалуйста, наберите его ещё раз и нажмите решётку.",
            ),
            Prompt::RecordAfterBeep => (
                "record_after_beep",
                "Пожалуйста, после звукового сигнала кратко расскажите о вашем вопросе. \
                 Когда закончите, нажмите решётку.",
            ),
            Prompt::MessageRecorded => (
                "message_recorded",
                "Спасибо! Ваше сообщение записано. Оператор перезвонит вам в рабочее время.",
            ),
        }
    }
}
