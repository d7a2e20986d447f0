//! Gives every request an id and a span, and writes one log line when it is answered.

use std::time::Instant;

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, Request};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Longest client-sent request id that is passed on; longer ones are replaced.
const MAX_REQUEST_ID_LEN: usize = 128;

pub async fn request_context(mut request: Request<Body>, next: Next) -> Response {
    let request_id = client_request_id(&request).unwrap_or_else(new_request_id);
    let header_value = HeaderValue::from_str(&request_id).ok();
    if let Some(value) = &header_value {
        request.headers_mut().insert(REQUEST_ID, value.clone());
    }

    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %request.method(),
        path = %request.uri().path(),
        user_id = tracing::field::Empty,
    );
    let started = Instant::now();

    let mut response = next.run(request).instrument(span.clone()).await;

    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    span.in_scope(|| {
        tracing::info!(status = response.status().as_u16(), latency_ms, "answered");
    });
    if let Some(value) = header_value {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    response
}

/// The client's own id, if it is short and made of visible ASCII only: anything else could
/// forge log lines or carry a payload, and is replaced.
fn client_request_id(request: &Request<Body>) -> Option<String> {
    let value = request.headers().get(REQUEST_ID)?.to_str().ok()?;
    let sane = !value.is_empty()
        && value.len() <= MAX_REQUEST_ID_LEN
        && value.bytes().all(|b| b.is_ascii_graphic());
    sane.then(|| value.to_owned())
}

fn new_request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}
