//! Property tests of everything checked locally: cluster identifiers,
//! workgroup names, host names, client options, and the C entry points fed
//! inputs that must fail those checks.
//!
//! None of these tests makes network traffic: every input goes to a pure
//! function, or to a C entry point that must refuse it before any call, or
//! to rs_idc_client_new, which contacts nothing (clients made there are
//! only freed). As a safety net the process environment still points the
//! SDK at a loopback port where nothing listens, with metadata lookups
//! disabled, while the tests that read it run (each alone, see
//! [`loopback_only`]); the tests of pure functions run beside them.

use crate::common;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use rs_idc::ffi::{rs_idc_client_free, rs_idc_client_new, rs_idc_get_token, rs_idc_option};
use rs_idc::hosts::{parse_host, HostTarget};
use rs_idc::ids::{
    check_cluster_id, check_count, check_workgroup, normalise_cluster_ids, normalise_workgroups,
    RS_IDC_MAX_IDENTIFIERS,
};
use rs_idc::options::{settings_from_options, RawOption, KEYS, RS_IDC_MAX_OPTIONS};
use rs_idc::status::{RS_IDC_EINVAL, RS_IDC_OK};
use rs_idc::Api;
use rs_idc::Status;
use std::collections::BTreeSet;
use std::ffi::{c_char, CStr, CString};
use std::path::PathBuf;
use std::ptr;
use std::sync::OnceLock;
use std::time::Duration;

// ---------------------------------------------------------------------------
// Oracles: the rules of DESIGN.md, written out once more.

/// 1-63 ASCII letters, digits and hyphens, starting with a letter, not
/// ending with a hyphen, no two hyphens in a row.
fn is_cluster_id(b: &[u8]) -> bool {
    (1..=63).contains(&b.len())
        && b[0].is_ascii_alphabetic()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
        && b.last() != Some(&b'-')
        && !b.windows(2).any(|w| w == b"--")
}

/// 3-64 of `[a-z0-9-]`.
fn is_workgroup(b: &[u8]) -> bool {
    (3..=64).contains(&b.len())
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
}

/// How the C layer reads an identifier: at most 65 bytes.
const C_IDENTIFIER_SCAN: usize = 65;

// ---------------------------------------------------------------------------
// Strategies.

fn valid_cluster_id() -> impl Strategy<Value = String> {
    prop_oneof![
        // Hyphens only between letters or digits: at most 1 + 31 * 2 = 63.
        "[a-zA-Z]([a-zA-Z0-9]|-[a-zA-Z0-9]){0,31}",
        "[a-zA-Z][a-zA-Z0-9]{0,62}",
    ]
}

/// A byte that may not appear in a cluster identifier.
fn non_id_byte() -> impl Strategy<Value = u8> {
    any::<u8>().prop_filter("not a letter, digit or hyphen", |b| {
        !(b.is_ascii_alphanumeric() || *b == b'-')
    })
}

/// Bytes mostly from the identifier alphabet (hyphens often, so that the
/// hyphen rules are met and broken), sometimes with other bytes.
fn id_like_bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    let alphabet = || select(b"abzABZ09--".to_vec());
    prop_oneof![
        vec(alphabet(), 0..=max),
        vec(
            prop_oneof![
                8 => alphabet(),
                1 => any::<u8>(),
            ],
            0..=max,
        ),
    ]
}

fn insert_at(mut bytes: Vec<u8>, at: usize, byte: u8) -> Vec<u8> {
    let at = at % (bytes.len() + 1);
    bytes.insert(at, byte);
    bytes
}

/// Byte strings that break at least one cluster-identifier rule.
fn invalid_cluster_id() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(Vec::new()),
        "[a-zA-Z][a-zA-Z0-9-]{63,120}".prop_map(String::into_bytes),
        "[0-9-][a-zA-Z0-9]{0,40}".prop_map(String::into_bytes),
        valid_cluster_id().prop_map(|id| format!("{id}-").into_bytes()),
        (valid_cluster_id(), valid_cluster_id())
            .prop_map(|(a, b)| format!("{a}--{b}").into_bytes()),
        (valid_cluster_id(), any::<usize>(), non_id_byte()).prop_map(|(id, at, byte)| insert_at(
            id.into_bytes(),
            at,
            byte
        )),
        id_like_bytes(80).prop_filter("must break a rule", |b| !is_cluster_id(b)),
    ]
}

fn valid_workgroup() -> impl Strategy<Value = String> {
    "[a-z0-9-]{3,64}"
}

/// Byte strings that break at least one workgroup rule.
fn invalid_workgroup() -> impl Strategy<Value = Vec<u8>> {
    let bad_byte = any::<u8>().prop_filter("not [a-z0-9-]", |b| {
        !(b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
    });
    prop_oneof![
        "[a-z0-9-]{0,2}".prop_map(String::into_bytes),
        "[a-z0-9-]{65,120}".prop_map(String::into_bytes),
        (valid_workgroup(), any::<usize>(), bad_byte).prop_map(|(wg, at, byte)| insert_at(
            wg.into_bytes(),
            at,
            byte
        )),
        id_like_bytes(80).prop_filter("must break a rule", |b| !is_workgroup(b)),
    ]
}

/// A region of a known partition's shape (see `rs_idc::values::is_region`).
fn region() -> impl Strategy<Value = String> {
    "(us|eu|ap|sa|ca|me|af|il|mx|cn|us-gov|us-iso|us-isob|us-isof|eu-isoe|eusc-de)-[a-z]{2,10}-[0-9]{1,2}"
}

fn account() -> impl Strategy<Value = String> {
    "[a-z0-9]{1,16}"
}

fn amazon_suffix() -> impl Strategy<Value = &'static str> {
    select(vec!["amazonaws.com", "amazonaws.com.cn"])
}

/// A valid host name and what it must parse to.
fn valid_host() -> impl Strategy<Value = (String, HostTarget)> {
    let cluster = (valid_cluster_id(), account(), region(), amazon_suffix()).prop_map(
        |(id, account, region, suffix)| {
            let host = format!("{id}.{account}.{region}.redshift.{suffix}");
            let id = id.to_ascii_lowercase();
            let target = HostTarget {
                api: Api::Provisioned,
                name: id,
                region,
            };
            (host, target)
        },
    );
    let workgroup = (valid_workgroup(), account(), region(), amazon_suffix()).prop_map(
        |(name, account, region, suffix)| {
            let host = format!("{name}.{account}.{region}.redshift-serverless.{suffix}");
            let target = HostTarget {
                api: Api::Serverless,
                name,
                region,
            };
            (host, target)
        },
    );
    (prop_oneof![cluster, workgroup], any::<bool>()).prop_map(|((host, target), shout)| {
        // Host names are case-insensitive; the result is always lower case.
        let host = if shout {
            host.to_ascii_uppercase()
        } else {
            host
        };
        (host, target)
    })
}

/// Valid host names spoiled in a way that must be refused.
fn spoiled_host() -> impl Strategy<Value = String> {
    let host = || valid_host().prop_map(|(host, _)| host);
    let bad_byte = any::<u8>().prop_filter("not a host-name byte", |b| {
        !(b.is_ascii_alphanumeric() || *b == b'-' || *b == b'.')
    });
    let other_suffix = select(vec![
        "example.com",
        "amazonaws.org",
        "amazonaws.com.evil",
        "amazonaws.co",
        "amazon.com",
        "amazonaws.com.",
        "amazonaws.com.cn.example.com",
        "com",
    ]);
    let other_service = select(vec!["s3", "redshiftserverless", "redshift-x", "rds", ""]);
    let bad_region = select(vec![
        "useast1",
        "us-east",
        "1-us-east",
        "us--east-1",
        "US_EAST-1",
        "e-1",
    ]);
    prop_oneof![
        host().prop_map(|h| format!("https://{h}")),
        host().prop_map(|h| format!("{h}:5439")),
        (host(), "[a-z]{0,8}").prop_map(|(h, db)| format!("{h}/{db}")),
        (host(), "[a-z0-9]{1,8}").prop_map(|(h, label)| format!("{label}.{h}")),
        (host(), any::<usize>(), bad_byte).prop_map(|(h, at, byte)| String::from_utf8_lossy(
            &insert_at(h.into_bytes(), at, byte)
        )
        .into_owned()),
        (valid_cluster_id(), account(), region(), other_suffix).prop_map(
            |(id, account, region, suffix)| format!("{id}.{account}.{region}.redshift.{suffix}")
        ),
        (
            valid_cluster_id(),
            account(),
            region(),
            other_service,
            amazon_suffix()
        )
            .prop_map(|(id, account, region, service, suffix)| format!(
                "{id}.{account}.{region}.{service}.{suffix}"
            )),
        (valid_cluster_id(), account(), bad_region, amazon_suffix()).prop_map(
            |(id, account, region, suffix)| format!("{id}.{account}.{region}.redshift.{suffix}")
        ),
        // The account label left out.
        (valid_cluster_id(), region(), amazon_suffix())
            .prop_map(|(id, region, suffix)| format!("{id}.{region}.redshift.{suffix}")),
        // A bad name in the right place.
        (invalid_cluster_id(), account(), region(), amazon_suffix()).prop_map(
            |(id, account, region, suffix)| format!(
                "{}.{account}.{region}.redshift.{suffix}",
                String::from_utf8_lossy(&id)
            )
        ),
        (
            // Host names are read case-insensitively: stay invalid in lower case.
            invalid_workgroup().prop_filter("invalid in lower case", |n| {
                !is_workgroup(&n.to_ascii_lowercase())
            }),
            account(),
            region(),
            amazon_suffix(),
        )
            .prop_map(|(name, account, region, suffix)| format!(
                "{}.{account}.{region}.redshift-serverless.{suffix}",
                String::from_utf8_lossy(&name)
            )),
        ip_address(),
    ]
}

fn ip_address() -> impl Strategy<Value = String> {
    prop_oneof![
        (any::<[u8; 4]>(), proptest::option::of(any::<u16>())).prop_map(|(ip, port)| {
            let ip = format!("{}.{}.{}.{}", ip[0], ip[1], ip[2], ip[3]);
            match port {
                Some(port) => format!("{ip}:{port}"),
                None => ip,
            }
        }),
        any::<[u16; 8]>().prop_map(|words| {
            let words: Vec<String> = words.iter().map(|w| format!("{w:x}")).collect();
            format!("[{}]", words.join(":"))
        }),
        Just("::1".to_owned()),
    ]
}

/// Host-like noise: labels from the words parse_host looks for, and others.
fn host_noise() -> impl Strategy<Value = Vec<u8>> {
    let label = prop_oneof![
        select(vec![
            "redshift",
            "redshift-serverless",
            "amazonaws",
            "com",
            "cn",
            "us-east-1",
            "cn-north-1",
            "My-Cluster",
            "wg-1",
            "",
            "-",
            "1",
        ])
        .prop_map(str::to_owned),
        "[a-zA-Z0-9-]{0,12}",
    ];
    vec(label, 0..9).prop_map(|labels| labels.join(".").into_bytes())
}

/// Any text value, sometimes with control characters or invalid UTF-8.
fn any_value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => "[ -~]{0,40}".prop_map(String::into_bytes),
        1 => any::<String>().prop_map(String::into_bytes),
        1 => vec(any::<u8>(), 0..40),
    ]
}

/// A path to a PEM file, made once per process in cargo's scratch
/// directory (written aside and renamed, so concurrent runs never see a
/// half-written file).
fn ca_file() -> &'static str {
    static PATH: OnceLock<String> = OnceLock::new();
    PATH.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("properties-ca.pem");
        let aside = dir.join(format!("properties-ca.pem.{}", std::process::id()));
        // A real CA certificate: the TLS fake's.
        let tls = rs_idc_fake::FakeServer::start_with(rs_idc_fake::FakeOptions {
            tls: true,
            ..Default::default()
        })
        .unwrap();
        std::fs::write(&aside, tls.ca_pem().unwrap()).unwrap();
        std::fs::rename(&aside, &path).unwrap();
        path.to_str().unwrap().to_owned()
    })
}

/// A web token file (its content is not read when a handle is made),
/// made once per process like the CA file.
fn web_token_file() -> &'static str {
    static PATH: OnceLock<String> = OnceLock::new();
    PATH.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("properties-web-token");
        let aside = dir.join(format!("properties-web-token.{}", std::process::id()));
        std::fs::write(&aside, "header.payload.signature\n").unwrap();
        std::fs::rename(&aside, &path).unwrap();
        path.to_str().unwrap().to_owned()
    })
}

/// The per-user keys: the first two go together, the others need them.
const USER_KEYS: [&str; 5] = [
    "idc_application_arn",
    "access_role_arn",
    "application_role_arn",
    "web_token_file",
    "role_session_name",
];

fn is_user_key(key: &str) -> bool {
    USER_KEYS.contains(&key)
}

/// A value that each known key accepts.
fn valid_value(key: &'static str) -> BoxedStrategy<String> {
    let switch = select(vec![
        "1", "on", "true", "yes", "0", "off", "false", "no", "ON", "Off", "TRUE", "No",
    ])
    .prop_map(str::to_owned);
    match key {
        "region" => "(us|eu|ap|sa|ca|me|af|il|mx|cn|us-gov)-[a-z]{1,12}-[1-9][0-9]?".boxed(),
        "profile" => "[A-Za-z0-9_.-]{1,24}".boxed(),
        "endpoint_url" | "proxy" | "http_proxy" => prop_oneof![
            "https://[a-z]{1,12}\\.[a-z]{2,6}(:[1-9][0-9]{0,3})?(/[a-z]{0,6})?",
            "http://127\\.0\\.0\\.1:[1-9][0-9]{0,3}",
            "http://localhost:[1-9][0-9]{0,3}",
        ]
        .boxed(),
        "access_key_id" => "ASIA[A-Z0-9]{16}".boxed(),
        "secret_access_key" | "session_token" => "[A-Za-z0-9/+]{1,80}".boxed(),
        "ca_file" => Just(ca_file().to_owned()).boxed(),
        "no_proxy" => "[a-z0-9.,]{0,40}".boxed(),
        "connect_timeout_ms" | "timeout_ms" => (1u64..=3_600_000, " {0,2}", " {0,2}")
            .prop_map(|(ms, before, after)| format!("{before}{ms}{after}"))
            .boxed(),
        "max_attempts" => (1u32..=10).prop_map(|n| n.to_string()).boxed(),
        "cache" | "allow_http" | "refresh_ahead" => switch.boxed(),
        "refresh_margin_s" => (0u64..=3600).prop_map(|n| n.to_string()).boxed(),
        "idc_application_arn" => {
            "arn:aws(-cn|-us-gov)?:sso::[0-9]{12}:application/ssoins-[a-z0-9]{1,16}/apl-[a-z0-9]{1,16}"
                .boxed()
        }
        "access_role_arn" | "application_role_arn" => {
            "arn:aws:iam::[0-9]{12}:role/([a-z]{1,8}/)?[A-Za-z0-9+=,.@_-]{1,32}".boxed()
        }
        "web_token_file" => Just(web_token_file().to_owned()).boxed(),
        "role_session_name" => "[A-Za-z0-9+=,.@_-]{2,64}".boxed(),
        "issuer_url" => "https://[a-z]{1,12}\\.[a-z]{2,6}(/ssoins-[a-z0-9]{1,16})?".boxed(),
        "idc_region" => "(us|eu|ap)-[a-z]{1,12}-[1-9]".boxed(),
        "listen_port" => (1u32..=65535).prop_map(|n| n.to_string()).boxed(),
        "idp_response_timeout_s" => (1u32..=3600).prop_map(|n| n.to_string()).boxed(),
        "idc_client_display_name" => "[A-Za-z0-9 ._-]{0,40}[A-Za-z0-9]".boxed(),
        // The folder is only opened by a sign-in, so any path is taken here.
        "token_cache_dir" => "(/[A-Za-z0-9 ._-]{1,16}){1,4}".boxed(),
        other => panic!("no strategy for the key {other}"),
    }
}

fn known_keys() -> Vec<&'static str> {
    KEYS.iter().map(|option| option.key).collect()
}

/// A key in random case.
fn mixed_case(key: &str, mask: u64) -> String {
    key.chars()
        .enumerate()
        .map(|(i, c)| {
            if mask >> (i % 64) & 1 == 1 {
                c.to_ascii_uppercase()
            } else {
                c
            }
        })
        .collect()
}

/// Options with a valid value for every key given, in random order and
/// key case. Credentials always come as all three parts or none; the
/// per-user keys with both of the first two or not at all.
fn valid_options() -> impl Strategy<Value = Vec<(String, String)>> {
    let singles: Vec<&'static str> = known_keys()
        .into_iter()
        .filter(|k| !matches!(*k, "access_key_id" | "secret_access_key" | "session_token"))
        .filter(|k| !is_user_key(k))
        .collect();
    (
        proptest::sample::subsequence(singles, 0..=12),
        any::<bool>(),
        proptest::option::of(proptest::sample::subsequence(
            USER_KEYS[2..].to_vec(),
            0..=3,
        )),
    )
        .prop_flat_map(|(mut keys, with_credentials, user)| {
            if with_credentials {
                keys.extend(["access_key_id", "secret_access_key", "session_token"]);
            }
            if let Some(optional) = user {
                keys.extend(&USER_KEYS[..2]);
                keys.extend(optional);
            }
            let values: Vec<BoxedStrategy<(String, String)>> = keys
                .into_iter()
                .map(|key| {
                    (valid_value(key), any::<u64>())
                        .prop_map(move |(value, mask)| (mixed_case(key, mask), value))
                        .boxed()
                })
                .collect();
            values.prop_shuffle()
        })
}

fn raw<'a>(options: &'a [(String, String)]) -> Vec<RawOption<'a>> {
    options
        .iter()
        .map(|(k, v)| (k.as_bytes(), Some(v.as_bytes())))
        .collect()
}

fn is_millis(value: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(value) else {
        return false;
    };
    !text.chars().any(char::is_control)
        && matches!(text.trim().parse::<u64>(), Ok(ms) if (1..=3_600_000).contains(&ms))
}

// ---------------------------------------------------------------------------
// The environment: nothing may leave loopback, even by mistake.

/// This test's turn alone, with the environment set so that nothing may
/// leave loopback. The options and the C entry points read the
/// environment, which is process-wide: a test that uses them holds its turn
/// from its first input to its last, and the turn puts the environment back
/// when it ends.
fn loopback_only() -> common::Alone {
    let alone = common::alone();
    for (name, value) in [
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "ASIAPROPERTYTESTS000"),
        ("AWS_SECRET_ACCESS_KEY", "property-tests-secret"),
        ("AWS_SESSION_TOKEN", "property-tests-session"),
        ("AWS_MAX_ATTEMPTS", "1"),
        ("RS_IDC_TIMEOUT_MS", "200"),
        ("RS_IDC_CONNECT_TIMEOUT_MS", "100"),
    ] {
        std::env::set_var(name, value);
    }
    for name in [
        "AWS_PROFILE",
        "AWS_ENDPOINT_URL_REDSHIFT",
        "AWS_ENDPOINT_URL_REDSHIFT_SERVERLESS",
        "AWS_CA_BUNDLE",
        "RS_IDC_CACHE",
        "RS_IDC_ALLOW_HTTP",
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        std::env::remove_var(name);
    }
    alone
}

fn last_error() -> String {
    unsafe { CStr::from_ptr(rs_idc::ffi::rs_idc_last_error()) }
        .to_string_lossy()
        .into_owned()
}

/// A C string of `bytes` with any NUL dropped.
fn c_string(bytes: &[u8]) -> CString {
    CString::new(
        bytes
            .iter()
            .copied()
            .filter(|b| *b != 0)
            .collect::<Vec<u8>>(),
    )
    .unwrap()
}

/// A pointer that is not NULL, to see `*out` cleared.
fn sentinel<T>() -> *mut T {
    ptr::NonNull::dangling().as_ptr()
}

// ---------------------------------------------------------------------------
// Cluster identifiers.

proptest! {
    #[test]
    fn valid_cluster_ids_are_accepted_lower_cased(id in valid_cluster_id(), i in 0usize..20) {
        prop_assert!(is_cluster_id(id.as_bytes()));
        prop_assert_eq!(check_cluster_id(i, id.as_bytes()).unwrap(), id.to_ascii_lowercase());
    }

    #[test]
    fn invalid_cluster_ids_are_rejected_naming_their_position(
        id in invalid_cluster_id(),
        i in 0usize..20,
    ) {
        prop_assert!(!is_cluster_id(&id));
        let err = check_cluster_id(i, &id).unwrap_err();
        prop_assert_eq!(err.status(), Status::InvalidArgument);
        let prefix = format!("ids[{i}] ");
        prop_assert!(err.message().starts_with(&prefix), "{}", err.message());
    }

    #[test]
    fn cluster_id_checks_agree_with_the_rules(id in id_like_bytes(70)) {
        match check_cluster_id(0, &id) {
            Ok(lower) => {
                prop_assert!(is_cluster_id(&id));
                prop_assert_eq!(lower.into_bytes(), id.to_ascii_lowercase());
            }
            Err(err) => {
                prop_assert!(!is_cluster_id(&id));
                prop_assert!(err.message().starts_with("ids[0] "), "{}", err.message());
            }
        }
    }

    #[test]
    fn normalised_cluster_ids_are_lower_cased_sorted_and_unique(
        ids in vec(valid_cluster_id(), 1..=RS_IDC_MAX_IDENTIFIERS),
    ) {
        let set = normalise_cluster_ids(&ids).unwrap();
        let expected: Vec<String> = ids
            .iter()
            .map(|id| id.to_ascii_lowercase())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        prop_assert_eq!(&set, &expected);
        prop_assert!(set.windows(2).all(|w| w[0] < w[1]));
        prop_assert_eq!(normalise_cluster_ids(&set).unwrap(), set);
    }

    #[test]
    fn order_case_and_duplicates_do_not_matter(
        (ids, shuffled, shout, repeats) in vec(valid_cluster_id(), 1..=RS_IDC_MAX_IDENTIFIERS)
            .prop_flat_map(|ids| {
                let n = ids.len();
                (
                    Just(ids.clone()),
                    Just(ids).prop_shuffle(),
                    vec(any::<bool>(), n),
                    vec(0..n, 0..=RS_IDC_MAX_IDENTIFIERS - n),
                )
            }),
    ) {
        let mut variant: Vec<String> = shuffled
            .iter()
            .zip(&shout)
            .map(|(id, up)| if *up { id.to_ascii_uppercase() } else { id.to_ascii_lowercase() })
            .collect();
        variant.extend(repeats.iter().map(|&k| ids[k].to_ascii_uppercase()));
        prop_assert!(variant.len() <= RS_IDC_MAX_IDENTIFIERS);
        prop_assert_eq!(normalise_cluster_ids(&variant).unwrap(), normalise_cluster_ids(&ids).unwrap());
    }

    #[test]
    fn the_first_bad_identifier_is_named(
        (ids, bad, at) in vec(valid_cluster_id(), 1..RS_IDC_MAX_IDENTIFIERS)
            .prop_flat_map(|ids| {
                let n = ids.len();
                (Just(ids), invalid_cluster_id(), 0..=n)
            }),
    ) {
        let mut list: Vec<Vec<u8>> = ids.into_iter().map(String::into_bytes).collect();
        list.insert(at, bad);
        let err = normalise_cluster_ids(&list).unwrap_err();
        let prefix = format!("ids[{at}] ");
        prop_assert!(err.message().starts_with(&prefix), "{}", err.message());
    }

    #[test]
    fn counts_outside_one_to_twenty_are_rejected(n in 0usize..200, id in valid_cluster_id()) {
        let in_range = (1..=RS_IDC_MAX_IDENTIFIERS).contains(&n);
        prop_assert_eq!(check_count(n).is_ok(), in_range);
        let list = vec![id.as_str(); n];
        prop_assert_eq!(normalise_cluster_ids(&list).is_ok(), in_range);
        let workgroups = vec!["wg-1"; n];
        prop_assert_eq!(normalise_workgroups(&workgroups).is_ok(), in_range);
        if !in_range {
            let err = check_count(n).unwrap_err();
            prop_assert_eq!(err.status(), Status::InvalidArgument);
            let got = format!("got {n}");
            prop_assert!(err.message().contains(&got), "{}", err.message());
        }
    }
}

// ---------------------------------------------------------------------------
// Workgroup names.

proptest! {
    #[test]
    fn valid_workgroups_are_accepted_unchanged(name in valid_workgroup(), i in 0usize..20) {
        prop_assert_eq!(check_workgroup(i, name.as_bytes()).unwrap(), name);
    }

    #[test]
    fn invalid_workgroups_are_rejected_naming_their_position(
        name in invalid_workgroup(),
        i in 0usize..20,
    ) {
        prop_assert!(!is_workgroup(&name));
        let err = check_workgroup(i, &name).unwrap_err();
        prop_assert_eq!(err.status(), Status::InvalidArgument);
        let prefix = format!("workgroups[{i}] ");
        prop_assert!(err.message().starts_with(&prefix), "{}", err.message());
    }

    #[test]
    fn workgroup_checks_agree_with_the_rules(name in id_like_bytes(70)) {
        prop_assert_eq!(check_workgroup(0, &name).is_ok(), is_workgroup(&name));
    }

    #[test]
    fn normalised_workgroups_are_sorted_unique_and_stable(
        names in vec(valid_workgroup(), 1..=RS_IDC_MAX_IDENTIFIERS),
    ) {
        let set = normalise_workgroups(&names).unwrap();
        let expected: Vec<String> = names.iter().cloned().collect::<BTreeSet<_>>().into_iter().collect();
        prop_assert_eq!(&set, &expected);
        prop_assert_eq!(normalise_workgroups(&set).unwrap(), set);
    }
}

// ---------------------------------------------------------------------------
// Host names.

proptest! {
    #[test]
    fn valid_hosts_name_their_target_and_region((host, target) in valid_host()) {
        prop_assert!(host.len() <= 253);
        prop_assert_eq!(parse_host(host.as_bytes()).unwrap(), target);
    }

    #[test]
    fn spoiled_hosts_are_refused(host in spoiled_host()) {
        let err = parse_host(host.as_bytes()).unwrap_err();
        prop_assert_eq!(err.status(), Status::InvalidArgument);
        prop_assert!(err.message().starts_with("host "), "{host}: {}", err.message());
    }

    #[test]
    fn parse_host_takes_any_bytes(
        host in prop_oneof![vec(any::<u8>(), 0..=1000), host_noise()],
    ) {
        match parse_host(&host) {
            Ok(target) => {
                let lower = String::from_utf8(host.to_ascii_lowercase()).unwrap();
                prop_assert!(
                    lower.ends_with(".amazonaws.com") || lower.ends_with(".amazonaws.com.cn"),
                    "{lower}"
                );
                let labels: Vec<&str> = lower.split('.').collect();
                let (name, region) = (&target.name, &target.region);
                match target.api {
                    Api::Provisioned => {
                        prop_assert!(is_cluster_id(name.as_bytes()));
                        prop_assert_eq!(labels[3], "redshift");
                    }
                    Api::Serverless => {
                        prop_assert!(is_workgroup(name.as_bytes()));
                        prop_assert_eq!(labels[3], "redshift-serverless");
                    }
                }
                prop_assert_eq!(labels[0], name.as_str());
                prop_assert_eq!(labels[2], region.as_str());
            }
            Err(err) => {
                prop_assert_eq!(err.status(), Status::InvalidArgument);
                prop_assert!(err.message().starts_with("host "), "{}", err.message());
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Client options.

#[test]
fn every_known_key_takes_a_valid_value() {
    let _alone = loopback_only();
    proptest!(|(options in valid_options())| {
        let settings = settings_from_options(&raw(&options));
        prop_assert!(settings.is_ok(), "{options:?}: {:?}", settings.err());
        let settings = settings.unwrap();
        for (key, value) in &options {
            let value = value.trim();
            match key.to_ascii_lowercase().as_str() {
                "region" => prop_assert_eq!(settings.region.as_deref(), Some(value)),
                "timeout_ms" => prop_assert_eq!(
                    settings.timeout,
                    Duration::from_millis(value.parse().unwrap())
                ),
                "connect_timeout_ms" => prop_assert_eq!(
                    settings.connect_timeout,
                    Duration::from_millis(value.parse().unwrap())
                ),
                "max_attempts" => prop_assert_eq!(settings.max_attempts, value.parse().ok()),
                "refresh_margin_s" => prop_assert_eq!(
                    settings.refresh_margin,
                    Some(Duration::from_secs(value.parse().unwrap()))
                ),
                "access_key_id" => prop_assert_eq!(
                    settings.credentials.as_ref().map(|c| c.access_key_id.as_str()),
                    Some(value)
                ),
                "ca_file" => prop_assert!(settings.ca_bundle.is_some()),
                _ => {}
            }
        }
    });
}

#[test]
fn each_key_alone_takes_a_valid_value() {
    let _alone = loopback_only();
    proptest!(|(
        (key, value) in select(known_keys())
            .prop_filter("credentials come in threes, per-user keys with two", |k| {
                !matches!(*k, "access_key_id" | "secret_access_key" | "session_token")
                    && !is_user_key(k)
            })
            .prop_flat_map(|key| (Just(key), valid_value(key))),
        mask in any::<u64>(),
    )| {
        let options = [(mixed_case(key, mask), value)];
        let result = settings_from_options(&raw(&options));
        prop_assert!(result.is_ok(), "{options:?}: {:?}", result.err());
    });
}

#[test]
fn unknown_keys_are_refused_naming_their_position() {
    let _alone = loopback_only();
    proptest!(|(
        (good, unknown, at) in valid_options().prop_flat_map(|good| {
            let n = good.len();
            let unknown = prop_oneof![
                "[a-zA-Z_]{1,30}".prop_map(String::into_bytes),
                vec(any::<u8>(), 0..100),
            ]
            .prop_filter("not a known key", |key| {
                !KEYS.iter().any(|known| known.key.as_bytes().eq_ignore_ascii_case(key))
            });
            (Just(good), unknown, 0..=n)
        }),
        value in any_value(),
    )| {
        let mut options = raw(&good);
        options.insert(at, (unknown.as_slice(), Some(value.as_slice())));
        let err = settings_from_options(&options).unwrap_err();
        prop_assert_eq!(err.status(), Status::InvalidArgument);
        let prefix = format!("options[{at}]: ");
        prop_assert!(err.message().starts_with(&prefix), "{}", err.message());
    });
}

#[test]
fn timeouts_outside_one_to_an_hour_are_refused_naming_the_key() {
    let _alone = loopback_only();
    proptest!(|(
        key in select(vec!["timeout_ms", "connect_timeout_ms"]),
        value in prop_oneof![
            Just(b"0".to_vec()),
            (3_600_001u64..).prop_map(|n| n.to_string().into_bytes()),
            (1i64..).prop_map(|n| format!("-{n}").into_bytes()),
            "[0-9]{20,40}".prop_map(String::into_bytes),
            "[0-9]{1,6}\\.[0-9]{1,3}".prop_map(String::into_bytes),
            "[0-9]{1,6}(ms|s| ms)".prop_map(String::into_bytes),
            " *".prop_map(String::into_bytes),
            any_value(),
        ]
        .prop_filter("must not be a valid time bound", |v| !is_millis(v)),
    )| {
        let err = settings_from_options(&[(key.as_bytes(), Some(&value))]).unwrap_err();
        prop_assert_eq!(err.status(), Status::InvalidArgument);
        prop_assert!(err.message().starts_with(key), "{}", err.message());
    });
}

#[test]
fn timeout_values_are_accepted_exactly_when_valid() {
    let _alone = loopback_only();
    proptest!(|(
        key in select(vec!["timeout_ms", "connect_timeout_ms"]),
        value in prop_oneof![
            (0u64..4_000_000).prop_map(|n| n.to_string().into_bytes()),
            any_value(),
        ],
    )| {
        let result = settings_from_options(&[(key.as_bytes(), Some(&value))]);
        prop_assert_eq!(result.is_ok(), is_millis(&value));
    });
}

#[test]
fn settings_from_options_takes_any_pairs() {
    let _alone = loopback_only();
    proptest!(|(
        pairs in vec(
            (
                prop_oneof![
                    (select(known_keys()), any::<u64>())
                        .prop_filter("no file reads of random paths", |(k, _)| *k != "ca_file")
                        .prop_map(|(k, mask)| mixed_case(k, mask).into_bytes()),
                    vec(any::<u8>(), 0..80),
                ],
                proptest::option::weighted(0.95, any_value()),
            ),
            0..=RS_IDC_MAX_OPTIONS + 2,
        ),
    )| {
        let options: Vec<RawOption<'_>> =
            pairs.iter().map(|(k, v)| (k.as_slice(), v.as_deref())).collect();
        match settings_from_options(&options) {
            Ok(_) => prop_assert!(pairs.len() <= RS_IDC_MAX_OPTIONS),
            Err(err) => {
                prop_assert_eq!(err.status(), Status::InvalidArgument);
                prop_assert!(!err.message().is_empty());
            }
        }
    });
}

#[test]
fn secrets_never_appear_in_messages() {
    let _alone = loopback_only();
    proptest!(|(
        secret in "[A-Za-z0-9]{24,64}",
        session in "[A-Za-z0-9]{24,64}",
        with_key_id in any::<bool>(),
        with_secret in any::<bool>(),
        with_session in any::<bool>(),
        spoil in select(vec!["", "control", "twice", "bad-option", "long"]),
        masks in any::<(u64, u64)>(),
        others in vec(
            (select(known_keys()).prop_filter("not a credential or file", |k| {
                !matches!(*k, "access_key_id" | "secret_access_key" | "session_token" | "ca_file")
            }), any_value()),
            0..4,
        ),
    )| {
        let mut options: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
        if with_key_id {
            options.push((b"access_key_id".to_vec(), b"ASIAPROPERTYTEST".to_vec()));
        }
        let mut secret_value = secret.clone().into_bytes();
        let mut session_value = session.clone().into_bytes();
        match spoil {
            "control" => {
                secret_value.insert(secret.len() / 2, b'\n');
                session_value.push(0x7f);
            }
            "long" => {
                secret_value = secret.repeat(16 * 1024 / secret.len() + 1).into_bytes();
                session_value = session.repeat(16 * 1024 / session.len() + 1).into_bytes();
            }
            _ => {}
        }
        if with_secret {
            options.push((mixed_case("secret_access_key", masks.0).into_bytes(), secret_value.clone()));
        }
        if with_session {
            options.push((mixed_case("session_token", masks.1).into_bytes(), session_value.clone()));
        }
        match spoil {
            "twice" => {
                options.push((b"SECRET_ACCESS_KEY".to_vec(), secret_value.clone()));
                options.push((b"Session_Token".to_vec(), session_value.clone()));
            }
            "bad-option" => options.push((b"timeout_ms".to_vec(), secret.clone().into_bytes())),
            _ => {}
        }
        options.extend(others.into_iter().map(|(k, v)| (k.as_bytes().to_vec(), v)));
        let raw: Vec<RawOption<'_>> =
            options.iter().map(|(k, v)| (k.as_slice(), Some(v.as_slice()))).collect();
        if let Err(err) = settings_from_options(&raw) {
            let message = err.message();
            // Neither the secrets nor any long piece of them.
            for text in [&secret, &session] {
                for piece in text.as_bytes().chunks(12).filter(|c| c.len() == 12) {
                    let piece = std::str::from_utf8(piece).unwrap();
                    prop_assert!(!message.contains(piece), "{message}");
                }
            }
        }
    });
}

// ---------------------------------------------------------------------------
// The C entry points, with inputs that must fail validation.

/// Identifier lists (as raw bytes) that the C layer must refuse: a bad
/// count, or at least one identifier that breaks a rule as the C layer reads
/// it (at most 65 bytes, up to the first NUL).
fn refused_id_lists() -> impl Strategy<Value = Vec<Vec<u8>>> {
    let long = (valid_cluster_id(), 66usize..300).prop_map(|(id, len)| {
        // No NUL within the first 65 bytes: the scan stops at its bound.
        id.into_bytes()
            .into_iter()
            .cycle()
            .take(len)
            .collect::<Vec<u8>>()
    });
    let bad = prop_oneof![invalid_cluster_id(), long, vec(any::<u8>(), 0..200),];
    let with_bad = (vec(valid_cluster_id(), 0..RS_IDC_MAX_IDENTIFIERS), bad)
        .prop_flat_map(|(ids, bad)| {
            let n = ids.len();
            (Just(ids), Just(bad), 0..=n)
        })
        .prop_map(|(ids, bad, at)| {
            let mut list: Vec<Vec<u8>> = ids.into_iter().map(String::into_bytes).collect();
            list.insert(at, bad);
            list
        });
    let too_many = vec(valid_cluster_id().prop_map(String::into_bytes), 21..40);
    prop_oneof![
        6 => with_bad,
        1 => too_many,
        1 => Just(Vec::new()),
        2 => vec(vec(any::<u8>(), 0..100), 0..25),
    ]
    .prop_filter("must fail validation", |list| !c_layer_accepts(list))
}

/// What the C layer would accept: the bytes up to the first NUL, at most 65.
fn c_layer_accepts(list: &[Vec<u8>]) -> bool {
    (1..=RS_IDC_MAX_IDENTIFIERS).contains(&list.len())
        && list
            .iter()
            .all(|id| is_cluster_id(&c_view(id, C_IDENTIFIER_SCAN)))
}

/// The bytes of `id` as a C string built by [`c_string`] and read with a
/// bound of `limit` bytes.
fn c_view(id: &[u8], limit: usize) -> Vec<u8> {
    id.iter().copied().filter(|b| *b != 0).take(limit).collect()
}

#[test]
fn rs_idc_get_token_refuses_bad_identifiers() {
    let _alone = loopback_only();
    proptest!(|(list in refused_id_lists())| {
        let strings: Vec<CString> = list.iter().map(|id| c_string(id)).collect();
        let mut ids: Vec<*const c_char> = strings.iter().map(|s| s.as_ptr()).collect();
        // A non-NULL array even for n = 0.
        let mut empty = [ptr::null::<c_char>()];
        let ids_ptr = if ids.is_empty() { empty.as_mut_ptr() } else { ids.as_mut_ptr() };
        let mut out: *mut c_char = sentinel();
        let mut exp: i64 = 0x5eed;
        let status = unsafe { rs_idc_get_token(ids_ptr, ids.len(), &mut out, &mut exp) };
        prop_assert_eq!(status, RS_IDC_EINVAL, "{}", last_error());
        prop_assert!(out.is_null());
        prop_assert_eq!(exp, 0x5eed);
        let message = last_error();
        if (1..=RS_IDC_MAX_IDENTIFIERS).contains(&ids.len()) {
            prop_assert!(message.starts_with("ids["), "{message}");
        } else {
            prop_assert!(message.starts_with("n must be"), "{message}");
        }
    });
}

#[test]
fn rs_idc_client_new_agrees_with_settings_from_options() {
    let _alone = loopback_only();
    proptest!(|(
        pairs in vec(
            (
                prop_oneof![
                    (select(known_keys()), any::<u64>())
                        .prop_filter("no file reads of random paths", |(k, _)| *k != "ca_file")
                        .prop_map(|(k, mask)| mixed_case(k, mask).into_bytes()),
                    vec(any::<u8>(), 0..100),
                ],
                proptest::option::weighted(0.95, any_value()),
            ),
            1..=RS_IDC_MAX_OPTIONS + 2,
        ),
    )| {
        let strings: Vec<(CString, Option<CString>)> = pairs
            .iter()
            .map(|(k, v)| (c_string(k), v.as_deref().map(c_string)))
            .collect();
        let options: Vec<rs_idc_option> = strings
            .iter()
            .map(|(k, v)| rs_idc_option {
                key: k.as_ptr(),
                value: v.as_ref().map_or(ptr::null(), |v| v.as_ptr()),
            })
            .collect();
        // The same bytes as the C layer reads them.
        let views: Vec<(Vec<u8>, Option<Vec<u8>>)> = pairs
            .iter()
            .map(|(k, v)| (c_view(k, 65), v.as_deref().map(|v| c_view(v, 16 * 1024 + 1))))
            .collect();
        let raw: Vec<RawOption<'_>> =
            views.iter().map(|(k, v)| (k.as_slice(), v.as_deref())).collect();
        let expected = settings_from_options(&raw);

        let mut client: *mut rs_idc::ffi::rs_idc_client = sentinel();
        let status = unsafe { rs_idc_client_new(options.as_ptr(), options.len(), &mut client) };
        match expected {
            Ok(_) => {
                prop_assert_eq!(status, RS_IDC_OK, "{}", last_error());
                prop_assert!(!client.is_null());
                unsafe { rs_idc_client_free(client) };
            }
            Err(err) => {
                prop_assert_eq!(status, RS_IDC_EINVAL);
                prop_assert!(client.is_null());
                prop_assert_eq!(last_error(), err.message());
            }
        }
    });
}

#[test]
fn rs_idc_client_new_refuses_bad_options() {
    let _alone = loopback_only();
    proptest!(|(
        (good, bad, at) in valid_options().prop_flat_map(|good| {
            let n = good.len();
            let bad = prop_oneof![
                // An unknown key.
                "[a-z_]{1,20}"
                    .prop_filter("not a known key", |k| !known_keys().contains(&k.as_str()))
                    .prop_map(|k| (k.into_bytes(), b"x".to_vec())),
                // A key longer than 64 bytes, with no NUL within the bound.
                "[a-z_]{66,200}".prop_map(|k| (k.into_bytes(), b"x".to_vec())),
                // A time bound out of range.
                (select(vec!["timeout_ms", "connect_timeout_ms"]), 3_600_001u64..)
                    .prop_map(|(k, n)| (k.as_bytes().to_vec(), n.to_string().into_bytes())),
                (Just("max_attempts"), 11u64..)
                    .prop_map(|(k, n)| (k.as_bytes().to_vec(), n.to_string().into_bytes())),
                // A value longer than 16 KiB.
                (select(vec!["region", "profile", "no_proxy"]), 16 * 1024 + 1..20_000usize)
                    .prop_map(|(k, len)| (k.as_bytes().to_vec(), vec![b'a'; len])),
                // A control character.
                (select(vec!["region", "profile", "cache"]), "[a-z]{0,5}", 1u8..0x20)
                    .prop_map(|(k, v, c)| (k.as_bytes().to_vec(), format!("{v}{}", c as char).into_bytes())),
            ];
            (Just(good), bad, 0..=n)
        }),
    )| {
        let mut pairs: Vec<(Vec<u8>, Vec<u8>)> = good
            .into_iter()
            .map(|(k, v)| (k.into_bytes(), v.into_bytes()))
            .collect();
        pairs.insert(at, bad);
        let strings: Vec<(CString, CString)> =
            pairs.iter().map(|(k, v)| (c_string(k), c_string(v))).collect();
        let options: Vec<rs_idc_option> = strings
            .iter()
            .map(|(k, v)| rs_idc_option { key: k.as_ptr(), value: v.as_ptr() })
            .collect();
        let mut client: *mut rs_idc::ffi::rs_idc_client = sentinel();
        let status = unsafe { rs_idc_client_new(options.as_ptr(), options.len(), &mut client) };
        prop_assert_eq!(status, RS_IDC_EINVAL);
        prop_assert!(client.is_null());
        prop_assert!(!last_error().is_empty());
    });
}

#[test]
fn rs_idc_client_new_refuses_too_many_options() {
    let _alone = loopback_only();
    proptest!(|(n in RS_IDC_MAX_OPTIONS + 1..200)| {
        let key = c"cache";
        let value = c"on";
        let options: Vec<rs_idc_option> =
            (0..n).map(|_| rs_idc_option { key: key.as_ptr(), value: value.as_ptr() }).collect();
        let mut client: *mut rs_idc::ffi::rs_idc_client = sentinel();
        let status = unsafe { rs_idc_client_new(options.as_ptr(), n, &mut client) };
        prop_assert_eq!(status, RS_IDC_EINVAL);
        prop_assert!(client.is_null());
        let got = format!("got {n}");
        prop_assert!(last_error().contains(&got), "{}", last_error());
    });
}
