//! The `rs-idc-token` command against the local fake endpoint: the token,
//! `--json`, `--check` verdicts for a good and each kind of bad setup,
//! exit statuses, and the waiting notice. Output is searched for secrets,
//! never printed.

use rs_idc_fake::{keys, FakeServer};
use std::process::{Command, Output};

/// The command with a clean AWS environment pointing at `fake`.
fn command(fake: &FakeServer) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rs-idc-token"));
    for name in [
        "AWS_PROFILE",
        "AWS_DEFAULT_REGION",
        "AWS_ENDPOINT_URL_REDSHIFT",
        "AWS_ENDPOINT_URL_REDSHIFT_SERVERLESS",
        "HTTPS_PROXY",
        "HTTP_PROXY",
        "RS_IDC_TIMEOUT_MS",
    ] {
        cmd.env_remove(name);
    }
    cmd.env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL", fake.url())
        .env("AWS_MAX_ATTEMPTS", "1")
        .env("AWS_ACCESS_KEY_ID", keys::IDC_ACCESS_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", keys::IDC_SECRET_ACCESS_KEY)
        .env("AWS_SESSION_TOKEN", keys::IDC_SESSION_TOKEN);
    cmd
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(cmd: &mut Command) -> Run {
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().unwrap();
    let run = Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    };
    for secret in [
        keys::IDC_SECRET_ACCESS_KEY,
        keys::IDC_SESSION_TOKEN,
        keys::PLAIN_SECRET_ACCESS_KEY,
    ] {
        assert!(
            !run.stdout.contains(secret) && !run.stderr.contains(secret),
            "a secret key or session token was printed"
        );
    }
    run
}

fn assert_no_token(fake: &FakeServer, run: &Run) {
    for token in fake.issued_tokens() {
        assert!(
            !run.stdout.contains(&token) && !run.stderr.contains(&token),
            "--check printed a token"
        );
    }
}

#[test]
fn prints_the_token_and_nothing_else() {
    let fake = FakeServer::start().unwrap();
    let run = run(command(&fake).args(["--cluster-id", "c1", "--cluster-id", "C2"]));
    assert_eq!(run.code, 0, "{}", run.stderr);
    let issued = fake.issued_tokens();
    assert_eq!(issued.len(), 1);
    assert!(
        run.stdout == format!("{}\n", issued[0]),
        "stdout is the token and a newline"
    );
}

#[test]
fn json_carries_token_and_expiry() {
    let fake = FakeServer::start().unwrap();
    let run = run(command(&fake).args(["--workgroup", "wg-one", "--json"]));
    assert_eq!(run.code, 0, "{}", run.stderr);
    let issued = fake.issued_tokens();
    assert!(run
        .stdout
        .starts_with(&format!("{{\"token\":\"{}\",\"expires_at\":", issued[0])));
    assert!(run.stdout.contains("\"expiration\":\"20"));
}

#[test]
fn check_says_ok_for_a_good_setup_without_showing_the_token() {
    let fake = FakeServer::start().unwrap();
    let run = run(command(&fake).args([
        "--check",
        "--host",
        "c1.abc.us-east-1.redshift.amazonaws.com",
    ]));
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(run
        .stdout
        .contains("region:       us-east-1 (from the host name)"));
    assert!(run.stdout.contains("credentials:  environment variables"));
    assert!(run.stdout.contains("(from AWS_ENDPOINT_URL)"));
    assert!(run.stdout.contains("AKIA...0001 (with a session token"));
    assert!(run.stdout.contains("verdict:      OK"));
    assert_eq!(fake.tokens_issued(), 1);
    assert_no_token(&fake, &run);
}

#[test]
fn check_names_each_bad_setup_and_the_next_step() {
    let fake = FakeServer::start().unwrap();
    let cases: Vec<(Command, i32, &str, &str)> = vec![
        (
            {
                let mut c = command(&fake);
                c.env_remove("AWS_REGION")
                    .args(["--check", "--cluster-id", "c1"]);
                c
            },
            3,
            "RS_IDC_ENOREGION",
            "pass --region",
        ),
        (
            {
                let mut c = command(&fake);
                c.env_remove("AWS_ACCESS_KEY_ID")
                    .env_remove("AWS_SECRET_ACCESS_KEY")
                    .env_remove("AWS_SESSION_TOKEN")
                    .args(["--check", "--cluster-id", "c1"]);
                c
            },
            2,
            "RS_IDC_ENOCREDS",
            "identity-enhanced credentials",
        ),
        (
            {
                let mut c = command(&fake);
                c.env("AWS_ACCESS_KEY_ID", keys::PLAIN_ACCESS_KEY_ID)
                    .env("AWS_SECRET_ACCESS_KEY", keys::PLAIN_SECRET_ACCESS_KEY)
                    .env_remove("AWS_SESSION_TOKEN")
                    .args(["--check", "--cluster-id", "c1"]);
                c
            },
            4,
            "RS_IDC_EUNSUPPORTED",
            "IAM Identity Center integration",
        ),
        (
            {
                let mut c = command(&fake);
                c.env("AWS_SECRET_ACCESS_KEY", "not-the-secret").args([
                    "--check",
                    "--cluster-id",
                    "c1",
                ]);
                c
            },
            7,
            "RS_IDC_EDENIED",
            "valid and not expired",
        ),
        (
            {
                let mut c = command(&fake);
                c.args(["--check", "--cluster-id", "err-notfound"]);
                c
            },
            5,
            "RS_IDC_ENOTFOUND",
            "check the cluster identifier",
        ),
        (
            {
                let mut c = command(&fake);
                c.args([
                    "--check",
                    "--endpoint-url",
                    "http://127.0.0.1:9",
                    "--cluster-id",
                    "c1",
                ]);
                c
            },
            10,
            "RS_IDC_ENETWORK",
            "check DNS",
        ),
        (
            {
                let mut c = command(&fake);
                c.args(["--check", "--host", "db.example.com"]);
                c
            },
            1,
            "RS_IDC_EINVAL",
            "fix the argument",
        ),
    ];
    for (mut cmd, code, status, step) in cases {
        let run = run(&mut cmd);
        assert_eq!(run.code, code, "{status}: {}", run.stdout);
        assert!(
            run.stdout
                .contains(&format!("verdict:      FAILED ({status})")),
            "{}",
            run.stdout
        );
        assert!(
            run.stdout.contains("next step:") && run.stdout.contains(step),
            "{}",
            run.stdout
        );
        assert_no_token(&fake, &run);
    }
    assert_eq!(fake.tokens_issued(), 0);
}

#[test]
fn a_slow_call_says_it_is_waiting() {
    let fake = FakeServer::start().unwrap();
    let run = run(command(&fake)
        .env("RS_IDC_TIMEOUT_MS", "2500")
        .args(["--cluster-id", "fault-hang"]));
    assert_eq!(run.code, 9, "{}", run.stderr);
    assert!(
        run.stderr.contains("waiting for the endpoint (1 s)"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("RS_IDC_ETIMEOUT"), "{}", run.stderr);
}

#[test]
fn a_bad_command_line_exits_64_with_usage() {
    let fake = FakeServer::start().unwrap();
    for args in [
        &[][..],
        &["--cluster-id"][..],
        &["--cluster-id", "a", "--host", "h"][..],
        &["--nope"][..],
    ] {
        let run = run(command(&fake).args(args));
        assert_eq!(run.code, 64, "{args:?}");
        assert!(run.stderr.contains("usage: rs-idc-token"));
    }
    assert_eq!(fake.requests(), 0);
}
