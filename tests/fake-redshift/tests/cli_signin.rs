//! The `rs-idc-fake` binary and the browser sign-in: the lifetime flags,
//! and a verbose log that never shows a client secret, code, verifier or
//! token.

mod common;

use common::signin::{
    authorize_client, client, code_grant, create_token, location_param, refresh_grant, register,
    register_body, sign_in, REDIRECT, VERIFIER,
};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};

fn fake() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rs-idc-fake"))
}

/// `serve --stdin-lifetime ARGS` with standard error captured: the child
/// and its port.
fn serve(args: &[&str]) -> (Child, u16) {
    let mut child = fake()
        .args(["serve", "--stdin-lifetime"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
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

/// Ends `serve` (end of standard input) and returns its output.
fn stop(mut child: Child) -> Output {
    drop(child.stdin.take());
    let output = child.wait_with_output().expect("serve ends");
    assert!(output.status.success(), "{:?}", output.status);
    output
}

#[test]
fn lifetime_flags_set_the_options() {
    let (child, port) = serve(&["--access-token-ttl", "120", "--client-secret-ttl", "600"]);
    let resp = register(port, &register_body(&[REDIRECT], &["authorization_code"]));
    let doc = resp.json().expect("JSON");
    let issued = doc["clientIdIssuedAt"].as_i64().expect("issued");
    assert_eq!(doc["clientSecretExpiresAt"].as_i64(), Some(issued + 600));
    let c = client(port, REDIRECT);
    let resp = sign_in(port, &c);
    assert_eq!(resp.json().expect("JSON")["expiresIn"], 120);
    stop(child);
    for bad in [
        &["serve", "--access-token-ttl", "0"][..],
        &["serve", "--client-secret-ttl", "x"],
        &["run", "--access-token-ttl", "--", "true"],
        &["run", "--client-secret-ttl", "315360001", "--", "true"],
    ] {
        let status = fake()
            .args(bad)
            .stderr(Stdio::null())
            .status()
            .expect("fake");
        assert_eq!(status.code(), Some(2), "{bad:?}");
    }
}

#[test]
fn the_verbose_log_never_shows_sign_in_secrets() {
    let (child, port) = serve(&["--verbose"]);
    let c = client(port, REDIRECT);
    let resp = authorize_client(port, &c, &[("login_hint", "frank")]);
    let code = location_param(&resp, "code").expect("a code");
    let resp = create_token(port, &code_grant(&c, &code, REDIRECT, VERIFIER));
    let doc = resp.json().expect("JSON");
    let mut secrets = vec![c.secret.clone(), code.clone(), VERIFIER.to_string()];
    for member in ["accessToken", "refreshToken", "idToken"] {
        secrets.push(doc[member].as_str().expect(member).to_string());
    }
    let resp = create_token(port, &refresh_grant(&c, &secrets[4]));
    secrets.push(resp.json_str("refreshToken").expect("refreshToken"));
    // Failures that carry the secrets back in.
    create_token(port, &code_grant(&c, &code, REDIRECT, VERIFIER));
    let other = common::signin::Client {
        id: "no-such-client".into(),
        ..c.clone()
    };
    create_token(port, &refresh_grant(&other, &secrets[4]));
    let output = stop(child);
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(log.contains("RegisterClient"), "the log is missing");
    assert!(log.contains("Authorize -> 302 code for \"frank\""));
    assert!(log.contains("CreateToken:authorization_code -> 400 InvalidGrantException"));
    for (i, secret) in secrets.iter().enumerate() {
        assert!(!log.contains(secret.as_str()), "secret {i} is in the log");
    }
}
