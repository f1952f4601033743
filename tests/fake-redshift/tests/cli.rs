//! The `rs-idc-fake` binary: `run`, `serve` and argument errors.

mod common;

use common::{api, stats, Api, IDC};
use rs_idc_fake::keys;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn fake() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rs-idc-fake"))
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rs-idc-fake-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// Waits for a child with a deadline, killing it if the deadline passes.
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

fn wait_for_file(path: &std::path::Path) -> String {
    let started = Instant::now();
    loop {
        if let Ok(text) = std::fs::read_to_string(path) {
            if text.ends_with('\n') {
                return text;
            }
        }
        assert!(started.elapsed() < Duration::from_secs(20), "no {path:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn run_sets_the_environment() {
    let script = format!(
        r#"test -n "$AWS_ENDPOINT_URL" &&
        test "$AWS_ENDPOINT_URL" = "$RS_IDC_FAKE_URL" &&
        test "$AWS_ENDPOINT_URL" = "http://127.0.0.1:$RS_IDC_FAKE_PORT" &&
        test "$AWS_EC2_METADATA_DISABLED" = true &&
        test "$AWS_REGION" = us-east-1 &&
        test "$AWS_ACCESS_KEY_ID" = {idc} &&
        test "$AWS_SECRET_ACCESS_KEY" = "$RS_IDC_TEST_IDC_SECRET_ACCESS_KEY" &&
        test -n "$AWS_SESSION_TOKEN" &&
        test "$AWS_CONFIG_FILE" = /dev/null &&
        test "$AWS_SHARED_CREDENTIALS_FILE" = /dev/null &&
        test "$RS_IDC_TEST_PLAIN_ACCESS_KEY_ID" = {plain} &&
        test -n "$RS_IDC_TEST_PLAIN_SECRET_ACCESS_KEY" &&
        test "$RS_IDC_TEST_IDC2_ACCESS_KEY_ID" = {idc2} &&
        test -n "$RS_IDC_TEST_IDC2_SECRET_ACCESS_KEY" &&
        test -n "$RS_IDC_TEST_IDC2_SESSION_TOKEN" &&
        test "$RS_IDC_TEST_EXPIRED_ACCESS_KEY_ID" = {expired} &&
        test -n "$RS_IDC_TEST_EXPIRED_SECRET_ACCESS_KEY" &&
        test -z "${{AWS_PROFILE+set}}" &&
        test -z "${{AWS_DEFAULT_PROFILE+set}}" &&
        test -z "${{AWS_ENDPOINT_URL_REDSHIFT+set}}" &&
        test "$KEPT" = yes"#,
        idc = keys::IDC_ACCESS_KEY_ID,
        plain = keys::PLAIN_ACCESS_KEY_ID,
        idc2 = keys::IDC2_ACCESS_KEY_ID,
        expired = keys::EXPIRED_ACCESS_KEY_ID,
    );
    let status = fake()
        .args(["run", "--", "sh", "-c", &script])
        .env("AWS_PROFILE", "real-profile")
        .env("AWS_DEFAULT_PROFILE", "real-profile")
        .env("AWS_ENDPOINT_URL_REDSHIFT", "https://example.invalid")
        .env("KEPT", "yes")
        .status()
        .expect("run the fake");
    assert!(status.success(), "{status:?}");
}

#[test]
fn run_passes_on_the_exit_status() {
    let status = fake()
        .args(["run", "--", "sh", "-c", "exit 7"])
        .status()
        .expect("run");
    assert_eq!(status.code(), Some(7));
    let mut child = fake()
        .args(["run", "--", "sh", "-c", "kill -TERM $$; sleep 30"])
        .spawn()
        .expect("run");
    let status = wait_with_deadline(&mut child, Duration::from_secs(20));
    assert_eq!(status.code(), Some(128 + 15));
    let status = fake()
        .args(["run", "--", "/nonexistent/command"])
        .stderr(Stdio::null())
        .status()
        .expect("run");
    assert_eq!(status.code(), Some(127));
}

#[test]
fn run_serves_while_the_command_runs() {
    let dir = scratch("run-serves");
    let port_file = dir.join("port");
    let script = format!(
        "echo $RS_IDC_FAKE_PORT > {}; cat >/dev/null",
        port_file.display()
    );
    let mut child = fake()
        .args(["run", "--", "sh", "-c", &script])
        .stdin(Stdio::piped())
        .spawn()
        .expect("run");
    let port: u16 = wait_for_file(&port_file).trim().parse().expect("port");
    assert_eq!(api(port, Api::Query, &IDC, &["c"]).status, 200);
    assert_eq!(stats(port), (1, 1));
    drop(child.stdin.take());
    let status = wait_with_deadline(&mut child, Duration::from_secs(20));
    assert!(status.success());
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn run_forwards_termination_signals() {
    let dir = scratch("run-signal");
    let pid_file = dir.join("ready");
    let script = format!(
        "trap 'exit 42' TERM; echo ready > {}; while :; do sleep 0.1; done",
        pid_file.display()
    );
    let mut child = fake()
        .args(["run", "--", "sh", "-c", &script])
        .spawn()
        .expect("run");
    wait_for_file(&pid_file);
    // SAFETY: signalling our own child process.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
    }
    let status = wait_with_deadline(&mut child, Duration::from_secs(20));
    assert_eq!(status.code(), Some(42));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn serve_with_port_file_and_stdin_lifetime() {
    let dir = scratch("serve");
    let port_file = dir.join("port");
    let mut child = fake()
        .arg("serve")
        .arg("--port-file")
        .arg(&port_file)
        .args(["--stdin-lifetime", "--verbose", "--ttl", "60"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("listening line");
    let port: u16 = wait_for_file(&port_file).trim().parse().expect("port");
    assert_eq!(line, format!("listening http://127.0.0.1:{port}\n"));
    let resp = api(port, Api::Query, &IDC, &["c"]);
    assert_eq!(resp.status, 200);
    let token = resp.xml("Token").expect("token");
    let expiry = rs_idc_fake::timefmt::parse_iso8601(&resp.xml("ExpirationTime").expect("expiry"))
        .expect("parses");
    assert!((expiry - rs_idc_fake::timefmt::now_epoch_secs() - 60).abs() <= 5);
    let resp = api(port, Api::Json, &IDC, &["fault-truncated"]);
    assert_eq!(resp.status, 200);
    assert_eq!(api(port, Api::Query, &IDC, &["err-notfound"]).status, 404);
    // End of stdin stops the server.
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"")
        .expect("stdin");
    let status = wait_with_deadline(&mut child, Duration::from_secs(20));
    assert!(status.success());
    let mut log = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut log)
        .expect("stderr");
    assert_eq!(
        log.lines().filter(|l| l.contains("#")).count(),
        3,
        "one line per request"
    );
    assert!(log.contains("err-notfound") && log.contains("404 ClusterNotFound"));
    for secret in [
        token.as_str(),
        &token[..40],
        keys::IDC_SECRET_ACCESS_KEY,
        keys::IDC_SESSION_TOKEN,
    ] {
        assert!(!log.contains(secret), "the log holds a secret");
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn serve_stops_on_sigterm() {
    let mut child = fake()
        .args(["serve"])
        .stdout(Stdio::piped())
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
        .expect("port in the listening line");
    assert_eq!(stats(port), (0, 0));
    // SAFETY: signalling our own child process.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
    }
    let status = wait_with_deadline(&mut child, Duration::from_secs(20));
    assert!(status.success());
}

#[test]
fn bad_arguments_print_usage_and_exit_2() {
    for args in [
        &[][..],
        &["bogus"],
        &["serve", "--port"],
        &["serve", "--port", "99999"],
        &["serve", "--ttl", "soon"],
        &["serve", "--frobnicate"],
        &["run"],
        &["run", "--"],
        &["run", "--port-file", "x", "--", "true"],
    ] {
        let out = fake().args(args).output().expect("run");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("usage:"), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
    let out = fake().arg("--help").output().expect("help");
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("rs-idc-fake run"));
}
