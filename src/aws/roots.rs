//! The system's trusted root certificates for `https://` destinations.
//!
//! They are read once per process, when the first connection that needs
//! TLS is set up, and only from the place the platform keeps them: its
//! bundle file. Reading every file of the certificate folder as well (what
//! a generic loader does) costs a cold start hundreds of system calls and
//! decodes every root twice.

use crate::certificates::check_ca_pem;
use crate::files::read_regular_file;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// The bundle files of the maintained distributions, in the order OpenSSL's
/// own probe tries them.
const BUNDLE_FILES: &[&str] = &[
    // Debian, Ubuntu, Alpine, Arch, Gentoo
    "/etc/ssl/certs/ca-certificates.crt",
    // RHEL, Fedora, CentOS, Amazon Linux
    "/etc/pki/tls/certs/ca-bundle.crt",
    // openSUSE, SLES
    "/etc/ssl/ca-bundle.pem",
    // RHEL and Fedora's extracted trust
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    // BSDs, macOS, Alpine's link
    "/etc/ssl/cert.pem",
];

/// The largest bundle read: today's bundles are about 200 KiB.
const MAX_BUNDLE_BYTES: u64 = 16 << 20;

/// Where the system's roots come from.
#[derive(Clone)]
pub(crate) enum SystemRoots {
    /// The platform's bundle, every certificate in it accepted by the TLS
    /// stack as a trust anchor (PEM).
    Bundle(Arc<Vec<u8>>),
    /// No bundle that can be used as a whole: the SDK's own loader finds
    /// them (it reads `SSL_CERT_DIR` and the usual folders, and skips what
    /// it cannot parse).
    Native,
}

impl std::fmt::Debug for SystemRoots {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SystemRoots::Bundle(pem) => write!(f, "Bundle({} bytes)", pem.len()),
            SystemRoots::Native => f.write_str("Native"),
        }
    }
}

/// The system's roots, read at the first call (see the module's doc).
pub(crate) fn system_roots() -> SystemRoots {
    static ROOTS: OnceLock<SystemRoots> = OnceLock::new();
    ROOTS
        .get_or_init(|| {
            bundle_path()
                .and_then(|path| usable_bundle(&path))
                .map_or(SystemRoots::Native, SystemRoots::Bundle)
        })
        .clone()
}

/// The bundle the platform's TLS libraries read: `SSL_CERT_FILE` when it
/// is set, else the first of [`BUNDLE_FILES`] that exists. A folder of
/// roots (`SSL_CERT_DIR`) is read only when there is no bundle.
fn bundle_path() -> Option<PathBuf> {
    match std::env::var_os("SSL_CERT_FILE").filter(|v| !v.is_empty()) {
        Some(path) => Some(PathBuf::from(path)),
        None => BUNDLE_FILES
            .iter()
            .map(PathBuf::from)
            .find(|path| path.is_file()),
    }
}

/// The bundle at `path` if it exists and every block in it is a
/// certificate the TLS stack accepts; the SDK would stop at the first that
/// is not, so such a bundle is left to its tolerant loader.
fn usable_bundle(path: &Path) -> Option<Arc<Vec<u8>>> {
    // Read as CA files are: a regular file, opened without blocking, bounded.
    let mut pem = read_regular_file("the system's root bundle", path, MAX_BUNDLE_BYTES).ok()?;
    match check_ca_pem(&pem) {
        // Public certificates, kept as read (not copied, not wiped).
        Ok(()) => Some(Arc::new(std::mem::take(&mut *pem))),
        Err(why) => {
            tracing::debug!(
                "the system's root bundle {} {why}; the roots are loaded one by one",
                path.display()
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bundle_that_is_not_all_certificates_is_left_to_the_tolerant_loader() {
        let dir = std::env::temp_dir().join(format!("rs-idc-roots-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("bundle.pem");
        std::fs::write(
            &path,
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        assert!(usable_bundle(&path).is_none());
        assert!(usable_bundle(&dir.join("missing.pem")).is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_platforms_bundle_is_chosen_and_read_once() {
        let expected = bundle_path().and_then(|path| usable_bundle(&path));
        match (system_roots(), expected) {
            (SystemRoots::Bundle(chosen), Some(expected)) => {
                assert_eq!(chosen, expected);
                let SystemRoots::Bundle(again) = system_roots() else {
                    panic!("the roots changed between two calls")
                };
                assert!(Arc::ptr_eq(&chosen, &again), "the bundle was read twice");
            }
            (SystemRoots::Native, None) => {}
            (chosen, expected) => panic!(
                "chose {chosen:?} with a usable bundle: {}",
                expected.is_some()
            ),
        }
    }
}
