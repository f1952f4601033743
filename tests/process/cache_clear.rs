//! Clearing the process-wide cache. Its turn alone (`common::alone()`): a
//! clear in the middle of another test would change that test's request
//! count.

use crate::common;
use rs_idc::Client;
use rs_idc_fake::FakeServer;
use std::time::Duration;

#[test]
fn clearing_the_cache_makes_the_next_call_ask_again() {
    let _alone = common::alone();
    let fake = FakeServer::start().unwrap();
    let client = Client::new(common::settings(
        &fake,
        common::enhanced(),
        1,
        Duration::from_secs(5),
    ));
    client.get_token(&["cleared"]).unwrap();
    rs_idc::clear_cache();
    client.get_token(&["cleared"]).unwrap();
    assert_eq!(fake.requests(), 2);
}
