//! What one server remembers of trusted identity propagation and browser
//! sign-in, and the per-operation counters.

use super::browser::Signin;
use crate::conns::lock;
use crate::names::op::ALL as OPERATIONS;
use crate::service::random_bytes;
use crate::timefmt;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

const UPPER_ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const BASE64_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub(crate) fn random_chars(alphabet: &[u8], n: usize) -> String {
    random_bytes(n)
        .into_iter()
        .map(|b| alphabet[usize::from(b) % alphabet.len()] as char)
        .collect()
}

#[derive(Clone, Debug)]
pub(crate) struct Minted {
    pub secret_access_key: String,
    pub session_token: String,
    pub expires: i64,
    pub subject: Option<String>,
}

#[derive(Clone, Debug)]
pub(crate) struct Grant {
    pub subject: String,
    pub client_id: String,
    pub expires: i64,
}

pub(crate) struct Store {
    pub key: [u8; 32],
    pub user_credentials_ttl_secs: i64,
    pub refresh_token_ttl_secs: i64,
    minted: Mutex<Vec<(String, Minted)>>,
    grants: Mutex<HashMap<String, Grant>>,
    secrets: Mutex<Vec<String>>,
    operations: [AtomicU64; OPERATIONS.len()],
    pub browser: Signin,
}

impl Default for Store {
    fn default() -> Store {
        let mut key = [0u8; 32];
        key.copy_from_slice(&random_bytes(32));
        Store {
            key,
            user_credentials_ttl_secs: 3600,
            refresh_token_ttl_secs: 28_800,
            minted: Mutex::default(),
            grants: Mutex::default(),
            secrets: Mutex::default(),
            operations: Default::default(),
            browser: Signin::default(),
        }
    }
}

impl Store {
    pub(crate) fn new(opts: &crate::FakeOptions) -> Store {
        Store {
            user_credentials_ttl_secs: opts.user_credentials_ttl_secs,
            refresh_token_ttl_secs: opts.refresh_token_ttl_secs,
            browser: Signin::new(opts),
            ..Store::default()
        }
    }

    pub(crate) fn mint(&self, expires: i64, subject: Option<&str>) -> (String, Minted) {
        let access_key_id = format!("ASIA{}", random_chars(UPPER_ALNUM, 16));
        let minted = Minted {
            secret_access_key: random_chars(BASE64_CHARS, 40),
            // 225 bytes are 300 base64 characters, without padding.
            session_token: crate::identity::b64_standard(&random_bytes(225)),
            expires,
            subject: subject.map(str::to_string),
        };
        lock(&self.minted).push((access_key_id.clone(), minted.clone()));
        (access_key_id, minted)
    }

    pub(crate) fn minted(&self, access_key_id: &str) -> Option<Minted> {
        let minted = lock(&self.minted);
        minted
            .iter()
            .find(|(id, _)| id == access_key_id)
            .map(|(_, m)| m.clone())
    }

    pub(crate) fn all_minted(&self) -> Vec<(String, String, String)> {
        let minted = lock(&self.minted);
        let each = |(id, m): &(String, Minted)| {
            (
                id.clone(),
                m.secret_access_key.clone(),
                m.session_token.clone(),
            )
        };
        minted.iter().map(each).collect()
    }

    pub(crate) fn new_refresh_token(&self, subject: &str, client_id: &str) -> String {
        let token = format!(
            "aorAAAAAG{}",
            crate::identity::jwt::b64url(&random_bytes(96))
        );
        let grant = Grant {
            subject: subject.to_string(),
            client_id: client_id.to_string(),
            expires: timefmt::now_epoch_secs().saturating_add(self.refresh_token_ttl_secs),
        };
        lock(&self.grants).insert(token.clone(), grant);
        token
    }

    pub(crate) fn refresh_grant(&self, token: &str) -> Option<Grant> {
        let mut grants = lock(&self.grants);
        let grant = grants.get(token)?.clone();
        if grant.expires <= timefmt::now_epoch_secs() {
            grants.remove(token);
            return None;
        }
        Some(grant)
    }

    pub(crate) fn record_secret(&self, secret: &str) {
        lock(&self.secrets).push(secret.to_string());
    }

    pub(crate) fn secrets(&self) -> Vec<String> {
        lock(&self.secrets).clone()
    }

    pub(crate) fn count(&self, operation: &str) {
        if let Some(i) = OPERATIONS.iter().position(|(_, o)| *o == operation) {
            self.operations[i].fetch_add(1, Ordering::SeqCst);
        }
    }

    pub(crate) fn operations(&self, operation: &str) -> u64 {
        OPERATIONS
            .iter()
            .position(|(_, o)| *o == operation)
            .map_or(0, |i| self.operations[i].load(Ordering::SeqCst))
    }

    pub(crate) fn reset_counters(&self) {
        for counter in &self.operations {
            counter.store(0, Ordering::SeqCst);
        }
    }
}
