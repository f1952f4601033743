//! Whose credentials a client's calls are signed with: its own (resolved
//! from its settings or the AWS chain into a snapshot, again when stale),
//! or a user's, from a web token; and the SDK clients of the process.

use super::Client;
use crate::aws;
use crate::error::Error;
use crate::fork;
use crate::runtime;
use crate::snapshot::{monotonic_ms, EnvCredentials, Keep, Snapshot};
use crate::status::Status;
use crate::token::Api;
use crate::users::{Exchange, UserSession, UserSessions, WebTokenSource};
use crate::values::check_endpoint;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Whose credentials sign a call.
pub(super) enum Caller<'a> {
    /// The client's own.
    Client,
    /// A user's, from a web token.
    User(WebTokenSource<'a>),
}

impl Client {
    /// Who signs the calls made without a web token: the web token file's
    /// user when the client has one, else the client.
    pub(super) fn default_caller(&self) -> Caller<'_> {
        match self
            .settings
            .user
            .as_ref()
            .and_then(|u| u.web_token_file.as_deref())
        {
            Some(path) => Caller::User(WebTokenSource::File(path)),
            None => Caller::Client,
        }
    }

    /// The credentials `caller`'s calls are signed with: resolved again
    /// when stale, or (for a user) made by an exchange.
    pub(super) fn caller_snapshot(
        &self,
        caller: &Caller<'_>,
        deadline: Instant,
    ) -> Result<Arc<Snapshot>, Error> {
        match caller {
            Caller::Client => self.snapshot(deadline),
            Caller::User(source) => {
                let key = UserSessions::key(source)?;
                let session = match self.users.fresh(&key, source) {
                    Some(session) => session,
                    None => self.user_session(&key, source, deadline)?,
                };
                Ok(Arc::clone(session.snapshot()))
            }
        }
    }

    /// The session of the user of `source`, made by an exchange when
    /// there is none fresh.
    pub(super) fn user_session(
        &self,
        key: &crate::keyed::Digest,
        source: &WebTokenSource<'_>,
        deadline: Instant,
    ) -> Result<Arc<UserSession>, Error> {
        let settings = self.settings.user.as_ref().ok_or_else(no_user_settings)?;
        let own_identity = || Ok(self.snapshot(deadline)?.identity().clone());
        let exchange = Exchange {
            service: self.service(deadline)?,
            settings,
            own_identity: &own_identity,
            deadline,
        };
        self.users.session(key, source, &exchange)
    }

    pub(super) fn fresh_snapshot(&self) -> Option<Arc<Snapshot>> {
        self.snapshot
            .load_full()
            .filter(|snapshot| snapshot.is_fresh())
    }

    /// The current identity snapshot, resolved again when stale.
    pub(super) fn snapshot(&self, deadline: Instant) -> Result<Arc<Snapshot>, Error> {
        if let Some(snapshot) = self.fresh_snapshot() {
            return Ok(snapshot);
        }
        let resolving = self.resolving.get_or_try_init(|| Ok(Mutex::new(())))?;
        let _one_at_a_time = fork::lock_ungated(resolving);
        if let Some(snapshot) = self.fresh_snapshot() {
            return Ok(snapshot);
        }
        let env_credentials = self
            .settings
            .credentials
            .is_none()
            .then(EnvCredentials::read);
        let resolved_at = monotonic_ms();
        let service = Arc::clone(self.service(deadline)?);
        let resolver = Arc::clone(&service);
        let identity = runtime::run(
            deadline,
            async move { aws::resolve_identity(&resolver).await },
        )?;
        let snapshot = Arc::new(Snapshot::new(
            &service,
            identity,
            env_credentials,
            resolved_at,
            Keep::Recheck,
        )?);
        self.snapshot.store(Some(Arc::clone(&snapshot)));
        Ok(snapshot)
    }

    /// The SDK clients of this process, built on first use. The HTTP
    /// client (and its TLS set-up) is built here, on the calling thread.
    /// Endpoints from the environment or a profile pass the same
    /// plain-http check as an explicit one.
    pub(crate) fn service(&self, deadline: Instant) -> Result<&Arc<aws::Service>, Error> {
        self.service.get_or_try_init(|| {
            let settings = self.settings.clone();
            let http = aws::http::http_client(&settings)?;
            let service =
                runtime::run(deadline, async move { aws::connect(&settings, http).await })?;
            for api in [Api::Provisioned, Api::Serverless] {
                if let Some(endpoint) = service.endpoint(api) {
                    check_endpoint("endpoint", endpoint, self.settings.allow_http)?;
                }
            }
            if self.settings.user.is_some() {
                for (name, endpoint) in service.exchange_endpoints() {
                    if let Some(endpoint) = endpoint {
                        check_endpoint(name, endpoint, self.settings.allow_http)?;
                    }
                }
            }
            Ok(service)
        })
    }
}

pub(super) fn no_user_settings() -> Error {
    Error::new(
        Status::InvalidArgument,
        "per-user tokens need the options idc_application_arn and access_role_arn \
         on this handle",
    )
}
