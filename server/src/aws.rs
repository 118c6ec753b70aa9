//! AWS SDK configuration for both modes. The only difference between them is
//! where requests go and which credentials sign them; every caller gets the
//! same SDK clients either way.

use std::net::SocketAddr;

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_http_client::tls;

/// The region the embedded services claim to be; any valid name would do.
pub const EMBEDDED_REGION: &str = "us-east-1";

/// The one retry policy for every SDK call, in both modes: three attempts
/// with jittered exponential backoff (the SDK's standard mode, which also
/// backs off under throttling). A call whose answer is lost may thus reach
/// AWS twice; decisions allow for it (see `countersign_domain::ledger`).
pub fn retries() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(3)
        .with_initial_backoff(Duration::from_millis(100))
        .with_max_backoff(Duration::from_secs(2))
}

/// Every SDK call's time limits: an attempt gives up after 5 s and the
/// whole call, retries included, after 12 s, so no request waits on a
/// silent service forever, and a decision settles well within its lease
/// (`countersign_domain::services::DEFAULT_LEASE`, 15 s).
pub fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(3))
        .operation_attempt_timeout(Duration::from_secs(5))
        .operation_timeout(Duration::from_secs(12))
        .build()
}

/// An HTTP client using rustls with the ring provider: one TLS stack, built
/// once, instead of the SDK default's larger one.
fn http_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https()
}

/// SDK configuration for the embedded services' socket at `endpoint`,
/// signing with the credential it accepts.
pub async fn embedded_config(
    endpoint: SocketAddr,
    credential: &crate::embedded::Credential,
) -> SdkConfig {
    local_loader(
        &format!("http://{endpoint}"),
        &credential.access_key_id,
        &credential.secret_access_key,
    )
    .http_client(http_client())
    .load()
    .await
}

/// SDK configuration for the embedded services in this process: requests
/// go to them through `client`, no socket (the URL only names them).
pub async fn in_process_config(
    client: aws_smithy_runtime_api::client::http::SharedHttpClient,
) -> SdkConfig {
    local_loader(
        "http://embedded.countersign.invalid",
        "countersign-embedded",
        "countersign-embedded",
    )
    .http_client(client)
    .load()
    .await
}

/// SDK configuration for a local AWS stand-in at `url` that takes any
/// credentials (moto): fixed ones, the embedded region.
pub async fn local_config(url: &str) -> SdkConfig {
    local_loader(url, "countersign-local", "countersign-local")
        .http_client(http_client())
        .load()
        .await
}

fn local_loader(url: &str, access_key_id: &str, secret: &str) -> aws_config::ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest())
        .retry_config(retries())
        .timeout_config(timeouts())
        .region(Region::new(EMBEDDED_REGION))
        .endpoint_url(url)
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            access_key_id,
            secret,
            None,
            None,
            "countersign-local",
        ))
}

/// SDK configuration for AWS mode: the default credential chain and region
/// chain, with the region and endpoint overridable (an endpoint makes moto
/// or another stand-in usable).
pub async fn aws_config(settings: &crate::AwsSettings) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(http_client())
        .retry_config(retries())
        .timeout_config(timeouts());
    if let Some(region) = &settings.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(url) = &settings.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    loader.load().await
}
