//! The safe core: a client that checks identifiers, bounds every call in
//! time and hands out only answers that carry a token and a future expiry.

use crate::aws::{self, Answer};
use crate::error::Error;
use crate::ids;
use crate::runtime::{self, PerProcess};
use crate::settings::Settings;
use crate::status::Status;
use std::fmt;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use zeroize::Zeroizing;

/// An Identity Center auth token and its expiry.
///
/// The token is wiped from memory when dropped and never shown by `Debug`.
#[derive(Clone)]
pub struct Token {
    secret: Zeroizing<String>,
    expires_at: i64,
}

impl Token {
    /// The token text, to send to Redshift as the subject token.
    pub fn secret(&self) -> &str {
        &self.secret
    }

    /// Expiry in Unix seconds (UTC).
    pub fn expires_at(&self) -> i64 {
        self.expires_at
    }

    #[cfg(test)]
    pub(crate) fn for_tests(secret: &str, expires_at: i64) -> Token {
        Token {
            secret: Zeroizing::new(secret.to_owned()),
            expires_at,
        }
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("len", &self.secret.len())
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// A client: settings plus, per process, the SDK clients built from them.
///
/// A client may be used from many threads at once. After `fork()` the
/// child builds its own SDK clients on first use.
pub struct Client {
    settings: Settings,
    service: PerProcess<aws::Service>,
}

impl Client {
    /// A client with the given settings. Nothing is resolved or contacted
    /// until the first call.
    pub fn new(settings: Settings) -> Client {
        Client {
            settings,
            service: PerProcess::new(),
        }
    }

    /// The settings this client was made with.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Gets a token for the clusters `cluster_ids` (1 to 20 identifiers).
    ///
    /// Identifiers are checked before any network traffic; their order,
    /// case and duplicates do not matter.
    pub fn get_token<I: AsRef<[u8]>>(&self, cluster_ids: &[I]) -> Result<Token, Error> {
        let cluster_ids = ids::normalise_cluster_ids(cluster_ids)?;
        let deadline = Instant::now() + self.settings.timeout;
        let service = self.service(deadline)?;
        let answer = runtime::run(deadline, async move {
            let call = aws::cluster_token(&service, cluster_ids);
            tokio::time::timeout_at(deadline.into(), call)
                .await
                .unwrap_or_else(|_| Err(timed_out()))
        })?;
        check_answer(answer, unix_now())
    }

    /// The SDK clients of this process, built on first use.
    fn service(&self, deadline: Instant) -> Result<Arc<aws::Service>, Error> {
        self.service.get_or_try_init(|| {
            let settings = self.settings.clone();
            runtime::run(deadline, async move {
                tokio::time::timeout_at(deadline.into(), aws::connect(&settings))
                    .await
                    .unwrap_or_else(|_| Err(timed_out()))
            })
        })
    }
}

static DEFAULT_CLIENT: PerProcess<Client> = PerProcess::new();

/// The process-wide client that `rs_idc_get_token` uses, built on first use
/// from the environment (see [`Settings::from_env`]).
///
/// A bad setting is reported on every call until it is fixed; it is not
/// remembered.
pub fn default_client() -> Result<Arc<Client>, Error> {
    DEFAULT_CLIENT.get_or_try_init(|| Settings::from_env().map(Client::new))
}

fn timed_out() -> Error {
    Error::new(
        Status::Timeout,
        "the call did not finish within its time bound",
    )
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Accepts a success answer only with a non-empty token and a future expiry.
///
/// A truncated XML body parses as half a token with no expiry, so a token
/// without an expiry is never handed out.
fn check_answer(answer: Answer, now: i64) -> Result<Token, Error> {
    let request_id = answer
        .request_id
        .as_deref()
        .map(|id| format!(" (request id {id})"))
        .unwrap_or_default();
    let bad = |what: &str| {
        Err(Error::new(
            Status::BadResponse,
            format!("the answer {what}{request_id}"),
        ))
    };
    let secret = match answer.token {
        Some(token) if !token.is_empty() => token,
        _ => return bad("has no token"),
    };
    if secret.contains('\0') {
        return bad("has a token with a NUL byte");
    }
    match answer.expires_at {
        None => bad("has a token but no expiry"),
        Some(at) if at <= now => bad("has an expiry that is not in the future"),
        Some(expires_at) => Ok(Token { secret, expires_at }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(token: Option<&str>, expires_at: Option<i64>) -> Answer {
        Answer {
            token: token.map(|t| Zeroizing::new(t.to_owned())),
            expires_at,
            request_id: Some("req-1".into()),
        }
    }

    #[test]
    fn a_complete_answer_becomes_a_token() {
        let token = check_answer(answer(Some("abc"), Some(200)), 100).unwrap();
        assert_eq!(token.secret(), "abc");
        assert_eq!(token.expires_at(), 200);
        assert!(!format!("{token:?}").contains("abc"));
    }

    #[test]
    fn incomplete_answers_are_bad_responses() {
        let cases = [
            (answer(None, Some(200)), "no token"),
            (answer(Some(""), Some(200)), "no token"),
            (answer(Some("half-a-tok"), None), "no expiry"),
            (answer(Some("abc"), Some(100)), "not in the future"),
            (answer(Some("abc"), Some(50)), "not in the future"),
        ];
        for (answer, words) in cases {
            let err = check_answer(answer, 100).unwrap_err();
            assert_eq!(err.status(), Status::BadResponse);
            assert!(err.message().contains(words), "{}", err.message());
            assert!(err.message().contains("req-1"));
            assert!(!err.message().contains("half-a-tok"));
        }
    }

    #[test]
    fn bad_identifiers_fail_before_any_service_is_built() {
        // The endpoint does not exist: reaching the network would fail
        // differently (and slowly).
        let client = Client::new(Settings {
            endpoint_url: Some("http://127.0.0.1:9".into()),
            region: Some("us-east-1".into()),
            ..Settings::default()
        });
        let err = client.get_token(&["ok", "not_ok"]).unwrap_err();
        assert_eq!(err.status(), Status::InvalidArgument);
        assert!(err.message().starts_with("ids[1] "));
    }
}
