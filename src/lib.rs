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
//!    panic guard; `memory`: every store the process keeps, listed once,
//!    which `rs_idc_cache_clear` and `rs_idc_forget_token` act on.
//! 2. `client`: the safe core's entry: a call described once (whose
//!    credentials, one deadline), identifiers and host names checked, the
//!    cache consulted; `requests` (non-blocking calls); `snapshot`: the
//!    identity a client's keys are built from, and when it goes stale.
//!    `options` turns a driver's string options into `settings`.
//! 3. `users` (per-user tokens: a user's web token exchanged for their
//!    credentials, kept per handle and web token, one exchange per user at
//!    a time), `browser` (the browser sign-in and its listener), `domains`
//!    (custom domain names), `fetch` (a token from the service or a flight,
//!    also as a refresh ahead), `cache` (the token cache's keys and
//!    margins) and `aws` (SDK clients, the HTTP client, the API calls, SDK
//!    errors to statuses; no other module sees an SDK type).
//! 4. The one way to keep and share: `kept` (a bounded store with an
//!    expiry per entry and a single flight per key and settings), `flight`
//!    (single flight) and `workers` (the few threads for work no caller's
//!    thread runs).
//! 5. The vocabulary and the rules for values: `token` (the API kind and
//!    the token), `web_token` (a user's JWT, checked and wiped),
//!    `settings`, `hosts`, `ids`, `values`, `arns`, and `keyed` (the
//!    digests that bind keys to credentials); `error` and `status`.
//!
//! Underneath, the process layer: `runtime` (the async runtime, one per
//! process), `fork` (per-process values, the fork gate, descriptors a
//! child closes), `clock` (clocks and a call's deadline) and `log`.

pub mod arns;
mod aws;
pub mod browser;
mod cache;
mod client;
mod clock;
mod domains;
mod error;
mod fetch;
pub mod ffi;
mod flight;
mod fork;
pub mod hosts;
pub mod ids;
mod kept;
mod keyed;
pub mod log;
mod memory;
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
pub mod workers;

pub use client::{default_client, Client};
pub use error::Error;
pub use memory::{clear_cache, forget_token};
pub use settings::{Settings, StaticCredentials, UserSettings};
pub use status::Status;
pub use token::{Api, Token};
pub use web_token::RS_IDC_MAX_WEB_TOKEN_LEN;
