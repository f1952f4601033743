//! Randomness from the standard library only: seeds from `RandomState`,
//! the clock and the process, stretched with SHA-256 in counter mode.
//! Good enough for unique fake tokens and request IDs; not for secrets.

use sha2::{Digest, Sha256};
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::{SystemTime, UNIX_EPOCH};

/// A SHA-256 counter-mode byte generator.
pub(crate) struct Rng {
    key: [u8; 32],
    counter: u64,
}

impl Rng {
    /// A generator with a fresh seed.
    pub(crate) fn new() -> Rng {
        let mut seed = Sha256::new();
        for i in 0..4u64 {
            let mut h = RandomState::new().build_hasher();
            h.write_u64(i);
            seed.update(h.finish().to_le_bytes());
        }
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        seed.update(nanos.to_le_bytes());
        seed.update(std::process::id().to_le_bytes());
        seed.update(format!("{:?}", std::thread::current().id()).as_bytes());
        let local = 0u8;
        seed.update((&local as *const u8 as usize).to_le_bytes());
        Rng {
            key: seed.finalize().into(),
            counter: 0,
        }
    }

    /// Fills `out` with pseudo-random bytes.
    pub(crate) fn fill(&mut self, out: &mut [u8]) {
        for chunk in out.chunks_mut(32) {
            let mut h = Sha256::new();
            h.update(self.key);
            h.update(self.counter.to_le_bytes());
            self.counter += 1;
            let block: [u8; 32] = h.finalize().into();
            chunk.copy_from_slice(&block[..chunk.len()]);
        }
    }

    /// A fake auth token: `bytes` random bytes in standard base64.
    pub(crate) fn token(&mut self, bytes: usize) -> String {
        let mut raw = vec![0u8; bytes];
        self.fill(&mut raw);
        base64(&raw)
    }

    /// A request ID shaped like a version-4 UUID.
    pub(crate) fn request_id(&mut self) -> String {
        let mut b = [0u8; 16];
        self.fill(&mut b);
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        let h = crate::sigv4::hex(&b);
        format!(
            "{}-{}-{}-{}-{}",
            &h[..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..]
        )
    }
}

/// The standard base64 alphabet.
pub(crate) const BASE64_ALPHABET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with `=` padding.
pub(crate) fn base64(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(BASE64_ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in cases {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
    }

    #[test]
    fn tokens_are_unique_and_well_formed() {
        let mut a = Rng::new();
        let mut b = Rng::new();
        let mut seen = std::collections::HashSet::new();
        for _ in 0..200 {
            for t in [a.token(600), b.token(600)] {
                assert_eq!(t.len(), 800);
                assert!(t.bytes().all(|c| BASE64_ALPHABET.contains(&c)));
                assert!(seen.insert(t), "duplicate token");
            }
        }
    }

    #[test]
    fn request_ids_look_like_uuids() {
        let id = Rng::new().request_id();
        assert_eq!(id.len(), 36);
        let dashes: Vec<usize> = id.match_indices('-').map(|(i, _)| i).collect();
        assert_eq!(dashes, vec![8, 13, 18, 23]);
        assert_eq!(&id[14..15], "4");
    }
}
