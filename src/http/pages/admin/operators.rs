//! `/admin/operators`, for supervisors and administrators: every operator with how a call reaches
//! them and their presence, a form adding an operator (`form#operator-add`: login, name, contact
//! kind, contact; the user is created with role operator when missing), and per operator a contact
//! change and a presence override (never `on_call`; becoming available wakes the hold queue, as
//! the API's presence change does — it is the same function).

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::users::Opt;
use super::{DoneQuery, Flash, ctx, done, presence_label, refused, with_status};
use crate::admin::operators::{self as svc, NewOperatorInput};
use crate::domain::operator::{ContactKind, Presence};
use crate::http::AppState;
use crate::http::api::operators::override_presence;
use crate::http::pages::{Chrome, PageError, render};
use crate::http::session::PageUser;

/// The presences that may be set by hand.
const SETTABLE: [Presence; 4] = [
    Presence::Available,
    Presence::Break,
    Presence::WrapUp,
    Presence::Offline,
];

fn kind_label(k: ContactKind) -> &'static str {
    match k {
        ContactKind::Phone => "телефон",
        ContactKind::Sip => "SIP",
        ContactKind::Extension => "внутренний номер",
    }
}

fn kind_options(current: &str) -> Vec<Opt> {
    ContactKind::ALL
        .iter()
        .map(|k| Opt {
            value: k.as_str(),
            label: kind_label(*k),
            selected: k.as_str() == current,
        })
        .collect()
}

struct Row {
    login: String,
    name: String,
    kind_label: &'static str,
    kinds: Vec<Opt>,
    contact: String,
    presence: &'static str,
    presence_label: &'static str,
    presences: Vec<Opt>,
}

#[derive(askama::Template)]
#[template(path = "admin/operators.html")]
struct OperatorsPage {
    chrome: Chrome,
    flash: Flash,
    operators: Vec<Row>,
    form: AddForm,
    kinds: Vec<Opt>,
}

/// The add form as submitted (kept on a refusal).
#[derive(Deserialize, Default, Clone)]
pub struct AddForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    contact_kind: String,
    #[serde(default)]
    contact: String,
}

#[derive(Deserialize)]
pub struct ContactForm {
    #[serde(default)]
    contact_kind: String,
    #[serde(default)]
    contact: String,
}

#[derive(Deserialize)]
pub struct PresenceForm {
    #[serde(default)]
    state: String,
}

async fn show(
    state: &AppState,
    user: &PageUser,
    flash: Flash,
    form: AddForm,
    status: StatusCode,
) -> Result<Response, PageError> {
    let operators = state
        .store
        .operators()
        .await?
        .into_iter()
        .map(|o| Row {
            kind_label: kind_label(o.contact_kind),
            kinds: kind_options(o.contact_kind.as_str()),
            presence: o.presence.as_str(),
            presence_label: presence_label(o.presence),
            presences: SETTABLE
                .iter()
                .map(|p| Opt {
                    value: p.as_str(),
                    label: presence_label(*p),
                    selected: *p == o.presence,
                })
                .collect(),
            login: o.login,
            name: o.name,
            contact: o.contact,
        })
        .collect();
    let page = OperatorsPage {
        chrome: Chrome::new(user, "admin"),
        flash,
        operators,
        kinds: kind_options(&form.contact_kind),
        form,
    };
    Ok(with_status(status, render(&page)))
}

fn parse_kind(s: &str) -> Result<ContactKind, Flash> {
    s.parse().map_err(|_| {
        Flash::error("Выберите вид контакта: телефон, SIP или внутренний номер.".into())
    })
}

/// `GET /admin/operators`.
pub async fn page(
    State(state): State<AppState>,
    user: PageUser,
    Query(q): Query<DoneQuery>,
) -> Result<Response, PageError> {
    user.require_supervisor()?;
    show(&state, &user, q.flash(), AddForm::default(), StatusCode::OK).await
}

/// `POST /admin/operators`.
pub async fn create(
    State(state): State<AppState>,
    user: PageUser,
    Form(f): Form<AddForm>,
) -> Result<Response, PageError> {
    user.require_supervisor()?;
    let kind = match parse_kind(&f.contact_kind) {
        Ok(k) => k,
        Err(flash) => return show(&state, &user, flash, f, StatusCode::BAD_REQUEST).await,
    };
    let input = NewOperatorInput {
        login: f.login.clone(),
        name: f.name.clone(),
        contact_kind: kind,
        contact: f.contact.clone(),
    };
    match svc::create(ctx(&state, &user), &input).await {
        Ok(op) => Ok(done("/admin/operators", "operator.create", &op.login)),
        Err(e) => {
            let (status, flash) = refused(e)?;
            show(&state, &user, flash, f, status).await
        }
    }
}

/// `POST /admin/operators/{login}/contact`.
pub async fn contact(
    State(state): State<AppState>,
    user: PageUser,
    Path(login): Path<String>,
    Form(f): Form<ContactForm>,
) -> Result<Response, PageError> {
    user.require_supervisor()?;
    let result = match parse_kind(&f.contact_kind) {
        Ok(kind) => svc::set_contact(ctx(&state, &user), &login, kind, &f.contact)
            .await
            .map_err(refused),
        Err(flash) => Err(Ok((StatusCode::BAD_REQUEST, flash))),
    };
    match result {
        Ok(op) => Ok(done("/admin/operators", "operator.contact", &op.login)),
        Err(refusal) => {
            let (status, flash) = refusal?;
            show(&state, &user, flash, AddForm::default(), status).await
        }
    }
}

/// `POST /admin/operators/{login}/presence`.
pub async fn presence(
    State(state): State<AppState>,
    user: PageUser,
    Path(login): Path<String>,
    Form(f): Form<PresenceForm>,
) -> Result<Response, PageError> {
    user.require_supervisor()?;
    let result = match f.state.parse::<Presence>() {
        Ok(p) => override_presence(&state, ctx(&state, &user), &login, p)
            .await
            .map_err(refused),
        Err(_) => Err(Ok((
            StatusCode::BAD_REQUEST,
            Flash::error("Выберите состояние.".into()),
        ))),
    };
    match result {
        Ok(op) => Ok(done("/admin/operators", "operator.presence", &op.login)),
        Err(refusal) => {
            let (status, flash) = refusal?;
            show(&state, &user, flash, AddForm::default(), status).await
        }
    }
}
