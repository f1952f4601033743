//! The fault matrix: every fault the local endpoint can inject, with the
//! status it must give, the time bound it must respect, and a healthy call
//! right after it. Prints the matrix (statuses and times, nothing secret).

use crate::common::{self, enhanced};
use rs_idc::{Client, Settings, Status};
use rs_idc_fake::FakeServer;
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_millis(3000);
/// The bound every call must meet: the whole-call time bound plus a second.
const BOUND: Duration = Duration::from_millis(4000);

#[test]
fn every_fault_gives_its_status_within_the_bound_and_then_recovers() {
    let fake = FakeServer::start().unwrap();
    let client = Client::new(common::settings(&fake, enhanced(), 2, TIMEOUT));
    let refused_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let refusing = Client::new(Settings {
        endpoint_url: Some(format!("http://127.0.0.1:{refused_port}")),
        ..common::settings(&fake, enhanced(), 2, TIMEOUT)
    });
    let cases: &[(&str, &Client, Option<Status>)] = &[
        ("fault-throttle-1", &client, None),
        ("fault-throttle", &client, Some(Status::Throttled)),
        ("fault-500", &client, Some(Status::Service)),
        ("fault-503", &client, Some(Status::Service)),
        ("refused", &refusing, Some(Status::Network)),
        ("fault-reset", &client, Some(Status::Network)),
        ("fault-hang", &client, Some(Status::Timeout)),
        ("fault-trickle", &client, Some(Status::Timeout)),
        ("fault-truncated", &client, Some(Status::BadResponse)),
        ("fault-notoken", &client, Some(Status::BadResponse)),
        ("fault-expired", &client, Some(Status::BadResponse)),
        ("fault-huge", &client, Some(Status::BadResponse)),
        ("fault-html", &client, Some(Status::Service)),
    ];
    println!("{:<18} {:<22} {:>8}", "case", "status", "seconds");
    for (id, caller, want) in cases {
        let started = Instant::now();
        let got = caller.get_token(&[*id]);
        let took = started.elapsed();
        let shown = match &got {
            Ok(_) => "RS_IDC_OK".to_string(),
            Err(err) => rs_idc::status::status_name(err.status().code())
                .to_string_lossy()
                .into_owned(),
        };
        println!("{id:<18} {shown:<22} {:>8.2}", took.as_secs_f64());
        match want {
            None => assert!(got.is_ok(), "{id}: {:?}", got.err()),
            Some(status) => {
                let err = got.unwrap_err();
                assert_eq!(err.status(), *status, "{id}: {err}");
            }
        }
        assert!(took < BOUND, "{id} took {took:?}");
        client.get_token(&["healthy"]).unwrap();
    }
    // The 50 MiB answer is refused for the Serverless API as well.
    let err = client.get_serverless_token(&["fault-huge"]).unwrap_err();
    assert_eq!(err.status(), Status::BadResponse, "{err}");
}
