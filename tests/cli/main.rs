//! The `rs-idc-token` command against the local fake endpoint: the token,
//! `--json`, `--check` verdicts for a good and each kind of bad setup,
//! exit statuses, and the waiting notice; the sign-in for people in
//! `sign_in`. Output is searched for secrets, never printed.

mod sign_in;

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
        .env("AWS_SESSION_TOKEN", keys::IDC_SESSION_TOKEN)
        // The sign-in's token cache (on by default) in a folder of the
        // tests', never the home folder's.
        .env("XDG_CACHE_HOME", scratch_dir("cache"));
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
                c.args(["--check", "--host", "10.1.2.3"]);
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

#[test]
fn json_expiration_is_expires_at_in_iso8601() {
    use aws_smithy_types::date_time::{DateTime, Format};
    let fake = FakeServer::start().unwrap();
    let run = run(command(&fake).args(["--cluster-id", "c1", "--json"]));
    assert_eq!(run.code, 0, "{}", run.stderr);
    let line = run.stdout.strip_suffix("}\n").unwrap();
    let (_, after) = line.split_once(",\"expires_at\":").unwrap();
    let (secs, expiration) = after.split_once(",\"expiration\":").unwrap();
    let secs: i64 = secs.parse().unwrap();
    let expected = DateTime::from_secs(secs).fmt(Format::DateTime).unwrap();
    assert_eq!(expiration, format!("\"{expected}\""));
}

/// A fresh folder for one test's AWS files.
fn scratch_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("rs-idc-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn check_reads_region_and_credentials_from_the_profile() {
    let fake = FakeServer::start().unwrap();
    let dir = scratch_dir("profile");
    let config = dir.join("config");
    std::fs::write(
        &config,
        "[profile team]\nregion = eu-west-1\nsso_session = corp\n\n\
         [profile child]\nsource_profile = team\nrole_arn = arn:aws:iam::123456789012:role/r\n\n\
         [sso-session corp]\nsso_start_url = https://example.awsapps.com/start\n\
         sso_region = eu-west-1\n",
    )
    .unwrap();
    for (profile, region) in [("team", "eu-west-1"), ("child", "eu-west-1")] {
        let run = run(command(&fake)
            .env_remove("AWS_REGION")
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env_remove("AWS_SESSION_TOKEN")
            .env("AWS_CONFIG_FILE", &config)
            .args(["--check", "--profile", profile]));
        assert_eq!(run.code, 0, "{}", run.stdout);
        assert!(
            run.stdout.contains(&format!(
                "region:       {region} (from profile '{profile}')"
            )),
            "{}",
            run.stdout
        );
        assert!(
            run.stdout
                .contains(&format!("credentials:  profile '{profile}'")),
            "{}",
            run.stdout
        );
        assert!(run
            .stdout
            .contains("verdict:      settings read; no call made"));
        assert!(!run.stdout.contains("profiles:"), "{}", run.stdout);
    }
    let run = run(command(&fake)
        .env_remove("AWS_REGION")
        .env("AWS_CONFIG_FILE", &config)
        .args(["--check", "--profile", "nobody"]));
    assert!(
        run.stdout
            .contains("region:       none found: pass --region or set AWS_REGION"),
        "{}",
        run.stdout
    );
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(fake.requests(), 0);
}

#[test]
fn check_says_when_the_profile_files_cannot_be_read() {
    let fake = FakeServer::start().unwrap();
    let dir = scratch_dir("unreadable");
    let config = dir.join("config");
    std::fs::write(&config, "[profile team]\nthis line has no equals sign\n").unwrap();
    let run = run(command(&fake)
        .env_remove("AWS_REGION")
        .env("AWS_CONFIG_FILE", &config)
        .args(["--check", "--profile", "team"]));
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(
        run.stdout.contains("profiles:     cannot be read:"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("region:       none found"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn help_and_version_exit_0_and_misused_flags_exit_64() {
    let fake = FakeServer::start().unwrap();
    let help = run(command(&fake).arg("--help"));
    assert_eq!(help.code, 0);
    assert!(help.stdout.starts_with("usage: rs-idc-token"));
    let version = run(command(&fake).arg("--version"));
    assert_eq!(version.code, 0);
    assert_eq!(
        version.stdout,
        format!("rs-idc-token {}\n", env!("CARGO_PKG_VERSION"))
    );
    for args in [
        &["--host", "h", "--json", "--check"][..],
        &["--json=yes", "--cluster-id", "c1"][..],
        &["--cluster-id", "c1", "stray"][..],
    ] {
        let run = run(command(&fake).args(args));
        assert_eq!(run.code, 64, "{args:?}");
        assert!(run.stderr.contains("usage: rs-idc-token"));
    }
    assert_eq!(fake.requests(), 0);
}

/// A web token file for `subject`, expiring in `ttl_secs`, in a fresh
/// folder; returns the folder (to remove) and the file.
fn web_token_file(
    fake: &FakeServer,
    name: &str,
    subject: &str,
    ttl_secs: i64,
) -> (std::path::PathBuf, std::path::PathBuf, String) {
    let dir = scratch_dir(name);
    let file = dir.join("user.jwt");
    let web_token = fake.web_token(subject, ttl_secs);
    std::fs::write(&file, format!("{web_token}\n")).unwrap();
    (dir, file, web_token)
}

/// The per-user flags for the web token `file`, with the fake's
/// application and access role.
fn user_flags(file: &std::path::Path) -> Vec<String> {
    vec![
        "--web-token-file".into(),
        file.display().to_string(),
        "--idc-application-arn".into(),
        keys::APPLICATION_ARN.into(),
        "--access-role-arn".into(),
        keys::ACCESS_ROLE_ARN.into(),
    ]
}

/// The command with the fake's plain application credentials (no session
/// token), as a multi-user server holds them.
fn application_command(fake: &FakeServer) -> Command {
    let mut cmd = command(fake);
    cmd.env("AWS_ACCESS_KEY_ID", keys::PLAIN_ACCESS_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", keys::PLAIN_SECRET_ACCESS_KEY)
        .env_remove("AWS_SESSION_TOKEN");
    cmd
}

/// Fails if the output holds a web token, a Redshift token, or anything
/// secret that the exchange handed out.
fn assert_no_exchange_secrets(fake: &FakeServer, run: &Run, web_tokens: &[&str]) {
    assert_no_token(fake, run);
    let minted = fake.minted_credentials();
    let secrets = web_tokens
        .iter()
        .map(|token| token.to_string())
        .chain(fake.issued_secrets())
        .chain(minted.iter().map(|(_, secret, _)| secret.clone()))
        .chain(minted.iter().map(|(_, _, session)| session.clone()));
    for secret in secrets {
        assert!(
            !run.stdout.contains(&secret) && !run.stderr.contains(&secret),
            "a web token or an exchanged secret was printed"
        );
    }
}

#[test]
fn a_web_token_file_gets_its_users_token() {
    let fake = FakeServer::start().unwrap();
    let (dir, alice, alice_token) = web_token_file(&fake, "alice", "alice@example.com", 3600);
    let first = run(application_command(&fake)
        .args(user_flags(&alice))
        .args(["--cluster-id", "c1"]));
    assert_eq!(first.code, 0, "{}", first.stderr);
    let token = first.stdout.trim_end();
    assert_eq!(
        rs_idc_fake::token_subject(token).as_deref(),
        Some("alice@example.com")
    );
    assert_eq!(fake.operations(rs_idc_fake::names::op::IAM_JWT_BEARER), 1);
    assert_eq!(fake.operations(rs_idc_fake::names::op::ASSUME_ROLE), 1);
    assert_eq!(
        fake.operations(rs_idc_fake::names::op::ASSUME_ROLE_WITH_WEB_IDENTITY),
        0
    );
    assert_no_exchange_secrets_but_the_token(&fake, &first, &[&alice_token]);

    // Another user, for a workgroup and as JSON, and by host name.
    let bob_file = dir.join("bob.jwt");
    let bob_token = fake.web_token("bob", 3600);
    std::fs::write(&bob_file, &bob_token).unwrap();
    let json = run(application_command(&fake)
        .args(user_flags(&bob_file))
        .args([
            "--workgroup",
            "wg-one",
            "--json",
            "--role-session-name",
            "cli-test",
        ]));
    assert_eq!(json.code, 0, "{}", json.stderr);
    let token = json
        .stdout
        .strip_prefix("{\"token\":\"")
        .and_then(|rest| rest.split_once('"'))
        .map(|(token, _)| token)
        .unwrap();
    assert_eq!(rs_idc_fake::token_subject(token).as_deref(), Some("bob"));
    let by_host = run(application_command(&fake)
        .args(user_flags(&bob_file))
        .args(["--host", "c1.abc.us-east-1.redshift.amazonaws.com"]));
    assert_eq!(by_host.code, 0, "{}", by_host.stderr);
    assert_eq!(
        rs_idc_fake::token_subject(by_host.stdout.trim_end()).as_deref(),
        Some("bob")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// As [`assert_no_exchange_secrets`], for a run whose stdout is the
/// Redshift token it was asked for.
fn assert_no_exchange_secrets_but_the_token(fake: &FakeServer, run: &Run, web_tokens: &[&str]) {
    let without_token = Run {
        code: run.code,
        stdout: String::new(),
        stderr: run.stderr.clone(),
    };
    assert_no_exchange_secrets(fake, &without_token, web_tokens);
    for token in web_tokens {
        assert!(!run.stdout.contains(token), "the web token was printed");
    }
}

#[test]
fn an_application_role_needs_no_credentials() {
    let fake = FakeServer::start().unwrap();
    let (dir, file, web_token) = web_token_file(&fake, "approle", "dana", 3600);
    let run = run(command(&fake)
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .args(user_flags(&file))
        .args(["--application-role-arn", keys::APPLICATION_ROLE_ARN])
        .args(["--cluster-id", "c1"]));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        rs_idc_fake::token_subject(run.stdout.trim_end()).as_deref(),
        Some("dana")
    );
    assert_eq!(
        fake.operations(rs_idc_fake::names::op::ASSUME_ROLE_WITH_WEB_IDENTITY),
        1
    );
    assert_eq!(fake.operations(rs_idc_fake::names::op::IAM_JWT_BEARER), 1);
    assert_eq!(fake.operations(rs_idc_fake::names::op::ASSUME_ROLE), 1);
    assert_no_exchange_secrets_but_the_token(&fake, &run, &[&web_token]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn check_lists_the_exchange_steps_without_the_web_token() {
    let fake = FakeServer::start().unwrap();
    let (dir, file, web_token) = web_token_file(&fake, "check-user", "carol@example.com", 3600);
    let run = run(command(&fake)
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .args(["--check"])
        .args(user_flags(&file))
        .args(["--application-role-arn", keys::APPLICATION_ROLE_ARN])
        .args(["--cluster-id", "c1"]));
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let out = &run.stdout;
    assert!(
        out.contains(&format!("application:  {}", keys::APPLICATION_ARN)),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "access role:  {} (session name rs-idc-identity-context)",
            keys::ACCESS_ROLE_ARN
        )),
        "{out}"
    );
    assert!(
        out.contains("credentials:  none found; not used: the application role signs the exchange"),
        "{out}"
    );
    assert!(
        out.contains(&format!("web token:    {}: ", file.display()))
            && out.contains("a JWT for subject \"carol@example.com\", expires "),
        "{out}"
    );
    // Each step of the exchange, in order, then the token.
    let steps: Vec<&str> = out
        .lines()
        .filter_map(|line| line.strip_prefix("exchange:     "))
        .collect();
    let at = |name: &str| {
        steps
            .iter()
            .position(|step| step.contains(name))
            .unwrap_or_else(|| panic!("no step names {name}: {out}"))
    };
    assert!(
        at("AssumeRoleWithWebIdentity") < at("CreateTokenWithIAM"),
        "{out}"
    );
    assert!(
        steps
            .iter()
            .any(|step| step.contains("AssumeRole") && !step.contains("WebIdentity")),
        "{out}"
    );
    assert!(
        out.contains("identity:     the user of the web token file"),
        "{out}"
    );
    assert!(out.contains("call:         OK: a token of "), "{out}");
    assert!(out.contains("verdict:      OK"), "{out}");
    assert!(!run.stderr.contains("per-user exchange:"), "{}", run.stderr);
    assert_eq!(fake.tokens_issued(), 1);
    assert_no_exchange_secrets(&fake, &run, &[&web_token]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_expired_web_token_file_is_an_identity_failure() {
    let fake = FakeServer::start().unwrap();
    let (dir, file, web_token) = web_token_file(&fake, "expired", "erin", -120);
    let plain = run(application_command(&fake)
        .args(user_flags(&file))
        .args(["--cluster-id", "c1"]));
    assert_eq!(plain.code, 14, "{}", plain.stderr);
    assert!(plain.stdout.is_empty());
    assert!(
        plain.stderr.contains("rs-idc-token: RS_IDC_EIDENTITY: "),
        "{}",
        plain.stderr
    );
    assert_no_exchange_secrets(&fake, &plain, &[&web_token]);

    let checked = run(application_command(&fake)
        .args(["--check"])
        .args(user_flags(&file))
        .args(["--cluster-id", "c1"]));
    assert_eq!(checked.code, 14, "{}", checked.stdout);
    assert!(checked.stdout.contains("EXPIRED "), "{}", checked.stdout);
    assert!(
        checked
            .stdout
            .contains("exchange:     no step ran: the call failed before the exchange"),
        "{}",
        checked.stdout
    );
    assert!(
        checked
            .stdout
            .contains("verdict:      FAILED (RS_IDC_EIDENTITY)"),
        "{}",
        checked.stdout
    );
    assert!(
        checked.stdout.contains("next step:    get a new web token"),
        "{}",
        checked.stdout
    );
    assert_no_exchange_secrets(&fake, &checked, &[&web_token]);
    // Refused before any traffic.
    assert_eq!(fake.requests(), 0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn check_names_a_denied_access_role_and_the_next_step() {
    let fake = FakeServer::start().unwrap();
    let (dir, file, web_token) = web_token_file(&fake, "denied", "frank", 3600);
    let run = run(application_command(&fake).args([
        "--check",
        "--web-token-file",
        &file.display().to_string(),
        "--idc-application-arn",
        keys::APPLICATION_ARN,
        "--access-role-arn",
        keys::DENIED_ROLE_ARN,
        "--cluster-id",
        "c1",
    ]));
    assert_eq!(run.code, 7, "{}", run.stdout);
    assert!(
        run.stdout.contains("verdict:      FAILED (RS_IDC_EDENIED)"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("sts:SetContext"), "{}", run.stdout);
    assert_no_exchange_secrets(&fake, &run, &[&web_token]);
    assert_eq!(fake.tokens_issued(), 0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn per_user_flags_without_both_arns_are_usage_errors() {
    let fake = FakeServer::start().unwrap();
    let (dir, file, _) = web_token_file(&fake, "usage", "gina", 3600);
    let path = file.display().to_string();
    for (args, message) in [
        (
            vec!["--web-token-file", &path, "--cluster-id", "c1"],
            "--web-token-file needs --idc-application-arn and --access-role-arn",
        ),
        (
            vec![
                "--web-token-file",
                &path,
                "--idc-application-arn",
                keys::APPLICATION_ARN,
                "--check",
            ],
            "--web-token-file needs --access-role-arn",
        ),
        (
            vec![
                "--application-role-arn",
                keys::APPLICATION_ROLE_ARN,
                "--host",
                "h",
            ],
            "--application-role-arn needs --web-token-file, --idc-application-arn and \
             --access-role-arn",
        ),
        (
            vec![
                "--idc-application-arn",
                keys::APPLICATION_ARN,
                "--access-role-arn",
                keys::ACCESS_ROLE_ARN,
                "--cluster-id",
                "c1",
            ],
            "--idc-application-arn needs --web-token-file",
        ),
    ] {
        let run = run(command(&fake).args(&args));
        assert_eq!(run.code, 64, "{args:?}");
        assert!(
            run.stderr.contains(&format!("rs-idc-token: {message}")),
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains("usage: rs-idc-token"));
    }
    // A malformed ARN is the library's to refuse: an invalid argument.
    let run = run(command(&fake).args([
        "--web-token-file",
        &path,
        "--idc-application-arn",
        "arn:aws:sso::not-an-application",
        "--access-role-arn",
        keys::ACCESS_ROLE_ARN,
        "--cluster-id",
        "c1",
    ]));
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("RS_IDC_EINVAL: idc_application_arn"),
        "{}",
        run.stderr
    );
    assert_eq!(fake.requests(), 0);
    let _ = std::fs::remove_dir_all(&dir);
}
