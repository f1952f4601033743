//! Sign-ins for people, as the browser and the device-code flows share
//! them: what is kept, where, and how a kept sign-in is used again.
//!
//! A sign-in is kept per place (issuer, Identity Center region, display
//! name, SSO-OIDC endpoint): the clients registered for each flow, and the
//! access token with its refresh token. In memory it is a [`Kept`] entry;
//! with a token cache folder it is also a file there (see [`disk`]), so
//! that the next process uses it too. A call then goes, in order: the
//! access token kept in memory; the one kept on disk (another process may
//! have signed in); a renewal with the refresh token; a new sign-in by the
//! person ([`Interactive`]: the browser, or a device code). Concurrent
//! callers of a process share one flight; processes take turns through a
//! lock file, so racing processes sign in once.

pub(crate) mod disk;

use crate::aws::signin::{self, ClientKind, CodeGrant, Registration};
use crate::aws::Service;
use crate::cache;
use crate::clock::{unix_now, Deadline};
use crate::error::Error;
use crate::fork;
use crate::kept::{Due, Forgotten, Keepable, Kept, Store};
use crate::keyed::{token_digest, Digest};
use crate::runtime;
use crate::settings::Settings;
use crate::steps::{self, Step};
use crate::token::Token;
use disk::Folder;
use std::path::PathBuf;
use std::sync::{Arc, LazyLock, Mutex};
use zeroize::Zeroizing;

/// The sign-ins of this process (at most 64), and the token cache folders
/// it used.
pub(crate) static SIGN_INS: LazyLock<SignIns> = LazyLock::new(|| SignIns {
    kept: Kept::new("sign-ins", 1, 64),
    folders: Mutex::new(Vec::new()),
});

/// A registration is used again while this much of its secret's life is
/// left.
const REGISTRATION_MARGIN_S: i64 = 3600;

/// Where a person signs in: who, at which Identity Center, through which
/// endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct SignInKey {
    pub(crate) issuer: String,
    pub(crate) region: Option<String>,
    pub(crate) display_name: String,
    pub(crate) endpoint: String,
}

/// A registered client, and the redirect URI it was registered with (for
/// the browser flow).
#[derive(Clone)]
pub(crate) struct Client {
    pub(crate) registration: Registration,
    pub(crate) kind: ClientKind,
}

/// What a sign-in keeps: the clients registered for each flow, and the
/// access token with its refresh token.
#[derive(Clone, Default)]
pub(crate) struct SignIn {
    pub(crate) browser_client: Option<Arc<Client>>,
    pub(crate) device_client: Option<Arc<Client>>,
    /// The access token and when it was issued (Unix seconds).
    pub(crate) access: Option<(Token, i64)>,
    pub(crate) refresh_token: Option<Zeroizing<String>>,
}

impl SignIn {
    /// The client registered for `flow`'s kind, if it is still good for
    /// it (same redirect URI, secret not about to expire).
    fn client(&self, kind: &ClientKind) -> Option<&Arc<Client>> {
        let client = match kind {
            ClientKind::Browser { .. } => self.browser_client.as_ref(),
            ClientKind::Device => self.device_client.as_ref(),
        }?;
        (client.kind == *kind
            && client.registration.expires_at > unix_now() + REGISTRATION_MARGIN_S)
            .then_some(client)
    }

    fn with_client(mut self, client: Arc<Client>) -> SignIn {
        match client.kind {
            ClientKind::Browser { .. } => self.browser_client = Some(client),
            ClientKind::Device => self.device_client = Some(client),
        }
        self
    }

    /// Whether it holds the access token whose digest is `token`.
    fn holds(&self, token: &Digest) -> bool {
        self.access.as_ref().is_some_and(|(access, _)| {
            token_digest(access.secret().as_bytes()).is_ok_and(|own| own.same_as(token))
        })
    }
}

/// A forgotten access token goes; the clients and the refresh token stay,
/// so the next call renews without the person when it can.
impl Keepable for Arc<SignIn> {
    fn forget(&self, token: &Digest) -> Forgotten<Arc<SignIn>> {
        if !self.holds(token) {
            return Forgotten::NotHeld;
        }
        Forgotten::Kept(Arc::new(SignIn {
            access: None,
            ..SignIn::clone(self)
        }))
    }
}

/// The sign-ins in memory, and the folders that hold them on disk.
pub(crate) struct SignIns {
    kept: Kept<SignInKey, Arc<SignIn>>,
    folders: Mutex<Vec<PathBuf>>,
}

impl SignIns {
    /// Remembers `folder` as one this process keeps sign-ins in, so that
    /// clearing and forgetting reach it.
    fn uses(&self, folder: &Folder) {
        let mut folders = fork::lock(&self.folders);
        if !folders.iter().any(|known| known == folder.path()) {
            folders.push(folder.path().to_owned());
        }
    }

    fn folders(&self) -> Vec<Folder> {
        fork::lock(&self.folders)
            .iter()
            .map(|path| Folder::known(path.clone()))
            .collect()
    }
}

/// Clearing and forgetting reach the files in the folders in use too.
impl Store for SignIns {
    fn name(&self) -> &'static str {
        self.kept.name()
    }

    fn clear(&self) {
        self.kept.clear();
        for folder in self.folders() {
            folder.remove_all();
        }
    }

    fn forget(&self, token: &Digest) -> bool {
        let in_memory = self.kept.forget(token);
        let on_disk = self
            .folders()
            .iter()
            .fold(false, |found, folder| folder.forget(token) | found);
        in_memory | on_disk
    }
}

/// The person's part of a sign-in, which differs by flow.
pub(crate) trait Interactive {
    /// The kind of client this flow registers.
    fn client_kind(&self) -> ClientKind;
    /// Signs the person in with `registration`: an access token.
    fn sign_in(
        &self,
        place: &Place<'_>,
        registration: &Registration,
    ) -> Result<signin::AccessToken, Error>;
}

/// A sign-in's place and the call's bounds.
pub(crate) struct Place<'a> {
    pub(crate) service: &'a Arc<Service>,
    pub(crate) settings: &'a Settings,
    pub(crate) key: SignInKey,
    pub(crate) deadline: &'a Deadline,
}

impl Place<'_> {
    /// The place of `settings`'s sign-in, through `service`.
    pub(crate) fn of<'a>(
        service: &'a Arc<Service>,
        settings: &'a Settings,
        deadline: &'a Deadline,
        flow: &str,
    ) -> Result<Place<'a>, Error> {
        let signin = &settings.browser;
        let issuer = signin.issuer_url.clone().ok_or_else(|| {
            Error::invalid(format!(
                "the {flow} sign-in needs the issuer_url option (the Identity Center issuer URL)"
            ))
        })?;
        Ok(Place {
            service,
            settings,
            key: SignInKey {
                issuer,
                region: signin.idc_region.clone(),
                display_name: signin.display_name.clone(),
                endpoint: service.oidc_base_url(signin.idc_region.as_deref()),
            },
            deadline,
        })
    }

    pub(crate) fn region(&self) -> Option<String> {
        self.key.region.clone()
    }
}

/// The access token of the person signed in at `place`, handed to `read`:
/// kept, renewed, or from a new sign-in by `flow`. Concurrent callers with
/// the same place and `flight_settings` share one sign-in.
pub(crate) fn read_token<R>(
    place: &Place<'_>,
    flight_settings: &Digest,
    flow: &dyn Interactive,
    read: impl FnOnce(&Token) -> R,
) -> Result<R, Error> {
    let folder = match &place.settings.browser.token_cache_dir {
        Some(path) => {
            let folder = Folder::open(path)?;
            SIGN_INS.uses(&folder);
            Some(folder)
        }
        None => None,
    };
    let signed_in = |sign_in: &Arc<SignIn>| sign_in.access.is_some();
    let sign_in = SIGN_INS.kept.fly(
        &place.key,
        flight_settings,
        place.deadline,
        signed_in,
        |kept| {
            let kept = kept.as_deref().cloned().unwrap_or_default();
            // What a sign-in that fails leaves behind (a new registration)
            // is kept too, so that the next attempt does not register again.
            let keep_partial = |partial: &SignIn| {
                let partial = Arc::new(partial.clone());
                SIGN_INS
                    .kept
                    .keep(place.key.clone(), partial, Due::until(i64::MIN));
            };
            match &folder {
                Some(folder) => {
                    let _turn = folder.lock(&place.key, place.deadline)?;
                    let kept = folder.read(&place.key, kept);
                    let save = |partial: &SignIn| {
                        keep_partial(partial);
                        folder.write(&place.key, partial);
                    };
                    let signed_in = sign_in(place, flow, kept, &save)?;
                    folder.write(&place.key, &signed_in.0);
                    Ok(signed_in)
                }
                None => sign_in(place, flow, kept, &keep_partial),
            }
        },
    )?;
    let (token, _) = sign_in
        .access
        .as_ref()
        .ok_or_else(|| Error::internal("the sign-in ended without an access token"))?;
    Ok(read(token))
}

/// A signed-in `SignIn` from what is `kept`: its access token while it is
/// before its margin, else renewed with its refresh token, else a new
/// sign-in by `flow` (a client registered for it is handed to `partial`
/// at once).
fn sign_in(
    place: &Place<'_>,
    flow: &dyn Interactive,
    kept: SignIn,
    partial: &dyn Fn(&SignIn),
) -> Result<(Arc<SignIn>, Due), Error> {
    let margin = place.settings.refresh_margin;
    if let Some((token, issued_at)) = &kept.access {
        let due = cache::due(token, *issued_at, margin, false);
        if unix_now() < due.until {
            return Ok((Arc::new(kept), due));
        }
    }
    let kind = flow.client_kind();
    if let Some(refresh_token) = &kept.refresh_token {
        // The refresh token belongs to the client that signed in, which
        // may be the other flow's: this flow's client is tried first.
        let clients = [
            kept.client(&kind),
            kept.browser_client.as_ref(),
            kept.device_client.as_ref(),
        ];
        let mut tried: Vec<&str> = Vec::new();
        for client in clients.into_iter().flatten() {
            let id = client.registration.client_id.as_str();
            if tried.contains(&id) || client.registration.expires_at <= unix_now() {
                continue;
            }
            tried.push(id);
            let grant = CodeGrant::Refresh(refresh_token.clone());
            match create_token(place, &client.registration, grant) {
                Ok(access) => {
                    steps::happened(Step::Renewed);
                    return keep(place, kept.clone(), access);
                }
                Err(err) => steps::happened(Step::RenewalRefused(err.message().to_owned())),
            }
        }
    }
    let (kept, client) = match kept.client(&kind).cloned() {
        Some(client) => (kept, client),
        None => {
            let client = Arc::new(register(place, kind)?);
            let kept = kept.with_client(Arc::clone(&client));
            partial(&kept);
            (kept, client)
        }
    };
    let access = flow.sign_in(place, &client.registration)?;
    steps::happened(Step::SignedIn);
    keep(place, kept, access)
}

/// `kept` with the new access token (and its refresh token, or the one
/// before when none came back), and when it is due.
fn keep(
    place: &Place<'_>,
    kept: SignIn,
    access: signin::AccessToken,
) -> Result<(Arc<SignIn>, Due), Error> {
    let issued_at = unix_now();
    let token = Token::from_answer(access.answer, issued_at)?;
    let due = cache::due(&token, issued_at, place.settings.refresh_margin, false);
    let sign_in = SignIn {
        access: Some((token, issued_at)),
        refresh_token: access.refresh_token.or(kept.refresh_token.clone()),
        ..kept
    };
    Ok((Arc::new(sign_in), due))
}

/// Registers a public client of `kind`.
fn register(place: &Place<'_>, kind: ClientKind) -> Result<Client, Error> {
    let service = Arc::clone(place.service);
    let (region, name) = (place.region(), place.key.display_name.clone());
    let issuer = place.key.issuer.clone();
    let registered = kind.clone();
    let registration = runtime::run(place.deadline, async move {
        signin::register_client(&service, region, name, registered, issuer).await
    })?;
    steps::happened(Step::ClientRegistered);
    Ok(Client { registration, kind })
}

/// CreateToken with `grant` for `registration`.
pub(crate) fn create_token(
    place: &Place<'_>,
    registration: &Registration,
    grant: CodeGrant,
) -> Result<signin::AccessToken, Error> {
    let service = Arc::clone(place.service);
    let region = place.region();
    let client_id = registration.client_id.clone();
    let secret = registration.client_secret.clone();
    runtime::run(place.deadline, async move {
        signin::create_token(&service, region, client_id, secret, grant).await
    })
}
