//! Bytes split at commas into identifiers, checked as cluster identifiers
//! or workgroup names (the first byte chooses).
//!
//! Beyond not panicking: an accepted list comes back valid, lower case,
//! sorted and without duplicates, and normalising it again changes nothing;
//! a refused list is refused with a message that names the argument.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rs_idc::ids::{check_cluster_id, check_workgroup, normalise_cluster_ids, normalise_workgroups};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let items: Vec<&[u8]> = if rest.is_empty() {
        Vec::new()
    } else {
        rest.split(|b| *b == b',').collect()
    };
    let workgroups = mode & 1 == 1;
    let (result, name) = if workgroups {
        (normalise_workgroups(&items), "workgroups[")
    } else {
        (normalise_cluster_ids(&items), "ids[")
    };
    match result {
        Ok(set) => {
            assert!((1..=20).contains(&items.len()));
            assert!(!set.is_empty() && set.len() <= items.len());
            assert!(set.windows(2).all(|w| w[0] < w[1]), "not sorted and unique");
            for (i, item) in set.iter().enumerate() {
                assert_eq!(item, &item.to_ascii_lowercase());
                if workgroups {
                    assert_eq!(check_workgroup(i, item.as_bytes()).as_ref(), Ok(item));
                } else {
                    assert_eq!(check_cluster_id(i, item.as_bytes()).as_ref(), Ok(item));
                }
            }
            let again = if workgroups {
                normalise_workgroups(&set)
            } else {
                normalise_cluster_ids(&set)
            };
            assert_eq!(
                again.as_ref(),
                Ok(&set),
                "normalising twice changed the set"
            );
            // Every input item is in the set, in lower case.
            for item in &items {
                let lower = String::from_utf8(item.to_ascii_lowercase()).expect("ASCII");
                assert!(set.binary_search(&lower).is_ok());
            }
        }
        Err(err) => {
            let message = err.message();
            assert!(
                message.starts_with(name) || message.starts_with("n must be"),
                "{message}"
            );
        }
    }
});
