use super::*;

fn parse(words: &[&str]) -> Result<Command, lexopt::Error> {
    parse_args(words.iter().copied())
}

fn run(words: &[&str]) -> Args {
    match parse(words) {
        Ok(Command::Run(args)) => *args,
        other => panic!("{words:?} should ask for a run, not {other:?}"),
    }
}

#[test]
fn reads_repeated_and_inline_flags() {
    let args = run(&["--cluster-id", "a", "--cluster-id=b", "--json"]);
    assert_eq!(
        args.target,
        Some(Target::Clusters(vec!["a".into(), "b".into()]))
    );
    assert_eq!(args.mode, Mode::PrintJson);
}

#[test]
fn reads_settings_and_the_last_of_a_repeated_one() {
    let args = run(&[
        "--workgroup",
        "w",
        "--region=eu-west-1",
        "--region",
        "us-east-1",
        "--profile",
        "p",
        "--endpoint-url",
        "http://127.0.0.1:1",
    ]);
    assert_eq!(args.target, Some(Target::Workgroups(vec!["w".into()])));
    assert_eq!(args.region.as_deref(), Some("us-east-1"));
    assert_eq!(args.profile.as_deref(), Some("p"));
    assert_eq!(args.endpoint_url.as_deref(), Some("http://127.0.0.1:1"));
    assert_eq!(args.mode, Mode::PrintToken);
}

#[test]
fn a_check_may_name_no_target() {
    let args = run(&["--check"]);
    assert_eq!(args.target, None);
    assert_eq!(args.mode, Mode::Check);
    let args = run(&["--check", "--host", "h"]);
    assert_eq!(args.target, Some(Target::Host("h".into())));
}

#[test]
fn refuses_bad_command_lines() {
    for words in [
        &[][..],
        &["--cluster-id"][..],
        &["--cluster-id", "a", "--workgroup", "w"][..],
        &["--workgroup", "w", "--host", "h"][..],
        &["--bogus"][..],
        &["-x"][..],
        &["stray"][..],
        &["--json=yes", "--host", "h"][..],
        &["--host", "h", "--json", "--check"][..],
    ] {
        assert!(parse(words).is_err(), "{words:?}");
    }
}

#[test]
fn reads_the_per_user_flags() {
    let args = run(&["--cluster-id", "c1"]);
    assert_eq!(args.user, None);
    let args = run(&[
        "--web-token-file",
        "/run/user.jwt",
        "--idc-application-arn=arn:app",
        "--access-role-arn",
        "arn:access",
        "--cluster-id",
        "c1",
    ]);
    assert_eq!(
        args.user,
        Some(UserArgs {
            web_token_file: "/run/user.jwt".into(),
            idc_application_arn: "arn:app".into(),
            access_role_arn: "arn:access".into(),
            application_role_arn: None,
            role_session_name: None,
        })
    );
    let args = run(&[
        "--check",
        "--web-token-file",
        "f",
        "--idc-application-arn",
        "a",
        "--access-role-arn",
        "r",
        "--application-role-arn",
        "b",
        "--role-session-name",
        "s",
    ]);
    let user = args.user.unwrap();
    assert_eq!(user.application_role_arn.as_deref(), Some("b"));
    assert_eq!(user.role_session_name.as_deref(), Some("s"));
}

#[test]
fn per_user_flags_need_the_file_and_both_arns() {
    for (words, message) in [
        (
            &["--web-token-file", "f", "--cluster-id", "c"][..],
            "--web-token-file needs --idc-application-arn and --access-role-arn",
        ),
        (
            &[
                "--access-role-arn",
                "r",
                "--web-token-file",
                "f",
                "--host",
                "h",
            ][..],
            "--web-token-file needs --idc-application-arn",
        ),
        (
            &["--role-session-name", "s", "--check"][..],
            "--role-session-name needs --web-token-file, --idc-application-arn and \
             --access-role-arn",
        ),
        (
            &[
                "--idc-application-arn",
                "a",
                "--access-role-arn",
                "r",
                "--check",
            ][..],
            "--idc-application-arn needs --web-token-file",
        ),
    ] {
        match parse(words) {
            Err(err) => assert!(err.to_string().starts_with(message), "{words:?}: {err}"),
            Ok(other) => panic!("{words:?} should be refused, not {other:?}"),
        }
    }
}

#[test]
fn reads_the_browser_flags() {
    let args = run(&["--browser", "--issuer-url", "https://i.example/ssoins-1"]);
    assert_eq!(
        args.target,
        Some(Target::SignIn(SignInArgs {
            flow: SignInFlow::Browser,
            issuer_url: "https://i.example/ssoins-1".into(),
            idc_region: None,
            idp_response_timeout: None,
            display_name: None,
            token_cache: TokenCache::Default,
            listen_port: None,
            open_with: None,
        }))
    );
    assert_eq!(args.mode, Mode::PrintToken);
    let args = run(&[
        "--json",
        "--browser",
        "--issuer-url=u",
        "--idc-region",
        "eu-west-1",
        "--listen-port",
        "7891",
        "--idp-response-timeout",
        "30",
        "--open-with",
        "firefox --new-window",
        "--idc-client-display-name",
        "Redshift at desk 4",
        "--no-token-cache",
    ]);
    let Some(Target::SignIn(browser)) = args.target else {
        panic!("a browser target")
    };
    assert_eq!(browser.idc_region.as_deref(), Some("eu-west-1"));
    assert_eq!(browser.listen_port.as_deref(), Some("7891"));
    assert_eq!(browser.idp_response_timeout.as_deref(), Some("30"));
    assert_eq!(browser.open_with.as_deref(), Some("firefox --new-window"));
    assert_eq!(browser.display_name.as_deref(), Some("Redshift at desk 4"));
    assert_eq!(browser.token_cache, TokenCache::Off);
    assert_eq!(args.mode, Mode::PrintJson);
    let args = run(&["--check", "--browser", "--issuer-url", "u"]);
    assert!(matches!(args.target, Some(Target::SignIn(_))));
    assert_eq!(args.mode, Mode::Check);
}

#[test]
fn reads_the_device_code_flags() {
    let args = run(&[
        "--device-code",
        "--issuer-url",
        "u",
        "--idp-response-timeout=600",
        "--token-cache-dir",
        "/run/user/1000/rs-idc",
    ]);
    let Some(Target::SignIn(device)) = args.target else {
        panic!("a sign-in target")
    };
    assert_eq!(device.flow, SignInFlow::DeviceCode);
    assert_eq!(device.idp_response_timeout.as_deref(), Some("600"));
    assert_eq!(
        device.token_cache,
        TokenCache::Dir("/run/user/1000/rs-idc".into())
    );
    assert_eq!(device.listen_port, None);
}

#[test]
fn browser_flags_are_checked_together() {
    for (words, message) in [
        (&["--browser"][..], "--browser needs --issuer-url"),
        (
            &["--browser", "--check"][..],
            "--browser needs --issuer-url",
        ),
        (
            &["--issuer-url", "u"][..],
            "--issuer-url needs --browser or --device-code",
        ),
        (
            &["--no-token-cache", "--cluster-id", "c"][..],
            "--no-token-cache needs --browser or --device-code",
        ),
        (
            &["--browser", "--device-code", "--issuer-url", "u"][..],
            "--browser and --device-code do not go together",
        ),
        (
            &["--device-code", "--issuer-url", "u", "--open-with", "x"][..],
            "--open-with goes with --browser only",
        ),
        (
            &["--device-code", "--host", "h"][..],
            "--device-code needs --issuer-url",
        ),
        (
            &["--device-code", "--issuer-url", "u", "--host", "h"][..],
            "--device-code does not go with --cluster-id, --workgroup or --host",
        ),
        (
            &[
                "--browser",
                "--issuer-url",
                "u",
                "--no-token-cache",
                "--token-cache-dir",
                "d",
            ][..],
            "--no-token-cache and --token-cache-dir do not go together",
        ),
        (
            &["--listen-port", "1", "--cluster-id", "c"][..],
            "--listen-port needs --browser",
        ),
        (
            &["--open-with", "x", "--check"][..],
            "--open-with needs --browser",
        ),
        (
            &["--browser", "--issuer-url", "u", "--cluster-id", "c"][..],
            "--browser does not go with --cluster-id, --workgroup or --host",
        ),
        (
            &["--host", "h", "--browser", "--issuer-url", "u"][..],
            "--browser does not go with --cluster-id, --workgroup or --host",
        ),
        (
            &[
                "--browser",
                "--issuer-url",
                "u",
                "--web-token-file",
                "f",
                "--idc-application-arn",
                "a",
                "--access-role-arn",
                "r",
            ][..],
            "--browser does not go with the per-user flags",
        ),
    ] {
        match parse(words) {
            Err(err) => assert!(err.to_string().starts_with(message), "{words:?}: {err}"),
            Ok(other) => panic!("{words:?} should be refused, not {other:?}"),
        }
    }
}

#[test]
fn help_and_version_win_over_what_follows() {
    assert!(matches!(parse(&["--help", "--bogus"]), Ok(Command::Help)));
    assert!(matches!(parse(&["-h"]), Ok(Command::Help)));
    assert!(matches!(parse(&["--version"]), Ok(Command::Version)));
}
