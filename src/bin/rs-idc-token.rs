//! `rs-idc-token`: gets an Amazon Redshift IAM Identity Center auth token
//! from the command line, or checks a setup and says what to fix.
//!
//! Exit status: 0 on success, the absolute value of the `RS_IDC_*` status
//! on failure (1 for `RS_IDC_EINVAL`, 2 for `RS_IDC_ENOCREDS`, ...), and
//! 64 for a bad command line.

use rs_idc::options::settings_from_options;
use rs_idc::{Client, Error, Status, Token};
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const EXIT_USAGE: i32 = 64;

const USAGE: &str = "\
usage: rs-idc-token [OPTIONS] (--cluster-id ID... | --workgroup NAME... | --host HOST)

Gets an Amazon Redshift IAM Identity Center auth token and prints it.

  --cluster-id ID      a provisioned cluster (repeatable, up to 20)
  --workgroup NAME     a Redshift Serverless workgroup (repeatable, up to 20)
  --host HOST          a Redshift host name, e.g.
                       my-cluster.abc123.us-east-1.redshift.amazonaws.com
  --region REGION      AWS region (default: AWS_REGION, the profile, or the host)
  --profile NAME       AWS profile (default: AWS_PROFILE)
  --endpoint-url URL   another endpoint (default: AWS_ENDPOINT_URL)
  --json               print {\"token\", \"expires_at\", \"expiration\"} instead
  --check              check the setup, print what was found and what to fix;
                       never prints the token or a secret
  --help, --version

Exit status: 0, or the absolute value of the RS_IDC_* status (1 invalid
argument, 2 no credentials, 3 no region, 4 unsupported, 5 not found, ...),
or 64 for a bad command line.
";

/// What the command line asks for.
#[derive(Default)]
struct Args {
    cluster_ids: Vec<String>,
    workgroups: Vec<String>,
    host: Option<String>,
    region: Option<String>,
    profile: Option<String>,
    endpoint_url: Option<String>,
    json: bool,
    check: bool,
}

enum Command {
    Run(Args),
    Help,
    Version,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Command, String> {
    let mut parsed = Args::default();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_owned(), Some(value.to_owned()))
            }
            _ => (arg.clone(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        match flag.as_str() {
            "--cluster-id" => parsed.cluster_ids.push(value()?),
            "--workgroup" => parsed.workgroups.push(value()?),
            "--host" => parsed.host = Some(value()?),
            "--region" => parsed.region = Some(value()?),
            "--profile" => parsed.profile = Some(value()?),
            "--endpoint-url" => parsed.endpoint_url = Some(value()?),
            "--json" => parsed.json = true,
            "--check" => parsed.check = true,
            "--help" | "-h" => return Ok(Command::Help),
            "--version" => return Ok(Command::Version),
            other => return Err(format!("unknown argument '{other}'")),
        }
    }
    let targets = [
        !parsed.cluster_ids.is_empty(),
        !parsed.workgroups.is_empty(),
        parsed.host.is_some(),
    ];
    match targets.iter().filter(|given| **given).count() {
        1 => {}
        0 if parsed.check => {}
        0 => return Err("give --cluster-id, --workgroup or --host".into()),
        _ => return Err("give only one of --cluster-id, --workgroup and --host".into()),
    }
    if parsed.json && parsed.check {
        return Err("--json and --check do not go together".into());
    }
    Ok(Command::Run(parsed))
}

fn main() {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(Command::Run(args)) => args,
        Ok(Command::Help) => {
            print!("{USAGE}");
            return;
        }
        Ok(Command::Version) => {
            println!("rs-idc-token {}", env!("CARGO_PKG_VERSION"));
            return;
        }
        Err(message) => {
            eprintln!("rs-idc-token: {message}\n\n{USAGE}");
            std::process::exit(EXIT_USAGE);
        }
    };
    let code = if args.check { check(&args) } else { get(&args) };
    std::process::exit(code);
}

/// The exit status of an error: the absolute value of its status.
fn exit_code(err: &Error) -> i32 {
    err.status().code().saturating_abs()
}

fn client(args: &Args) -> Result<Client, Error> {
    let options: Vec<(&[u8], Option<&[u8]>)> = [
        ("region", &args.region),
        ("profile", &args.profile),
        ("endpoint_url", &args.endpoint_url),
    ]
    .iter()
    .filter_map(|(key, value)| {
        value
            .as_deref()
            .map(|v| (key.as_bytes(), Some(v.as_bytes())))
    })
    .collect();
    Ok(Client::new(settings_from_options(&options)?))
}

/// Makes the call, telling the user on stderr while it takes longer than a
/// second.
fn call(client: &Client, args: &Args) -> Result<Token, Error> {
    let done = Arc::new(AtomicBool::new(false));
    let watcher = {
        let done = Arc::clone(&done);
        std::thread::spawn(move || {
            let started = Instant::now();
            let mut next = Duration::from_secs(1);
            while !done.load(Ordering::Acquire) {
                std::thread::sleep(Duration::from_millis(50));
                if started.elapsed() >= next && !done.load(Ordering::Acquire) {
                    eprintln!(
                        "rs-idc-token: waiting for the endpoint ({} s)...",
                        next.as_secs()
                    );
                    next += Duration::from_secs(1);
                }
            }
        })
    };
    let result = if let Some(host) = &args.host {
        client.get_token_for_host(host.as_bytes())
    } else if !args.workgroups.is_empty() {
        client.get_serverless_token(&args.workgroups)
    } else {
        client.get_token(&args.cluster_ids)
    };
    done.store(true, Ordering::Release);
    let _ = watcher.join();
    result
}

fn get(args: &Args) -> i32 {
    let token = match client(args).and_then(|client| call(&client, args)) {
        Ok(token) => token,
        Err(err) => {
            eprintln!(
                "rs-idc-token: {}: {}",
                status_name(err.status()),
                err.message()
            );
            return exit_code(&err);
        }
    };
    let mut out = std::io::stdout().lock();
    let written = if args.json {
        writeln!(
            out,
            "{{\"token\":\"{}\",\"expires_at\":{},\"expiration\":\"{}\"}}",
            json_escape(token.secret()),
            token.expires_at(),
            iso8601(token.expires_at())
        )
    } else {
        writeln!(out, "{}", token.secret())
    };
    match written.and_then(|_| out.flush()) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("rs-idc-token: cannot write the token: {e}");
            Status::Internal.code().saturating_abs()
        }
    }
}

/// `--check`: what was found, the outcome of a call, and the next step.
fn check(args: &Args) -> i32 {
    let profile = args
        .profile
        .clone()
        .or_else(|| env_var("AWS_PROFILE"))
        .unwrap_or_else(|| "default".into());
    println!("rs-idc-token {} check", env!("CARGO_PKG_VERSION"));
    println!("region:       {}", region_source(args, &profile));
    println!("credentials:  {}", credential_source(&profile));
    println!("endpoint:     {}", endpoint_source(args));
    let client = match client(args) {
        Ok(client) => client,
        Err(err) => return verdict(Err(err)),
    };
    if args.cluster_ids.is_empty() && args.workgroups.is_empty() && args.host.is_none() {
        println!("call:         skipped (give --cluster-id, --workgroup or --host to try one)");
        println!("verdict:      settings read; no call made");
        return 0;
    }
    let outcome = call(&client, args);
    match (
        client.resolved_access_key_id(),
        client.resolved_has_session_token(),
    ) {
        (Some(key), Some(session)) => println!(
            "identity:     access key {} ({}; {})",
            mask(&key),
            if session {
                "with a session token"
            } else {
                "no session token"
            },
            if session {
                "may be identity-enhanced"
            } else {
                "not identity-enhanced: those always have a session token"
            }
        ),
        _ => println!("identity:     not resolved"),
    }
    verdict(outcome)
}

fn verdict(outcome: Result<Token, Error>) -> i32 {
    match outcome {
        Ok(token) => {
            let left = token.expires_at() - unix_now();
            println!(
                "call:         OK: a token of {} bytes, expires {} (in {} s)",
                token.secret().len(),
                iso8601(token.expires_at()),
                left
            );
            println!("verdict:      OK");
            0
        }
        Err(err) => {
            println!(
                "call:         FAILED: {}: {}",
                status_name(err.status()),
                err.message()
            );
            println!("next step:    {}", next_step(err.status()));
            println!("verdict:      FAILED ({})", status_name(err.status()));
            exit_code(&err)
        }
    }
}

fn next_step(status: Status) -> &'static str {
    match status {
        Status::InvalidArgument => "fix the argument or setting named in the message",
        Status::NoCredentials => {
            "set AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN to \
             identity-enhanced credentials, or pick a profile that has them (--profile)"
        }
        Status::NoRegion => {
            "pass --region, set AWS_REGION, or pass --host with a Redshift host name"
        }
        Status::Unsupported => {
            "use identity-enhanced credentials (an IAM role session that carries your IAM \
             Identity Center identity, from trusted identity propagation), and check that \
             the cluster or workgroup has an IAM Identity Center integration"
        }
        Status::NotFound => "check the cluster identifier or workgroup name, and the region",
        Status::InvalidState => "wait until the cluster or workgroup is available, then try again",
        Status::Denied => {
            "check that the credentials are valid and not expired, and that they may call \
             redshift:GetIdentityCenterAuthToken on this cluster or workgroup"
        }
        Status::Throttled => "try again in a moment, or allow more attempts (AWS_MAX_ATTEMPTS)",
        Status::Timeout => {
            "check the network path to the endpoint (and HTTPS_PROXY), or allow more time \
             (RS_IDC_TIMEOUT_MS)"
        }
        Status::Network => {
            "check DNS, the network path and the proxy settings; for a private CA set \
             AWS_CA_BUNDLE"
        }
        Status::Service => {
            "the service failed: try again; if it persists, contact AWS support with the \
             request id"
        }
        Status::BadResponse => {
            "the endpoint answered something that is not a token: check the endpoint URL and \
             any proxy in between"
        }
        Status::Internal => "report this, with the message above, as a bug in rs-idc",
    }
}

fn status_name(status: Status) -> String {
    rs_idc::status::status_name(status.code())
        .to_string_lossy()
        .into_owned()
}

fn region_source(args: &Args, profile: &str) -> String {
    if let Some(region) = &args.region {
        return format!("{region} (from --region)");
    }
    if let Some(host) = &args.host {
        if let Ok(target) = rs_idc::hosts::parse_host(host.as_bytes()) {
            return format!("{} (from the host name)", target.region);
        }
    }
    for name in ["AWS_REGION", "AWS_DEFAULT_REGION"] {
        if let Some(region) = env_var(name) {
            return format!("{region} (from {name})");
        }
    }
    let config = config_file();
    match profile_value(&config, profile, "region") {
        Some(region) => format!(
            "{region} (from profile '{profile}' in {})",
            config.display()
        ),
        None => "none found: pass --region or set AWS_REGION".into(),
    }
}

fn credential_source(profile: &str) -> String {
    if env_var("AWS_ACCESS_KEY_ID").is_some() {
        let session = if env_var("AWS_SESSION_TOKEN").is_some() {
            "with AWS_SESSION_TOKEN"
        } else {
            "without AWS_SESSION_TOKEN: not identity-enhanced"
        };
        return format!("environment variables (AWS_ACCESS_KEY_ID, {session})");
    }
    let config = config_file();
    let credentials = std::env::var_os("AWS_SHARED_CREDENTIALS_FILE")
        .map(PathBuf::from)
        .unwrap_or_else(|| home().join(".aws").join("credentials"));
    let in_credentials = profile_value(&credentials, profile, "aws_access_key_id").is_some();
    let in_config = [
        "aws_access_key_id",
        "role_arn",
        "sso_session",
        "sso_start_url",
        "credential_process",
        "web_identity_token_file",
    ]
    .iter()
    .any(|key| profile_value(&config, profile, key).is_some());
    if in_credentials || in_config {
        return format!("profile '{profile}'");
    }
    if env_var("AWS_WEB_IDENTITY_TOKEN_FILE").is_some() {
        return "web identity token (AWS_WEB_IDENTITY_TOKEN_FILE)".into();
    }
    if env_var("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI").is_some()
        || env_var("AWS_CONTAINER_CREDENTIALS_FULL_URI").is_some()
    {
        return "container credentials".into();
    }
    if env_var("AWS_EC2_METADATA_DISABLED").as_deref() != Some("true") {
        return "instance metadata, if this runs on EC2 (nothing else found)".into();
    }
    "none found".into()
}

fn endpoint_source(args: &Args) -> String {
    if let Some(url) = &args.endpoint_url {
        return format!("{url} (from --endpoint-url)");
    }
    let service = if args.workgroups.is_empty()
        && !args
            .host
            .as_deref()
            .is_some_and(|h| h.contains(".redshift-serverless."))
    {
        "AWS_ENDPOINT_URL_REDSHIFT"
    } else {
        "AWS_ENDPOINT_URL_REDSHIFT_SERVERLESS"
    };
    for name in [service, "AWS_ENDPOINT_URL"] {
        if let Some(url) = env_var(name) {
            return format!("{url} (from {name})");
        }
    }
    "the public endpoint of the region".into()
}

/// An environment variable's value, if it is set and not empty.
fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn home() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default()
}

fn config_file() -> PathBuf {
    std::env::var_os("AWS_CONFIG_FILE")
        .map(PathBuf::from)
        .unwrap_or_else(|| home().join(".aws").join("config"))
}

/// A key's value in a profile of an AWS INI file (`[default]`,
/// `[profile NAME]` or `[NAME]`).
fn profile_value(file: &std::path::Path, profile: &str, key: &str) -> Option<String> {
    let text = std::fs::read_to_string(file).ok()?;
    let mut in_profile = false;
    for line in text.lines() {
        let line = line.trim();
        if let Some(section) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let name = section.trim();
            let name = name.strip_prefix("profile ").unwrap_or(name).trim();
            in_profile = name == profile;
        } else if in_profile {
            if let Some((k, v)) = line.split_once('=') {
                if k.trim() == key {
                    return Some(v.trim().to_owned());
                }
            }
        }
    }
    None
}

/// An access key id shown by its ends only.
fn mask(key: &str) -> String {
    if key.len() <= 8 {
        return "*".repeat(key.len());
    }
    format!("{}...{}", &key[..4], &key[key.len() - 4..])
}

fn json_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Unix seconds as `YYYY-MM-DDTHH:MM:SSZ`.
fn iso8601(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rest = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(words: &[&str]) -> Result<Command, String> {
        parse_args(words.iter().map(|w| w.to_string()))
    }

    #[test]
    fn reads_repeated_and_inline_flags() {
        let Ok(Command::Run(args)) = parse(&["--cluster-id", "a", "--cluster-id=b", "--json"])
        else {
            panic!("expected a run");
        };
        assert_eq!(args.cluster_ids, ["a", "b"]);
        assert!(args.json);
    }

    #[test]
    fn refuses_bad_command_lines() {
        assert!(parse(&[]).is_err());
        assert!(parse(&["--cluster-id"]).is_err());
        assert!(parse(&["--cluster-id", "a", "--workgroup", "w"]).is_err());
        assert!(parse(&["--bogus"]).is_err());
        assert!(parse(&["--host", "h", "--json", "--check"]).is_err());
        assert!(matches!(parse(&["--check"]), Ok(Command::Run(_))));
    }

    #[test]
    fn formats_dates_and_masks_keys() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601(1_795_000_000), "2026-11-18T11:06:40Z");
        assert_eq!(mask("AKIAIDCENHANCED00001"), "AKIA...0001");
        assert_eq!(json_escape("a\"b\\c\n"), "a\\\"b\\\\c\\u000a");
    }
}
