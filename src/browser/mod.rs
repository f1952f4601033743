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

mod listener;

use crate::aws::signin::{self, CodeGrant, Registration, REDSHIFT_SCOPE};
use crate::aws::Service;
use crate::cache;
use crate::clock::{unix_now, Deadline};
use crate::error::Error;
use crate::fork;
use crate::kept::{Due, Forgotten, Keepable, Kept};
use crate::keyed::{random_bytes, token_digest, Digest};
use crate::runtime;
use crate::settings::Settings;
use crate::status::Status;
use crate::steps::{self, Step};
use crate::token::Token;
use crate::values::base64url_encode;
use listener::Listener;
use std::sync::{Arc, LazyLock, RwLock};
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
pub(crate) static SIGN_INS: LazyLock<Kept<SignInKey, Arc<SignIn>>> =
    LazyLock::new(|| Kept::new("browser sign-ins", 1, 64));

/// A sign-in's place: who signs in where, and where the browser comes back.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct SignInKey {
    issuer: String,
    region: Option<String>,
    display_name: String,
    listen_port: u16,
    endpoint: String,
}

/// What a sign-in keeps: the registration, and the access token (served
/// until its margin) with its refresh token.
#[derive(Clone, Default)]
pub(crate) struct SignIn {
    registration: Option<Arc<Registration>>,
    access: Option<Token>,
    refresh_token: Option<Zeroizing<String>>,
}

/// A forgotten access token goes; the registration and the refresh token
/// stay, so the next call renews without the browser when it can.
impl Keepable for Arc<SignIn> {
    fn forget(&self, token: &Digest) -> Forgotten<Arc<SignIn>> {
        let held = self.access.as_ref().is_some_and(|access| {
            token_digest(access.secret().as_bytes()).is_ok_and(|own| own.same_as(token))
        });
        if !held {
            return Forgotten::NotHeld;
        }
        Forgotten::Kept(Arc::new(SignIn {
            access: None,
            ..SignIn::clone(self)
        }))
    }
}

/// A registration is used again while this much of its secret's life is
/// left.
const REGISTRATION_MARGIN_S: i64 = 3600;

/// The access token of the person signed in with `settings`, handed to
/// `read`: kept, renewed with the refresh token, or from a new sign-in in
/// the browser, within `deadline`. Concurrent sign-ins with the same place
/// and `flight_settings` share one.
pub(crate) fn read_browser_token<R>(
    service: &Arc<Service>,
    settings: &Settings,
    flight_settings: &Digest,
    deadline: &Deadline,
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
    let signed_in = |sign_in: &Arc<SignIn>| sign_in.access.is_some();
    let sign_in = SIGN_INS.fly(&key, flight_settings, deadline, signed_in, |previous| {
        let flow = Flow {
            service,
            settings,
            key: &key,
            deadline,
        };
        flow.run(previous.as_deref().cloned().unwrap_or_default())
    })?;
    let token = sign_in
        .access
        .as_ref()
        .ok_or_else(|| Error::internal("the sign-in ended without an access token"))?;
    Ok(read(token))
}

/// One sign-in (or renewal) in progress.
struct Flow<'a> {
    service: &'a Arc<Service>,
    settings: &'a Settings,
    key: &'a SignInKey,
    deadline: &'a Deadline,
}

impl Flow<'_> {
    /// A signed-in `SignIn` from what `kept` holds: renewed with its
    /// refresh token, else signed in in the browser.
    fn run(&self, kept: SignIn) -> Result<(Arc<SignIn>, Due), Error> {
        let registration = kept
            .registration
            .filter(|r| r.expires_at > unix_now() + REGISTRATION_MARGIN_S);
        if let (Some(registration), Some(refresh_token)) = (&registration, kept.refresh_token) {
            match self.create_token(registration, CodeGrant::Refresh(refresh_token.clone())) {
                Ok(signed_in) => {
                    steps::happened(Step::Renewed);
                    return Ok(signed_in);
                }
                Err(err) => steps::happened(Step::RenewalRefused(err.message().to_owned())),
            }
        }
        let registration = match registration {
            Some(registration) => registration,
            None => self.register()?,
        };
        self.sign_in(registration)
    }

    fn redirect_uri(&self) -> String {
        format!("http://127.0.0.1:{}/", self.key.listen_port)
    }

    /// Registers a public client, and keeps it at once: a sign-in that
    /// fails after this point does not register again.
    fn register(&self) -> Result<Arc<Registration>, Error> {
        let service = Arc::clone(self.service);
        let region = self.key.region.clone();
        let name = self.key.display_name.clone();
        let (redirect, issuer) = (self.redirect_uri(), self.key.issuer.clone());
        let registration = runtime::run(self.deadline, async move {
            signin::register_client(&service, region, name, redirect, issuer).await
        })?;
        steps::happened(Step::ClientRegistered);
        let registration = Arc::new(registration);
        let registered = SignIn {
            registration: Some(Arc::clone(&registration)),
            ..SignIn::default()
        };
        SIGN_INS.keep(self.key.clone(), Arc::new(registered), Due::until(i64::MIN));
        Ok(registration)
    }

    /// CreateToken with `grant`: the access token, kept with its refresh
    /// token (the one before stays when none comes back).
    fn create_token(
        &self,
        registration: &Arc<Registration>,
        grant: CodeGrant,
    ) -> Result<(Arc<SignIn>, Due), Error> {
        let kept_refresh = match &grant {
            CodeGrant::Refresh(token) => Some(token.clone()),
            CodeGrant::Code { .. } => None,
        };
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
        let sign_in = SignIn {
            registration: Some(Arc::clone(registration)),
            access: Some(token),
            refresh_token: access.refresh_token.or(kept_refresh),
        };
        Ok((Arc::new(sign_in), due))
    }

    /// The browser part: listener, authorize URL, redirect, code exchange.
    fn sign_in(&self, registration: Arc<Registration>) -> Result<(Arc<SignIn>, Due), Error> {
        let listener = Listener::bind(self.key.listen_port)?;
        let state = random_text::<32>()?;
        let verifier = random_text::<32>()?;
        let url = self.authorize_url(&registration, &state, &verifier);
        open_in_browser(&url)?;
        let code = listener.wait_for_code(&state, self.deadline)?;
        drop(listener);
        let grant = CodeGrant::Code {
            code,
            redirect_uri: self.redirect_uri(),
            verifier,
        };
        let signed_in = self.create_token(&registration, grant)?;
        steps::happened(Step::SignedIn);
        Ok(signed_in)
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
