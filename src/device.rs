//! Device-code sign-in, for a person on a machine without a browser (a
//! remote shell): IAM Identity Center's device authorization grant. The
//! person is shown a URL and a code, confirms them in a browser anywhere,
//! and the library polls until the sign-in is done. What is kept and
//! renewed is shared with the browser sign-in (see [`crate::signin`]).

use crate::aws::signin::{self, AccessToken, ClientKind, DevicePoll, Registration};
use crate::aws::Service;
use crate::clock::Deadline;
use crate::error::Error;
use crate::fork;
use crate::keyed::Digest;
use crate::runtime;
use crate::settings::Settings;
use crate::signin::{Interactive, Place};
use crate::status::Status;
use crate::steps::{self, Step};
use crate::token::Token;
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// How the library shows the person the verification URL (with the code
/// in it) and the code to confirm; an error fails the sign-in at once.
pub type ShowDeviceCode = Arc<dyn Fn(&str, &str) -> Result<(), String> + Send + Sync>;

static SHOW: RwLock<Option<ShowDeviceCode>> = RwLock::new(None);

/// How much longer to wait between polls after the service says to slow
/// down (RFC 8628, section 3.5).
const SLOW_DOWN: Duration = Duration::from_secs(5);

/// Sets how the URL and code are shown; `None` restores the default,
/// which writes them to standard error.
pub fn set_show_device_code(show: Option<ShowDeviceCode>) {
    *fork::write(&SHOW) = show;
}

/// The access token of the person signed in with `settings`, handed to
/// `read`: kept, renewed with the refresh token, or from a new device-code
/// sign-in, within `deadline`.
pub(crate) fn read_device_token<R>(
    service: &Arc<Service>,
    settings: &Settings,
    flight_settings: &Digest,
    deadline: &Deadline,
    read: impl FnOnce(&Token) -> R,
) -> Result<R, Error> {
    let place = Place::of(service, settings, deadline, "device-code")?;
    crate::signin::read_token(&place, flight_settings, &Device, read)
}

/// The device's part of a sign-in.
struct Device;

impl Interactive for Device {
    fn client_kind(&self) -> ClientKind {
        ClientKind::Device
    }

    /// StartDeviceAuthorization, the URL and code shown, then CreateToken
    /// with the device code at the service's interval until the person
    /// has confirmed, refused, or the time is up.
    fn sign_in(
        &self,
        place: &Place<'_>,
        registration: &Registration,
    ) -> Result<AccessToken, Error> {
        let (service, region) = (Arc::clone(place.service), place.region());
        let (client_id, secret) = (
            registration.client_id.clone(),
            registration.client_secret.clone(),
        );
        let issuer = place.key.issuer.clone();
        // The deadline is idp_response_timeout_s: a call it cuts off ends
        // the sign-in with the same message as a wait it ends.
        let timed_out = || {
            Error::new(
                Status::Timeout,
                "the device-code sign-in did not finish within idp_response_timeout_s \
                 (nobody confirmed the code in time)",
            )
        };
        let within_bound = |err: Error| match err.status() {
            Status::Timeout if place.deadline.passed() => timed_out(),
            _ => err,
        };
        let authorization = runtime::run(place.deadline, async move {
            signin::start_device_authorization(&service, region, client_id, secret, issuer).await
        })
        .map_err(within_bound)?;
        show(
            &authorization.verification_uri_complete,
            &authorization.user_code,
        )?;
        steps::happened(Step::DeviceCodeShown);
        let mut interval = Duration::from_secs(authorization.interval);
        loop {
            let left = place.deadline.left();
            if left <= interval {
                std::thread::sleep(left);
                return Err(timed_out());
            }
            std::thread::sleep(interval);
            let (service, region) = (Arc::clone(place.service), place.region());
            let (client_id, secret) = (
                registration.client_id.clone(),
                registration.client_secret.clone(),
            );
            let code = authorization.device_code.clone();
            let poll = runtime::run(place.deadline, async move {
                signin::poll_device_token(&service, region, client_id, secret, code).await
            })
            .map_err(within_bound)?;
            match poll {
                DevicePoll::Token(access) => return Ok(access),
                DevicePoll::Pending => {}
                DevicePoll::SlowDown => interval += SLOW_DOWN,
            }
        }
    }
}

/// Shows the URL and code with the host's callback, or on standard error.
fn show(url: &str, code: &str) -> Result<(), Error> {
    let show = fork::read(&SHOW).clone();
    match show {
        Some(show) => show(url, code).map_err(|why| {
            Error::new(
                Status::Identity,
                format!("the device code could not be shown for the sign-in: {why}"),
            )
        }),
        None => {
            eprintln!(
                "To sign in to Amazon Redshift, open {url} in a browser on any device and \
                 confirm the code {code}."
            );
            Ok(())
        }
    }
}
