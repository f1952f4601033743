//! The sign-in for people from the command line: `--browser` with a
//! player for the browser, the token cache kept between runs (modes, a
//! folder refused, a corrupt file, racing runs, renewal), no opener, and
//! `--device-code`.

use super::{command, run, scratch_dir, Run};
use rs_idc_fake::FakeServer;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;

/// A browser for `--open-with`: a script that returns at once (as
/// `xdg-open` does once the browser has the page) and, in a child process,
/// GETs the authorize URL on the fake without following the redirect,
/// then the redirect's URL on the command's loopback listener. Only
/// http://127.0.0.1 URLs are followed. Returns the folder (to remove) and
/// the `--open-with` command.
fn browser_player(name: &str) -> (std::path::PathBuf, String) {
    let dir = scratch_dir(name);
    let script = dir.join("play.py");
    std::fs::write(
        &script,
        r#"import http.client, os, sys, urllib.parse

def get(url):
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "http" or parts.hostname != "127.0.0.1":
        os._exit(3)
    conn = http.client.HTTPConnection("127.0.0.1", parts.port, timeout=10)
    conn.request("GET", parts.path + ("?" + parts.query if parts.query else ""))
    answer = conn.getresponse()
    answer.read()
    conn.close()
    return answer.getheader("Location")

url = sys.argv[1]
if os.fork() != 0:
    os._exit(0)
try:
    location = get(url)
    if location:
        get(location)
finally:
    os._exit(0)
"#,
    )
    .unwrap();
    let command = format!("python3 {}", script.display());
    (dir, command)
}

/// The browser flags for the fake: an issuer of its own and `port`.
fn browser_flags(issuer: &str, port: u16, open_with: &str) -> Vec<String> {
    vec![
        "--browser".into(),
        "--issuer-url".into(),
        format!("https://identitycenter.amazonaws.com/ssoins-{issuer}"),
        "--listen-port".into(),
        port.to_string(),
        "--open-with".into(),
        open_with.into(),
    ]
}

/// Fails if the output holds a client secret, a code or a refresh token of
/// the sign-in, or (unless `token_on_stdout`) an access token.
fn assert_no_sign_in_secrets(fake: &FakeServer, run: &Run, token_on_stdout: Option<&str>) {
    for secret in fake.issued_secrets() {
        assert!(!run.stderr.contains(&secret), "stderr holds a secret");
        if Some(secret.as_str()) != token_on_stdout {
            assert!(!run.stdout.contains(&secret), "stdout holds a secret");
        }
    }
}

#[test]
fn browser_prints_the_access_token_of_the_person_who_signed_in() {
    let fake = FakeServer::start().unwrap();
    let (dir, player) = browser_player("browser");
    let plain = run(command(&fake).args(browser_flags("cli", 27921, &player)));
    assert_eq!(plain.code, 0, "{}", plain.stderr);
    let token = plain.stdout.strip_suffix('\n').unwrap();
    assert!(!token.contains('\n'), "stdout is the token and a newline");
    assert_eq!(
        fake.access_token_subject(token).as_deref(),
        Some("browser-user")
    );
    assert!(
        plain
            .stderr
            .contains("sign in to IAM Identity Center in the browser (waiting up to 120 s)"),
        "{}",
        plain.stderr
    );
    assert_eq!(fake.operations(rs_idc_fake::names::op::REGISTER_CLIENT), 1);
    assert_eq!(fake.operations(rs_idc_fake::names::op::AUTHORIZE), 1);
    assert_eq!(fake.operations(rs_idc_fake::names::op::CODE), 1);
    assert_eq!(fake.tokens_issued(), 0, "no Redshift token");
    assert_no_sign_in_secrets(&fake, &plain, Some(token));

    // As JSON, with the Identity Center region and the time bound given.
    let json = run(command(&fake)
        .args(browser_flags("cli-json", 27922, &player))
        .args(["--json", "--idc-region", "us-east-1"])
        .args(["--idp-response-timeout", "30"]));
    assert_eq!(json.code, 0, "{}", json.stderr);
    let token = json
        .stdout
        .strip_prefix("{\"token\":\"")
        .and_then(|rest| rest.split_once('"'))
        .map(|(token, _)| token)
        .unwrap();
    assert_eq!(
        fake.access_token_subject(token).as_deref(),
        Some("browser-user")
    );
    assert!(json.stdout.contains(",\"expires_at\":"), "{}", json.stdout);
    assert!(
        json.stderr.contains("(waiting up to 30 s)"),
        "{}",
        json.stderr
    );
    assert_no_sign_in_secrets(&fake, &json, Some(token));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn browser_flags_misused_are_usage_errors() {
    let fake = FakeServer::start().unwrap();
    for (args, message) in [
        (&["--browser"][..], "--browser needs --issuer-url"),
        (&["--browser", "--json"][..], "--browser needs --issuer-url"),
        (
            &["--issuer-url", "https://i.example/x", "--cluster-id", "c1"][..],
            "--issuer-url needs --browser",
        ),
        (
            &["--open-with", "true", "--check"][..],
            "--open-with needs --browser",
        ),
        (
            &[
                "--browser",
                "--issuer-url",
                "https://i.example/x",
                "--host",
                "h",
            ][..],
            "--browser does not go with --cluster-id, --workgroup or --host",
        ),
    ] {
        let run = run(command(&fake).args(args));
        assert_eq!(run.code, 64, "{args:?}");
        assert!(
            run.stderr.contains(&format!("rs-idc-token: {message}")),
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains("usage: rs-idc-token"));
    }
    // A bad value is the library's to refuse: an invalid argument.
    let run = run(command(&fake)
        .args(browser_flags("bad-port", 27920, "true"))
        .args(["--listen-port", "0"]));
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("RS_IDC_EINVAL: listen_port"),
        "{}",
        run.stderr
    );
    assert_eq!(fake.requests(), 0);
    assert_eq!(fake.operations(rs_idc_fake::names::op::REGISTER_CLIENT), 0);
}

#[test]
fn check_browser_reports_the_sign_in_steps() {
    let fake = FakeServer::start().unwrap();
    let (dir, player) = browser_player("check-browser");
    let run =
        run(command(&fake)
            .args(["--check"])
            .args(browser_flags("cli-check", 27923, &player)));
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let out = &run.stdout;
    for line in [
        "issuer:       https://identitycenter.amazonaws.com/ssoins-cli-check",
        "idc region:   the region above (us-east-1)",
        "redirect:     http://127.0.0.1:27923/",
        &format!("browser:      {player} (from --open-with)"),
        "waits:        up to 120 s",
        "(from AWS_ENDPOINT_URL)",
        "not needed: the sign-in is not signed with AWS credentials",
        "identity:     the person who signed in",
        "flow:         in the browser on this machine (--browser)",
        "/rs-idc (kept between runs)",
        "call:         OK: an access token of ",
        "verdict:      OK",
    ] {
        assert!(out.contains(line), "no {line:?} in {out}");
    }
    // The library's steps, in order.
    let steps: Vec<&str> = out
        .lines()
        .filter_map(|line| line.strip_prefix("sign-in:      "))
        .collect();
    assert_eq!(
        steps,
        [
            "a client was registered",
            "waiting for the browser on 127.0.0.1:27923",
            "signed in"
        ],
        "{out}"
    );
    assert!(!run.stderr.contains("rs_idc::browser"), "{}", run.stderr);
    assert_eq!(fake.operations(rs_idc_fake::names::op::CODE), 1);
    assert_no_sign_in_secrets(&fake, &run, None);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn check_browser_names_each_failure_and_the_next_step() {
    let fake = FakeServer::start().unwrap();
    let (dir, player) = browser_player("check-browser-fails");
    let _taken = std::net::TcpListener::bind(("127.0.0.1", 27924)).unwrap();
    let cases: Vec<(Vec<String>, i32, &str, &str)> = vec![
        // Another program holds the port: no browser opens.
        (
            browser_flags("cli-busy", 27924, &player),
            10,
            "RS_IDC_ENETWORK",
            "another program listens on the loopback port",
        ),
        // The page opens, nobody signs in.
        (
            [
                browser_flags("cli-idle", 27925, "true"),
                vec!["--idp-response-timeout".into(), "1".into()],
            ]
            .concat(),
            9,
            "RS_IDC_ETIMEOUT",
            "finish the sign-in in the browser",
        ),
        // The page cannot be opened.
        (
            browser_flags("cli-no-browser", 27926, "false"),
            14,
            "RS_IDC_EIDENTITY",
            "name a command that opens a browser with --open-with",
        ),
    ];
    for (args, code, status, step) in cases {
        let run = run(command(&fake).arg("--check").args(&args));
        assert_eq!(run.code, code, "{status}: {}\n{}", run.stdout, run.stderr);
        assert!(
            run.stdout
                .contains(&format!("verdict:      FAILED ({status})")),
            "{}",
            run.stdout
        );
        assert!(
            run.stdout.contains(&format!("next step:    {step}")),
            "{}",
            run.stdout
        );
        assert!(
            run.stdout.contains("identity:     nobody signed in"),
            "{}",
            run.stdout
        );
        assert_no_sign_in_secrets(&fake, &run, None);
    }
    // Without --check, the same failure on stderr.
    let run = run(command(&fake).args(browser_flags("cli-no-browser-2", 27927, "false")));
    assert_eq!(run.code, 14, "{}", run.stderr);
    assert!(run.stdout.is_empty());
    assert!(
        run.stderr.contains("rs-idc-token: RS_IDC_EIDENTITY: ")
            && run.stderr.contains("--open-with \"false\" ended with"),
        "{}",
        run.stderr
    );
    assert_eq!(fake.operations(rs_idc_fake::names::op::CODE), 0);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--token-cache-dir` with `dir`.
fn kept_in(dir: &Path) -> [String; 2] {
    ["--token-cache-dir".into(), dir.display().to_string()]
}

/// The sign-in files in `dir`.
fn sign_in_files(dir: &Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect()
}

/// Whether this process runs as root (a file it makes is root's).
fn running_as_root(dir: &Path) -> bool {
    let probe = dir.join("owner-probe");
    std::fs::write(&probe, b"").unwrap();
    let root = std::fs::metadata(&probe).unwrap().uid() == 0;
    std::fs::remove_file(&probe).unwrap();
    root
}

#[test]
fn a_second_run_uses_the_sign_in_kept_by_the_first() {
    let fake = FakeServer::start().unwrap();
    let (dir, player) = browser_player("kept");
    let cache = dir.join("cache");
    let args = [
        browser_flags("kept", 27930, &player),
        kept_in(&cache).to_vec(),
    ]
    .concat();
    let first = run(command(&fake).args(&args));
    assert_eq!(first.code, 0, "{}", first.stderr);
    let second = run(command(&fake).args(&args));
    assert_eq!(second.code, 0, "{}", second.stderr);
    assert_eq!(second.stdout, first.stdout, "the kept access token");
    assert!(
        !second.stderr.contains("sign in to IAM Identity Center"),
        "{}",
        second.stderr
    );
    // One browser, one client, one code exchange for both runs.
    assert_eq!(fake.operations(rs_idc_fake::names::op::AUTHORIZE), 1);
    assert_eq!(fake.operations(rs_idc_fake::names::op::REGISTER_CLIENT), 1);
    assert_eq!(fake.operations(rs_idc_fake::names::op::CODE), 1);
    assert_eq!(fake.operations(rs_idc_fake::names::op::REFRESH_TOKEN), 0);
    // A folder of the user's alone, files for the user alone.
    let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&cache), 0o700);
    let files: Vec<_> = std::fs::read_dir(&cache)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    assert_eq!(sign_in_files(&cache).len(), 1, "{files:?}");
    for file in &files {
        assert_eq!(mode(file), 0o600, "{}", file.display());
    }
    assert_no_sign_in_secrets(&fake, &second, first.stdout.strip_suffix('\n'));
    // --no-token-cache: this run only, a sign-in of its own.
    let once = run(command(&fake)
        .args(browser_flags("kept", 27930, &player))
        .arg("--no-token-cache"));
    assert_eq!(once.code, 0, "{}", once.stderr);
    assert_ne!(once.stdout, first.stdout);
    assert_eq!(fake.operations(rs_idc_fake::names::op::AUTHORIZE), 2);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_token_cache_folder_others_may_write_or_own_is_refused() {
    let fake = FakeServer::start().unwrap();
    let dir = scratch_dir("refused-cache");
    let shared = dir.join("group-writable");
    std::fs::create_dir_all(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o770)).unwrap();
    let refused = run(command(&fake)
        .args(browser_flags("refused", 27931, "true"))
        .args(kept_in(&shared)));
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("RS_IDC_EINVAL: token_cache_dir: ")
            && refused
                .stderr
                .contains("may be written by others (group or world); run chmod 700 on it"),
        "{}",
        refused.stderr
    );
    let check = run(command(&fake)
        .arg("--check")
        .args(browser_flags("refused", 27931, "true"))
        .args(kept_in(&shared)));
    assert_eq!(check.code, 1, "{}", check.stdout);
    assert!(
        check
            .stdout
            .contains("next step:    make the token cache folder your own"),
        "{}",
        check.stdout
    );
    assert!(sign_in_files(&shared).is_empty());
    // A folder of another user (root can make one for the test).
    if running_as_root(&dir) {
        let foreign = dir.join("foreign");
        std::fs::create_dir_all(&foreign).unwrap();
        std::fs::set_permissions(&foreign, std::fs::Permissions::from_mode(0o700)).unwrap();
        std::os::unix::fs::chown(&foreign, Some(65534), Some(65534)).unwrap();
        let refused = run(command(&fake)
            .args(browser_flags("foreign", 27931, "true"))
            .args(kept_in(&foreign)));
        assert_eq!(refused.code, 1, "{}", refused.stderr);
        assert!(
            refused
                .stderr
                .contains("belongs to another user (uid 65534)"),
            "{}",
            refused.stderr
        );
        assert!(sign_in_files(&foreign).is_empty());
    } else {
        eprintln!("the foreign-owned folder needs root to make; checked as root in CI");
    }
    assert_eq!(fake.operations(rs_idc_fake::names::op::REGISTER_CLIENT), 0);
    assert_eq!(fake.operations(rs_idc_fake::names::op::AUTHORIZE), 0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_corrupt_or_foreign_sign_in_file_is_ignored_and_replaced() {
    let fake = FakeServer::start().unwrap();
    let (dir, player) = browser_player("corrupt");
    let cache = dir.join("cache");
    let args = [
        browser_flags("corrupt", 27932, &player),
        kept_in(&cache).to_vec(),
    ]
    .concat();
    let first = run(command(&fake).args(&args));
    assert_eq!(first.code, 0, "{}", first.stderr);
    let [file] = sign_in_files(&cache).try_into().unwrap();
    let kept = std::fs::read_to_string(&file).unwrap();
    let foreign = kept.replace("ssoins-corrupt", "ssoins-someone-else");
    let truncated = &kept[..kept.len() / 2];
    for (n, bad) in [
        truncated.as_bytes(),
        b"\x00\xff not json at all",
        foreign.as_bytes(),
        b"{\"version\":2}",
    ]
    .into_iter()
    .enumerate()
    {
        std::fs::write(&file, bad).unwrap();
        let again = run(command(&fake).args(&args));
        assert_eq!(again.code, 0, "{}", again.stderr);
        assert_ne!(again.stdout, first.stdout, "a token read from a bad file");
        // Signed in again, and the file replaced by a good one.
        assert_eq!(
            fake.operations(rs_idc_fake::names::op::AUTHORIZE),
            n as u64 + 2
        );
        let replaced = std::fs::read_to_string(&file).unwrap();
        assert!(
            replaced.starts_with("{\"version\":1,") && replaced.contains("ssoins-corrupt"),
            "the file was not replaced"
        );
        assert_no_sign_in_secrets(&fake, &again, again.stdout.strip_suffix('\n'));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn two_runs_started_together_sign_in_once() {
    let fake = FakeServer::start().unwrap();
    let (dir, player) = browser_player("race");
    let cache = dir.join("cache");
    let args = [
        browser_flags("race", 27933, &player),
        kept_in(&cache).to_vec(),
    ]
    .concat();
    let start = || {
        command(&fake)
            .args(&args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (one, two) = (start(), start());
    let outputs = [
        one.wait_with_output().unwrap(),
        two.wait_with_output().unwrap(),
    ];
    for output in &outputs {
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    assert_eq!(outputs[0].stdout, outputs[1].stdout, "one sign-in's token");
    assert_eq!(fake.operations(rs_idc_fake::names::op::REGISTER_CLIENT), 1);
    assert_eq!(fake.operations(rs_idc_fake::names::op::AUTHORIZE), 1);
    assert_eq!(fake.operations(rs_idc_fake::names::op::CODE), 1);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_due_access_token_is_renewed_without_the_browser() {
    let fake = FakeServer::start_with(rs_idc_fake::FakeOptions {
        access_token_ttl_secs: 2,
        ..Default::default()
    })
    .unwrap();
    let (dir, player) = browser_player("renew");
    let cache = dir.join("cache");
    let args = [
        browser_flags("renew", 27934, &player),
        kept_in(&cache).to_vec(),
    ]
    .concat();
    let first = run(command(&fake).args(&args));
    assert_eq!(first.code, 0, "{}", first.stderr);
    // A 2 s token is due 1 s before it expires: wait until it is.
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let renewed = run(command(&fake).args(&args));
    assert_eq!(renewed.code, 0, "{}", renewed.stderr);
    assert_ne!(renewed.stdout, first.stdout);
    assert_eq!(
        fake.access_token_subject(renewed.stdout.trim_end())
            .as_deref(),
        Some("browser-user")
    );
    assert!(
        !renewed.stderr.contains("sign in to IAM Identity Center"),
        "{}",
        renewed.stderr
    );
    assert_eq!(fake.operations(rs_idc_fake::names::op::AUTHORIZE), 1);
    assert_eq!(fake.operations(rs_idc_fake::names::op::REFRESH_TOKEN), 1);
    assert_no_sign_in_secrets(&fake, &renewed, renewed.stdout.strip_suffix('\n'));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs `cmd` and plays the person at its terminal: each loopback URL the
/// command shows on stderr is opened by hand with the `player` browser
/// while the command waits.
fn run_as_person(cmd: &mut Command, player: &str) -> Run {
    use std::io::{BufRead, BufReader};
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut said = String::new();
    for line in BufReader::new(child.stderr.take().unwrap()).lines() {
        let line = line.unwrap();
        let url = line
            .split_whitespace()
            .find(|word| word.starts_with("http://127.0.0.1:"));
        if let Some(url) = url {
            let opened = Command::new("sh")
                .arg("-c")
                .arg(format!("{player} \"$1\""))
                .arg("by-hand")
                .arg(url)
                .status()
                .unwrap();
            assert!(opened.success());
        }
        said.push_str(&line);
        said.push('\n');
    }
    let output = child.wait_with_output().unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: said,
    }
}

#[test]
fn with_no_opener_the_url_is_printed_and_the_sign_in_waits_for_it() {
    let fake = FakeServer::start().unwrap();
    let (dir, player) = browser_player("by-hand");
    // No xdg-open on this PATH, and no --open-with.
    let empty = dir.join("empty-path");
    std::fs::create_dir_all(&empty).unwrap();
    let run = run_as_person(
        command(&fake).env("PATH", &empty).args([
            "--browser",
            "--no-token-cache",
            "--issuer-url",
            "https://identitycenter.amazonaws.com/ssoins-by-hand",
            "--listen-port",
            "27935",
        ]),
        &player,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    // The guidance comes first, then the URL alone on its line.
    let (said, rest) = run
        .stderr
        .split_once("\nhttp://127.0.0.1:")
        .unwrap_or_else(|| panic!("no URL line in {}", run.stderr));
    assert!(
        said.contains("no browser could be opened")
            && said.contains("Open this URL in a browser on this machine")
            && said.contains("use --device-code"),
        "{said}"
    );
    assert!(rest.contains("/authorize?"), "{}", run.stderr);
    assert_eq!(
        fake.access_token_subject(run.stdout.trim_end()).as_deref(),
        Some("browser-user")
    );
    assert_eq!(fake.operations(rs_idc_fake::names::op::AUTHORIZE), 1);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The URL and code a device-code run showed: "... open URL in a browser
/// on any device and check that it shows the code CODE; waiting ...".
fn shown_url_and_code(stderr: &str) -> Option<(&str, &str)> {
    let line = stderr
        .lines()
        .find(|line| line.contains("shows the code "))?;
    let url = line
        .split_whitespace()
        .find(|word| word.starts_with("http://127.0.0.1:"))?;
    let code = line.split("shows the code ").nth(1)?.split(';').next()?;
    Some((url, code))
}

#[test]
fn device_code_shows_the_url_and_code_and_keeps_the_sign_in() {
    let fake = FakeServer::start().unwrap();
    let (dir, player) = browser_player("device");
    let cache = dir.join("cache");
    let args = [
        vec![
            "--device-code".to_owned(),
            "--issuer-url".to_owned(),
            "https://identitycenter.amazonaws.com/ssoins-device-cli".to_owned(),
        ],
        kept_in(&cache).to_vec(),
    ]
    .concat();
    let first = run_as_person(command(&fake).args(&args), &player);
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert!(
        first.stderr.contains("in a browser on any device"),
        "{}",
        first.stderr
    );
    let (url, code) = shown_url_and_code(&first.stderr).expect("a URL and a code shown");
    assert!(!code.is_empty() && url.contains(code), "{}", first.stderr);
    let token = first.stdout.trim_end();
    assert!(fake.access_token_subject(token).is_some());
    assert_eq!(fake.operations(rs_idc_fake::names::op::REGISTER_CLIENT), 1);
    assert_eq!(fake.operations(rs_idc_fake::names::op::START_DEVICE), 1);
    assert!(fake.operations(rs_idc_fake::names::op::DEVICE_CODE) >= 1);
    assert_eq!(
        fake.operations(rs_idc_fake::names::op::AUTHORIZE),
        0,
        "no browser sign-in"
    );
    assert_no_sign_in_secrets(&fake, &first, Some(token));
    // The second run uses the kept sign-in: no code, no SSO-OIDC call.
    let polls = fake.operations(rs_idc_fake::names::op::DEVICE_CODE);
    let second = run_as_person(command(&fake).args(&args), &player);
    assert_eq!(second.code, 0, "{}", second.stderr);
    assert_eq!(second.stdout, first.stdout);
    assert!(
        !second.stderr.contains("shows the code"),
        "{}",
        second.stderr
    );
    assert_eq!(fake.operations(rs_idc_fake::names::op::REGISTER_CLIENT), 1);
    assert_eq!(fake.operations(rs_idc_fake::names::op::START_DEVICE), 1);
    assert_eq!(fake.operations(rs_idc_fake::names::op::DEVICE_CODE), polls);
    assert_eq!(sign_in_files(&cache).len(), 1);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_device_code_refused_by_the_person_fails_with_the_identity_exit_code() {
    let fake = FakeServer::start().unwrap();
    let (dir, player) = browser_player("device-denied");
    // The person opens the page and refuses.
    let refuse = format!("sh -c '{player} \"$0&deny=1\"'");
    let args = [
        "--device-code".to_owned(),
        "--no-token-cache".to_owned(),
        "--issuer-url".to_owned(),
        "https://identitycenter.amazonaws.com/ssoins-device-denied".to_owned(),
    ];
    let run = run_as_person(command(&fake).args(args), &refuse);
    assert_eq!(
        run.code,
        rs_idc::Status::Identity.code().abs(),
        "{}",
        run.stderr
    );
    let (url, code) = shown_url_and_code(&run.stderr).expect("a URL and a code shown");
    assert!(!code.is_empty() && url.contains(code), "{}", run.stderr);
    assert!(run.stdout.is_empty());
    assert!(
        run.stderr.contains("RS_IDC_EIDENTITY") && run.stderr.contains("refused"),
        "{}",
        run.stderr
    );
    assert_no_sign_in_secrets(&fake, &run, None);
    let _ = std::fs::remove_dir_all(&dir);
}
