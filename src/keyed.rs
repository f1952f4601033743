//! Keyed hashes that bind cache and flight keys to secrets (secret keys,
//! session tokens, proxy passwords) without keeping the secrets in them.
//!
//! HMAC-SHA-256 with a random key made once per process: a digest cannot
//! be checked against a guessed secret outside the process, and two
//! different inputs give the same digest only by breaking SHA-256.

use crate::error::Error;
use crate::fork::PerProcess;
use aws_lc_rs::hmac;
use std::fmt;
use zeroize::{Zeroize, Zeroizing};

/// A keyed digest. Compared by value; wiped when dropped; `Debug` shows
/// nothing of it.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct Digest([u8; 32]);

impl Drop for Digest {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl Digest {
    /// Its first eight bytes: a digest is uniform, so they place it in a
    /// hash table as well as all of it does.
    pub(crate) fn first_word(&self) -> u64 {
        let [a, b, c, d, e, f, g, h, ..] = self.0;
        u64::from_le_bytes([a, b, c, d, e, f, g, h])
    }

    /// Whether two digests are equal, compared in constant time (for a
    /// digest of something a caller handed in).
    pub(crate) fn same_as(&self, other: &Digest) -> bool {
        aws_lc_rs::constant_time::verify_slices_are_equal(&self.0, &other.0).is_ok()
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Digest(..)")
    }
}

/// The process's hash key: made from the system's random source on first
/// use, and made anew in a child after `fork()`.
static PROCESS_KEY: PerProcess<hmac::Key> = PerProcess::new();

/// A new key from the kernel's random source. (The crypto library's own
/// generator would first seed itself, which costs milliseconds at start.)
fn random_key() -> Result<hmac::Key, Error> {
    let bytes = random_bytes::<32>()
        .map_err(|_| Error::internal("no random key could be made for the token cache"))?;
    Ok(hmac::Key::new(hmac::HMAC_SHA256, &bytes[..]))
}

/// `N` bytes from the kernel's random source, wiped when dropped.
pub(crate) fn random_bytes<const N: usize>() -> Result<Zeroizing<[u8; N]>, Error> {
    let mut bytes = Zeroizing::new([0u8; N]);
    let mut filled = 0;
    while filled < N {
        let rest = &mut bytes[filled..];
        // SAFETY: writes at most `rest.len()` bytes into `rest`.
        let got = unsafe { libc::getrandom(rest.as_mut_ptr().cast(), rest.len(), 0) };
        match got {
            n if n > 0 => filled += n as usize,
            _ if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted => {}
            _ => return Err(Error::internal("the system's random source failed")),
        }
    }
    Ok(bytes)
}

/// The keyed digest that finds a token by its text, for
/// `rs_idc_forget_token`: any store holding a token compares this digest,
/// in constant time, never the text.
pub(crate) fn token_digest(text: &[u8]) -> Result<Digest, Error> {
    let mut hash = KeyedHash::new("rs-idc token")?;
    hash.field(text);
    Ok(hash.finish())
}

/// Builds a [`Digest`] from fields. Each field is length-prefixed, so
/// `("ab", "c")` and `("a", "bc")` differ.
pub(crate) struct KeyedHash {
    context: hmac::Context,
}

impl KeyedHash {
    /// A hash for one purpose: `domain` keeps digests made for different
    /// purposes apart.
    pub(crate) fn new(domain: &str) -> Result<KeyedHash, Error> {
        let key = PROCESS_KEY.get_or_try_init(random_key)?;
        let mut hash = KeyedHash {
            context: hmac::Context::with_key(key),
        };
        hash.field(domain.as_bytes());
        Ok(hash)
    }

    /// Adds one field.
    pub(crate) fn field(&mut self, bytes: &[u8]) -> &mut KeyedHash {
        self.context.update(&(bytes.len() as u64).to_be_bytes());
        self.context.update(bytes);
        self
    }

    /// Adds a field that may be absent; absent and empty differ.
    pub(crate) fn optional(&mut self, bytes: Option<&[u8]>) -> &mut KeyedHash {
        match bytes {
            Some(bytes) => {
                self.context.update(&[1]);
                self.field(bytes)
            }
            None => {
                self.context.update(&[0]);
                self
            }
        }
    }

    /// The digest of the fields added.
    pub(crate) fn finish(self) -> Digest {
        let tag = self.context.sign();
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(tag.as_ref());
        Digest(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(domain: &str, fields: &[Option<&[u8]>]) -> Digest {
        let mut hash = KeyedHash::new(domain).unwrap();
        for field in fields {
            hash.optional(*field);
        }
        hash.finish()
    }

    #[test]
    fn equal_fields_give_equal_digests_and_any_change_differs() {
        let base = digest("d", &[Some(b"ab"), Some(b"c")]);
        assert_eq!(base, digest("d", &[Some(b"ab"), Some(b"c")]));
        assert_ne!(base, digest("d", &[Some(b"a"), Some(b"bc")]));
        assert_ne!(base, digest("e", &[Some(b"ab"), Some(b"c")]));
        assert_ne!(base, digest("d", &[Some(b"ab"), Some(b"C")]));
        assert_ne!(
            digest("d", &[None, Some(b"x")]),
            digest("d", &[Some(b""), Some(b"x")])
        );
    }

    #[test]
    fn debug_shows_nothing() {
        let shown = format!("{:?}", digest("d", &[Some(b"secret")]));
        assert_eq!(shown, "Digest(..)");
    }
}
