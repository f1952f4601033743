//! Custom domain names: a host that is not an AWS Redshift name is mapped
//! to its cluster or workgroup by the services, and the mapping is kept.
//! The fake maps `NAME.clusters.rs-idc.test` to the cluster NAME and
//! `NAME.workgroups.rs-idc.test` to the workgroup NAME.

use crate::common::{self, enhanced};
use rs_idc::{Client, Status};
use rs_idc_fake::FakeServer;
use std::time::Duration;

use rs_idc_fake::names::op::{
    DESCRIBE_DOMAINS as DESCRIBE, GET_TOKEN as TOKEN, LIST_DOMAINS as LIST,
};

fn client(fake: &FakeServer) -> Client {
    Client::new(common::settings(
        fake,
        enhanced(),
        1,
        Duration::from_secs(10),
    ))
}

#[test]
fn a_cluster_domain_is_looked_up_once_for_a_thousand_calls() {
    let fake = FakeServer::start().unwrap();
    let client = client(&fake);
    let by_domain = client
        .get_token_for_host(b"Analytics.Clusters.rs-idc.test.")
        .unwrap();
    for _ in 0..999 {
        client
            .get_token_for_host(b"analytics.clusters.rs-idc.test")
            .unwrap();
    }
    assert_eq!(fake.operations(DESCRIBE), 1);
    assert_eq!(fake.operations(LIST), 0, "the cluster was found first");
    assert_eq!(fake.operations(TOKEN), 1);
    // The same token as for the identifier: one cache entry.
    let by_id = client.get_token(&["analytics"]).unwrap();
    assert_eq!(by_domain.secret(), by_id.secret());
}

#[test]
fn a_workgroup_domain_asks_both_services() {
    let fake = FakeServer::start().unwrap();
    let client = client(&fake);
    let by_domain = client
        .get_token_for_host(b"sales.workgroups.rs-idc.test")
        .unwrap();
    client
        .get_token_for_host(b"sales.workgroups.rs-idc.test")
        .unwrap();
    assert_eq!(fake.operations(DESCRIBE), 1);
    assert_eq!(fake.operations(LIST), 1);
    let by_name = client.get_serverless_token(&["sales"]).unwrap();
    assert_eq!(by_domain.secret(), by_name.secret());
    assert_eq!(fake.operations(TOKEN), 1);
}

#[test]
fn unknown_and_refused_domains_fail_and_are_not_kept() {
    let fake = FakeServer::start().unwrap();
    let client = client(&fake);
    for _ in 0..2 {
        let err = client.get_token_for_host(b"db.example.com").unwrap_err();
        assert_eq!(err.status(), Status::NotFound, "{err}");
        assert!(err.message().contains("db.example.com"), "{err}");
    }
    assert_eq!(fake.operations(DESCRIBE), 2, "a failure is not kept");
    assert_eq!(fake.operations(LIST), 2);
    let err = client
        .get_token_for_host(b"denied.clusters.rs-idc.test")
        .unwrap_err();
    assert_eq!(err.status(), Status::Denied, "{err}");
    // Addresses, ports and schemes are still refused without a request.
    let before = fake.requests();
    for host in [
        &b"10.0.0.1"[..],
        b"db.example.com:5439",
        b"https://db.example.com",
    ] {
        let err = client.get_token_for_host(host).unwrap_err();
        assert_eq!(err.status(), Status::InvalidArgument, "{err}");
    }
    assert_eq!(fake.requests(), before);
}

#[test]
fn mappings_are_kept_per_identity() {
    let fake = FakeServer::start().unwrap();
    client(&fake)
        .get_token_for_host(b"ops.clusters.rs-idc.test")
        .unwrap();
    let other = Client::new(common::settings(
        &fake,
        common::second_identity(),
        1,
        Duration::from_secs(10),
    ));
    other
        .get_token_for_host(b"ops.clusters.rs-idc.test")
        .unwrap();
    assert_eq!(
        fake.operations(DESCRIBE),
        2,
        "another identity looks up again"
    );
}
