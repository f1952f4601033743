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
//!    a time; a web token checked before is recognised by its whole text),
//!    `signin` (a sign-in for people, kept in memory and on disk,
//!    renewed with its refresh token), `browser` (the browser sign-in and
//!    its listener), `device` (the device-code sign-in), `steps`
//!    (the typed events of both, logged and observed), `domains`
//!    (custom domain names), `cache` (the token cache: its keys and
//!    margins, and its read-through: a cached token, else one from the
//!    service or a flight, also as a refresh ahead) and `aws` (SDK
//!    clients, the HTTP client, the API calls, SDK errors to statuses; no
//!    other module sees an SDK type).
//! 4. The one way to keep and share: `kept` (a bounded store with an
//!    expiry per entry and a single flight per key and settings), `flight`
//!    (single flight) and `workers` (the few threads for work no caller's
//!    thread runs).
//! 5. The vocabulary and the rules for values: `token` (the API kind and
//!    the token), `web_token` (a user's JWT, checked and wiped),
//!    `settings`, `hosts`, `ids`, `arns`, `values` (plain values: time
//!    bounds, switches, numbers, regions, base64url), `places` (URLs,
//!    endpoints, local hosts), `files` (files named by settings),
//!    `certificates` (CA certificates in PEM, checked as trust anchors), and
//!    `keyed` (the digests that bind keys to credentials); `error` and
//!    `status`.
//!
//! Underneath, the process layer: `runtime` (the async runtime, one per
//! process), `fork` (per-process values, the fork gate, descriptors a
//! child closes), `clock` (clocks and a call's deadline) and `log`.

// The status numbers first: cbindgen writes constants in the order of
// these lines, and a reader of the header meets the statuses first.
pub mod status;

pub mod arns;
mod aws;
pub mod browser;
mod cache;
mod certificates;
mod client;
mod clock;
pub mod device;
mod domains;
mod error;
pub mod ffi;
mod files;
mod flight;
mod fork;
pub mod hosts;
pub mod ids;
mod kept;
mod keyed;
pub mod log;
mod memory;
pub mod options;
pub mod places;
pub mod requests;
mod runtime;
pub mod settings;
mod signin;
mod snapshot;
pub mod steps;
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

#[cfg(test)]
mod tests {
    /// The modules `lib.rs` declares, in order.
    fn modules(lib: &str) -> Vec<&str> {
        lib.lines()
            .filter_map(|line| {
                line.strip_prefix("pub mod ")
                    .or_else(|| line.strip_prefix("mod "))
            })
            .filter_map(|rest| rest.strip_suffix(';'))
            .filter(|name| *name != "tests")
            .collect()
    }

    #[test]
    fn every_module_is_in_the_layer_list_and_the_readme_layout() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let lib = std::fs::read_to_string(root.join("src/lib.rs")).unwrap();
        let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
        let layers: String = lib
            .lines()
            .filter_map(|line| line.strip_prefix("//!"))
            .collect::<Vec<_>>()
            .join("\n");
        let layout = readme
            .split("\n## Layout\n")
            .nth(1)
            .and_then(|rest| rest.split("\n## ").next())
            .expect("the README has a Layout section");
        let names = modules(&lib);
        assert!(names.len() > 20, "the modules are read: {names:?}");
        for name in names {
            assert!(
                layers.contains(&format!("`{name}`")),
                "module {name} is missing from the layer list in src/lib.rs"
            );
            let (file, folder) = (format!("`src/{name}.rs`"), format!("`src/{name}/`"));
            assert!(
                layout.contains(&file) || layout.contains(&folder),
                "module {name} is missing from the README's Layout section"
            );
        }
    }
}
