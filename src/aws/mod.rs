//! The AWS layer: builds SDK clients, makes the API calls, and maps SDK
//! errors onto statuses. No other module sees an AWS SDK type.

mod errors;
pub(crate) mod http;
pub(crate) mod propagation;
mod roots;
pub(crate) mod signin;

use crate::error::Error;
use crate::fork;
use crate::keyed::KeyedHash;
use crate::settings::Settings;
use crate::status::Status;
use crate::token::{Answer, Api};
use aws_config::retry::RetryConfig;
use aws_config::stalled_stream_protection::StalledStreamProtectionConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, FrameworkMetadata, Region, SdkConfig};
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use aws_sdk_redshift::operation::RequestId;
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use aws_types::service_config::ServiceConfigKey;
use errors::{describe, map_sdk_error};
use std::sync::{Arc, OnceLock};
use std::time::SystemTime;
use zeroize::Zeroizing;

/// Names of the two operations, used in messages.
const CLUSTER_OPERATION: &str = "GetIdentityCenterAuthToken";
const SERVERLESS_OPERATION: &str = "RedshiftServerless.GetIdentityCenterAuthToken";

/// The SDK configuration of one [`crate::Client`] in one process, and
/// the SDK clients made from it.
pub(crate) struct Service {
    config: SdkConfig,
    /// The per-user exchange's clients, each made at its first use (see
    /// [`Caller`]).
    sts: OnceLock<aws_sdk_sts::Client>,
    oidc: OnceLock<aws_sdk_ssooidc::Client>,
    cluster_endpoint: Option<String>,
    serverless_endpoint: Option<String>,
    sts_endpoint: Option<String>,
    oidc_endpoint: Option<String>,
    region: String,
}

impl Service {
    /// The AWS STS client, for per-user tokens.
    pub(crate) fn sts(&self) -> &aws_sdk_sts::Client {
        fork::once(&self.sts, || aws_sdk_sts::Client::new(&self.config))
    }

    /// The SSO-OIDC client, for per-user tokens and sign-in.
    pub(crate) fn oidc(&self) -> &aws_sdk_ssooidc::Client {
        fork::once(&self.oidc, || aws_sdk_ssooidc::Client::new(&self.config))
    }

    /// This configuration, signing with exactly `signer`'s credentials.
    fn signed_by(&self, signer: &Identity) -> SdkConfig {
        self.config
            .to_builder()
            .credentials_provider(SharedCredentialsProvider::new(signer.credentials.clone()))
            .build()
    }

    /// An STS client of this configuration that signs with `signer`'s
    /// credentials.
    pub(crate) fn sts_signed_by(&self, signer: &Identity) -> aws_sdk_sts::Client {
        aws_sdk_sts::Client::new(&self.signed_by(signer))
    }

    /// An SSO-OIDC client of this configuration that signs with
    /// `signer`'s credentials.
    pub(crate) fn oidc_signed_by(&self, signer: &Identity) -> aws_sdk_ssooidc::Client {
        aws_sdk_ssooidc::Client::new(&self.signed_by(signer))
    }

    /// An SSO-OIDC client of this configuration in `region`.
    pub(crate) fn oidc_in(&self, region: &str) -> aws_sdk_ssooidc::Client {
        let config = self
            .config
            .to_builder()
            .region(Region::new(region.to_owned()))
            .build();
        aws_sdk_ssooidc::Client::new(&config)
    }

    /// The endpoint URL the API of `api` is called at; `None` when the SDK
    /// derives it from the region.
    pub(crate) fn endpoint(&self, api: Api) -> Option<&str> {
        match api {
            Api::Provisioned => self.cluster_endpoint.as_deref(),
            Api::Serverless => self.serverless_endpoint.as_deref(),
        }
    }

    /// The endpoint URLs configured for AWS STS and SSO-OIDC, which
    /// per-user tokens call; `None` where the SDK derives them.
    pub(crate) fn exchange_endpoints(&self) -> [(&'static str, Option<&str>); 2] {
        [
            ("the AWS STS endpoint", self.sts_endpoint.as_deref()),
            ("the SSO-OIDC endpoint", self.oidc_endpoint.as_deref()),
        ]
    }

    /// The base URL of the SSO-OIDC endpoint in `region` (the handle's
    /// when `None`): the configured endpoint, else AWS's for the region.
    pub(crate) fn oidc_base_url(&self, region: Option<&str>) -> String {
        if let Some(endpoint) = &self.oidc_endpoint {
            return endpoint.trim_end_matches('/').to_owned();
        }
        let region = region.unwrap_or(&self.region);
        let domain = if region.starts_with("cn-") {
            "amazonaws.com.cn"
        } else {
            "amazonaws.com"
        };
        format!("https://oidc.{region}.{domain}")
    }

    /// The region the calls go to.
    pub(crate) fn region(&self) -> &str {
        &self.region
    }
}

/// Credentials resolved for one or more calls.
#[derive(Clone)]
pub(crate) struct Identity {
    credentials: Credentials,
}

impl Identity {
    /// The access key id, which names the identity.
    pub(crate) fn access_key_id(&self) -> &str {
        self.credentials.access_key_id()
    }

    /// Whether the credentials carry a session token.
    pub(crate) fn has_session_token(&self) -> bool {
        self.credentials.session_token().is_some()
    }

    /// When the credentials expire, if they do.
    pub(crate) fn expiry(&self) -> Option<SystemTime> {
        self.credentials.expiry()
    }

    /// Credentials made up for unit tests, expiring at `expiry`.
    #[cfg(test)]
    pub(crate) fn for_tests(access_key_id: &str, expiry: SystemTime) -> Identity {
        Identity {
            credentials: Credentials::new(
                access_key_id,
                "test-secret",
                Some("test-session".into()),
                Some(expiry),
                "rs-idc-tests",
            ),
        }
    }

    /// Adds the complete credentials (access key id, secret key and
    /// session token) to `hash`, so that a digest tells identities apart.
    pub(crate) fn bind(&self, hash: &mut KeyedHash) {
        hash.field(self.credentials.access_key_id().as_bytes())
            .field(self.credentials.secret_access_key().as_bytes())
            .optional(self.credentials.session_token().map(str::as_bytes));
    }
}

/// The parts of either API's output as an [`Answer`]; the token is wiped
/// when dropped.
fn answer(
    token: Option<String>,
    expiration: Option<aws_smithy_types::DateTime>,
    request_id: Option<String>,
) -> Answer {
    Answer {
        token: token.map(Zeroizing::new),
        expires_at: expiration.map(|t| t.secs()),
        request_id,
    }
}

/// Builds the SDK clients from `settings` and the AWS environment, with
/// `http` as their HTTP client (see [`http::http_client`]).
pub(crate) async fn connect(settings: &Settings, http: SharedHttpClient) -> Result<Service, Error> {
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(settings.connect_timeout)
        .operation_timeout(settings.timeout)
        .build();
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(timeouts)
        // Every call is bounded as a whole by its deadline (and the
        // operation timeout), and answers are a few kilobytes: watching
        // their throughput would only add a timer to every call.
        .stalled_stream_protection(StalledStreamProtectionConfig::disabled())
        .http_client(http);
    // The user agent names the library: lib/rs-idc/VERSION.
    if let Ok(library) = FrameworkMetadata::new("rs-idc", Some(env!("CARGO_PKG_VERSION"))) {
        loader = loader.framework_metadata(library);
    }
    if let Some(region) = &settings.region {
        loader = loader.region(Region::new(region.clone()));
    } else if let Some(idc_region) = &settings.browser.idc_region {
        // A handle made for the browser sign-in may name only the Identity
        // Center region: the environment's region, else that one.
        let chain = aws_config::meta::region::RegionProviderChain::default_provider()
            .or_else(Region::new(idc_region.clone()));
        loader = loader.region(chain);
    }
    if let Some(profile) = &settings.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(url) = &settings.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    if let Some(attempts) = settings.max_attempts {
        loader = loader.retry_config(RetryConfig::standard().with_max_attempts(attempts));
    }
    if let Some(creds) = &settings.credentials {
        loader = loader.credentials_provider(Credentials::new(
            creds.access_key_id.clone(),
            creds.secret_access_key.as_str(),
            creds.session_token.as_ref().map(|t| t.to_string()),
            None,
            "rs-idc",
        ));
    }
    let config = loader.load().await;
    let Some(region) = config.region() else {
        return Err(Error::new(
            Status::NoRegion,
            "no AWS region is configured: set AWS_REGION (or AWS_DEFAULT_REGION), \
             or a region in the AWS profile",
        ));
    };
    Ok(Service {
        region: region.to_string(),
        cluster_endpoint: service_endpoint(&config, "Redshift"),
        serverless_endpoint: service_endpoint(&config, "Redshift Serverless"),
        sts_endpoint: service_endpoint(&config, "STS"),
        oidc_endpoint: service_endpoint(&config, "SSO OIDC"),
        sts: OnceLock::new(),
        oidc: OnceLock::new(),
        config,
    })
}

/// The endpoint URL the SDK client of `service_id` will call, found the
/// way the SDK finds it: an explicit URL; else the service's own setting
/// (`AWS_ENDPOINT_URL_<SERVICE>` or the profile's `[services]` section);
/// else the general one (`AWS_ENDPOINT_URL` or the profile's
/// `endpoint_url`), none of them when `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS`
/// says so. `None`: derived from the region.
fn service_endpoint(config: &SdkConfig, service_id: &str) -> Option<String> {
    if config.get_origin("endpoint_url").is_client_config() {
        return config.endpoint_url().map(str::to_owned);
    }
    let key = ServiceConfigKey::builder()
        .service_id(service_id)
        .env("AWS_ENDPOINT_URL")
        .profile("endpoint_url")
        .build()
        .ok()?;
    config
        .service_config()
        .and_then(|services| services.load_config(key))
        .or_else(|| config.endpoint_url().map(str::to_owned))
}

/// Resolves the credentials the next calls will be signed with.
pub(crate) async fn resolve_identity(service: &Service) -> Result<Identity, Error> {
    let provider = service.config.credentials_provider().ok_or_else(|| {
        Error::new(
            Status::NoCredentials,
            "no AWS credentials provider is configured",
        )
    })?;
    let credentials = provider.provide_credentials().await.map_err(|err| {
        Error::new(
            Status::NoCredentials,
            format!("no AWS credentials could be resolved: {}", describe(&err)),
        )
    })?;
    Ok(Identity { credentials })
}

/// SDK clients that sign every call with one identity's credentials.
/// Made once per identity snapshot (and process), so that a call adds no
/// configuration of its own; each client is made at its first use: most
/// processes call one API, and making a client costs a cold start more
/// than its call.
pub(crate) struct Caller {
    config: SdkConfig,
    redshift: OnceLock<aws_sdk_redshift::Client>,
    serverless: OnceLock<aws_sdk_redshiftserverless::Client>,
}

impl Caller {
    /// Clients like those of `service`, signing with exactly `identity`.
    pub(crate) fn new(service: &Service, identity: &Identity) -> Caller {
        Caller {
            config: service.signed_by(identity),
            redshift: OnceLock::new(),
            serverless: OnceLock::new(),
        }
    }

    fn redshift(&self) -> &aws_sdk_redshift::Client {
        fork::once(&self.redshift, || {
            aws_sdk_redshift::Client::new(&self.config)
        })
    }

    fn serverless(&self) -> &aws_sdk_redshiftserverless::Client {
        fork::once(&self.serverless, || {
            aws_sdk_redshiftserverless::Client::new(&self.config)
        })
    }
}

/// Calls GetIdentityCenterAuthToken of `api` for `ids` (cluster
/// identifiers or workgroup names), signed with the caller's identity.
pub(crate) async fn get_token(
    caller: Arc<Caller>,
    api: Api,
    ids: Vec<String>,
) -> Result<Answer, Error> {
    match api {
        Api::Provisioned => {
            let output = caller
                .redshift()
                .get_identity_center_auth_token()
                .set_cluster_ids(Some(ids))
                .send()
                .await
                .map_err(|err| map_sdk_error(CLUSTER_OPERATION, err))?;
            let request_id = output.request_id().map(str::to_owned);
            Ok(answer(output.token, output.expiration_time, request_id))
        }
        Api::Serverless => {
            let output = caller
                .serverless()
                .get_identity_center_auth_token()
                .set_workgroup_names(Some(ids))
                .send()
                .await
                .map_err(|err| map_sdk_error(SERVERLESS_OPERATION, err))?;
            let request_id = output.request_id().map(str::to_owned);
            Ok(answer(output.token, output.expiration_time, request_id))
        }
    }
}

/// What a custom domain name maps to: Redshift
/// DescribeCustomDomainAssociations (a cluster), then Redshift Serverless
/// ListCustomDomainAssociations (a workgroup), signed with the caller's
/// identity. `None` when neither knows the name.
pub(crate) async fn find_custom_domain(
    caller: Arc<Caller>,
    domain: String,
) -> Result<Option<(Api, String)>, Error> {
    use aws_sdk_redshift::operation::describe_custom_domain_associations::DescribeCustomDomainAssociationsError as Describe;
    let same = |name: Option<&str>| name.is_some_and(|name| name.eq_ignore_ascii_case(&domain));
    match caller
        .redshift()
        .describe_custom_domain_associations()
        .custom_domain_name(&domain)
        .send()
        .await
    {
        Ok(output) => {
            let cluster = output
                .associations()
                .iter()
                .flat_map(|association| association.certificate_associations())
                .find(|association| same(association.custom_domain_name()))
                .and_then(|association| association.cluster_identifier());
            if let Some(cluster) = cluster {
                return Ok(Some((Api::Provisioned, cluster.to_owned())));
            }
        }
        Err(aws_sdk_redshift::error::SdkError::ServiceError(service))
            if matches!(
                service.err(),
                Describe::CustomDomainAssociationNotFoundFault(_)
            ) => {}
        Err(err) => return Err(map_sdk_error("DescribeCustomDomainAssociations", err)),
    }
    let output = caller
        .serverless()
        .list_custom_domain_associations()
        .custom_domain_name(&domain)
        .send()
        .await
        .map_err(|err| map_sdk_error("RedshiftServerless.ListCustomDomainAssociations", err))?;
    Ok(output
        .associations()
        .iter()
        .find(|association| same(association.custom_domain_name()))
        .and_then(|association| association.workgroup_name())
        .map(|workgroup| (Api::Serverless, workgroup.to_owned())))
}
