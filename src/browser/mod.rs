//! Browser sign-in for people at a desktop: IAM Identity Center's
//! authorization code with PKCE, as the official drivers'
//! BrowserIdcAuthPlugin does it, once for every driver, with the access
//! token kept and renewed without another browser window.
//!
//! Every decision of the flow is here: a public client registered once
//! (kept until its secret expires), a random `state` and PKCE verifier,
//! the loopback listener bound before the browser is opened, the redirect
//! checked against `state`, the code exchanged with its verifier; the
//! access token kept per issuer, region and display name until its margin,
//! then renewed with the refresh token, and the browser opened again only
//! when that fails. Concurrent callers share one sign-in.

use crate::aws::signin::{self, CodeGrant, Registration, REDSHIFT_SCOPE};
use crate::aws::Service;
use crate::cache;
use crate::error::Error;
use crate::flight::SingleFlight;
use crate::fork;
use crate::keyed::random_bytes;
use crate::runtime;
use crate::settings::Settings;
use crate::snapshot::unix_now;
use crate::status::Status;
use crate::token::Token;
use crate::values::base64url_encode;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, LazyLock, Mutex, RwLock};
use std::time::{Duration, Instant};
use zeroize::Zeroizing;

/// How the library asks the host to open a URL in a browser; an error
/// fails the sign-in at once.
pub type OpenUrl = Arc<dyn Fn(&str) -> Result<(), String> + Send + Sync>;

static OPEN_URL: RwLock<Option<OpenUrl>> = RwLock::new(None);

/// Sets how a URL is opened in a browser; `None` restores the default
/// (`xdg-open`, or `open` on macOS).
pub fn set_open_url(open: Option<OpenUrl>) {
    *fork::write(&OPEN_URL) = open;
}

/// The sign-ins of this process, by their settings.
#[derive(Clone, PartialEq, Eq, Hash)]
struct SignInKey {
    issuer: String,
    region: Option<String>,
    display_name: String,
    listen_port: u16,
    endpoint: String,
}

/// What a sign-in keeps: the registration, and the access token with its
/// refresh token.
#[derive(Default)]
struct Kept {
    registration: Option<Arc<Registration>>,
    token: Option<(Token, i64)>,
    refresh_token: Option<Zeroizing<String>>,
}

static KEPT: LazyLock<Mutex<HashMap<SignInKey, Kept>>> = LazyLock::new(Default::default);
static SIGN_INS: LazyLock<SingleFlight<SignInKey>> = LazyLock::new(SingleFlight::new);

/// A registration is used again while this much of its secret's life is
/// left.
const REGISTRATION_MARGIN_S: i64 = 3600;
/// The most bytes of a request the listener reads.
const MAX_REQUEST: usize = 16 * 1024;

/// The access token of the person signed in with `settings`, handed to
/// `read`: kept, renewed with the refresh token, or from a new sign-in in
/// the browser. Bounded by `idp_response_timeout_s`.
pub(crate) fn read_browser_token<R>(
    service: &Arc<Service>,
    settings: &Settings,
    read: impl FnOnce(&Token) -> R,
) -> Result<R, Error> {
    let browser = &settings.browser;
    let issuer = browser.issuer_url.clone().ok_or_else(|| {
        Error::invalid(
            "the browser sign-in needs the issuer_url option (the Identity Center issuer URL)",
        )
    })?;
    let key = SignInKey {
        issuer,
        region: browser.idc_region.clone(),
        display_name: browser.display_name.clone(),
        listen_port: browser.listen_port,
        endpoint: service.oidc_base_url(browser.idc_region.as_deref()),
    };
    if let Some(token) = kept_token(&key) {
        return Ok(read(&token));
    }
    let deadline = Instant::now() + browser.response_timeout;
    let token = SIGN_INS.run(&key, deadline, || {
        if let Some(token) = kept_token(&key) {
            return Ok(token);
        }
        let flow = Flow {
            service,
            settings,
            key: &key,
            deadline,
        };
        flow.run()
    })?;
    Ok(read(&token))
}

/// The kept access token if it is before its margin.
fn kept_token(key: &SignInKey) -> Option<Token> {
    let kept = fork::lock(&KEPT);
    let (token, refresh_at) = kept.get(key)?.token.as_ref()?;
    (unix_now() < *refresh_at).then(|| token.clone())
}

/// One sign-in (or renewal) in progress.
struct Flow<'a> {
    service: &'a Arc<Service>,
    settings: &'a Settings,
    key: &'a SignInKey,
    deadline: Instant,
}

impl Flow<'_> {
    fn run(&self) -> Result<Token, Error> {
        let (registration, refresh_token) = {
            let kept = fork::lock(&KEPT);
            let kept = kept.get(self.key);
            let registration = kept
                .and_then(|kept| kept.registration.clone())
                .filter(|r| r.expires_at > unix_now() + REGISTRATION_MARGIN_S);
            let refresh = kept.and_then(|kept| kept.refresh_token.clone());
            (registration, refresh)
        };
        if let (Some(registration), Some(refresh_token)) = (&registration, refresh_token) {
            match self.create_token(registration, CodeGrant::Refresh(refresh_token)) {
                Ok(token) => {
                    tracing::info!("browser sign-in renewed with the refresh token");
                    return Ok(token);
                }
                Err(err) => tracing::info!(
                    "the refresh token was not taken ({}); signing in again in the browser",
                    err.message()
                ),
            }
        }
        let registration = match registration {
            Some(registration) => registration,
            None => self.register()?,
        };
        self.sign_in(&registration)
    }

    fn redirect_uri(&self) -> String {
        format!("http://127.0.0.1:{}/", self.key.listen_port)
    }

    /// Registers a public client and keeps it.
    fn register(&self) -> Result<Arc<Registration>, Error> {
        let service = Arc::clone(self.service);
        let region = self.key.region.clone();
        let name = self.key.display_name.clone();
        let (redirect, issuer) = (self.redirect_uri(), self.key.issuer.clone());
        let registration = runtime::run(self.deadline, async move {
            signin::register_client(&service, region, name, redirect, issuer).await
        })?;
        tracing::info!("browser sign-in: a client was registered");
        let registration = Arc::new(registration);
        fork::lock(&KEPT)
            .entry(self.key.clone())
            .or_default()
            .registration = Some(Arc::clone(&registration));
        Ok(registration)
    }

    /// CreateToken with `grant`; the access token is kept with its
    /// refresh token.
    fn create_token(&self, registration: &Registration, grant: CodeGrant) -> Result<Token, Error> {
        let service = Arc::clone(self.service);
        let region = self.key.region.clone();
        let client_id = registration.client_id.clone();
        let secret = registration.client_secret.clone();
        let minted_at = unix_now();
        let access = runtime::run(self.deadline, async move {
            signin::create_token(&service, region, client_id, secret, grant).await
        })?;
        let token = Token::from_answer(access.answer, unix_now())?;
        let due = cache::due(&token, minted_at, self.settings.refresh_margin, false);
        let mut kept = fork::lock(&KEPT);
        let kept = kept.entry(self.key.clone()).or_default();
        kept.token = Some((token.clone(), due.refresh_at));
        if access.refresh_token.is_some() {
            kept.refresh_token = access.refresh_token;
        }
        Ok(token)
    }

    /// The browser part: listener, authorize URL, redirect, code exchange.
    fn sign_in(&self, registration: &Registration) -> Result<Token, Error> {
        let port = self.key.listen_port;
        let listener = TcpListener::bind(("127.0.0.1", port)).map_err(|e| {
            Error::new(
                Status::Network,
                format!(
                    "listen_port: the browser sign-in cannot listen on 127.0.0.1:{port} ({e}); \
                     free the port or choose another with listen_port"
                ),
            )
        })?;
        listener
            .set_nonblocking(true)
            .map_err(|e| Error::internal(format!("the sign-in listener: {e}")))?;
        let state = random_text::<32>()?;
        let verifier = random_text::<32>()?;
        let url = self.authorize_url(registration, &state, &verifier);
        open_in_browser(&url)?;
        tracing::info!("browser sign-in: waiting for the browser on 127.0.0.1:{port}");
        let code = self.wait_for_code(&listener, &state)?;
        drop(listener);
        let grant = CodeGrant::Code {
            code,
            redirect_uri: self.redirect_uri(),
            verifier,
        };
        let token = self.create_token(registration, grant)?;
        tracing::info!("browser sign-in: signed in");
        Ok(token)
    }

    fn authorize_url(&self, registration: &Registration, state: &str, verifier: &str) -> String {
        let challenge = pkce_challenge(verifier);
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("response_type", "code")
            .append_pair("client_id", &registration.client_id)
            .append_pair("redirect_uri", &self.redirect_uri())
            .append_pair("state", state)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256")
            .append_pair("scopes", REDSHIFT_SCOPE)
            .finish();
        format!("{}/authorize?{query}", self.key.endpoint)
    }

    /// Answers the browser's requests until one brings back a code with
    /// our `state`; a redirect with another state is refused and never
    /// exchanged. Each connection is read on a thread of its own, so an
    /// idle one (a browser's spare connection) holds nothing up.
    fn wait_for_code(
        &self,
        listener: &TcpListener,
        state: &Zeroizing<String>,
    ) -> Result<Zeroizing<String>, Error> {
        let (outcomes, arrived) = std::sync::mpsc::channel();
        loop {
            if let Ok(outcome) = arrived.try_recv() {
                return outcome;
            }
            let left = self.deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Error::new(
                    Status::Timeout,
                    "the browser sign-in did not finish within idp_response_timeout_s",
                ));
            }
            match listener.accept() {
                Ok((stream, _)) => {
                    let (state, outcomes) = (state.clone(), outcomes.clone());
                    let reader = std::thread::Builder::new()
                        .name("rs-idc-sign-in".into())
                        .spawn(move || {
                            if let Some(outcome) = answer_browser(stream, &state, left) {
                                let _ = outcomes.send(outcome);
                            }
                        });
                    if let Err(e) = reader {
                        tracing::warn!("no thread for a browser connection: {e}");
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    std::thread::sleep(left.min(Duration::from_millis(20)));
                }
                Err(e) => return Err(Error::internal(format!("the sign-in listener: {e}"))),
            }
        }
    }
}

/// Reads one request from the browser and answers it. `Some` when it
/// ended the sign-in: a code with the right state, or a refusal.
fn answer_browser(
    mut stream: TcpStream,
    state: &str,
    left: Duration,
) -> Option<Result<Zeroizing<String>, Error>> {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(left.min(Duration::from_secs(5))));
    let mut request = Zeroizing::new(Vec::with_capacity(1024));
    let mut chunk = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < MAX_REQUEST {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => request.extend_from_slice(&chunk[..n]),
        }
    }
    let line = request.split(|&b| b == b'\r').next().unwrap_or_default();
    let target = String::from_utf8_lossy(line)
        .split(' ')
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    let target = Zeroizing::new(target);
    let query = target.split_once('?').map(|(_, q)| q).unwrap_or_default();
    let mut code = None;
    let mut given_state = None;
    let mut error = None;
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        match &*name {
            "code" => code = Some(Zeroizing::new(value.into_owned())),
            "state" => given_state = Some(Zeroizing::new(value.into_owned())),
            "error" => error = Some(value.into_owned()),
            _ => {}
        }
    }
    let same_state = given_state.as_ref().is_some_and(|given| {
        aws_lc_rs::constant_time::verify_slices_are_equal(given.as_bytes(), state.as_bytes())
            .is_ok()
    });
    let (status, page, outcome) = match (code, error, same_state) {
        (_, _, false) if given_state.is_some() || query.contains("code=") => (
            "400 Bad Request",
            "This sign-in answer does not belong to the sign-in in progress.",
            None,
        ),
        (_, Some(error), true) => (
            "200 OK",
            "The sign-in was refused. You may close this window.",
            Some(Err(Error::new(
                Status::Identity,
                format!(
                    "the browser sign-in was refused: {}",
                    error.escape_default()
                ),
            ))),
        ),
        (Some(code), None, true) => (
            "200 OK",
            "Signed in to Amazon Redshift. You may close this window.",
            Some(Ok(code)),
        ),
        _ => ("404 Not Found", "Not found.", None),
    };
    let body = format!(
        "<!DOCTYPE html><html><head><title>rs-idc</title></head><body><p>{page}</p></body></html>"
    );
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    outcome
}

/// Opens `url` with the host's callback, or the system's opener.
fn open_in_browser(url: &str) -> Result<(), Error> {
    let refused = |why: String| {
        Error::new(
            Status::Identity,
            format!("the browser could not be opened for the sign-in: {why}"),
        )
    };
    let open = fork::read(&OPEN_URL).clone();
    match open {
        Some(open) => open(url).map_err(refused),
        None => {
            let opener = if cfg!(target_os = "macos") {
                "open"
            } else {
                "xdg-open"
            };
            let status = std::process::Command::new(opener)
                .arg(url)
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status()
                .map_err(|e| refused(format!("{opener}: {e}")))?;
            if status.success() {
                Ok(())
            } else {
                Err(refused(format!("{opener} ended with {status}")))
            }
        }
    }
}

/// The S256 challenge of a PKCE verifier: base64url of its SHA-256.
fn pkce_challenge(verifier: &str) -> Zeroizing<String> {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
    base64url_encode(digest.as_ref())
}

/// `N` random bytes as base64url text, wiped when dropped.
fn random_text<const N: usize>() -> Result<Zeroizing<String>, Error> {
    Ok(base64url_encode(&random_bytes::<N>()?[..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_challenges_follow_rfc_7636() {
        // The example of RFC 7636, appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = pkce_challenge(verifier);
        assert_eq!(*challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
        let text = random_text::<32>().unwrap();
        assert_eq!(text.len(), 43);
        assert_ne!(*text, *random_text::<32>().unwrap());
    }
}
