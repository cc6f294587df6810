//! Recordings against the fake Zadarma: the link (`link` or `links[]`), the download of the MP3
//! bytes without our signature, and the mapping of missing files and failures to `FetchError`.

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::fake::{KEY, REC, SignedBy, client, ok, params_of, received, route, zadarma};
use crate::telephony::zadarma::{ZadarmaClient, ZadarmaRecordings};
use crate::telephony::{FetchError, RecordingSource};

fn mp3() -> Vec<u8> {
    let mut audio = b"ID3\x04\x00\x00\x00\x00\x00\x00".to_vec();
    audio.extend_from_slice(&[0xFF, 0xFB, 0x90, 0x64, 1, 2, 3]);
    audio
}

/// Mounts the recording-link method (answering `answer`) and a pre-signed download.
async fn recording_server(answer: impl Fn(&str) -> serde_json::Value) -> MockServer {
    let server = zadarma().await;
    let file = "/v1/pbx/record/download/NjM3M/1-1458313316.343456-100.mp3";
    let link = format!("{}{file}", server.uri());
    route(&server, "GET", "/v1/pbx/record/request/", ok(answer(&link))).await;
    Mock::given(method("GET"))
        .and(path(file))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(mp3()))
        .with_priority(1)
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn a_recording_is_fetched_through_its_link() {
    let server =
        recording_server(|link| json!({"status": "success", "link": link, "lifetime_till": "x"}))
            .await;
    let source = ZadarmaRecordings::new(client(&server));
    assert_eq!(source.provider(), "zadarma");
    assert_eq!(source.fetch(REC, "").await.unwrap(), mp3());
    let requests = received(&server).await;
    let (_, params) = params_of(&requests[0]);
    assert!(
        params.contains(&("call_id".into(), REC.into())),
        "{params:?}"
    );
    assert!(
        params.contains(&("lifetime".into(), "600".into())),
        "{params:?}"
    );
    // The pre-signed link is downloaded without our signature.
    assert!(requests[1].headers.get("authorization").is_none());
}

#[tokio::test]
async fn the_first_of_several_links_is_downloaded() {
    let server = recording_server(
        |link| json!({"status": "success", "links": [link, format!("{link}.second")]}),
    )
    .await;
    let c = client(&server);
    let links = c.record_links(REC).await.unwrap();
    assert_eq!(links.len(), 2);
    assert_eq!(
        ZadarmaRecordings::new(c).fetch(REC, "").await.unwrap(),
        mp3()
    );
    assert!(received(&server).await[2].url.path().ends_with(".mp3"));
}

#[tokio::test]
async fn a_given_link_is_downloaded_directly() {
    let server = recording_server(|_| json!({"status": "error"})).await;
    let link = format!(
        "{}/v1/pbx/record/download/NjM3M/1-1458313316.343456-100.mp3",
        server.uri()
    );
    let audio = ZadarmaRecordings::new(client(&server))
        .fetch(REC, &link)
        .await
        .unwrap();
    assert_eq!(audio, mp3());
    assert_eq!(received(&server).await.len(), 1);
}

#[tokio::test]
async fn an_expired_link_is_replaced_by_a_fresh_one() {
    let server = recording_server(|link| json!({"status": "success", "link": link})).await;
    Mock::given(path("/v1/pbx/record/download/expired.mp3"))
        .respond_with(ResponseTemplate::new(403))
        .with_priority(1)
        .mount(&server)
        .await;
    let expired = format!("{}/v1/pbx/record/download/expired.mp3", server.uri());
    let source = ZadarmaRecordings::new(client(&server));
    assert_eq!(source.fetch(REC, &expired).await.unwrap(), mp3());
    let paths: Vec<String> = received(&server)
        .await
        .iter()
        .map(|r| r.url.path().to_owned())
        .collect();
    assert_eq!(paths[1], "/v1/pbx/record/request/");
    assert!(paths[2].ends_with("-100.mp3"), "{paths:?}");
    // Without a recording id there is nothing to renew: the refusal stands.
    assert!(matches!(
        source.fetch("", &expired).await,
        Err(FetchError::Failed(_))
    ));
}

#[tokio::test]
async fn missing_recordings_are_not_found_and_other_failures_are_classified() {
    let server = zadarma().await;
    let source = ZadarmaRecordings::new(client(&server));
    // Zadarma refuses the link: the record does not exist (yet).
    route(
        &server,
        "GET",
        "/v1/pbx/record/request/",
        ResponseTemplate::new(400)
            .set_body_json(json!({"status": "error", "message": "Record not found"})),
    )
    .await;
    assert!(matches!(
        source.fetch(REC, "").await,
        Err(FetchError::NotFound)
    ));
    // A link that expired or a file that is gone.
    let gone = format!("{}/v1/pbx/record/download/gone.mp3", server.uri());
    Mock::given(path("/v1/pbx/record/download/gone.mp3"))
        .respond_with(ResponseTemplate::new(404))
        .with_priority(1)
        .mount(&server)
        .await;
    assert!(matches!(
        source.fetch(REC, &gone).await,
        Err(FetchError::NotFound)
    ));
    let broken = format!("{}/v1/pbx/record/download/broken.mp3", server.uri());
    Mock::given(path("/v1/pbx/record/download/broken.mp3"))
        .respond_with(ResponseTemplate::new(503))
        .with_priority(1)
        .mount(&server)
        .await;
    assert!(matches!(
        source.fetch(REC, &broken).await,
        Err(FetchError::Temporary(_))
    ));
    // A wrong secret: retrying will not help until configuration is fixed.
    let wrong = ZadarmaRecordings::new(ZadarmaClient::new(&server.uri(), KEY, "wrong").unwrap());
    assert!(matches!(
        wrong.fetch("other", "").await,
        Err(FetchError::Failed(_))
    ));
}

#[tokio::test]
async fn delete_sends_a_signed_form_and_tolerates_a_file_already_gone() {
    let server = zadarma().await;
    Mock::given(method("DELETE"))
        .and(path("/v1/pbx/record/request/"))
        .and(SignedBy)
        .respond_with(ok(json!({"status": "success"})))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    let not_found = ResponseTemplate::new(404)
        .set_body_json(json!({"status": "error", "message": "Record not found"}));
    route(&server, "DELETE", "/v1/pbx/record/request/", not_found).await;
    let source = ZadarmaRecordings::new(client(&server));
    source.delete(REC).await.unwrap();
    source.delete(REC).await.unwrap();
    let requests = received(&server).await;
    let (_, params) = params_of(&requests[0]);
    assert!(
        params.contains(&("call_id".into(), REC.into())),
        "{params:?}"
    );
    let wrong = ZadarmaRecordings::new(ZadarmaClient::new(&server.uri(), KEY, "wrong").unwrap());
    assert!(matches!(
        wrong.delete(REC).await,
        Err(FetchError::Failed(_))
    ));
}
