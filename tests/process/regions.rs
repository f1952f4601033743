//! Host names naming many regions keep the process's memory flat: only a
//! few regional clients are kept, and made-up regions are refused before
//! anything is built.
//!
//! Its turn alone (`common::alone()`), so that its memory figures are its
//! own.

use crate::common;
use rs_idc::{Client, Settings, Status};
use rs_idc_fake::FakeServer;
use std::time::Duration;

/// Resident memory of this process, in KiB.
fn resident_kib() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4
}

fn host(n: usize) -> String {
    // 26 words and 100 numbers: 2,600 distinct regions of a valid shape.
    let word: String = (0..3)
        .map(|i| char::from(b'a' + ((n / 100 + i) % 26) as u8))
        .collect();
    format!("c{n}.abc.eu-{word}-{}.redshift.amazonaws.com", n % 100)
}

#[test]
fn many_regions_in_host_names_keep_memory_flat() {
    let _alone = common::alone();
    let fake = FakeServer::start().unwrap();
    let client = Client::new(Settings {
        region: None,
        ..common::settings(&fake, common::enhanced(), 1, Duration::from_secs(10))
    });
    let mut calls = 0;
    let mut call = |n: usize| {
        client.get_token_for_host(host(n).as_bytes()).unwrap();
        calls += 1;
    };
    for n in 0..100 {
        call(n);
    }
    let warm = resident_kib();
    for n in 100..700 {
        call(n);
    }
    let grown = resident_kib().saturating_sub(warm);
    println!("{calls} regions named: resident memory grew {grown} KiB after the first 100");
    // Without a bound each regional client kept about 170 KiB: 600 more
    // would be about 100 MiB.
    assert!(grown < 24 * 1024, "grew {grown} KiB");
    assert_eq!(fake.requests(), 700);

    let err = client
        .get_token_for_host(b"c1.abc.aa-bb-9.redshift.amazonaws.com")
        .unwrap_err();
    assert_eq!(err.status(), Status::InvalidArgument);
    assert_eq!(fake.requests(), 700);
}
