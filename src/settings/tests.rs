use super::*;
use std::collections::HashMap;

fn from(vars: &[(&str, &str)]) -> Result<Settings, Error> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Settings::from_lookup(|name| map.get(name).map(Into::into))
}

#[test]
fn defaults_bound_every_call() {
    let s = from(&[]).unwrap();
    assert_eq!(s.timeout, DEFAULT_TIMEOUT);
    assert_eq!(s.connect_timeout, DEFAULT_CONNECT_TIMEOUT);
}

#[test]
fn reads_time_bounds_from_the_environment() {
    let s = from(&[(ENV_TIMEOUT_MS, "1500"), (ENV_CONNECT_TIMEOUT_MS, " 250 ")]).unwrap();
    assert_eq!(s.timeout, Duration::from_millis(1500));
    assert_eq!(s.connect_timeout, Duration::from_millis(250));
}

#[test]
fn bad_values_name_the_variable() {
    for bad in ["0", "-1", "abc", "", "3600001", "1.5"] {
        let err = from(&[(ENV_TIMEOUT_MS, bad)]).unwrap_err();
        assert!(err.message().starts_with(ENV_TIMEOUT_MS), "{bad}: {err}");
    }
    let err = from(&[(ENV_CONNECT_TIMEOUT_MS, "x")]).unwrap_err();
    assert!(err.message().starts_with(ENV_CONNECT_TIMEOUT_MS));
    let err = from(&[(ENV_CACHE, "maybe")]).unwrap_err();
    assert!(err.message().starts_with(ENV_CACHE));
    let err = from(&[("https_proxy", "socks5://u:hidden-pw@127.0.0.1:1")]).unwrap_err();
    assert!(err.message().starts_with("https_proxy: "), "{err}");
    assert!(!err.message().contains("hidden-pw"));
}

#[test]
fn the_cache_switch_reads_common_spellings() {
    assert!(from(&[]).unwrap().cache);
    assert!(!from(&[(ENV_CACHE, "off")]).unwrap().cache);
    assert!(from(&[(ENV_CACHE, "1")]).unwrap().cache);
}

#[test]
fn https_and_http_calls_have_their_own_proxy_variables() {
    let s = from(&[
        ("https_proxy", "http://p1:3128"),
        ("HTTP_PROXY", "http://p2:3128"),
    ])
    .unwrap();
    assert_eq!(s.proxy.as_deref(), Some("http://p1:3128"));
    assert_eq!(s.http_proxy.as_deref(), Some("http://p2:3128"));
    // HTTP_PROXY alone never carries https calls.
    let s = from(&[("HTTP_PROXY", "http://p2:3128")]).unwrap();
    assert_eq!(s.proxy, None);
    assert_eq!(s.http_proxy.as_deref(), Some("http://p2:3128"));
    // ALL_PROXY serves both unless a specific one is set.
    let s = from(&[("ALL_PROXY", "http://p3:1"), ("HTTPS_PROXY", "http://p1:1")]).unwrap();
    assert_eq!(s.proxy.as_deref(), Some("http://p1:1"));
    assert_eq!(s.http_proxy.as_deref(), Some("http://p3:1"));
    let s = from(&[("https_proxy", "http://p1:3128"), ("no_proxy", "localhost")]).unwrap();
    assert_eq!(s.no_proxy.as_deref(), Some("localhost"));
    let s = from(&[("HTTPS_PROXY", " ")]).unwrap();
    assert_eq!(s.proxy, None);
}

fn temp_dir(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("rs-idc-ca-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn ca_files_must_hold_only_parsable_certificates() {
    let dir = temp_dir("blocks");
    let cases: [(&str, &str, &str); 4] = [
        ("empty.pem", "no certificate here\n", "holds no PEM certificate"),
        (
            "garbage.pem",
            "-----BEGIN CERTIFICATE-----\nZ2FyYmFnZSBpbnNpZGUgYSBQRU0gZW52ZWxvcGU=\n-----END CERTIFICATE-----\n",
            "cannot be parsed (block 1",
        ),
        (
            "key.pem",
            "-----BEGIN PRIVATE KEY-----\nZ2FyYmFnZQ==\n-----END PRIVATE KEY-----\n",
            "not a CERTIFICATE (block 1",
        ),
        (
            "badbase64.pem",
            "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
            "is not valid PEM",
        ),
    ];
    for (file, text, words) in cases {
        let path = dir.join(file);
        std::fs::write(&path, text).unwrap();
        let err = read_ca_file("ca_file", &path).unwrap_err();
        assert!(err.message().starts_with("ca_file: "), "{err}");
        assert!(err.message().contains(words), "{file}: {err}");
    }
    let err = read_ca_file("ca_file", &dir.join("missing.pem")).unwrap_err();
    assert!(err.message().contains("cannot be read"), "{err}");
    let err = from(&[(ENV_CA_BUNDLE, dir.join("empty.pem").to_str().unwrap())]).unwrap_err();
    assert!(err.message().starts_with(ENV_CA_BUNDLE), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn ca_paths_that_are_not_regular_files_are_refused_without_blocking() {
    let dir = temp_dir("kinds");
    let fifo = dir.join("fifo.pem");
    let c_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
    // No writer ever opens the FIFO: a blocking open would never return.
    let err = read_ca_file("ca_file", &fifo).unwrap_err();
    assert!(err.message().contains("is not a regular file"), "{err}");
    let err = read_ca_file("ca_file", &dir).unwrap_err();
    assert!(err.message().contains("is not a regular file"), "{err}");
    let err = read_ca_file("ca_file", Path::new("/dev/zero")).unwrap_err();
    assert!(err.message().contains("is not a regular file"), "{err}");
    let big = dir.join("big.pem");
    let file = std::fs::File::create(&big).unwrap();
    file.set_len(MAX_CA_FILE_BYTES + 1).unwrap();
    let err = read_ca_file("ca_file", &big).unwrap_err();
    assert!(err.message().contains("is larger than 4 MiB"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn debug_never_shows_secrets_passwords_or_ca_bytes() {
    let creds = StaticCredentials::new(
        "AKIDVISIBLE",
        "very-secret-key",
        Some("very-secret-session".into()),
    );
    let settings = Settings {
        credentials: Some(creds),
        proxy: Some("http://user:very-secret-pw@proxy.example:3128".into()),
        http_proxy: Some("http://plain.example:80".into()),
        ca_bundle: Some(b"-----BEGIN CERTIFICATE-----very-secret-bytes".to_vec()),
        ..Settings::default()
    };
    let shown = format!("{settings:?}");
    assert!(shown.contains("AKIDVISIBLE"), "{shown}");
    assert!(shown.contains("proxy.example"), "{shown}");
    assert!(shown.contains("with credentials"), "{shown}");
    assert!(!shown.contains("very-secret"), "{shown}");
    assert!(!shown.contains("//user"), "{shown}");
}
