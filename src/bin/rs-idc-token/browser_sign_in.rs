//! The browser sign-in (`--browser`): how the sign-in page is opened
//! (`--open-with`), and what `--check` says about the sign-in. The
//! authorize URL, the code and the token are never printed.

use crate::args::BrowserArgs;
use rs_idc::browser::{set_open_url, OpenUrl};
use rs_idc::{Error, Status, Token};
use std::os::fd::AsFd;
use std::process::{Command, Stdio};
use std::sync::Arc;

/// How long the sign-in may take when `--idp-response-timeout` is not
/// given (the library's default).
const DEFAULT_TIMEOUT_S: &str = "120";
/// The loopback port when `--listen-port` is not given (the library's
/// default).
const DEFAULT_LISTEN_PORT: &str = "7890";

/// With `--open-with`, makes the library open the sign-in page with that
/// command instead of the system's opener.
pub fn install_opener(args: &BrowserArgs) {
    if let Some(command) = args.open_with.clone() {
        let open: OpenUrl = Arc::new(move |url: &str| open_with(&command, url));
        set_open_url(Some(open));
    }
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

/// Tells on stderr that the sign-in waits for the person at the browser.
pub fn announce(args: &BrowserArgs) {
    eprintln!(
        "rs-idc-token: sign in to IAM Identity Center in the browser (waiting up to {} s)...",
        args.idp_response_timeout
            .as_deref()
            .unwrap_or(DEFAULT_TIMEOUT_S)
    );
}

/// Prints the sign-in's settings for `--check`.
pub fn report_settings(args: &BrowserArgs, region: Option<&str>) {
    println!("issuer:       {}", args.issuer_url);
    let idc_region = match (&args.idc_region, region) {
        (Some(idc_region), _) => format!("{idc_region} (from --idc-region)"),
        (None, Some(region)) => format!("the region above ({region})"),
        (None, None) => "the region above".into(),
    };
    println!("idc region:   {idc_region}");
    println!(
        "redirect:     http://127.0.0.1:{}/ (the loopback port the browser is sent back to)",
        args.listen_port.as_deref().unwrap_or(DEFAULT_LISTEN_PORT)
    );
    let opener = match &args.open_with {
        Some(command) => format!("{command} (from --open-with)"),
        None if cfg!(target_os = "macos") => "open (the system's opener)".into(),
        None => "xdg-open (the system's opener)".into(),
    };
    println!("browser:      {opener}");
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
        Ok(_) => "the person who signed in in the browser",
        Err(_) => "nobody signed in",
    };
    println!("identity:     {identity}");
}

/// What to do about a failure of `err` in the sign-in, where it differs
/// from the general next step.
pub fn next_step(err: &Error) -> Option<&'static str> {
    Some(match err.status() {
        Status::Timeout => {
            "finish the sign-in in the browser that opened, or allow more time \
             (--idp-response-timeout); if no browser opened, use --open-with"
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
