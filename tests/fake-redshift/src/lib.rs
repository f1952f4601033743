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
//! (`err-notfound`, `fault-throttle-2`, `ttl-60`, ...). Any other name gets
//! a normal token.
//!
//! # Control endpoint
//! `GET /_fake/stats` answers `requests N\ntokens N\n` (plus `proxied N`
//! when a [`FakeProxy`] is linked with [`FakeServer::link_proxy`]);
//! `POST /_fake/reset` zeroes the counters. Neither needs a signature nor
//! counts as a request.
//!
//! # TLS and proxy
//! With [`FakeOptions::tls`] the fake serves HTTPS with a certificate made
//! at start for `127.0.0.1` and `localhost`; [`FakeServer::ca_pem`] is the
//! certificate authority to trust. [`FakeProxy`] is a loopback HTTP proxy
//! (absolute-form requests and `CONNECT` tunnels) that counts what it
//! relays and never connects anywhere but 127.0.0.1.

#![warn(missing_docs)]

mod conns;
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
