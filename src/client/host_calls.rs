//! Host names: a Redshift host's cluster or workgroup (with clients kept
//! for the regions host names name), or a custom domain's. A host call
//! is one call: the look-ups it needs spend its deadline.

use super::{Call, Client};
use crate::clock::Deadline;
use crate::domains;
use crate::error::Error;
use crate::hosts::{self, Host};
use crate::ids::IdSet;
use crate::kept::{Due, HandleId, Kept};
use crate::settings::Settings;
use crate::token::Token;
use std::sync::{Arc, LazyLock};

/// The clients made for the regions of host names, when a client has no
/// region of its own: at most 32 in the process, so memory stays flat
/// however many regions host names name.
pub(crate) static REGIONAL: LazyLock<Kept<RegionalKey, Arc<Client>>> =
    LazyLock::new(|| Kept::new("regional clients", 2, 16));

/// A regional client: whose, and for which region.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct RegionalKey {
    pub(super) handle: HandleId,
    region: String,
}

impl Client {
    /// As [`Client::get_token_for_host`], handing the token to `read`.
    pub(crate) fn read_host_token<R>(
        &self,
        host: &[u8],
        read: impl FnOnce(&Token) -> R,
    ) -> Result<R, Error> {
        let host = hosts::classify_host(host)?;
        let call = Call {
            who: self.default_who()?,
            deadline: self.deadline(),
        };
        let target = match host {
            Host::Aws(target) => target,
            Host::Custom(domain) => return self.read_custom_domain_token(&domain, &call, read),
        };
        let ids = IdSet::one(&target.name);
        if self.settings.region.is_some() {
            return self.answer(target.api, &ids, &call, read);
        }
        let regional = self.regional(&target.region, &call.deadline)?;
        regional.answer(target.api, &ids, &call, read)
    }

    /// The token for the cluster or workgroup that the custom domain name
    /// `domain` maps to in this client's region (see [`crate::domains`]).
    fn read_custom_domain_token<R>(
        &self,
        domain: &str,
        call: &Call,
        read: impl FnOnce(&Token) -> R,
    ) -> Result<R, Error> {
        let snapshot = self.signer(call)?;
        let service = self.service(&call.deadline)?;
        let settings = self.flight_settings()?;
        let target = domains::resolve(&snapshot, service, domain, settings, &call.deadline)?;
        self.answer(target.api, &IdSet::one(&target.name), call, read)
    }

    /// A client like this one, for `region`, kept in [`REGIONAL`].
    fn regional(&self, region: &str, deadline: &Deadline) -> Result<Arc<Client>, Error> {
        let key = RegionalKey {
            handle: self.id,
            region: region.to_owned(),
        };
        REGIONAL.fly(
            &key,
            self.flight_settings()?,
            deadline,
            |_| true,
            |_| {
                let client = Client::new(Settings {
                    region: Some(region.to_owned()),
                    ..self.settings.clone()
                });
                Ok((Arc::new(client), Due::FOREVER))
            },
        )
    }
}
