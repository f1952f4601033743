#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

mod auth;
mod conns;
mod control;
mod domains;
mod http;
mod identity;
pub mod keys;
pub mod names;
mod proxy;
mod server;
mod service;
pub mod sigv4;
pub mod timefmt;
mod tls;

pub use control::{Control, Stats};
pub use identity::browser::DeviceAction;
pub use identity::{access_token_subject, token_subject, WebTokenSpec};
pub use proxy::FakeProxy;
pub use server::{FakeOptions, FakeServer};

/// `fake.rs-idc.test`, a host name for the fake that is not a loopback
/// name (see "Test host name" in the crate documentation).
pub const NAMED_HOST: &str = "fake.rs-idc.test";
