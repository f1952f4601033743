//! The HTTP client of every SDK call: rustls with the system's roots plus
//! any extra CA certificates, a proxy per scheme, and a bound on answers.
//!
//! Each request is routed by its destination: loopback and link-local
//! destinations (this machine, the instance and container credential
//! endpoints) always connect directly; `https://` destinations go through
//! the HTTPS proxy and plain `http://` ones through the HTTP proxy, unless
//! `no_proxy` names them.

use super::roots;
use crate::error::Error;
use crate::fork;
use crate::places::is_local_host;
use crate::settings::Settings;
use aws_smithy_async::rt::sleep::{default_async_sleep, SharedAsyncSleep};
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore};
use aws_smithy_http_client::Connector;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::shared::IntoShared;
use aws_smithy_types::body::SdkBody;
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;

/// The largest answer read: real answers are a few kilobytes, and a
/// broken or hostile endpoint must not make the library hold megabytes.
const MAX_ANSWER_BYTES: usize = 1 << 20;

/// The most idle connections kept per destination and route: enough for
/// the calls that run at once on the callers' threads and the pool's, and
/// a bound however many calls ran at once before.
pub(crate) const MAX_IDLE_CONNECTIONS: usize = 4;

/// Where one request goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    /// Straight to the destination.
    Direct,
    /// Through the proxy for `https://` calls, if there is one.
    HttpsProxy,
    /// Through the proxy for plain `http://` calls, if there is one.
    HttpProxy,
}

/// The route of a request to `scheme://host`.
pub(crate) fn route(scheme: Option<&str>, host: Option<&str>) -> Route {
    match (scheme, host) {
        (_, Some(host)) if is_local_host(host) => Route::Direct,
        (Some(scheme), Some(_)) if scheme.eq_ignore_ascii_case("https") => Route::HttpsProxy,
        (Some(scheme), Some(_)) if scheme.eq_ignore_ascii_case("http") => Route::HttpProxy,
        _ => Route::Direct,
    }
}

/// What every connector of one client is made from.
struct Plan {
    /// Extra CA certificates (PEM), checked when the settings were made.
    ca_bundle: Option<Vec<u8>>,
    https_proxy: Option<ProxyConfig>,
    http_proxy: Option<ProxyConfig>,
    /// Whether the proxy for plain `http://` calls is itself reached over TLS.
    http_proxy_over_tls: bool,
}

impl Plan {
    fn proxy(
        url: &Option<String>,
        no_proxy: &Option<String>,
    ) -> Result<Option<ProxyConfig>, Error> {
        let Some(url) = url else { return Ok(None) };
        // The URL was checked when the settings were made; the SDK's own
        // message could show it, password and all, so it is not passed on.
        let proxy = ProxyConfig::all(url.as_str())
            .map_err(|_| Error::invalid("proxy: the URL cannot be used as a proxy"))?;
        Ok(Some(match no_proxy {
            Some(rules) => proxy.no_proxy(rules),
            None => proxy,
        }))
    }

    /// The connectors for `settings` (the SDK's time bounds): the plain
    /// ones now, the TLS ones when a destination first needs them.
    fn routes(
        self: &Arc<Self>,
        settings: &HttpConnectorSettings,
        sleep: Option<SharedAsyncSleep>,
    ) -> Routes {
        let plain = |proxy: Option<&ProxyConfig>| -> SharedHttpConnector {
            self.builder(settings, &sleep, proxy)
                .build_http()
                .into_shared()
        };
        Routes {
            plain: plain(None),
            plain_via_proxy: match (&self.http_proxy, self.http_proxy_over_tls) {
                (Some(proxy), false) => Some(plain(Some(proxy))),
                _ => None,
            },
            tls: OnceLock::new(),
            plan: Arc::clone(self),
            settings: settings.clone(),
            sleep,
        }
    }

    fn builder(
        &self,
        settings: &HttpConnectorSettings,
        sleep: &Option<SharedAsyncSleep>,
        proxy: Option<&ProxyConfig>,
    ) -> aws_smithy_http_client::ConnectorBuilder {
        let mut builder = Connector::builder();
        builder.set_sleep_impl(sleep.clone());
        builder
            .connector_settings(settings.clone())
            .pool_max_idle_per_host(MAX_IDLE_CONNECTIONS)
            .proxy_config(proxy.cloned().unwrap_or_else(ProxyConfig::disabled))
    }

    /// The TLS connectors, one per route, trusting the system's roots and
    /// the extra CA certificates.
    fn tls_routes(
        &self,
        settings: &HttpConnectorSettings,
        sleep: &Option<SharedAsyncSleep>,
    ) -> TlsRoutes {
        let trust = match roots::system_roots() {
            roots::SystemRoots::Bundle(pem) => {
                TrustStore::empty().with_pem_certificate(Vec::clone(&pem))
            }
            roots::SystemRoots::Native => TrustStore::default(),
        };
        let trust = match &self.ca_bundle {
            Some(pem) => trust.with_pem_certificate(pem.clone()),
            None => trust,
        };
        // Building a TlsContext only keeps the trust store and cannot fail
        // today; were it to, the default trusts fewer roots, never more.
        let tls = TlsContext::builder()
            .with_trust_store(trust)
            .build()
            .unwrap_or_default();
        // Each connector keeps its own copy of the roots (about 200 KiB):
        // only the proxies' take a copy, the direct one takes the original.
        let build = |proxy: Option<&ProxyConfig>, tls: TlsContext| -> SharedHttpConnector {
            self.builder(settings, sleep, proxy)
                .tls_provider(tls::Provider::Rustls(
                    tls::rustls_provider::CryptoMode::AwsLc,
                ))
                .tls_context(tls)
                .build()
                .into_shared()
        };
        let proxied = |proxy: &Option<ProxyConfig>| {
            proxy.as_ref().map(|proxy| build(Some(proxy), tls.clone()))
        };
        let (https, http) = (proxied(&self.https_proxy), proxied(&self.http_proxy));
        let direct = build(None, tls);
        TlsRoutes {
            https: https.unwrap_or_else(|| direct.clone()),
            http: http.unwrap_or_else(|| direct.clone()),
            direct,
        }
    }
}

/// The HTTP client handed to the SDK.
///
/// The SDK asks it for a connector per set of time bounds. The one for the
/// client's own bounds is built when the client is made.
struct RoutingClient {
    plan: Arc<Plan>,
    connectors: RwLock<Vec<(ConnectorKey, SharedHttpConnector)>>,
}

type ConnectorKey = (Option<Duration>, Option<Duration>);

fn connector_key(settings: &HttpConnectorSettings) -> ConnectorKey {
    (settings.connect_timeout(), settings.read_timeout())
}

impl std::fmt::Debug for RoutingClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoutingClient")
            .field("https_proxy", &self.plan.https_proxy.is_some())
            .field("http_proxy", &self.plan.http_proxy.is_some())
            .finish()
    }
}

impl HttpClient for RoutingClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        let key = connector_key(settings);
        if let Some((_, connector)) = fork::read(&self.connectors).iter().find(|(k, _)| *k == key) {
            return connector.clone();
        }
        // Built outside the lock; a racing thread's equal one is dropped.
        let sleep = components.sleep_impl().or_else(default_async_sleep);
        let built: SharedHttpConnector = self.plan.routes(settings, sleep).into_shared();
        let mut connectors = fork::write(&self.connectors);
        if let Some((_, connector)) = connectors.iter().find(|(k, _)| *k == key) {
            return connector.clone();
        }
        connectors.push((key, built.clone()));
        built
    }
}

/// The HTTP client for `settings`, with the connector for its own time
/// bounds already built.
pub(crate) fn http_client(settings: &Settings) -> Result<SharedHttpClient, Error> {
    let plan = Arc::new(Plan {
        ca_bundle: settings.ca_bundle.clone(),
        https_proxy: Plan::proxy(&settings.proxy, &settings.no_proxy)?,
        http_proxy: Plan::proxy(&settings.http_proxy, &settings.no_proxy)?,
        http_proxy_over_tls: settings.http_proxy.as_deref().is_some_and(|url| {
            url.get(..8)
                .is_some_and(|s| s.eq_ignore_ascii_case("https://"))
        }),
    });
    let own = HttpConnectorSettings::builder()
        .connect_timeout(settings.connect_timeout)
        .build();
    let prebuilt: SharedHttpConnector = plan.routes(&own, default_async_sleep()).into_shared();
    Ok(RoutingClient {
        plan,
        connectors: RwLock::new(vec![(connector_key(&own), prebuilt)]),
    }
    .into_shared())
}

/// The connectors of one set of time bounds.
struct Routes {
    /// `http://` destinations reached directly: no TLS to set up.
    plain: SharedHttpConnector,
    /// `http://` destinations through a proxy reached without TLS.
    plain_via_proxy: Option<SharedHttpConnector>,
    /// The connectors that can speak TLS, built at the first destination
    /// that needs one (see [`Routes::tls`]).
    tls: OnceLock<TlsRoutes>,
    plan: Arc<Plan>,
    settings: HttpConnectorSettings,
    sleep: Option<SharedAsyncSleep>,
}

/// One TLS connector per route.
#[derive(Debug)]
struct TlsRoutes {
    direct: SharedHttpConnector,
    https: SharedHttpConnector,
    http: SharedHttpConnector,
}

impl std::fmt::Debug for Routes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Routes")
            .field("tls_built", &self.tls.get().is_some())
            .finish()
    }
}

impl Routes {
    /// The TLS connectors, built at the first use through the fork gate:
    /// a `fork()` on another thread waits for the set-up (the system's
    /// roots, the crypto library) to end.
    fn tls(&self) -> &TlsRoutes {
        fork::once(&self.tls, || {
            self.plan.tls_routes(&self.settings, &self.sleep)
        })
    }

    /// The connector for `request`: plain `http://` destinations never
    /// set up TLS.
    fn connector(&self, request: &HttpRequest) -> &SharedHttpConnector {
        let destination = url::Url::parse(request.uri()).ok();
        let scheme = destination.as_ref().map(url::Url::scheme);
        let host = destination.as_ref().and_then(url::Url::host_str);
        let plain_http = scheme.is_some_and(|s| s.eq_ignore_ascii_case("http"));
        match route(scheme, host) {
            Route::Direct if plain_http => &self.plain,
            Route::Direct => &self.tls().direct,
            Route::HttpProxy => match &self.plain_via_proxy {
                Some(plain) => plain,
                None if self.plan.http_proxy.is_none() => &self.plain,
                None => &self.tls().http,
            },
            Route::HttpsProxy => &self.tls().https,
        }
    }
}

impl HttpConnector for Routes {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let answer = self.connector(&request).call(request);
        HttpConnectorFuture::new(async move {
            let mut response = answer.await?;
            // Only a proxy answers 407; it is a failure to get through, not
            // an answer of the service.
            if response.status().as_u16() == 407 {
                return Err(ConnectorError::io(
                    "the proxy refused the request (407 Proxy Authentication Required): \
                     check the user name and password in the proxy URL"
                        .into(),
                ));
            }
            let body = std::mem::replace(response.body_mut(), SdkBody::taken());
            *response.body_mut() =
                SdkBody::from_body_1_x(http_body_util::Limited::new(body, MAX_ANSWER_BYTES));
            Ok(response)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_destinations_never_go_through_a_proxy() {
        for (scheme, host) in [
            ("http", "127.0.0.1"),
            ("https", "127.0.0.1"),
            ("http", "localhost"),
            ("http", "[::1]"),
            ("http", "169.254.169.254"),
            ("http", "169.254.170.2"),
            ("http", "[fd00:ec2::254]"),
            ("https", "[fe80::1]"),
        ] {
            assert_eq!(
                route(Some(scheme), Some(host)),
                Route::Direct,
                "{scheme}://{host}"
            );
        }
    }

    #[test]
    fn each_scheme_has_its_own_proxy() {
        assert_eq!(
            route(Some("https"), Some("redshift.us-east-1.amazonaws.com")),
            Route::HttpsProxy
        );
        assert_eq!(route(Some("HTTPS"), Some("10.0.0.1")), Route::HttpsProxy);
        assert_eq!(route(Some("http"), Some("10.0.0.1")), Route::HttpProxy);
        assert_eq!(route(None, Some("10.0.0.1")), Route::Direct);
        assert_eq!(route(Some("http"), None), Route::Direct);
    }

    fn routes(https_proxy: Option<&str>, http_proxy: Option<&str>) -> Routes {
        let proxy = |url: Option<&str>| url.and_then(|url| ProxyConfig::all(url).ok());
        let plan = Arc::new(Plan {
            ca_bundle: None,
            https_proxy: proxy(https_proxy),
            http_proxy: proxy(http_proxy),
            http_proxy_over_tls: http_proxy.is_some_and(|url| url.starts_with("https://")),
        });
        plan.routes(&HttpConnectorSettings::builder().build(), None)
    }

    fn request(uri: &str) -> HttpRequest {
        HttpRequest::get(uri).unwrap()
    }

    #[test]
    fn plain_http_destinations_never_set_up_tls() {
        let direct = routes(None, None);
        direct.connector(&request("http://127.0.0.1:5439/"));
        direct.connector(&request("http://redshift.example.com/"));
        assert!(direct.tls.get().is_none(), "TLS was set up for http://");
        direct.connector(&request("https://127.0.0.1:5439/"));
        assert!(direct.tls.get().is_some());

        let through_plain_proxy = routes(None, Some("http://127.0.0.1:3128"));
        through_plain_proxy.connector(&request("http://redshift.example.com/"));
        assert!(through_plain_proxy.tls.get().is_none());

        let through_tls_proxy = routes(None, Some("https://127.0.0.1:3128"));
        through_tls_proxy.connector(&request("http://redshift.example.com/"));
        assert!(
            through_tls_proxy.tls.get().is_some(),
            "the proxy itself needs TLS"
        );
    }
}
