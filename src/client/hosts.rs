//! Host names: a Redshift host's cluster or workgroup (with clients kept
//! for the regions host names name), or a custom domain's.

use super::Client;
use crate::domains;
use crate::error::Error;
use crate::fork;
use crate::hosts::{self, Host};
use crate::ids::IdSet;
use crate::settings::Settings;
use crate::token::Token;
use std::sync::Arc;
use std::time::Instant;

/// The most clients kept for the regions of host names; the least recently
/// used one is dropped beyond it, so memory stays flat however many
/// regions host names name.
pub(super) const MAX_REGIONAL_CLIENTS: usize = 8;

impl Client {
    /// As [`Client::get_token_for_host`], handing the token to `read`.
    pub(crate) fn read_host_token<R>(
        &self,
        host: &[u8],
        read: impl FnOnce(&Token) -> R,
    ) -> Result<R, Error> {
        let target = match hosts::classify_host(host)? {
            Host::Aws(target) => target,
            Host::Custom(domain) => return self.read_custom_domain_token(&domain, read),
        };
        let ids = IdSet::one(&target.name);
        if self.settings.region.is_some() {
            return self.read_token(target.api, &ids, &self.default_caller(), read);
        }
        let regional = self.regional(&target.region);
        regional.read_token(target.api, &ids, &regional.default_caller(), read)
    }

    /// The token for the cluster or workgroup that the custom domain name
    /// `domain` maps to in this client's region (see [`crate::domains`]).
    pub(super) fn read_custom_domain_token<R>(
        &self,
        domain: &str,
        read: impl FnOnce(&Token) -> R,
    ) -> Result<R, Error> {
        let caller = self.default_caller();
        let deadline = Instant::now() + self.settings.timeout;
        let snapshot = self.caller_snapshot(&caller, deadline)?;
        let target = domains::resolve(&snapshot, self.service(deadline)?, domain, deadline)?;
        self.read_token(target.api, &IdSet::one(&target.name), &caller, read)
    }

    /// A client like this one, for `region`; at most
    /// [`MAX_REGIONAL_CLIENTS`] are kept.
    pub(super) fn regional(&self, region: &str) -> Arc<Client> {
        let mut clients = fork::lock(&self.regional);
        let client = match clients.iter().position(|(name, _)| name == region) {
            Some(at) => clients.remove(at).1,
            None => Arc::new(Client::new(Settings {
                region: Some(region.to_owned()),
                ..self.settings.clone()
            })),
        };
        clients.insert(0, (region.to_owned(), Arc::clone(&client)));
        // The dropped client goes once no call uses it; its cached tokens
        // stay in the cache until they are due.
        clients.truncate(MAX_REGIONAL_CLIENTS);
        client
    }

    /// How many regional clients are kept (for tests).
    #[cfg(test)]
    pub(super) fn regional_count(&self) -> usize {
        fork::lock(&self.regional).len()
    }
}
