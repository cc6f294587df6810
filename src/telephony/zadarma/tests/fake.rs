//! A local fake of Zadarma's REST API on wiremock: it recomputes every request's
//! `Authorization` from the query (GET) or form body (other methods) it received, as Zadarma
//! does, and refuses a bad signature with 401 `{"status":"error"}`.

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Match, Mock, MockServer, Request, ResponseTemplate};

use crate::telephony::zadarma::ZadarmaClient;
use crate::telephony::zadarma::api::{params_string, signature_for};

pub const KEY: &str = "a1b2c3d4e5";
pub const SECRET: &str = "s3cr3t-zadarma";
pub const REC: &str = "1458313316.343456";

/// The parameters a request carried: its query for a GET, its form body otherwise.
pub fn params_of(request: &Request) -> (String, Vec<(String, String)>) {
    let raw = if request.method.as_str() == "GET" {
        request.url.query().unwrap_or("").to_owned()
    } else {
        String::from_utf8_lossy(&request.body).into_owned()
    };
    let pairs = form_urlencoded::parse(raw.as_bytes())
        .into_owned()
        .collect();
    (raw, pairs)
}

/// Zadarma's check: `Authorization: KEY:sig` over the sorted, re-encoded parameters (which must
/// include `format=json` and arrive in that canonical form).
pub struct SignedBy;

impl Match for SignedBy {
    fn matches(&self, request: &Request) -> bool {
        let (raw, pairs) = params_of(request);
        let borrowed: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let canonical = params_string(&borrowed);
        let expected = format!(
            "{KEY}:{}",
            signature_for(SECRET, request.url.path(), &canonical)
        );
        let header = request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok());
        raw == canonical
            && pairs.contains(&("format".into(), "json".into()))
            && header == Some(expected.as_str())
    }
}

/// A fake Zadarma: `routes` answer correctly signed requests, anything else gets 401.
pub async fn zadarma() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(401).set_body_json(
            json!({"status": "error", "message": "Not authorized: wrong signature"}),
        ))
        .with_priority(10)
        .mount(&server)
        .await;
    server
}

pub async fn route(server: &MockServer, verb: &str, p: &str, answer: ResponseTemplate) {
    Mock::given(method(verb))
        .and(path(p))
        .and(SignedBy)
        .respond_with(answer)
        .mount(server)
        .await;
}

pub fn client(server: &MockServer) -> ZadarmaClient {
    ZadarmaClient::new(&server.uri(), KEY, SECRET).unwrap()
}

pub fn ok(body: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

pub async fn received(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.unwrap()
}
