//! The `rs-idc-fake` binary: `run` and argument errors.

mod common;

use common::{api, connect_tcp, stats, tls_connect, Api, Client, Req, IDC};
use rs_idc_fake::keys;
use std::io::{BufRead, BufReader, Read};
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
fn run_ttl_sets_the_token_lifetime() {
    let mut child = fake()
        .args(["run", "--ttl", "60", "--", "sh", "-c"])
        .arg("echo \"$RS_IDC_FAKE_PORT\"; exec cat >/dev/null")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("port line");
    let port: u16 = line.trim().parse().expect("port");
    let resp = api(port, Api::Query, &IDC, &["c"]);
    assert_eq!(resp.status, 200);
    let expiry = rs_idc_fake::timefmt::parse_iso8601(&resp.xml("ExpirationTime").expect("expiry"))
        .expect("parses");
    assert!((expiry - rs_idc_fake::timefmt::now_epoch_secs() - 60).abs() <= 5);
    drop(child.stdin.take());
    let status = wait_with_deadline(&mut child, Duration::from_secs(20));
    assert!(status.success());
}

#[test]
fn bad_arguments_print_usage_and_exit_2() {
    for args in [
        &[][..],
        &["bogus"],
        &["serve"],
        &["run", "--ttl", "soon", "--", "true"],
        &["run", "--ttl", "--", "true"],
        &["run", "--frobnicate", "--", "true"],
        &["run"],
        &["run", "--"],
        &["run", "--ttl", "60"],
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

#[test]
fn run_exports_the_tls_fake_and_the_proxy() {
    let dir = scratch("run-tls-proxy");
    let out = dir.join("env");
    let script = format!(
        r#"test "$RS_IDC_FAKE_TLS_URL" = "https://127.0.0.1:$RS_IDC_FAKE_TLS_PORT" &&
        test "$RS_IDC_FAKE_PROXY_URL" = "http://127.0.0.1:$RS_IDC_FAKE_PROXY_PORT" &&
        test "$AWS_ENDPOINT_URL" = "http://127.0.0.1:$RS_IDC_FAKE_PORT" &&
        grep -q "BEGIN CERTIFICATE" "$RS_IDC_FAKE_CA_FILE" &&
        ! grep -q "PRIVATE KEY" "$RS_IDC_FAKE_CA_FILE" &&
        test -z "${{HTTPS_PROXY+set}}${{https_proxy+set}}${{HTTP_PROXY+set}}" &&
        test -z "${{http_proxy+set}}${{ALL_PROXY+set}}${{NO_PROXY+set}}${{no_proxy+set}}" &&
        test -z "${{AWS_CA_BUNDLE+set}}" &&
        printf '%s\n%s\n%s\n%s\n' "$RS_IDC_FAKE_PORT" "$RS_IDC_FAKE_TLS_PORT" \
            "$RS_IDC_FAKE_PROXY_PORT" "$RS_IDC_FAKE_CA_FILE" > {out}.tmp &&
        mv {out}.tmp {out} && cat >/dev/null"#,
        out = out.display()
    );
    let mut child = fake()
        .args(["run", "--", "sh", "-c", &script])
        .env("HTTPS_PROXY", "http://192.0.2.1:3128")
        .env("https_proxy", "http://192.0.2.1:3128")
        .env("HTTP_PROXY", "http://192.0.2.1:3128")
        .env("NO_PROXY", "example.invalid")
        .env("AWS_CA_BUNDLE", "/nonexistent/bundle.pem")
        .stdin(Stdio::piped())
        .spawn()
        .expect("run");
    let text = wait_for_file(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "the script's checks failed");
    let port: u16 = lines[0].parse().expect("port");
    let tls_port: u16 = lines[1].parse().expect("TLS port");
    let proxy_port: u16 = lines[2].parse().expect("proxy port");
    let ca_file = PathBuf::from(lines[3]);

    // The TLS fake, trusting the CA file.
    let pem = std::fs::read_to_string(&ca_file).expect("CA file");
    let tls = tls_connect(connect_tcp(tls_port), "localhost", Some(&pem)).expect("handshake");
    let resp =
        Client::over(tls).call(&Req::api(tls_port, Api::Query, &["c"]).signed(Api::Query, &IDC));
    assert_eq!(resp.status, 200, "{}", resp.shown());

    // The proxy, in front of the plain fake; counted in its stats.
    let mut client = Client::connect(proxy_port);
    client.send(
        &Req::api(port, Api::Json, &["wg"])
            .signed(Api::Json, &IDC)
            .bytes_via(&format!("http://127.0.0.1:{port}")),
    );
    let resp = client.read_response().expect("answer through the proxy");
    assert_eq!(resp.status, 200, "{}", resp.shown());
    assert_eq!(
        common::stats_of(port),
        rs_idc_fake::Stats {
            proxied: Some(1),
            auth_proxied: Some(0),
            auth_refused: Some(0),
            ..common::counts(1, 1, &[(rs_idc_fake::names::op::GET_TOKEN, 1)])
        }
    );

    drop(child.stdin.take());
    let status = wait_with_deadline(&mut child, Duration::from_secs(20));
    assert!(status.success(), "{status:?}");
    assert!(
        !ca_file.parent().expect("CA directory").exists(),
        "the CA file's directory must be removed at exit"
    );
    for gone in [port, tls_port, proxy_port] {
        assert!(std::net::TcpStream::connect(("127.0.0.1", gone)).is_err());
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn run_exports_named_urls_credentials_and_the_auth_proxy() {
    let dir = scratch("run-named-auth");
    let out = dir.join("env");
    let script = format!(
        r#"test "$RS_IDC_FAKE_NAMED_URL" = "http://fake.rs-idc.test:$RS_IDC_FAKE_PORT" &&
        test "$RS_IDC_FAKE_NAMED_TLS_URL" = "https://fake.rs-idc.test:$RS_IDC_FAKE_TLS_PORT" &&
        test "$RS_IDC_FAKE_CREDENTIALS_URL" = "http://127.0.0.1:$RS_IDC_FAKE_PORT/_fake/credentials" &&
        test "$RS_IDC_FAKE_AUTH_PROXY_USER" = rs-idc-proxy-user &&
        test "${{#RS_IDC_FAKE_AUTH_PROXY_PASSWORD}}" -eq 32 &&
        test "$RS_IDC_FAKE_AUTH_PROXY_URL" = "http://rs-idc-proxy-user:$RS_IDC_FAKE_AUTH_PROXY_PASSWORD@127.0.0.1:$RS_IDC_FAKE_AUTH_PROXY_PORT" &&
        test -z "${{AWS_CONTAINER_CREDENTIALS_FULL_URI+set}}" &&
        printf '%s\n%s\n%s\n' "$RS_IDC_FAKE_PORT" "$RS_IDC_FAKE_AUTH_PROXY_PORT" \
            "$RS_IDC_FAKE_AUTH_PROXY_PASSWORD" > {out}.tmp &&
        mv {out}.tmp {out} && cat >/dev/null"#,
        out = out.display()
    );
    let mut child = fake()
        .args(["run", "--", "sh", "-c", &script])
        .env(
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            "http://169.254.170.2/creds",
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run");
    let text = wait_for_file(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "the script's checks failed");
    let port: u16 = lines[0].parse().expect("port");
    let auth_port: u16 = lines[1].parse().expect("auth proxy port");
    let password = lines[2].to_string();
    assert!(password.bytes().all(|b| b.is_ascii_hexdigit()));

    // The credentials endpoint of the plain fake.
    let resp = common::get_credentials(port);
    assert_eq!(resp.status, 200);
    assert_eq!(
        resp.json_str("AccessKeyId").as_deref(),
        Some(keys::IDC_ACCESS_KEY_ID)
    );

    // The proxy with authentication: refused without, relayed with.
    let req = Req::api(port, Api::Query, &["c"]).signed(Api::Query, &IDC);
    let via = format!("http://127.0.0.1:{port}");
    let mut client = Client::connect(auth_port);
    client.send(&req.bytes_via(&via));
    assert_eq!(client.read_response().expect("answer").status, 407);
    let mut client = Client::connect(auth_port);
    let authed = req.clone().header(
        "Proxy-Authorization",
        &common::basic("rs-idc-proxy-user", &password),
    );
    client.send(&authed.bytes_via(&via));
    let resp = client.read_response().expect("answer");
    assert_eq!(resp.status, 200, "{}", resp.shown());
    assert_eq!(
        common::stats_of(port),
        rs_idc_fake::Stats {
            proxied: Some(0),
            credentials: 1,
            auth_proxied: Some(1),
            auth_refused: Some(1),
            ..common::counts(1, 1, &[(rs_idc_fake::names::op::GET_TOKEN, 1)])
        }
    );

    drop(child.stdin.take());
    let status = wait_with_deadline(&mut child, Duration::from_secs(20));
    assert!(status.success(), "{status:?}");
    let mut output = String::new();
    for stream in [
        child.stdout.take().map(|s| Box::new(s) as Box<dyn Read>),
        child.stderr.take().map(|s| Box::new(s) as Box<dyn Read>),
    ]
    .into_iter()
    .flatten()
    {
        let mut s = stream;
        s.read_to_string(&mut output).expect("output");
    }
    assert!(
        !output.contains(&password),
        "the proxy password was printed"
    );
    assert!(std::net::TcpStream::connect(("127.0.0.1", auth_port)).is_err());

    // Another run, another password.
    let again = fake()
        .args([
            "run",
            "--",
            "sh",
            "-c",
            "printf %s \"$RS_IDC_FAKE_AUTH_PROXY_PASSWORD\"",
        ])
        .output()
        .expect("run");
    let second = String::from_utf8_lossy(&again.stdout).into_owned();
    assert_eq!(second.len(), 32);
    assert!(second != password, "the password is the same in two runs");
    let _ = std::fs::remove_dir_all(dir);
}
