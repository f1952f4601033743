//! The control endpoint: `/_fake/stats`, `/_fake/reset` and
//! `/_fake/credentials`. Unsigned, and not counted as API requests.

use crate::conns::lock;
use crate::http::{self, Request};
use crate::json;
use crate::keys;
use crate::server::State;
use crate::timefmt;
use std::sync::atomic::Ordering;

/// Lifetime of the credentials handed out by `/_fake/credentials`.
const CREDENTIALS_TTL_SECS: i64 = 3600;

/// Answers `/_fake/...` requests; `None` for any other path.
pub(crate) fn control(state: &State, req: &Request, close: bool) -> Option<Vec<u8>> {
    if !req.path.starts_with("/_fake/") {
        return None;
    }
    let text = [("Content-Type", "text/plain".to_string())];
    Some(match (req.method.as_str(), req.path.as_str()) {
        ("GET", "/_fake/stats") => http::response(200, &text, stats(state).as_bytes(), close),
        ("POST", "/_fake/reset") => {
            state.reset_counters();
            http::response(200, &text, b"ok\n", close)
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
            http::response(405, &text, b"method not allowed\n", close)
        }
        _ => http::response(404, &text, b"no such control endpoint\n", close),
    })
}

/// The text of `GET /_fake/stats`: `requests` and `tokens` first, then
/// the optional and newer lines, so that readers of the first lines keep
/// working.
fn stats(state: &State) -> String {
    let mut body = format!(
        "requests {}\ntokens {}\n",
        state.requests.load(Ordering::SeqCst),
        state.tokens.load(Ordering::SeqCst)
    );
    if let Some(proxy) = lock(&state.proxy).as_ref() {
        body.push_str(&format!("proxied {}\n", proxy.requests()));
    }
    body.push_str(&format!(
        "credentials {}\n",
        state.credentials.load(Ordering::SeqCst)
    ));
    if let Some(proxy) = lock(&state.auth_proxy).as_ref() {
        body.push_str(&format!(
            "auth_proxied {}\nauth_refused {}\n",
            proxy.requests(),
            proxy.auth_refused()
        ));
    }
    body
}

/// The `IDC_*` identity in the format of the ECS container credentials
/// endpoint, expiring at `expires` (epoch seconds).
fn credentials_body(expires: i64) -> String {
    let iso = timefmt::iso8601(expires);
    let expiration = format!("{}Z", iso.trim_end_matches(".000Z"));
    format!(
        "{{\"AccessKeyId\":\"{}\",\"SecretAccessKey\":\"{}\",\"Token\":\"{}\",\
         \"Expiration\":\"{}\"}}",
        json::escape(keys::IDC_ACCESS_KEY_ID),
        json::escape(keys::IDC_SECRET_ACCESS_KEY),
        json::escape(keys::IDC_SESSION_TOKEN),
        expiration
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::Json;

    #[test]
    fn credentials_have_the_container_format() {
        let body = credentials_body(1_800_000_000);
        let doc = json::parse(body.as_bytes()).expect("valid JSON");
        let Json::Object(members) = &doc else {
            panic!("not an object");
        };
        let names: Vec<&str> = members.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            ["AccessKeyId", "SecretAccessKey", "Token", "Expiration"]
        );
        let field = |k: &str| doc.get(k).and_then(Json::as_str).map(str::to_string);
        assert_eq!(
            field("AccessKeyId").as_deref(),
            Some(keys::IDC_ACCESS_KEY_ID)
        );
        assert!(field("SecretAccessKey").as_deref() == Some(keys::IDC_SECRET_ACCESS_KEY));
        assert!(field("Token").as_deref() == Some(keys::IDC_SESSION_TOKEN));
        assert_eq!(field("Expiration").as_deref(), Some("2027-01-15T08:00:00Z"));
    }

    #[test]
    fn stats_keep_the_first_lines_first() {
        let state = State::new(3600, false);
        assert_eq!(stats(&state), "requests 0\ntokens 0\ncredentials 0\n");
    }
}
