//! Clearing the process-wide cache. Its own test binary (so its own
//! process): a clear in the middle of another test would change that test's
//! request count.

use rs_idc::{Client, Settings, StaticCredentials};
use rs_idc_fake::{keys, FakeServer};

#[test]
fn clearing_the_cache_makes_the_next_call_ask_again() {
    let fake = FakeServer::start().unwrap();
    let client = Client::new(Settings {
        region: Some("us-east-1".into()),
        endpoint_url: Some(fake.url()),
        credentials: Some(StaticCredentials::new(
            keys::IDC_ACCESS_KEY_ID,
            keys::IDC_SECRET_ACCESS_KEY,
            Some(keys::IDC_SESSION_TOKEN.into()),
        )),
        ..Settings::default()
    });
    client.get_token(&["cleared"]).unwrap();
    rs_idc::clear_cache();
    client.get_token(&["cleared"]).unwrap();
    assert_eq!(fake.requests(), 2);
}
