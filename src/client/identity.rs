//! Whose credentials a call is signed with: the client's own (resolved
//! from its settings or the AWS chain into a snapshot, again when stale),
//! or a user's, from a web token; and the SDK clients of the process.

use super::{Call, Client, Who, REGIONAL};
use crate::aws;
use crate::clock::{monotonic_ms, Deadline};
use crate::error::Error;
use crate::fork;
use crate::places::check_endpoint;
use crate::runtime;
use crate::snapshot::{EnvCredentials, Keep, Snapshot};
use crate::status::Status;
use crate::token::Api;
use crate::users::{self, Exchange};
use std::sync::{Arc, Mutex};

impl Client {
    /// Who signs the calls made without a web token: the web token file's
    /// user (as the file reads now) when the client has one, else the
    /// client.
    pub(super) fn default_who(&self) -> Result<Who, Error> {
        let file = self
            .settings
            .user
            .as_ref()
            .and_then(|u| u.web_token_file.as_deref());
        match file {
            Some(path) => Ok(Who::User(users::web_token_from_file(self.id, path)?)),
            None => Ok(Who::Client),
        }
    }

    /// The credentials `call` is signed with: the client's, resolved again
    /// when stale, or its user's, made by an exchange when none is kept.
    pub(super) fn signer(&self, call: &Call) -> Result<Arc<Snapshot>, Error> {
        let web_token = match &call.who {
            Who::Client => return self.snapshot(&call.deadline),
            Who::User(web_token) => web_token,
        };
        if let Some(session) = users::fresh_session(self.id, web_token) {
            return Ok(Arc::clone(session.snapshot()));
        }
        let settings = self.settings.user.as_ref().ok_or_else(no_user_settings)?;
        let own_identity = || Ok(self.snapshot(&call.deadline)?.identity().clone());
        let exchange = Exchange {
            service: self.service(&call.deadline)?,
            settings,
            own_identity: &own_identity,
            deadline: &call.deadline,
        };
        let flight_settings = self.flight_settings()?;
        let session = users::session(self.id, web_token, &exchange, flight_settings)?;
        Ok(Arc::clone(session.snapshot()))
    }

    pub(super) fn fresh_snapshot(&self) -> Option<Arc<Snapshot>> {
        self.snapshot
            .load_full()
            .filter(|snapshot| snapshot.is_fresh())
    }

    /// The identity of this client's snapshot, or of a client it made for
    /// the region of a host name, if one was resolved.
    pub(super) fn resolved_identity(&self) -> Option<aws::Identity> {
        if let Some(snapshot) = self.snapshot.load().as_ref() {
            return Some(snapshot.identity().clone());
        }
        let id = self.id;
        REGIONAL
            .find(|key, client| key.handle == id && client.snapshot.load().is_some())
            .and_then(|client| client.resolved_identity())
    }

    /// The current identity snapshot, resolved again when stale.
    pub(super) fn snapshot(&self, deadline: &Deadline) -> Result<Arc<Snapshot>, Error> {
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
    pub(crate) fn service(&self, deadline: &Deadline) -> Result<&Arc<aws::Service>, Error> {
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
