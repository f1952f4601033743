//! The library's calls against the local fake endpoint: tokens, errors and
//! faults, the cache, identities, handles and driver options, custom
//! domains, refresh ahead, TLS and proxies, and per-user tokens.
//!
//! One test crate, so the AWS SDK is linked once for all of them. No test
//! here changes or measures anything process-wide (the environment, the
//! logger, the browser callback, the whole cache, the process's memory or
//! descriptors): those are in `tests/process/`. So these tests run side by
//! side, each with its own fake, and share only what any two callers in
//! one process share: what the library keeps (tokens, users' sessions,
//! custom domains, regional clients), whose keys name each test's fake.

#[path = "../common/mod.rs"]
mod common;

mod against_fake;
mod cache;
mod custom_domains;
mod fault_matrix;
mod handles;
mod identity;
mod refresh_ahead;
mod tls_proxy;
mod user_tokens;
