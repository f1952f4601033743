//! The sign-in for people (`--browser`, `--device-code`): where it is
//! kept between runs, how the sign-in page is opened (`--open-with`, the
//! system's opener, or by hand), how the device code is shown, and what
//! `--check` says about the sign-in. The token is never printed here; the
//! authorize URL and the device code are shown only to the person, on
//! stderr, when a sign-in needs them.

use crate::args::{SignInArgs, SignInFlow, TokenCache};
use rs_idc::browser::{open_with_system, set_open_url, OpenUrl};
use rs_idc::device::{set_show_device_code, ShowDeviceCode};
use rs_idc::{Client, Error, Status, Token};
use std::os::fd::AsFd;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;

/// How long the sign-in may take when `--idp-response-timeout` is not
/// given (the library's default).
const DEFAULT_TIMEOUT_S: &str = "120";
/// The loopback port when `--listen-port` is not given (the library's
/// default).
const DEFAULT_LISTEN_PORT: &str = "7890";

/// The token cache folder of `args`: `--token-cache-dir`, else
/// `$XDG_CACHE_HOME/rs-idc`, else `~/.cache/rs-idc`; `None` with
/// `--no-token-cache` (or when neither variable is set).
pub fn token_cache_dir(args: &SignInArgs) -> Option<PathBuf> {
    let set = |name: &str| std::env::var_os(name).filter(|value| !value.is_empty());
    match &args.token_cache {
        TokenCache::Off => None,
        TokenCache::Dir(dir) => Some(PathBuf::from(dir)),
        TokenCache::Default => set("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| set("HOME").map(|home| PathBuf::from(home).join(".cache")))
            .map(|cache| cache.join("rs-idc")),
    }
}

/// Makes the library open the sign-in page with `--open-with`, else with
/// the system's opener, else by the person (the URL printed on stderr);
/// makes it show a device code on stderr with the time it waits. Each says
/// on stderr that the run waits for the person, only when it does.
fn install_interaction(args: &SignInArgs) {
    let waits = args
        .idp_response_timeout
        .clone()
        .unwrap_or_else(|| DEFAULT_TIMEOUT_S.into());
    match args.flow {
        SignInFlow::Browser => {
            let command = args.open_with.clone();
            let open: OpenUrl = Arc::new(move |url: &str| {
                match &command {
                    Some(command) => open_with(command, url)?,
                    None => {
                        if let Err(why) = open_with_system(url) {
                            ask_to_open(url, &why);
                        }
                    }
                }
                eprintln!(
                    "rs-idc-token: sign in to IAM Identity Center in the browser \
                     (waiting up to {waits} s)..."
                );
                Ok(())
            });
            set_open_url(Some(open));
        }
        SignInFlow::DeviceCode => {
            let show: ShowDeviceCode = Arc::new(move |url: &str, code: &str| {
                eprintln!(
                    "rs-idc-token: to sign in, open {url} in a browser on any device and \
                     check that it shows the code {code}; waiting up to {waits} s..."
                );
                Ok(())
            });
            set_show_device_code(Some(show));
        }
    }
}

/// The access token of the person's sign-in of `args`: kept, renewed, or
/// from a new sign-in, for which the person is asked on stderr.
pub fn get_token(client: &Client, args: &SignInArgs) -> Result<Token, Error> {
    install_interaction(args);
    match args.flow {
        SignInFlow::Browser => client.get_browser_token(),
        SignInFlow::DeviceCode => client.get_device_token(),
    }
}

/// Asks the person to open `url` by hand, as no browser could be opened.
fn ask_to_open(url: &str, why: &str) {
    eprintln!(
        "rs-idc-token: no browser could be opened ({why}). Open this URL in a browser on \
         this machine to sign in (from a remote shell, use --device-code instead):\n{url}"
    );
}

/// Runs `command` with `url` as its last argument through `sh -c
/// 'COMMAND "$1"'`, so that the shell never reads the URL itself, and
/// waits for it, as the library waits for `xdg-open`. Its output goes to
/// stderr: stdout is the token's.
fn open_with(command: &str, url: &str) -> Result<(), String> {
    let stderr = std::io::stderr()
        .as_fd()
        .try_clone_to_owned()
        .map_err(|err| format!("--open-with: {err}"))?;
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!("{command} \"$1\""))
        .arg("rs-idc-token")
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::from(stderr))
        .status()
        .map_err(|err| format!("--open-with: sh cannot be started: {err}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("--open-with {command:?} ended with {status}"))
    }
}

/// Prints the sign-in's settings for `--check`.
pub fn report_settings(args: &SignInArgs, region: Option<&str>) {
    let flow = match args.flow {
        SignInFlow::Browser => "in the browser on this machine (--browser)",
        SignInFlow::DeviceCode => "with a device code (--device-code)",
    };
    println!("flow:         {flow}");
    println!("issuer:       {}", args.issuer_url);
    let idc_region = match (&args.idc_region, region) {
        (Some(idc_region), _) => format!("{idc_region} (from --idc-region)"),
        (None, Some(region)) => format!("the region above ({region})"),
        (None, None) => "the region above".into(),
    };
    println!("idc region:   {idc_region}");
    println!(
        "client name:  {}",
        args.display_name.as_deref().unwrap_or("rs-idc")
    );
    let kept = match token_cache_dir(args) {
        Some(dir) => format!("{} (kept between runs)", dir.display()),
        None => "this run only".into(),
    };
    println!("kept in:      {kept}");
    if args.flow == SignInFlow::Browser {
        println!(
            "redirect:     http://127.0.0.1:{}/ (the loopback port the browser is sent back to)",
            args.listen_port.as_deref().unwrap_or(DEFAULT_LISTEN_PORT)
        );
        let opener = match &args.open_with {
            Some(command) => format!("{command} (from --open-with)"),
            None if cfg!(target_os = "macos") => {
                "open (the system's opener), else the URL to open by hand".into()
            }
            None => "xdg-open (the system's opener), else the URL to open by hand".into(),
        };
        println!("browser:      {opener}");
    }
    println!(
        "waits:        up to {} s for the sign-in",
        args.idp_response_timeout
            .as_deref()
            .unwrap_or(DEFAULT_TIMEOUT_S)
    );
}

/// Prints one `sign-in:` line per step the library reported (when it
/// reported none, says why there may be none), then who the token is for.
pub fn report_steps(steps: &[String], outcome: &Result<Token, Error>) {
    for step in steps {
        println!("sign-in:      {step}");
    }
    if steps.is_empty() {
        let why = match outcome {
            Err(_) => "no step ran: the call failed before the sign-in",
            Ok(_) => "no step was reported",
        };
        println!("sign-in:      {why}");
    }
    let identity = match outcome {
        Ok(_) => "the person who signed in",
        Err(_) => "nobody signed in",
    };
    println!("identity:     {identity}");
}

/// What to do about a failure of `err` in the sign-in, where it differs
/// from the general next step.
pub fn next_step(err: &Error, flow: SignInFlow) -> Option<&'static str> {
    Some(match err.status() {
        Status::Timeout if flow == SignInFlow::DeviceCode => {
            "open the URL shown and confirm the code within the time, or allow more time \
             (--idp-response-timeout)"
        }
        Status::Timeout => {
            "finish the sign-in in the browser (the URL is printed when none opened), or \
             allow more time (--idp-response-timeout); from a remote shell use --device-code"
        }
        Status::InvalidArgument if err.message().starts_with("token_cache_dir") => {
            "make the token cache folder your own and not writable by others (chmod 700), \
             choose another with --token-cache-dir, or use --no-token-cache"
        }
        Status::Network if err.message().contains("listen_port") => {
            "another program listens on the loopback port: close it, or choose another \
             port with --listen-port"
        }
        Status::Identity if err.message().contains("could not be opened") => {
            "name a command that opens a browser with --open-with, or set up the \
             system's opener (xdg-open, open on macOS)"
        }
        Status::Identity => {
            "check --issuer-url and --idc-region, and that you are assigned to the \
             Identity Center application, then sign in again"
        }
        Status::InvalidArgument => "fix the flag named in the message",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_is_one_argument_that_the_shell_never_reads() {
        let dir = std::env::temp_dir().join(format!("rs-idc-token-open-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join("url");
        let command = format!("printf %s >{}", out.display());
        let url = "http://127.0.0.1:1/authorize?a=1&b=$(false)`x` \"q\"";
        open_with(&command, url).unwrap();
        assert_eq!(std::fs::read_to_string(&out).unwrap(), url);
        let err = open_with("exit 3; :", url).unwrap_err();
        assert!(err.contains("ended with"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
