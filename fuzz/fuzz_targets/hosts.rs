//! Any bytes as a Redshift host name.
//!
//! Beyond not panicking: an accepted host is under amazonaws.com or
//! amazonaws.com.cn, names a valid cluster or workgroup and a region that
//! are its labels, and reads the same in any case; a refused one gets a
//! message about the host.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rs_idc::hosts::parse_host;
use rs_idc::Api;
use rs_idc::ids::{check_cluster_id, check_workgroup};

fuzz_target!(|data: &[u8]| {
    match parse_host(data) {
        Ok(target) => {
            let lower = String::from_utf8(data.to_ascii_lowercase()).expect("ASCII");
            assert!(
                lower.ends_with(".amazonaws.com") || lower.ends_with(".amazonaws.com.cn"),
                "{lower}"
            );
            let labels: Vec<&str> = lower.split('.').collect();
            let (name, region) = (&target.name, &target.region);
            let service = match target.api {
                Api::Provisioned => {
                    assert_eq!(check_cluster_id(0, name.as_bytes()).as_ref(), Ok(name));
                    "redshift"
                }
                Api::Serverless => {
                    assert_eq!(check_workgroup(0, name.as_bytes()).as_ref(), Ok(name));
                    "redshift-serverless"
                }
            };
            assert_eq!(labels[0], name);
            assert_eq!(labels[2], region);
            assert_eq!(labels[3], service);
            let upper = data.to_ascii_uppercase();
            assert_eq!(parse_host(&upper).as_ref(), Ok(&target));
        }
        Err(err) => assert!(err.message().starts_with("host "), "{}", err.message()),
    }
});
