//! The control endpoint: `/_fake/stats`, `/_fake/reset` and
//! `/_fake/credentials`. Unsigned, and not counted as API requests.

use crate::conns::lock;
use crate::http::{self, Request};
use crate::keys;
use crate::server::State;
use crate::service::json_string;
use crate::timefmt;
use std::sync::atomic::{AtomicU64, Ordering};

/// Lifetime of the credentials handed out by `/_fake/credentials`.
const CREDENTIALS_TTL_SECS: i64 = 3600;

/// Answers `/_fake/...` requests; `None` for any other path.
pub(crate) fn control(state: &State, req: &Request, close: bool) -> Option<Vec<u8>> {
    if !req.path.starts_with("/_fake/") {
        return None;
    }
    Some(match (req.method.as_str(), req.path.as_str()) {
        ("GET", "/_fake/stats") => http::text(200, &stats(state), close),
        ("POST", "/_fake/reset") => {
            state.reset_counters();
            http::text(200, "ok\n", close)
        }
        ("GET", "/_fake/credentials") => {
            state.credentials.fetch_add(1, Ordering::SeqCst);
            state.log(&format!(
                "GET /_fake/credentials -> 200 credentials for {}",
                keys::IDC_ACCESS_KEY_ID
            ));
            let body = credentials_body(timefmt::now_epoch_secs() + CREDENTIALS_TTL_SECS);
            let headers = [("Content-Type", "application/json".to_string())];
            http::response(200, &headers, body.as_bytes(), close)
        }
        (_, "/_fake/stats" | "/_fake/reset" | "/_fake/credentials") => {
            http::text(405, "method not allowed\n", close)
        }
        _ => http::text(404, "no such control endpoint\n", close),
    })
}

/// The text of `GET /_fake/stats`: newer lines come last, so that readers
/// of the first lines keep working.
fn stats(state: &State) -> String {
    let load = |counter: &AtomicU64| counter.load(Ordering::SeqCst);
    let mut body = format!(
        "requests {}\ntokens {}\n",
        load(&state.requests),
        load(&state.tokens)
    );
    if let Some(proxy) = lock(&state.proxy).as_ref() {
        body += &format!("proxied {}\n", load(&proxy.requests));
    }
    body += &format!("credentials {}\n", load(&state.credentials));
    if let Some(proxy) = lock(&state.auth_proxy).as_ref() {
        let (requests, refused) = (load(&proxy.requests), load(&proxy.auth_refused));
        body += &format!("auth_proxied {requests}\nauth_refused {refused}\n");
    }
    body
}

/// The `IDC_*` identity in the format of the ECS container credentials
/// endpoint, expiring at `expires` (epoch seconds).
fn credentials_body(expires: i64) -> String {
    format!(
        "{{\"AccessKeyId\":{},\"SecretAccessKey\":{},\"Token\":{},\"Expiration\":{}}}",
        json_string(keys::IDC_ACCESS_KEY_ID),
        json_string(keys::IDC_SECRET_ACCESS_KEY),
        json_string(keys::IDC_SESSION_TOKEN),
        json_string(&timefmt::rfc3339(expires))
    )
}
