//! `rs-idc-fake`: runs the fake Redshift endpoints as a process (see
//! `USAGE` and the crate's README).

use rs_idc_fake::{keys, FakeOptions, FakeProxy, FakeServer};
use std::ffi::OsString;
use std::io::{self, Write};
use std::os::unix::fs::DirBuilderExt;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::thread;

mod web_token_cmd;

const USAGE: &str = "\
usage:
  rs-idc-fake run [--ttl S] [--user-credentials-ttl S] [--refresh-token-ttl S]
                  [--access-token-ttl S] [--device-code-ttl S] [--device-interval S]
                  [--device-slow-downs N] -- CMD [ARGS...]
      Serve while CMD runs with AWS_ENDPOINT_URL and test credentials in its
      environment; exit with CMD's status (128+N if killed by signal N).
      A second fake speaking HTTPS, a loopback proxy and a loopback proxy
      that requires a user and password run beside the plain fake
      (RS_IDC_FAKE_TLS_URL, RS_IDC_FAKE_CA_FILE, RS_IDC_FAKE_PROXY_URL,
      RS_IDC_FAKE_AUTH_PROXY_URL).
  rs-idc-fake names --c
      Print the names shared with the tests as a C header.
  rs-idc-fake web-token SUB [TTL_SECS]
      Print a web token (JWT) for user SUB, expiring in TTL_SECS (default
      3600; negative: already expired), made by the fake at RS_IDC_FAKE_URL.

  --ttl S (token lifetime) and the other -ttl options take seconds (1 to 10
  years); --device-interval 0 to 3600 s; --device-slow-downs N polls.
  Each sets the FakeOptions field of that name: see the fake's README.
";

enum ParseError {
    Help,
    Bad(String),
}

fn number<T: std::str::FromStr + PartialOrd>(
    argv: &mut impl Iterator<Item = OsString>,
    name: &str,
    range: std::ops::RangeInclusive<T>,
) -> Result<T, ParseError> {
    let v = argv
        .next()
        .ok_or_else(|| ParseError::Bad(format!("{name} needs a value")))?;
    v.to_str()
        .and_then(|s| s.parse().ok())
        .filter(|n| range.contains(n))
        .ok_or_else(|| ParseError::Bad(format!("bad {name} {v:?}")))
}

fn parse_args(
    mut argv: impl Iterator<Item = OsString>,
) -> Result<(FakeOptions, Vec<OsString>), ParseError> {
    match argv.next().as_ref().and_then(|m| m.to_str()) {
        Some("run") => {}
        Some("-h" | "--help" | "help") => return Err(ParseError::Help),
        mode => return Err(ParseError::Bad(format!("unknown command {mode:?}"))),
    }
    let mut opts = FakeOptions::default();
    const SECS: std::ops::RangeInclusive<i64> = 1..=10 * 365 * 86_400;
    while let Some(arg) = argv.next() {
        let flag = arg.to_str().unwrap_or("");
        let a = &mut argv;
        match flag {
            "-h" | "--help" => return Err(ParseError::Help),
            "--ttl" => opts.token_ttl_secs = number(a, flag, SECS)?,
            "--user-credentials-ttl" => opts.user_credentials_ttl_secs = number(a, flag, SECS)?,
            "--refresh-token-ttl" => opts.refresh_token_ttl_secs = number(a, flag, SECS)?,
            "--access-token-ttl" => opts.access_token_ttl_secs = number(a, flag, SECS)?,
            "--device-code-ttl" => opts.device_code_ttl_secs = number(a, flag, SECS)?,
            "--device-interval" => opts.device_interval_secs = number(a, flag, 0..=3600)?,
            "--device-slow-downs" => opts.device_slow_downs = number(a, flag, 0..=1000)?,
            "--" => {
                let command: Vec<OsString> = argv.collect();
                if command.is_empty() {
                    break;
                }
                return Ok((opts, command));
            }
            _ => return Err(ParseError::Bad(format!("unexpected argument {arg:?}"))),
        }
    }
    Err(ParseError::Bad("run needs -- CMD".into()))
}

/// Blocks the termination signals in this thread (and so in every thread
/// started later) and returns the set, for `sigwait`.
fn block_termination_signals() -> libc::sigset_t {
    // SAFETY: plain signal-mask calls on a zeroed, then initialised, set.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            libc::sigaddset(&mut set, sig);
        }
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        set
    }
}

/// Environment variables removed from the child of `run`, because they
/// could point an SDK at another endpoint, profile or credential source.
#[rustfmt::skip]
const REMOVED_ENV: &[&str] = &[
    "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
    "AWS_USE_FIPS_ENDPOINT", "AWS_USE_DUALSTACK_ENDPOINT",
    "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME", "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_SECURITY_TOKEN", "AWS_CREDENTIAL_EXPIRATION", "AWS_ACCOUNT_ID",
    // Trust roots and proxies come from the test, not from the machine.
    "AWS_CA_BUNDLE", "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy",
    "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy",
];

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const AUTH_PROXY_USER: &str = "rs-idc-proxy-user";

fn random_hex() -> Result<String, String> {
    let mut raw = [0u8; 16];
    getrandom::getrandom(&mut raw).map_err(|e| format!("no random numbers: {e}"))?;
    Ok(hex::encode(raw))
}

fn run(opts: FakeOptions, command: &[OsString]) -> Result<ExitCode, String> {
    let set = block_termination_signals();
    let failed = |what: &'static str| move |e: io::Error| format!("{what}: {e}");
    let start = |tls| {
        FakeServer::start_with(FakeOptions {
            tls,
            ..opts.clone()
        })
    };
    let server = start(false).map_err(failed("cannot listen"))?;
    let tls = start(true).map_err(failed("cannot listen"))?;
    let proxy = FakeProxy::start().map_err(failed("cannot start the proxy"))?;
    server.link_proxy(&proxy);
    let password = random_hex()?;
    let auth_proxy = FakeProxy::start_with_auth(AUTH_PROXY_USER, &password)
        .map_err(failed("cannot start the proxy with authentication"))?;
    server.link_auth_proxy(&auth_proxy);
    let name = format!("rs-idc-fake-{}-{}", std::process::id(), random_hex()?);
    let path = std::env::temp_dir().join(name);
    let made = std::fs::DirBuilder::new().mode(0o700).create(&path);
    made.map_err(failed("cannot make a temporary directory"))?;
    // Only a directory made here is removed.
    let dir = TempDir(path);
    let ca_file = dir.0.join("ca.pem");
    tls.write_ca_file(&ca_file)
        .map_err(failed("cannot write the CA file"))?;
    let url = server.url();
    let mut cmd = Command::new(&command[0]);
    cmd.args(&command[1..]);
    for (name, _) in std::env::vars_os() {
        let remove = name
            .to_str()
            .is_some_and(|n| REMOVED_ENV.contains(&n) || n.starts_with("AWS_ENDPOINT_URL_"));
        if remove {
            cmd.env_remove(&name);
        }
    }
    #[rustfmt::skip]
    let env: &[(&str, &str)] = &[
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", keys::IDC_ACCESS_KEY_ID),
        ("AWS_SECRET_ACCESS_KEY", keys::IDC_SECRET_ACCESS_KEY),
        ("AWS_SESSION_TOKEN", keys::IDC_SESSION_TOKEN),
        ("AWS_ENDPOINT_URL", &url),
        ("AWS_CONFIG_FILE", "/dev/null"),
        ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null"),
        ("RS_IDC_FAKE_URL", &url),
        ("RS_IDC_FAKE_PORT", &server.port().to_string()),
        ("RS_IDC_FAKE_TLS_URL", &tls.url()),
        ("RS_IDC_FAKE_TLS_PORT", &tls.port().to_string()),
        ("RS_IDC_FAKE_PROXY_URL", &proxy.url()),
        ("RS_IDC_FAKE_PROXY_PORT", &proxy.port().to_string()),
        ("RS_IDC_FAKE_NAMED_URL", &server.named_url()),
        ("RS_IDC_FAKE_NAMED_TLS_URL", &tls.named_url()),
        ("RS_IDC_FAKE_CREDENTIALS_URL", &format!("{url}/_fake/credentials")),
        ("RS_IDC_FAKE_AUTH_PROXY_URL", &auth_proxy.auth_url().unwrap_or_default()),
        ("RS_IDC_FAKE_AUTH_PROXY_PORT", &auth_proxy.port().to_string()),
        ("RS_IDC_FAKE_AUTH_PROXY_USER", AUTH_PROXY_USER),
        ("RS_IDC_FAKE_AUTH_PROXY_PASSWORD", &password),
        ("RS_IDC_TEST_PLAIN_ACCESS_KEY_ID", keys::PLAIN_ACCESS_KEY_ID),
        ("RS_IDC_TEST_PLAIN_SECRET_ACCESS_KEY", keys::PLAIN_SECRET_ACCESS_KEY),
        ("RS_IDC_TEST_IDC2_ACCESS_KEY_ID", keys::IDC2_ACCESS_KEY_ID),
        ("RS_IDC_TEST_IDC2_SECRET_ACCESS_KEY", keys::IDC2_SECRET_ACCESS_KEY),
        ("RS_IDC_TEST_IDC2_SESSION_TOKEN", keys::IDC2_SESSION_TOKEN),
        ("RS_IDC_TEST_EXPIRED_ACCESS_KEY_ID", keys::EXPIRED_ACCESS_KEY_ID),
        ("RS_IDC_TEST_EXPIRED_SECRET_ACCESS_KEY", keys::EXPIRED_SECRET_ACCESS_KEY),
        ("RS_IDC_TEST_IDC_ACCESS_KEY_ID", keys::IDC_ACCESS_KEY_ID),
        ("RS_IDC_TEST_IDC_SECRET_ACCESS_KEY", keys::IDC_SECRET_ACCESS_KEY),
        ("RS_IDC_TEST_IDC_SESSION_TOKEN", keys::IDC_SESSION_TOKEN),
        ("RS_IDC_TEST_APPLICATION_ARN", keys::APPLICATION_ARN),
        ("RS_IDC_TEST_UNAUTHORIZED_APPLICATION_ARN", keys::UNAUTHORIZED_APPLICATION_ARN),
        ("RS_IDC_TEST_UNKNOWN_APPLICATION_ARN", keys::UNKNOWN_APPLICATION_ARN),
        ("RS_IDC_TEST_ACCESS_ROLE_ARN", keys::ACCESS_ROLE_ARN),
        ("RS_IDC_TEST_APPLICATION_ROLE_ARN", keys::APPLICATION_ROLE_ARN),
        ("RS_IDC_TEST_DENIED_ROLE_ARN", keys::DENIED_ROLE_ARN),
        ("RS_IDC_FAKE_CONTROL_URL", &format!("{url}/_fake/control")),
    ];
    cmd.envs(env.iter().copied());
    cmd.env("RS_IDC_FAKE_CA_FILE", &ca_file);
    // The child starts with an empty signal mask (the standard library
    // resets it), so it can be interrupted as usual.
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            let program = &command[0];
            let _ = writeln!(io::stderr(), "rs-idc-fake: cannot run {program:?}: {e}");
            return Ok(ExitCode::from(127));
        }
    };
    let pid = child.id() as libc::pid_t;
    // Termination signals sent to `run` are passed on to CMD.
    let forward = move || loop {
        let mut sig: libc::c_int = 0;
        // SAFETY: `set` is an initialised signal set blocked in every
        // thread; `kill` sends a signal to the child's process ID.
        unsafe {
            if libc::sigwait(&set, &mut sig) == 0 {
                libc::kill(pid, sig);
            }
        }
    };
    let _ = thread::Builder::new().name("signals".into()).spawn(forward);
    let status = child.wait();
    drop((server, tls, proxy, auth_proxy, dir));
    let status = status.map_err(|e| format!("waiting for the command failed: {e}"))?;
    Ok(match (status.code(), status.signal()) {
        (Some(code), _) => ExitCode::from(code.clamp(0, 255) as u8),
        (None, Some(sig)) => ExitCode::from((128 + sig).clamp(0, 255) as u8),
        (None, None) => ExitCode::FAILURE,
    })
}

fn main() -> ExitCode {
    let mut argv = std::env::args_os().skip(1);
    let first = argv.next();
    if first.as_deref() == Some("names".as_ref()) && argv.next().as_deref() == Some("--c".as_ref())
    {
        let _ = io::stdout().write_all(rs_idc_fake::names::c_header().as_bytes());
        return ExitCode::SUCCESS;
    }
    if first.as_deref() == Some("web-token".as_ref()) {
        let rest: Option<Vec<String>> = argv.map(|a| a.into_string().ok()).collect();
        return match rest {
            Some(rest) => web_token_cmd::run(&rest),
            None => {
                let _ = writeln!(
                    io::stderr(),
                    "rs-idc-fake web-token: arguments must be UTF-8"
                );
                ExitCode::FAILURE
            }
        };
    }
    let done = match parse_args(std::env::args_os().skip(1)) {
        Ok((opts, command)) => run(opts, &command),
        Err(ParseError::Help) => {
            let _ = io::stdout().write_all(USAGE.as_bytes());
            return ExitCode::SUCCESS;
        }
        Err(ParseError::Bad(message)) => {
            let _ = writeln!(io::stderr(), "rs-idc-fake: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    done.unwrap_or_else(|message| {
        let _ = writeln!(io::stderr(), "rs-idc-fake: {message}");
        ExitCode::FAILURE
    })
}
