//! What is process-wide: the environment (endpoints in profiles, the
//! container credential endpoint, the options and C entry points that
//! read it), the log sink and level (redaction), the browser's open-URL
//! callback (the browser sign-in), clearing the whole cache, and the
//! process's own memory (many regions) and descriptors (non-blocking
//! requests).
//!
//! One test crate, so the AWS SDK is linked once for all of them. Every
//! test here that calls the library takes its turn alone with
//! `common::alone()`, which puts the environment, the open-URL callback
//! and logging back when the turn ends; only the property tests of pure
//! functions (identifiers, workgroup names, host names), which touch
//! nothing process-wide, run beside them. The fixed loopback ports
//! (17891-17899) each belong to one test.

#[path = "../common/mod.rs"]
mod common;

mod browser;
mod cache_clear;
mod credential_endpoint;
mod device;
mod endpoints;
mod properties;
mod redaction;
mod regions;
mod requests;
