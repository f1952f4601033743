//! rs-idc: Amazon Redshift IAM Identity Center auth tokens for C, C++ and
//! any language with an FFI.
//!
//! The C API (see `include/rs_idc.h`) wraps a safe Rust API:
//! [`Client::get_token`] returns a [`Token`] or an [`Error`] whose
//! [`Status`] maps onto the `RS_IDC_*` status numbers.
//!
//! Layers, each in its own module, data flowing one way:
//! `ffi` (C surface) → `client`, `ids`, `hosts`, `options`, `settings`, `cache` (safe core) →
//! `aws` (SDK calls and error mapping) → `runtime` (fork-aware async runtime).

mod aws;
mod cache;
mod client;
mod error;
pub mod ffi;
mod fork;
pub mod hosts;
pub mod ids;
mod keyed;
pub mod log;
pub mod options;
mod runtime;
pub mod settings;
pub mod status;
mod token;
pub mod values;

pub use client::{clear_cache, default_client, Client};
pub use error::Error;
pub use settings::{Settings, StaticCredentials};
pub use status::Status;
pub use token::{Api, Token};
