//! Browser sign-in for people at a desktop: IAM Identity Center's
//! authorization code with PKCE, as the official drivers'
//! BrowserIdcAuthPlugin does it, once for every driver. What is kept and
//! renewed is shared with the device-code sign-in (see [`crate::signin`]);
//! what is the browser's is here: a client registered for the loopback
//! redirect URI, a random `state` and PKCE verifier, the listener bound
//! before the browser is opened ([`listener`]), the redirect checked
//! against `state`, and the code exchanged with its verifier.

mod listener;

use crate::aws::signin::{AccessToken, ClientKind, CodeGrant, Registration, REDSHIFT_SCOPE};
use crate::aws::Service;
use crate::clock::Deadline;
use crate::error::Error;
use crate::fork;
use crate::keyed::{random_bytes, Digest};
use crate::settings::Settings;
use crate::signin::{self, Interactive, Place};
use crate::status::Status;
use crate::token::Token;
use crate::values::base64url_encode;
use listener::Listener;
use std::sync::{Arc, RwLock};
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

/// The access token of the person signed in with `settings`, handed to
/// `read`: kept, renewed with the refresh token, or from a new sign-in in
/// the browser, within `deadline`.
pub(crate) fn read_browser_token<R>(
    service: &Arc<Service>,
    settings: &Settings,
    flight_settings: &Digest,
    deadline: &Deadline,
    read: impl FnOnce(&Token) -> R,
) -> Result<R, Error> {
    let place = Place::of(service, settings, deadline, "browser")?;
    let flow = Browser {
        port: settings.browser.listen_port,
    };
    signin::read_token(&place, flight_settings, &flow, read)
}

/// The browser's part of a sign-in, on a loopback port.
struct Browser {
    port: u16,
}

impl Browser {
    fn redirect_uri(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    fn authorize_url(
        &self,
        place: &Place<'_>,
        registration: &Registration,
        state: &str,
        verifier: &str,
    ) -> String {
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
        format!("{}/authorize?{query}", place.key.endpoint)
    }
}

impl Interactive for Browser {
    fn client_kind(&self) -> ClientKind {
        ClientKind::Browser {
            redirect_uri: self.redirect_uri(),
        }
    }

    /// Listener, authorize URL, redirect, code exchange.
    fn sign_in(
        &self,
        place: &Place<'_>,
        registration: &Registration,
    ) -> Result<AccessToken, Error> {
        let listener = Listener::bind(self.port)?;
        let state = random_text::<32>()?;
        let verifier = random_text::<32>()?;
        let url = self.authorize_url(place, registration, &state, &verifier);
        open_in_browser(&url)?;
        let code = listener.wait_for_code(&state, place.deadline)?;
        drop(listener);
        let grant = CodeGrant::Code {
            code,
            redirect_uri: self.redirect_uri(),
            verifier,
        };
        signin::create_token(place, registration, grant)
    }
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
        Some(open) => open(url),
        None => open_with_system(url),
    }
    .map_err(refused)
}

/// Opens `url` with the system's opener (`xdg-open`, or `open` on macOS)
/// and waits for it; why not, when it is missing or fails.
pub fn open_with_system(url: &str) -> Result<(), String> {
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
        .map_err(|e| format!("{opener}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{opener} ended with {status}"))
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
