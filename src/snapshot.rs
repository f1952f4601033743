//! The identity a client's cache keys are built from: resolved on a miss,
//! trusted by hits until it goes stale, and bound into the keys as keyed
//! digests of the complete credentials.

use crate::aws;
use crate::clock::monotonic_ms;
use crate::error::Error;
use crate::fork::PerProcess;
use crate::keyed::{Digest, KeyedHash};
use crate::settings::Settings;
use crate::token::Api;
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use zeroize::Zeroizing;

/// How long a resolved identity is trusted before it is resolved again,
/// when its credentials do not expire sooner.
const IDENTITY_RECHECK: Duration = Duration::from_secs(300);

/// The environment variables of credentials: when the chain took the
/// credentials from them, a change means the host switched identities.
const ENV_CREDENTIALS: [&str; 3] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
];

/// The credential variables as they were, wiped when dropped.
#[derive(PartialEq, Eq)]
pub(crate) struct EnvCredentials([Option<Zeroizing<Vec<u8>>>; 3]);

impl EnvCredentials {
    pub(crate) fn read() -> EnvCredentials {
        EnvCredentials(
            ENV_CREDENTIALS
                .map(|name| std::env::var_os(name).map(|v| Zeroizing::new(OsString::into_vec(v)))),
        )
    }
}

extern "C" {
    /// The process environment (POSIX).
    static environ: *const *const libc::c_char;
}

/// Where the credential variables stand in the process environment: the
/// array, its length, and the entry of each variable. The C library
/// replaces an entry's pointer whenever a variable is set or removed, and
/// appends a new variable past the old end, so while these marks hold the
/// variables are unchanged, and checking them reads no variable.
#[derive(Clone, Copy, PartialEq, Eq)]
struct EnvMarks {
    array: usize,
    len: usize,
    entries: [Option<(usize, usize)>; 3],
}

/// The environment array, read as a plain pointer.
fn environment() -> *const *const libc::c_char {
    // SAFETY: reading the pointer-sized global; it may change under us,
    // which the marks detect.
    unsafe { std::ptr::read_volatile(std::ptr::addr_of!(environ)) }
}

impl EnvMarks {
    /// The marks of the environment as it is now.
    fn take() -> EnvMarks {
        let array = environment();
        let mut marks = EnvMarks {
            array: array as usize,
            len: 0,
            entries: [None; 3],
        };
        if array.is_null() {
            return marks;
        }
        loop {
            // SAFETY: the array ends with a NULL entry.
            let entry = unsafe { std::ptr::read_volatile(array.add(marks.len)) };
            if entry.is_null() {
                break;
            }
            // SAFETY: a non-NULL entry is a C string.
            let text = unsafe { std::ffi::CStr::from_ptr(entry) }.to_bytes();
            for (slot, name) in marks.entries.iter_mut().zip(ENV_CREDENTIALS) {
                if text.len() > name.len()
                    && text.starts_with(name.as_bytes())
                    && text[name.len()] == b'='
                {
                    *slot = Some((marks.len, entry as usize));
                }
            }
            marks.len += 1;
        }
        marks
    }

    /// Whether the environment still stands as marked: a few pointer
    /// loads.
    fn hold(&self) -> bool {
        let array = environment();
        if array as usize != self.array || array.is_null() {
            return array.is_null() && self.array == 0;
        }
        // SAFETY: the array is the one marked, and its length never shrinks
        // below a slot that held NULL (removal shifts entries down in place).
        let at = |index: usize| unsafe { std::ptr::read_volatile(array.add(index)) } as usize;
        at(self.len) == 0
            && self
                .entries
                .iter()
                .flatten()
                .all(|(index, entry)| at(*index) == *entry)
    }
}

/// The credential variables an identity came from, watched for changes.
struct EnvWatch {
    values: EnvCredentials,
    /// Marks taken when the variables last held `values`; none when they
    /// no longer do.
    marks: arc_swap::ArcSwapOption<EnvMarks>,
}

impl EnvWatch {
    /// Watches `values`, read before the identity was resolved: if the
    /// variables changed while it was resolved, there are no marks, and
    /// the snapshot is stale at once.
    fn new(values: EnvCredentials) -> EnvWatch {
        let watch = EnvWatch {
            values,
            marks: arc_swap::ArcSwapOption::empty(),
        };
        watch.unchanged();
        watch
    }

    /// Whether the variables still hold the values the identity came
    /// from. The marks answer at once; when they moved (another variable
    /// changed, say) the values are compared, and the marks renewed if
    /// they still match. Marks are taken before the values are read, so
    /// renewed marks never stand for a later environment than the one
    /// compared; two threads renewing at once store equivalent marks.
    fn unchanged(&self) -> bool {
        if self.marks.load().as_ref().is_some_and(|marks| marks.hold()) {
            return true;
        }
        let now = EnvMarks::take();
        if EnvCredentials::read() != self.values {
            self.marks.store(None);
            return false;
        }
        self.marks.store(Some(Arc::new(now)));
        true
    }
}

/// How long a snapshot is trusted.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Keep {
    /// Credentials from the chain, which may change under us: resolved
    /// again every five minutes, and five minutes before they expire.
    Recheck,
    /// Credentials made for one purpose (a user's): kept until shortly
    /// before they expire, the smaller of five minutes and half their
    /// remaining life.
    UntilExpiry,
}

/// The identity that cache keys are built from.
pub(crate) struct Snapshot {
    identity: aws::Identity,
    /// The SDK clients that sign with the snapshot's credentials, built
    /// once per process (a child after `fork()` builds its own).
    caller: PerProcess<aws::Caller>,
    /// The cache-key scope of each API: a keyed digest of the API, the
    /// region, the endpoint and the complete credentials.
    cluster_scope: Digest,
    serverless_scope: Digest,
    /// The credential variables when the identity was resolved by the
    /// chain (not for explicit credentials, which the environment cannot
    /// change): a change means the host switched identities.
    env_watch: Option<EnvWatch>,
    stale_after_ms: u64,
}

impl Snapshot {
    /// A snapshot of `identity`, the credentials `service` resolved at
    /// `resolved_at_ms`; `env_credentials` as they were just before.
    pub(crate) fn new(
        service: &aws::Service,
        identity: aws::Identity,
        env_credentials: Option<EnvCredentials>,
        resolved_at_ms: u64,
        keep: Keep,
    ) -> Result<Snapshot, Error> {
        let left = identity
            .expiry()
            .map(|at| at.duration_since(SystemTime::now()).unwrap_or_default());
        let trust = match (keep, left) {
            (Keep::Recheck, None) => IDENTITY_RECHECK,
            (Keep::Recheck, Some(left)) => {
                IDENTITY_RECHECK.min(left.saturating_sub(IDENTITY_RECHECK))
            }
            (Keep::UntilExpiry, None) => Duration::MAX,
            (Keep::UntilExpiry, Some(left)) => left - IDENTITY_RECHECK.min(left / 2),
        };
        Ok(Snapshot {
            cluster_scope: scope_digest(service, Api::Provisioned, &identity)?,
            serverless_scope: scope_digest(service, Api::Serverless, &identity)?,
            identity,
            caller: PerProcess::new(),
            env_watch: env_credentials.map(EnvWatch::new),
            stale_after_ms: resolved_at_ms
                .saturating_add(u64::try_from(trust.as_millis()).unwrap_or(u64::MAX)),
        })
    }

    /// The credentials calls are signed with.
    pub(crate) fn identity(&self) -> &aws::Identity {
        &self.identity
    }

    /// The SDK clients of this process's `service` that sign with those
    /// credentials.
    pub(crate) fn caller(&self, service: &aws::Service) -> Result<&Arc<aws::Caller>, Error> {
        self.caller
            .get_or_try_init(|| Ok(aws::Caller::new(service, &self.identity)))
    }

    /// Whether the snapshot may still be used: not past its trust, and its
    /// credential variables unchanged.
    pub(crate) fn is_fresh(&self) -> bool {
        self.is_fresh_at(monotonic_ms())
    }

    /// As [`Snapshot::is_fresh`] at `now_ms` on [`monotonic_ms`]'s clock
    /// (a call's start, read once).
    pub(crate) fn is_fresh_at(&self, now_ms: u64) -> bool {
        now_ms < self.stale_after_ms && self.env_watch.as_ref().is_none_or(EnvWatch::unchanged)
    }

    /// The scope digests of both APIs: identity, region and endpoint.
    pub(crate) fn scopes(&self) -> (&Digest, &Digest) {
        (&self.cluster_scope, &self.serverless_scope)
    }

    /// The scope digest of `api`'s calls under this identity: what a
    /// cache key binds besides the identifiers.
    pub(crate) fn scope(&self, api: Api) -> &Digest {
        match api {
            Api::Provisioned => &self.cluster_scope,
            Api::Serverless => &self.serverless_scope,
        }
    }
}

/// The scope digest of `api`'s calls from `service` with `identity`.
fn scope_digest(
    service: &aws::Service,
    api: Api,
    identity: &aws::Identity,
) -> Result<Digest, Error> {
    let mut hash = KeyedHash::new("rs-idc token scope")?;
    hash.field(api.name().as_bytes())
        .field(service.region().as_bytes())
        .optional(service.endpoint(api).map(str::as_bytes));
    identity.bind(&mut hash);
    Ok(hash.finish())
}

/// The digest of the settings that change a call's outcome: two clients
/// share a flight only when theirs are equal.
pub(crate) fn settings_digest(settings: &Settings) -> Result<Digest, Error> {
    fn text(value: &Option<String>) -> Option<&[u8]> {
        value.as_deref().map(str::as_bytes)
    }
    let mut hash = KeyedHash::new("rs-idc flight settings")?;
    hash.optional(text(&settings.region))
        .optional(text(&settings.profile))
        .optional(text(&settings.endpoint_url))
        .optional(text(&settings.proxy))
        .optional(text(&settings.http_proxy))
        .optional(text(&settings.no_proxy))
        .optional(settings.ca_bundle.as_deref())
        .field(&settings.timeout.as_nanos().to_be_bytes())
        .field(&settings.connect_timeout.as_nanos().to_be_bytes())
        .optional(
            settings
                .max_attempts
                .map(u32::to_be_bytes)
                .as_ref()
                .map(|b| &b[..]),
        )
        .field(&[u8::from(settings.allow_http)]);
    Ok(hash.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_see_a_variable_set_added_or_removed() {
        // Names no other test reads; the marks watch the credential
        // variables, so these stand in for them through `take`.
        let marks = EnvMarks::take();
        assert!(marks.hold());
        std::env::set_var("RS_IDC_MARKS_TEST_ADDED", "1");
        assert!(
            !marks.hold(),
            "a variable added past the end moves the marks"
        );
        let marks = EnvMarks::take();
        std::env::remove_var("RS_IDC_MARKS_TEST_ADDED");
        let again = EnvMarks::take();
        assert!(marks != again);
    }
}
