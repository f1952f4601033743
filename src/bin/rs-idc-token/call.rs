//! Getting the token: a library client made from the command line's
//! settings, and the call, with a notice on stderr while it takes long
//! (for a sign-in, when the person is asked to act).

use crate::args::{Args, Target};
use crate::sign_in;
use rs_idc::options::settings_from_options;
use rs_idc::{Client, Error, Token};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// How often the waiting notice is repeated, and how long the first one
/// waits.
const NOTICE_INTERVAL: Duration = Duration::from_secs(1);

/// A client with the environment's settings, overridden by `--region`,
/// `--profile` and `--endpoint-url`, checked the way the C API checks its
/// options. With the per-user flags, its calls get the token of the user
/// of the web token file; with `--browser`, it signs in with the browser
/// flags (the handle options of the same names).
pub fn client(args: &Args) -> Result<Client, Error> {
    let user = args.user.as_ref();
    let web_token_file = user.map(|user| user.web_token_file.clone());
    let idc_application_arn = user.map(|user| user.idc_application_arn.clone());
    let access_role_arn = user.map(|user| user.access_role_arn.clone());
    let application_role_arn = user.and_then(|user| user.application_role_arn.clone());
    let role_session_name = user.and_then(|user| user.role_session_name.clone());
    let sign_in = match &args.target {
        Some(Target::SignIn(sign_in)) => Some(sign_in),
        _ => None,
    };
    let issuer_url = sign_in.map(|sign_in| sign_in.issuer_url.clone());
    let idc_region = sign_in.and_then(|sign_in| sign_in.idc_region.clone());
    let listen_port = sign_in.and_then(|sign_in| sign_in.listen_port.clone());
    let idp_response_timeout_s = sign_in.and_then(|sign_in| sign_in.idp_response_timeout.clone());
    let display_name = sign_in.and_then(|sign_in| sign_in.display_name.clone());
    let token_cache_dir = sign_in
        .and_then(sign_in::token_cache_dir)
        .map(|dir| dir.to_string_lossy().into_owned());
    let given = [
        ("region", &args.region),
        ("profile", &args.profile),
        ("endpoint_url", &args.endpoint_url),
        ("idc_application_arn", &idc_application_arn),
        ("access_role_arn", &access_role_arn),
        ("application_role_arn", &application_role_arn),
        ("web_token_file", &web_token_file),
        ("role_session_name", &role_session_name),
        ("issuer_url", &issuer_url),
        ("idc_region", &idc_region),
        ("listen_port", &listen_port),
        ("idp_response_timeout_s", &idp_response_timeout_s),
        ("idc_client_display_name", &display_name),
        ("token_cache_dir", &token_cache_dir),
    ];
    let options: Vec<(&[u8], Option<&[u8]>)> = given
        .iter()
        .filter_map(|(key, value)| {
            value
                .as_deref()
                .map(|value| (key.as_bytes(), Some(value.as_bytes())))
        })
        .collect();
    Ok(Client::new(settings_from_options(&options)?))
}

/// Gets a token for `target`, saying on stderr each second while the
/// endpoint has not answered. For a sign-in, the access token of the
/// person: kept, renewed, or from a new sign-in, whose notice comes once,
/// when the person is asked to act.
pub fn get_token(client: &Client, target: &Target) -> Result<Token, Error> {
    match target {
        Target::SignIn(args) => sign_in::get_token(client, args),
        Target::Clusters(ids) => with_waiting_notice(|| client.get_token(ids)),
        Target::Workgroups(names) => with_waiting_notice(|| client.get_serverless_token(names)),
        Target::Host(host) => with_waiting_notice(|| client.get_token_for_host(host.as_bytes())),
    }
}

/// Runs `work`, printing `waiting for the endpoint (N s)...` on stderr
/// after each [`NOTICE_INTERVAL`] it is still running.
fn with_waiting_notice<T>(work: impl FnOnce() -> T) -> T {
    let (finished, finished_signal) = mpsc::channel::<()>();
    std::thread::scope(|scope| {
        scope.spawn(move || announce_waits(&finished_signal));
        let outcome = work();
        // Dropping the sender wakes the announcer, which then returns.
        drop(finished);
        outcome
    })
}

/// Prints a waiting notice at each whole interval until `finished_signal`
/// is disconnected (or sent to).
fn announce_waits(finished_signal: &Receiver<()>) {
    let started = Instant::now();
    let mut next_notice = NOTICE_INTERVAL;
    loop {
        let until_next = next_notice.saturating_sub(started.elapsed());
        match finished_signal.recv_timeout(until_next) {
            Err(RecvTimeoutError::Timeout) => {
                eprintln!(
                    "rs-idc-token: waiting for the endpoint ({} s)...",
                    next_notice.as_secs()
                );
                next_notice += NOTICE_INTERVAL;
            }
            Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quick_work_returns_its_outcome_at_once() {
        let started = Instant::now();
        assert_eq!(with_waiting_notice(|| 42), 42);
        assert!(started.elapsed() < NOTICE_INTERVAL);
    }
}
