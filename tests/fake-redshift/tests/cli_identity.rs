//! The `rs-idc-fake` binary and trusted identity propagation and browser
//! sign-in: the `web-token` command, the lifetimes flags and what `run`
//! exports. Tokens are checked, never shown.

mod common;

use common::identity::{assume_web, create_token, credentials_of, jwt_bearer, refresh};
use common::signin::{client, sign_in, REDIRECT};
use common::IDC;
use rs_idc_fake::{keys, timefmt};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn fake() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rs-idc-fake"))
}

fn wait_with_deadline(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("child did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `run ARGS` with a command that prints the port and lasts until the end
/// of its standard input: the child and its port.
fn serve(args: &[&str]) -> (Child, u16) {
    let mut child = fake()
        .arg("run")
        .args(args)
        .args([
            "--",
            "sh",
            "-c",
            "echo \"port:$RS_IDC_FAKE_PORT\"; exec cat >/dev/null",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("listening line");
    let port = line
        .trim()
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("a port in the listening line");
    (child, port)
}

fn stop(mut child: Child) {
    drop(child.stdin.take());
    let status = wait_with_deadline(&mut child, Duration::from_secs(20));
    assert!(status.success(), "{status:?}");
}

#[test]
fn web_token_prints_a_token_of_the_running_fake() {
    let (child, port) = serve(&[]);
    let url = format!("http://127.0.0.1:{port}");
    let out = fake()
        .args(["web-token", "alice@example.com", "120"])
        .env("RS_IDC_FAKE_URL", &url)
        .output()
        .expect("web-token");
    assert!(out.status.success(), "{:?}", out.status);
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    assert!(text.ends_with('\n') && text.matches('\n').count() == 1);
    let jwt = text.trim_end();
    assert_eq!(jwt.split('.').count(), 3);
    let resp = assume_web(port, keys::APPLICATION_ROLE_ARN, jwt, &[]);
    assert_eq!(resp.status, 200, "{}", resp.shown());
    assert_eq!(
        resp.xml("SubjectFromWebIdentityToken").as_deref(),
        Some("alice@example.com")
    );
    // An expired one.
    let out = fake()
        .args(["web-token", "bob", "-30"])
        .env("RS_IDC_FAKE_URL", &url)
        .output()
        .expect("web-token");
    assert!(out.status.success());
    let jwt = String::from_utf8(out.stdout).expect("UTF-8");
    let resp = assume_web(port, keys::APPLICATION_ROLE_ARN, jwt.trim_end(), &[]);
    assert_eq!(resp.xml("Code").as_deref(), Some("ExpiredTokenException"));
    // Errors: exit 1 with a message, nothing on standard output.
    for (args, env) in [
        (vec!["web-token"], Some(url.as_str())),
        (vec!["web-token", "a", "soon"], Some(url.as_str())),
        (vec!["web-token", "a"], None),
        (vec!["web-token", "a"], Some("https://example.com:443")),
        (vec!["web-token", ""], Some(url.as_str())),
    ] {
        let mut cmd = fake();
        cmd.args(&args).env_remove("RS_IDC_FAKE_URL");
        if let Some(env) = env {
            cmd.env("RS_IDC_FAKE_URL", env);
        }
        let out = cmd.output().expect("web-token");
        assert_eq!(out.status.code(), Some(1), "{args:?} {env:?}");
        assert!(out.stdout.is_empty());
        assert!(String::from_utf8_lossy(&out.stderr).starts_with("rs-idc-fake web-token: "));
    }
    stop(child);
}

#[test]
fn lifetime_flags_set_the_options() {
    let (child, port) = serve(&["--user-credentials-ttl", "600", "--refresh-token-ttl", "1"]);
    let jwt = rs_idc_fake_web_token(port, "carol");
    let resp = assume_web(port, keys::APPLICATION_ROLE_ARN, &jwt, &[]);
    let expiration = credentials_of(&resp).3;
    let left = timefmt::parse_iso8601(&expiration).expect("ISO-8601") - timefmt::now_epoch_secs();
    assert!((left - 600).abs() <= 5, "{left}");
    let resp = create_token(port, &IDC, &jwt_bearer(keys::APPLICATION_ARN, &jwt));
    let rt = resp.json_str("refreshToken").expect("refreshToken");
    std::thread::sleep(Duration::from_millis(2100));
    let resp = create_token(port, &IDC, &refresh(keys::APPLICATION_ARN, &rt));
    assert_eq!(
        resp.header("x-amzn-ErrorType"),
        Some("InvalidGrantException")
    );
    stop(child);
    refused_as_usage(&[
        &["run", "--user-credentials-ttl", "0", "--", "true"][..],
        &["run", "--refresh-token-ttl", "x", "--", "true"],
        &["run", "--refresh-token-ttl", "--", "true"],
    ]);
}

/// A web token from the control endpoint.
fn rs_idc_fake_web_token(port: u16, subject: &str) -> String {
    let (sub, ttl) = (subject.to_string(), 300);
    let request = rs_idc_fake::Control::WebToken {
        sub,
        ttl,
        iss: None,
        aud: None,
        wrong_key: false,
    };
    let resp = common::control(port, &request);
    assert_eq!(resp.status, 200);
    resp.json_str("token").expect("a token")
}

#[test]
fn run_exports_the_identity_names() {
    let script = format!(
        r#"test "$RS_IDC_TEST_APPLICATION_ARN" = {app} &&
        test "$RS_IDC_TEST_UNAUTHORIZED_APPLICATION_ARN" = {unauthorized} &&
        test "$RS_IDC_TEST_UNKNOWN_APPLICATION_ARN" = {unknown} &&
        test "$RS_IDC_TEST_ACCESS_ROLE_ARN" = {access} &&
        test "$RS_IDC_TEST_APPLICATION_ROLE_ARN" = {application} &&
        test "$RS_IDC_TEST_DENIED_ROLE_ARN" = {denied} &&
        test "$RS_IDC_FAKE_CONTROL_URL" = "$RS_IDC_FAKE_URL/_fake/control" &&
        jwt=$("$FAKE" web-token dave 60) &&
        case "$jwt" in *.*.*) ;; *) exit 3 ;; esac &&
        test ${{#jwt}} -gt 100"#,
        app = keys::APPLICATION_ARN,
        unauthorized = keys::UNAUTHORIZED_APPLICATION_ARN,
        unknown = keys::UNKNOWN_APPLICATION_ARN,
        access = keys::ACCESS_ROLE_ARN,
        application = keys::APPLICATION_ROLE_ARN,
        denied = keys::DENIED_ROLE_ARN,
    );
    let status = fake()
        .args(["run", "--user-credentials-ttl", "60", "--"])
        .args(["sh", "-c", &script])
        .env("FAKE", env!("CARGO_BIN_EXE_rs-idc-fake"))
        .status()
        .expect("run the fake");
    assert!(status.success(), "{status:?}");
}

#[test]
fn sign_in_lifetime_flags_set_the_options() {
    let (child, port) = serve(&["--access-token-ttl", "120"]);
    let c = client(port, REDIRECT);
    let resp = sign_in(port, &c);
    assert_eq!(resp.json().expect("JSON")["expiresIn"], 120);
    stop(child);
    refused_as_usage(&[
        &["run", "--access-token-ttl", "0", "--", "true"][..],
        &["run", "--access-token-ttl", "--", "true"],
        &["run", "--access-token-ttl", "315360001", "--", "true"],
    ]);
}

/// Each command line of `bad` ends the fake with the usage status (2).
fn refused_as_usage(bad: &[&[&str]]) {
    for args in bad {
        let status = fake()
            .args(*args)
            .stderr(Stdio::null())
            .status()
            .expect("fake");
        assert_eq!(status.code(), Some(2), "{args:?}");
    }
}
