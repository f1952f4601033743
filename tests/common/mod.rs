//! What the integration tests share: the fake's test identities as
//! credentials, and settings that point a client at a fake.

#![allow(dead_code)] // each test binary uses its own part of this

use rs_idc::{Settings, StaticCredentials};
use rs_idc_fake::{keys, FakeServer};
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
