//! The control API's types use the shared names of `rs_idc_fake::names`.

use rs_idc_fake::{names, Control, Stats};
use serde_json::json;

#[test]
fn every_shared_name_is_the_one_the_types_use() {
    for (_, op) in names::control::ALL {
        let parsed = serde_json::from_value::<Control>(json!({ "op": op }));
        assert!(
            parsed
                .err()
                .is_none_or(|e| !e.to_string().contains("unknown variant")),
            "{op}"
        );
    }
    let stats = serde_json::to_value(Stats {
        proxied: Some(0),
        auth_proxied: Some(0),
        auth_refused: Some(0),
        ..Stats::default()
    });
    let keys: Vec<String> = stats
        .unwrap()
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    let mut counters: Vec<String> = names::counter::ALL
        .iter()
        .map(|(_, n)| n.to_string())
        .collect();
    counters.sort();
    assert_eq!(keys, counters);
}
