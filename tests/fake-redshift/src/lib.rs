//! A local fake of Amazon Redshift's `GetIdentityCenterAuthToken` (AWS query
//! protocol, XML answers) and its Redshift Serverless twin (AWS JSON 1.1),
//! for rs-idc's tests. It listens on 127.0.0.1 only.
//!
//! # What it checks
//! Every API request must be signed with SigV4 (service `redshift` or
//! `redshift-serverless`, any region) by one of the identities in [`keys`]:
//!
//! | credentials | answer |
//! | --- | --- |
//! | `IDC_*`, `IDC2_*` with their session token | tokens |
//! | `PLAIN_*` | `UnsupportedOperation` (Serverless: `ValidationException`) |
//! | `EXPIRED_*` | `ExpiredToken` (Serverless: `ExpiredTokenException`) |
//! | unknown key, or wrong or missing session token | `InvalidClientTokenId` (Serverless: `UnrecognizedClientException`) |
//! | no `Authorization` | `MissingAuthenticationToken` |
//! | wrong signature | `SignatureDoesNotMatch` (Serverless: `InvalidSignatureException`) |
//!
//! # Behaviour by first identifier
//! After the credential checks, the first cluster ID (or workgroup name),
//! lower-cased, picks what happens; see the crate's README for the list
//! (`err-notfound`, `fault-throttle-2`, `ttl-60`, `slow-1500`, ...). Any
//! other name gets a normal token.
//!
//! # Control endpoint
//! Neither needs a signature nor counts as a request:
//!
//! * `GET /_fake/stats` answers `requests N\ntokens N\n`, then `proxied N`
//!   when a [`FakeProxy`] is linked with [`FakeServer::link_proxy`], then
//!   `credentials N`, then `auth_proxied N` and `auth_refused N` when a
//!   proxy with authentication is linked with
//!   [`FakeServer::link_auth_proxy`];
//! * `POST /_fake/reset` zeroes the counters;
//! * `GET /_fake/credentials` hands out the `IDC_*` identity of [`keys`]
//!   in the ECS container credentials format (for
//!   `AWS_CONTAINER_CREDENTIALS_FULL_URI`), counted in
//!   [`FakeServer::credential_requests`].
//!
//! # TLS and proxy
//! With [`FakeOptions::tls`] the fake serves HTTPS with a certificate made
//! at start for `127.0.0.1`, `localhost` and [`NAMED_HOST`];
//! [`FakeServer::ca_pem`] is the certificate authority to trust.
//! [`FakeProxy`] is a loopback HTTP proxy (absolute-form requests and
//! `CONNECT` tunnels) that counts what it relays, takes `127.0.0.1`,
//! `localhost` and [`NAMED_HOST`] as targets, never connects anywhere but
//! 127.0.0.1 and never resolves a name; [`FakeProxy::start_with_auth`]
//! makes one that requires `Basic` proxy credentials.

#![warn(missing_docs)]

mod behaviour;
mod conns;
mod control;
pub mod form;
mod http;
pub mod json;
pub mod keys;
mod proxy;
mod rng;
mod server;
mod service;
pub mod sigv4;
pub mod timefmt;
mod tls;

pub use proxy::FakeProxy;
pub use server::{FakeOptions, FakeServer};

/// A host name for the fake that is not a loopback name: `fake.rs-idc.test`
/// (`.test` is reserved by RFC 2606 and never resolves on the Internet).
/// [`FakeServer::named_url`] uses it, the TLS certificate names it, and
/// [`FakeProxy`] accepts it as a target, connecting to 127.0.0.1 without
/// resolving it.
pub const NAMED_HOST: &str = "fake.rs-idc.test";
