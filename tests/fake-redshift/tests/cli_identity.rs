//! The `rs-idc-fake` binary and trusted identity propagation: the
//! `web-token` command, the lifetimes flags and what `run` exports. Tokens
//! are checked, never shown.

mod common;

use common::identity::{assume_web, create_token, credentials_of, jwt_bearer, refresh};
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

/// `serve --stdin-lifetime ARGS`: the child and its port.
fn serve(args: &[&str]) -> (Child, u16) {
    let mut child = fake()
        .args(["serve", "--stdin-lifetime"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("serve");
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
    for bad in [
        &["serve", "--user-credentials-ttl", "0"][..],
        &["serve", "--refresh-token-ttl", "x"],
        &["run", "--refresh-token-ttl", "--", "true"],
    ] {
        let status = fake()
            .args(bad)
            .stderr(Stdio::null())
            .status()
            .expect("fake");
        assert_eq!(status.code(), Some(2), "{bad:?}");
    }
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
fn the_verbose_log_never_shows_secrets() {
    let mut child = fake()
        .args(["serve", "--stdin-lifetime", "--verbose"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("listening line");
    let port: u16 = line
        .trim()
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("a port");
    let jwt = rs_idc_fake_web_token(port, "erin");
    let mut secrets = vec![jwt.clone()];
    let resp = create_token(port, &IDC, &jwt_bearer(keys::APPLICATION_ARN, &jwt));
    let doc = resp.json().expect("JSON");
    for member in ["accessToken", "refreshToken", "idToken"] {
        secrets.push(doc[member].as_str().expect(member).to_string());
    }
    let context = common::identity::identity_context(&resp);
    secrets.push(context.clone());
    let rt = secrets[2].clone();
    let resp = create_token(port, &IDC, &refresh(keys::APPLICATION_ARN, &rt));
    secrets.push(resp.json_str("refreshToken").expect("refreshToken"));
    let resp = common::identity::assume_role(
        port,
        &IDC,
        keys::ACCESS_ROLE_ARN,
        &[(keys::CONTEXT_PROVIDER_ARN, &context)],
        &[],
    );
    let (_, secret, session_token, _) = credentials_of(&resp);
    let user = common::identity::Owned::from_sts(&resp);
    secrets.extend([secret, session_token]);
    let resp = common::api(port, common::Api::Query, &user.creds(), &["c"]);
    secrets.push(resp.xml("Token").expect("a token"));
    // Failures that carry the secrets back in.
    create_token(port, &IDC, &refresh(keys::UNKNOWN_APPLICATION_ARN, &rt));
    common::identity::assume_role(
        port,
        &IDC,
        keys::ACCESS_ROLE_ARN,
        &[("arn:aws:iam::aws:contextProvider/Other", &context)],
        &[],
    );
    assume_web(port, keys::DENIED_ROLE_ARN, &jwt, &[]);
    drop(child.stdin.take());
    let output = child.wait_with_output().expect("serve ends");
    assert!(output.status.success());
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(log.contains("sub=\"erin\""), "the log names the user");
    assert!(log.contains("AssumeRoleWithWebIdentity"));
    for (i, secret) in secrets.iter().enumerate() {
        assert!(!log.contains(secret.as_str()), "secret {i} is in the log");
    }
}
