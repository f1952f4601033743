//! rs-idc: Amazon Redshift IAM Identity Center auth tokens for C, C++ and
//! any language with an FFI.
//!
//! The C API (see `include/rs_idc.h`) wraps a safe Rust API:
//! [`Client::get_token`] returns a [`Token`] or an [`Error`] whose
//! [`Status`] maps onto the `RS_IDC_*` status numbers.
//!
//! Layers, from the top; a module uses only modules below it, so data
//! flows one way (C → ffi → client; a cache hit returns there):
//!
//! 1. `ffi`: the C surface, pointer checks, C strings, statuses and the
//!    panic guard.
//! 2. `client`: the safe core's entry: identifiers and host names checked,
//!    the cache consulted, every call bounded in time; `snapshot`: the
//!    identity a client's keys are built from, and when it goes stale.
//!    `options` turns a driver's string options into `settings`.
//! 3. `users` (per-user tokens: a user's web token exchanged for their
//!    credentials, kept per client, one exchange per user at a time),
//!    `cache` (tokens), `flight` (single flight) and `aws` (SDK clients,
//!    the HTTP client, the API calls, the STS and SSO-OIDC calls of the
//!    exchange, SDK errors to statuses; no other module sees an SDK type).
//! 4. The vocabulary and the rules for values: `token` (the API kind and
//!    the token), `web_token` (a user's JWT, checked and wiped),
//!    `settings`, `hosts`, `ids`, `values`, `arns`, and `keyed` (the
//!    digests that bind keys to credentials).
//! 5. `error` and `status`.
//!
//! Underneath, the process layer: `runtime` (the async runtime, one per
//! process), `fork` (per-process values and the fork gate) and `log`.

pub mod arns;
mod aws;
pub mod browser;
mod cache;
mod client;
mod domains;
mod error;
mod fetch;
pub mod ffi;
mod flight;
mod fork;
pub mod hosts;
pub mod ids;
mod keyed;
pub mod log;
pub mod options;
pub mod requests;
mod runtime;
pub mod settings;
mod snapshot;
pub mod status;
mod token;
mod users;
pub mod values;
pub mod web_token;

pub use client::{clear_cache, default_client, forget_token, Client};
pub use error::Error;
pub use settings::{Settings, StaticCredentials, UserSettings};
pub use status::Status;
pub use token::{Api, Token};
pub use web_token::RS_IDC_MAX_WEB_TOKEN_LEN;
