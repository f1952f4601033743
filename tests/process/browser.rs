//! The browser sign-in against the fake: the tests play the browser. The
//! open-URL callback follows the authorize URL to the fake, which signs
//! `browser-user` in and redirects to the library's loopback listener.
//!
//! The open-URL callback is process-wide: each test takes its turn alone
//! (`common::alone()`), which also puts the default callback back.

use crate::common::{self, enhanced};
use rs_idc::browser::{set_open_url, OpenUrl};
use rs_idc::{Client, Status};
use rs_idc_fake::{FakeOptions, FakeServer};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// `GET url` (plain http on loopback); the status line and the headers
/// and body as text.
fn get(url: &str) -> String {
    let rest = url.strip_prefix("http://").expect("an http URL");
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let mut stream = TcpStream::connect(host).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
}

fn location(answer: &str) -> Option<String> {
    answer
        .lines()
        .find_map(|line| {
            line.strip_prefix("Location: ")
                .or_else(|| line.strip_prefix("location: "))
        })
        .map(|l| l.trim().to_owned())
}

/// A browser that follows the authorize URL and its redirect on a thread
/// of its own (as a real browser would), after `edit` rewrote the
/// redirect. Counts how often it was opened; keeps the last page shown.
struct Browser {
    opened: AtomicUsize,
    last_page: Mutex<String>,
    page_came: Condvar,
}

impl Browser {
    /// The page the library answered the redirect with: the browser's
    /// thread may still be reading it when the call returns, so this
    /// waits for it (an event), with a generous bound.
    fn page(&self) -> String {
        let page = self.last_page.lock().unwrap();
        let (page, _) = self
            .page_came
            .wait_timeout_while(page, Duration::from_secs(30), |page| page.is_empty())
            .unwrap();
        page.clone()
    }
}

fn play(edit: fn(String) -> Option<String>) -> Arc<Browser> {
    let browser = Arc::new(Browser {
        opened: AtomicUsize::new(0),
        last_page: Mutex::new(String::new()),
        page_came: Condvar::new(),
    });
    let player = Arc::clone(&browser);
    let open: OpenUrl = Arc::new(move |url: &str| {
        player.opened.fetch_add(1, Ordering::SeqCst);
        let (url, player) = (url.to_owned(), Arc::clone(&player));
        std::thread::spawn(move || {
            let Some(redirect) = location(&get(&url)).and_then(edit) else {
                return;
            };
            let page = get(&redirect);
            *player.last_page.lock().unwrap() = page;
            player.page_came.notify_all();
        });
        Ok(())
    });
    set_open_url(Some(open));
    browser
}

fn client(fake: &FakeServer, issuer: &str, port: u16, timeout_s: u64) -> Client {
    let mut settings = common::settings(fake, enhanced(), 1, Duration::from_secs(10));
    settings.browser.issuer_url = Some(format!("https://identitycenter.amazonaws.com/{issuer}"));
    settings.browser.listen_port = port;
    settings.browser.response_timeout = Duration::from_secs(timeout_s);
    Client::new(settings)
}

#[test]
fn a_sign_in_is_kept_and_renewed_without_a_browser() {
    let _alone = common::alone();
    let fake = FakeServer::start_with(FakeOptions {
        access_token_ttl_secs: 4,
        ..FakeOptions::default()
    })
    .unwrap();
    let browser = play(Some);
    let client = client(&fake, "ssoins-kept", 17891, 20);
    let first = client.get_browser_token().unwrap();
    assert_eq!(browser.opened.load(Ordering::SeqCst), 1);
    assert!(browser.page().contains("You may close this window"));
    assert_eq!(
        fake.access_token_subject(first.secret()).as_deref(),
        Some("browser-user")
    );
    assert_eq!(fake.operations(rs_idc_fake::names::op::REGISTER_CLIENT), 1);
    assert_eq!(fake.operations(rs_idc_fake::names::op::CODE), 1);
    // Kept: no browser, no request.
    let requests = fake.requests();
    assert_eq!(client.get_browser_token().unwrap().secret(), first.secret());
    assert_eq!(fake.requests(), requests);
    // Past its margin (half of 4 s) it is renewed with the refresh token.
    std::thread::sleep(Duration::from_millis(2_200));
    let renewed = client.get_browser_token().unwrap();
    assert_ne!(renewed.secret(), first.secret());
    assert_eq!(fake.operations(rs_idc_fake::names::op::REFRESH_TOKEN), 1);
    assert_eq!(
        browser.opened.load(Ordering::SeqCst),
        1,
        "no second browser"
    );
    assert_eq!(
        fake.operations(rs_idc_fake::names::op::REGISTER_CLIENT),
        1,
        "the registration is kept"
    );
    set_open_url(None);
}

#[test]
fn concurrent_callers_share_one_browser() {
    let _alone = common::alone();
    let fake = FakeServer::start().unwrap();
    let browser = play(Some);
    let client = client(&fake, "ssoins-shared", 17892, 20);
    let tokens: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|_| scope.spawn(|| client.get_browser_token().unwrap().secret().to_owned()))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(tokens.iter().all(|t| *t == tokens[0]));
    assert_eq!(browser.opened.load(Ordering::SeqCst), 1);
    assert_eq!(fake.operations(rs_idc_fake::names::op::CODE), 1);
    set_open_url(None);
}

#[test]
fn an_idle_connection_holds_nothing_up() {
    let _alone = common::alone();
    let fake = FakeServer::start().unwrap();
    let open: OpenUrl = Arc::new(|url: &str| {
        let url = url.to_owned();
        std::thread::spawn(move || {
            let redirect = location(&get(&url)).unwrap();
            // A spare connection that never sends a request, held open
            // past the whole sign-in's bound.
            let port = redirect.trim_start_matches("http://127.0.0.1:");
            let port: String = port.chars().take_while(char::is_ascii_digit).collect();
            let idle = TcpStream::connect(("127.0.0.1", port.parse::<u16>().unwrap())).unwrap();
            std::thread::sleep(Duration::from_millis(200));
            get(&redirect);
            std::thread::sleep(Duration::from_secs(6));
            drop(idle);
        });
        Ok(())
    });
    set_open_url(Some(open));
    let client = client(&fake, "ssoins-idle-connection", 17898, 3);
    client.get_browser_token().unwrap();
    set_open_url(None);
}

#[test]
fn nobody_signing_in_times_out_and_frees_the_port() {
    let _alone = common::alone();
    let fake = FakeServer::start().unwrap();
    let browser = play(|_| None);
    let client = client(&fake, "ssoins-idle", 17893, 2);
    let started = Instant::now();
    let err = client.get_browser_token().unwrap_err();
    assert_eq!(err.status(), Status::Timeout, "{err}");
    // It ends at its own bound; the margin is wide for a machine under load.
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(60),
        "a 2 s sign-in took {took:?}"
    );
    assert_eq!(browser.opened.load(Ordering::SeqCst), 1);
    // The listener is closed.
    drop(std::net::TcpListener::bind(("127.0.0.1", 17893)).unwrap());
    set_open_url(None);
}

#[test]
fn a_forged_state_is_refused_and_never_exchanged() {
    let _alone = common::alone();
    let fake = FakeServer::start().unwrap();
    let browser = play(|redirect| {
        let (base, query) = redirect.split_once('?')?;
        let forged: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some(("state", _)) => "state=forged-by-someone-else".to_owned(),
                _ => pair.to_owned(),
            })
            .collect();
        Some(format!("{base}?{}", forged.join("&")))
    });
    let client = client(&fake, "ssoins-forged", 17894, 2);
    let err = client.get_browser_token().unwrap_err();
    assert_eq!(err.status(), Status::Timeout, "{err}");
    assert!(browser.page().starts_with("HTTP/1.1 400"));
    assert_eq!(fake.operations(rs_idc_fake::names::op::CODE), 0);
    set_open_url(None);
}

#[test]
fn a_refused_sign_in_a_failing_callback_and_a_busy_port_fail_clearly() {
    let _alone = common::alone();
    let fake = FakeServer::start().unwrap();
    // The identity provider says no.
    let denied = {
        let mut settings = common::settings(&fake, enhanced(), 1, Duration::from_secs(10));
        settings.browser.issuer_url =
            Some("https://identitycenter.amazonaws.com/ssoins-deny".into());
        settings.browser.listen_port = 17895;
        settings.browser.response_timeout = Duration::from_secs(10);
        Client::new(settings)
    };
    let refuse: OpenUrl = Arc::new(|url: &str| {
        let url = format!("{url}&deny=1");
        std::thread::spawn(move || {
            if let Some(redirect) = location(&get(&url)) {
                get(&redirect);
            }
        });
        Ok(())
    });
    set_open_url(Some(refuse));
    let err = denied.get_browser_token().unwrap_err();
    assert_eq!(err.status(), Status::Identity, "{err}");
    assert!(err.message().contains("access_denied"), "{err}");

    // The host cannot open a browser.
    set_open_url(Some(Arc::new(|_: &str| Err("no display".to_owned()))));
    let client = client(&fake, "ssoins-nodisplay", 17896, 10);
    let started = Instant::now();
    let err = client.get_browser_token().unwrap_err();
    assert_eq!(err.status(), Status::Identity, "{err}");
    assert!(err.message().contains("no display"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(5), "at once");

    // The port is taken.
    let _taken = std::net::TcpListener::bind(("127.0.0.1", 17897)).unwrap();
    let busy = client_on(&fake, 17897);
    let err = busy.get_browser_token().unwrap_err();
    assert_eq!(err.status(), Status::Network, "{err}");
    assert!(err.message().contains("listen_port"), "{err}");

    // No issuer.
    let none = Client::new(common::settings(
        &fake,
        enhanced(),
        1,
        Duration::from_secs(5),
    ));
    let err = none.get_browser_token().unwrap_err();
    assert_eq!(err.status(), Status::InvalidArgument);
    assert!(err.message().contains("issuer_url"), "{err}");
    set_open_url(None);
}

fn client_on(fake: &FakeServer, port: u16) -> Client {
    client(fake, "ssoins-busy", port, 5)
}

#[test]
fn forgetting_and_clearing_reach_the_sign_ins_on_disk() {
    let _alone = common::alone();
    let fake = FakeServer::start().unwrap();
    let browser = play(Some);
    let dir = std::env::temp_dir().join(format!("rs-idc-kept-{}", std::process::id()));
    let folder = dir.join("sign-ins");
    let kept_client = || {
        let mut settings = common::settings(&fake, enhanced(), 1, Duration::from_secs(10));
        settings.browser.issuer_url =
            Some("https://identitycenter.amazonaws.com/ssoins-disk".into());
        settings.browser.listen_port = 17897;
        settings.browser.token_cache_dir = Some(folder.clone());
        Client::new(settings)
    };
    let file_text = || {
        let files: Vec<_> = std::fs::read_dir(&folder)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
            .collect();
        files
            .iter()
            .map(|path| std::fs::read_to_string(path).unwrap())
            .collect::<Vec<_>>()
    };
    let first = kept_client().get_browser_token().unwrap();
    assert_eq!(browser.opened.load(Ordering::SeqCst), 1);
    let [text] = file_text().try_into().unwrap();
    assert!(text.contains(first.secret()), "the access token is kept");
    // A new handle (as a new process would) reads it from disk.
    assert_eq!(
        kept_client().get_browser_token().unwrap().secret(),
        first.secret()
    );
    assert_eq!(browser.opened.load(Ordering::SeqCst), 1);
    // Forgotten: gone from memory and from the file; the refresh token
    // renews it without the browser.
    assert!(rs_idc::forget_token(first.secret().as_bytes()));
    let [text] = file_text().try_into().unwrap();
    assert!(
        !text.contains(first.secret()),
        "a forgotten token stays on disk"
    );
    let renewed = kept_client().get_browser_token().unwrap();
    assert_ne!(renewed.secret(), first.secret());
    assert_eq!(fake.operations(rs_idc_fake::names::op::REFRESH_TOKEN), 1);
    assert_eq!(browser.opened.load(Ordering::SeqCst), 1);
    // Cleared: no file left, so the next call signs in again.
    rs_idc::clear_cache();
    assert!(file_text().is_empty());
    kept_client().get_browser_token().unwrap();
    assert_eq!(browser.opened.load(Ordering::SeqCst), 2);
    set_open_url(None);
    let _ = std::fs::remove_dir_all(&dir);
}
