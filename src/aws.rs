//! The AWS layer: builds SDK clients, makes the API calls, and maps SDK
//! errors onto statuses. No other module sees an AWS SDK type.

use crate::cache::Flavour;
use crate::error::Error;
use crate::settings::Settings;
use crate::status::Status;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use aws_sdk_redshift::config::http::HttpResponse;
use aws_sdk_redshift::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_redshift::operation::RequestId;
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore};
use aws_smithy_http_client::{Builder as HttpClientBuilder, Connector};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::{
    RuntimeComponents, RuntimeComponentsBuilder,
};
use aws_smithy_runtime_api::shared::IntoShared;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::ConfigBag;
use std::time::SystemTime;
use zeroize::Zeroizing;

/// Names of the two operations, used in messages.
const CLUSTER_OPERATION: &str = "GetIdentityCenterAuthToken";
const SERVERLESS_OPERATION: &str = "RedshiftServerless.GetIdentityCenterAuthToken";

/// The SDK clients of one [`crate::Client`] in one process.
pub(crate) struct Service {
    redshift: aws_sdk_redshift::Client,
    serverless: aws_sdk_redshiftserverless::Client,
    credentials: Option<SharedCredentialsProvider>,
    cluster_endpoint: String,
    serverless_endpoint: String,
    region: String,
}

impl Service {
    /// The endpoint URL the API of `flavour` is called at; `default` when
    /// the SDK derives it from the region.
    pub(crate) fn endpoint(&self, flavour: Flavour) -> &str {
        match flavour {
            Flavour::Cluster => &self.cluster_endpoint,
            Flavour::Serverless => &self.serverless_endpoint,
        }
    }

    /// The region and endpoint of `flavour`, as one string (part of the
    /// cache key).
    pub(crate) fn scope(&self, flavour: Flavour) -> String {
        format!("{} {}", self.region, self.endpoint(flavour))
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
}

/// What a success answer carried, before the core checks it.
pub(crate) struct Answer {
    pub token: Option<Zeroizing<String>>,
    /// Expiry in Unix seconds.
    pub expires_at: Option<i64>,
    pub request_id: Option<String>,
}

impl Answer {
    /// The parts of either API's output; the token is wiped when dropped.
    fn new(
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
}

/// Builds the SDK clients from `settings` and the AWS environment.
pub(crate) async fn connect(settings: &Settings) -> Result<Service, Error> {
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(settings.connect_timeout)
        .operation_timeout(settings.timeout)
        .build();
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(timeouts)
        .http_client(http_client(settings)?);
    if let Some(region) = &settings.region {
        loader = loader.region(Region::new(region.clone()));
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
    // The same order of precedence as the SDK's: an explicit URL, the
    // service's own variable, then the general one (environment or profile).
    let endpoint = |service_variable: &str| {
        settings
            .endpoint_url
            .clone()
            .or_else(|| std::env::var(service_variable).ok())
            .or_else(|| config.endpoint_url().map(str::to_owned))
            .unwrap_or_else(|| "default".into())
    };
    Ok(Service {
        region: region.to_string(),
        cluster_endpoint: endpoint("AWS_ENDPOINT_URL_REDSHIFT"),
        serverless_endpoint: endpoint("AWS_ENDPOINT_URL_REDSHIFT_SERVERLESS"),
        credentials: config.credentials_provider(),
        redshift: aws_sdk_redshift::Client::new(&config),
        serverless: aws_sdk_redshiftserverless::Client::new(&config),
    })
}

/// The HTTP client: rustls with the system's roots plus any extra CA
/// certificates, and the proxy of the settings or of the environment.
fn http_client(settings: &Settings) -> Result<SharedHttpClient, Error> {
    let mut trust = TrustStore::default();
    if let Some(pem) = &settings.ca_bundle {
        trust = trust.with_pem_certificate(pem.clone());
    }
    let tls = TlsContext::builder()
        .with_trust_store(trust)
        .build()
        .map_err(|e| Error::invalid(format!("the CA certificates cannot be used: {e}")))?;
    let proxy = match &settings.proxy {
        Some(url) => {
            let proxy = ProxyConfig::all(url.as_str())
                .map_err(|e| Error::invalid(format!("proxy: {e}")))?;
            match &settings.no_proxy {
                Some(rules) => proxy.no_proxy(rules),
                None => proxy,
            }
        }
        None => ProxyConfig::disabled(),
    };
    let client =
        HttpClientBuilder::new().build_with_connector_fn(move |connector_settings, components| {
            let mut connector = Connector::builder();
            connector.set_connector_settings(connector_settings.cloned());
            if let Some(components) = components {
                connector.set_sleep_impl(components.sleep_impl());
            }
            connector
                .proxy_config(proxy.clone())
                .tls_provider(tls::Provider::Rustls(
                    tls::rustls_provider::CryptoMode::AwsLc,
                ))
                .tls_context(tls.clone())
                .build()
        });
    Ok(SizeLimitedClient(client).into_shared())
}

/// The largest answer read: real answers are a few kilobytes, and a
/// broken or hostile endpoint must not make the library hold megabytes.
const MAX_ANSWER_BYTES: usize = 1 << 20;

/// An HTTP client whose answers stop being read past [`MAX_ANSWER_BYTES`];
/// a longer one fails as an unreadable answer.
#[derive(Debug)]
struct SizeLimitedClient(SharedHttpClient);

impl HttpClient for SizeLimitedClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SizeLimitedConnector(self.0.http_connector(settings, components)).into_shared()
    }

    fn validate_base_client_config(
        &self,
        components: &RuntimeComponentsBuilder,
        cfg: &ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.validate_base_client_config(components, cfg)
    }

    fn validate_final_config(
        &self,
        components: &RuntimeComponents,
        cfg: &ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.validate_final_config(components, cfg)
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        self.0.connector_metadata()
    }
}

#[derive(Debug)]
struct SizeLimitedConnector(SharedHttpConnector);

impl HttpConnector for SizeLimitedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let answer = self.0.call(request);
        HttpConnectorFuture::new(async move {
            let mut response = answer.await?;
            let body = std::mem::replace(response.body_mut(), SdkBody::taken());
            *response.body_mut() =
                SdkBody::from_body_1_x(http_body_util::Limited::new(body, MAX_ANSWER_BYTES));
            Ok(response)
        })
    }
}

/// Resolves the credentials the next calls will be signed with.
pub(crate) async fn resolve_identity(service: &Service) -> Result<Identity, Error> {
    let provider = service.credentials.as_ref().ok_or_else(|| {
        Error::new(
            Status::NoCredentials,
            "no AWS credentials provider is configured",
        )
    })?;
    let credentials = provider.provide_credentials().await.map_err(|err| {
        Error::new(
            Status::NoCredentials,
            format!(
                "no AWS credentials could be resolved: {}",
                DisplayErrorContext(&err)
            ),
        )
    })?;
    Ok(Identity { credentials })
}

/// Calls GetIdentityCenterAuthToken of `flavour` for `ids` (cluster
/// identifiers or workgroup names), signed with exactly the credentials of
/// `identity`.
pub(crate) async fn get_token(
    service: &Service,
    flavour: Flavour,
    identity: &Identity,
    ids: Vec<String>,
) -> Result<Answer, Error> {
    match flavour {
        Flavour::Cluster => cluster_token(service, identity, ids).await,
        Flavour::Serverless => serverless_token(service, identity, ids).await,
    }
}

async fn cluster_token(
    service: &Service,
    identity: &Identity,
    cluster_ids: Vec<String>,
) -> Result<Answer, Error> {
    let output = service
        .redshift
        .get_identity_center_auth_token()
        .set_cluster_ids(Some(cluster_ids))
        .customize()
        .config_override(
            aws_sdk_redshift::Config::builder().credentials_provider(identity.credentials.clone()),
        )
        .send()
        .await
        .map_err(|err| map_sdk_error(CLUSTER_OPERATION, err))?;
    let request_id = output.request_id().map(str::to_owned);
    Ok(Answer::new(
        output.token,
        output.expiration_time,
        request_id,
    ))
}

async fn serverless_token(
    service: &Service,
    identity: &Identity,
    workgroups: Vec<String>,
) -> Result<Answer, Error> {
    let output = service
        .serverless
        .get_identity_center_auth_token()
        .set_workgroup_names(Some(workgroups))
        .customize()
        .config_override(
            aws_sdk_redshiftserverless::Config::builder()
                .credentials_provider(identity.credentials.clone()),
        )
        .send()
        .await
        .map_err(|err| map_sdk_error(SERVERLESS_OPERATION, err))?;
    let request_id = output.request_id().map(str::to_owned);
    Ok(Answer::new(
        output.token,
        output.expiration_time,
        request_id,
    ))
}

/// Maps any SDK error onto a status and a message that carries the AWS
/// error code and request id, and nothing secret.
pub(crate) fn map_sdk_error<E>(operation: &str, err: SdkError<E, HttpResponse>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    if let Some(creds) = find_source::<CredentialsError>(&err) {
        return Error::new(
            Status::NoCredentials,
            format!(
                "no AWS credentials could be resolved: {}",
                DisplayErrorContext(creds)
            ),
        );
    }
    let request_id = err
        .request_id()
        .map(|id| format!(" (request id {id})"))
        .unwrap_or_default();
    match &err {
        // A 2xx answer that the SDK could not parse surfaces as a service
        // error without a code: it is a bad answer, not a service failure.
        SdkError::ServiceError(service) if service.raw().status().is_success() => Error::new(
            Status::BadResponse,
            format!("{operation}: the success answer could not be parsed{request_id}"),
        ),
        SdkError::ServiceError(service) => {
            let inner = service.err();
            let code = inner.code().unwrap_or("no error code");
            let message = inner.message().unwrap_or("no message");
            Error::new(
                status_for_code(inner.code()),
                format!("{operation} failed: {code}: {message}{request_id}"),
            )
        }
        SdkError::TimeoutError(_) => Error::new(
            Status::Timeout,
            format!("{operation} did not finish within its time bound{request_id}"),
        ),
        SdkError::DispatchFailure(failure) if failure.is_timeout() => Error::new(
            Status::Timeout,
            format!(
                "{operation}: the connection timed out: {}",
                DisplayErrorContext(&err)
            ),
        ),
        SdkError::DispatchFailure(_) => Error::new(
            Status::Network,
            format!(
                "{operation}: the endpoint could not be reached: {}",
                DisplayErrorContext(&err)
            ),
        ),
        SdkError::ResponseError(_) => Error::new(
            Status::BadResponse,
            format!(
                "{operation}: the answer could not be read{request_id}: {}",
                DisplayErrorContext(&err)
            ),
        ),
        SdkError::ConstructionFailure(_) => Error::invalid(format!(
            "{operation}: the request could not be built: {}",
            DisplayErrorContext(&err)
        )),
        _ => Error::new(
            Status::Service,
            format!(
                "{operation} failed: {}{request_id}",
                DisplayErrorContext(&err)
            ),
        ),
    }
}

/// The status of a service error code. One table for both APIs.
pub(crate) fn status_for_code(code: Option<&str>) -> Status {
    match code.unwrap_or("") {
        "ClusterNotFound" | "ResourceNotFoundException" => Status::NotFound,
        "InvalidClusterState" | "ConflictException" => Status::InvalidState,
        "UnsupportedOperation" | "UnsupportedOperationException" => Status::Unsupported,
        "RedshiftInvalidParameter"
        | "ValidationException"
        | "InvalidParameterValue"
        | "InvalidParameterCombination"
        | "MissingParameter" => Status::InvalidArgument,
        "AccessDenied"
        | "AccessDeniedException"
        | "InvalidClientTokenId"
        | "SignatureDoesNotMatch"
        | "InvalidSignatureException"
        | "IncompleteSignature"
        | "MissingAuthenticationToken"
        | "ExpiredToken"
        | "ExpiredTokenException"
        | "UnrecognizedClient"
        | "UnrecognizedClientException"
        | "AuthFailure" => Status::Denied,
        "Throttling"
        | "ThrottlingException"
        | "ThrottledException"
        | "RequestThrottled"
        | "RequestThrottledException"
        | "TooManyRequestsException"
        | "RequestLimitExceeded"
        | "SlowDown" => Status::Throttled,
        _ => Status::Service,
    }
}

/// The first error of type `T` in the source chain of `err`.
fn find_source<'a, T: std::error::Error + 'static>(
    err: &'a (dyn std::error::Error + 'static),
) -> Option<&'a T> {
    let mut current = Some(err);
    while let Some(e) = current {
        if let Some(found) = e.downcast_ref::<T>() {
            return Some(found);
        }
        current = e.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_codes_map_onto_the_documented_statuses() {
        let cases = [
            ("ClusterNotFound", Status::NotFound),
            ("ResourceNotFoundException", Status::NotFound),
            ("InvalidClusterState", Status::InvalidState),
            ("ConflictException", Status::InvalidState),
            ("UnsupportedOperation", Status::Unsupported),
            ("RedshiftInvalidParameter", Status::InvalidArgument),
            ("ValidationException", Status::InvalidArgument),
            ("AccessDenied", Status::Denied),
            ("AccessDeniedException", Status::Denied),
            ("InvalidClientTokenId", Status::Denied),
            ("SignatureDoesNotMatch", Status::Denied),
            ("ExpiredToken", Status::Denied),
            ("UnrecognizedClientException", Status::Denied),
            ("Throttling", Status::Throttled),
            ("ThrottlingException", Status::Throttled),
            ("InternalFailure", Status::Service),
            ("SomethingUnexpected", Status::Service),
        ];
        for (code, status) in cases {
            assert_eq!(status_for_code(Some(code)), status, "{code}");
        }
        assert_eq!(status_for_code(None), Status::Service);
    }

    #[test]
    fn finds_a_credentials_error_deep_in_a_chain() {
        #[derive(Debug)]
        struct Outer(CredentialsError);
        impl std::fmt::Display for Outer {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("outer")
            }
        }
        impl std::error::Error for Outer {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let err = Outer(CredentialsError::not_loaded("nothing in the chain"));
        assert!(find_source::<CredentialsError>(&err).is_some());
        assert!(find_source::<std::io::Error>(&err).is_none());
    }
}
