//! What the integration tests share: the fake's test identities as
//! credentials, settings that point a client at a fake, and the turn a
//! test takes alone when it changes or measures what is process-wide.
//!
//! Each test crate (`tests/calls/`, `tests/process/`) includes this module
//! with `#[path = "../common/mod.rs"] mod common;`, and its test files use
//! it as `crate::common`.

#![allow(dead_code)] // each test crate uses its own part of this

use rs_idc::log::{level, set_level, set_sink};
use rs_idc::{Settings, StaticCredentials};
use rs_idc_fake::{keys, FakeServer};
use std::collections::HashMap;
use std::ffi::OsString;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// Explicit credentials from their parts.
pub fn credentials(access_key_id: &str, secret: &str, session: Option<&str>) -> StaticCredentials {
    StaticCredentials::new(access_key_id, secret, session.map(Into::into))
}

/// The fake's identity-enhanced test identity.
pub fn enhanced() -> StaticCredentials {
    credentials(
        keys::IDC_ACCESS_KEY_ID,
        keys::IDC_SECRET_ACCESS_KEY,
        Some(keys::IDC_SESSION_TOKEN),
    )
}

/// The fake's second identity-enhanced test identity.
pub fn second_identity() -> StaticCredentials {
    credentials(
        keys::IDC2_ACCESS_KEY_ID,
        keys::IDC2_SECRET_ACCESS_KEY,
        Some(keys::IDC2_SESSION_TOKEN),
    )
}

/// Settings for `fake` with `creds`, `attempts` tries per call and a
/// whole-call bound of `timeout`.
pub fn settings(
    fake: &FakeServer,
    creds: StaticCredentials,
    attempts: u32,
    timeout: Duration,
) -> Settings {
    Settings {
        region: Some("us-east-1".into()),
        endpoint_url: Some(fake.url()),
        credentials: Some(creds),
        max_attempts: Some(attempts),
        timeout,
        ..Settings::default()
    }
}

/// A test's turn alone, from [`alone`] until it is dropped.
///
/// Some things belong to the whole process, not to a test: the
/// environment (which clients read, and which is unsafe to change while
/// another thread reads it), the log sink and level, the browser's
/// open-URL callback and the device code's display, everything the library keeps (which
/// `rs_idc::clear_cache` empties), and the process's own memory and
/// descriptors. A test that changes or measures any of them runs alone,
/// and so does every other test of its crate that calls the library: in
/// `tests/process/` each of them takes a turn; the tests in `tests/calls/`
/// touch none of it.
///
/// When the turn ends, what the test may have changed is put back, also
/// when it failed: the environment as it was when the turn began, the
/// default open-URL callback and device-code display, and logging to stderr at the level it had.
/// So no test depends on which ran before it.
#[must_use = "the turn ends when this is dropped"]
pub struct Alone {
    environment: Vec<(OsString, OsString)>,
    log_level: rs_idc::log::LogLevel,
    // Dropped last, after `drop` below has put things back.
    _turn: MutexGuard<'static, ()>,
}

/// Waits for this test's turn alone (see [`Alone`]). A test that failed
/// during its turn does not keep the others from theirs.
pub fn alone() -> Alone {
    static TURN: Mutex<()> = Mutex::new(());
    let turn = TURN.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    Alone {
        environment: std::env::vars_os().collect(),
        log_level: level(),
        _turn: turn,
    }
}

impl Drop for Alone {
    fn drop(&mut self) {
        let before: HashMap<OsString, OsString> =
            std::mem::take(&mut self.environment).into_iter().collect();
        for (name, _) in std::env::vars_os() {
            if !before.contains_key(&name) {
                std::env::remove_var(&name);
            }
        }
        for (name, value) in &before {
            if std::env::var_os(name).as_ref() != Some(value) {
                std::env::set_var(name, value);
            }
        }
        rs_idc::browser::set_open_url(None);
        rs_idc::device::set_show_device_code(None);
        set_sink(None);
        set_level(self.log_level);
    }
}
