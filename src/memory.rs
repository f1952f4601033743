//! Everything the process keeps, in one list: each store is a
//! [`crate::kept::Kept`], and `rs_idc_cache_clear` and
//! `rs_idc_forget_token` act on all of them here, so no store can be
//! missed. (What `fork()` needs is in [`crate::fork`]: flights belong to
//! their process, and descriptors a child must not keep, such as a
//! sign-in's listener, are closed there.)

use crate::cache::TOKENS;
use crate::client::REGIONAL;
use crate::domains::DOMAINS;
use crate::kept::Store;
use crate::keyed::token_digest;
use crate::signin::SIGN_INS;
use crate::users::{CHECKED_WEB_TOKENS, USERS, WEB_TOKEN_FILES};

/// Every store of the process.
fn stores() -> [&'static dyn Store; 7] {
    [
        &*TOKENS,
        &*USERS,
        &*WEB_TOKEN_FILES,
        &*CHECKED_WEB_TOKENS,
        &*DOMAINS,
        &*SIGN_INS,
        &*REGIONAL,
    ]
}

/// Empties everything the process keeps: tokens, users' sessions, web
/// tokens (read from files or checked), custom-domain mappings, browser sign-ins and regional clients.
/// What was dropped is wiped.
pub fn clear_cache() {
    for store in stores() {
        store.clear();
    }
    tracing::info!(
        "cleared what the process keeps: {}",
        stores().map(|store| store.name()).join(", ")
    );
}

/// Drops the token whose text is `token` wherever it is kept (a driver
/// whose login was refused with it): the next call fetches, or renews, a
/// new one. The comparison runs in constant time. Whether one was found.
pub fn forget_token(token: &[u8]) -> bool {
    let Ok(digest) = token_digest(token) else {
        return false;
    };
    stores()
        .into_iter()
        .fold(false, |found, store| store.forget(&digest) | found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use std::path::Path;

    /// The names given to `Kept::new` in the library's sources.
    fn stores_in_sources(dir: &Path, names: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stores_in_sources(&path, names);
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for (at, _) in text.match_indices("Kept::new(\"") {
                let rest = &text[at + "Kept::new(\"".len()..];
                let name = &rest[..rest.find('"').unwrap()];
                // The store's own unit tests make stores named "test".
                if name != "test" {
                    names.insert(name.to_owned());
                }
            }
        }
    }

    #[test]
    fn every_store_in_the_sources_is_listed_once() {
        let mut in_sources = BTreeSet::new();
        stores_in_sources(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut in_sources,
        );
        let listed: Vec<&str> = stores().iter().map(|store| store.name()).collect();
        let unique: BTreeSet<String> = listed.iter().map(|s| s.to_string()).collect();
        assert_eq!(unique.len(), listed.len(), "a store is listed twice");
        assert_eq!(unique, in_sources, "every Kept store is listed in stores()");
    }
}
