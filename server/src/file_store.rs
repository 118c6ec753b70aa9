//! Where attachments' bytes are kept: a directory under `--data-dir` in
//! embedded mode, an S3 bucket (`--attachments-bucket`) in AWS mode.
//!
//! The S3 store is `object_store`'s, signed with credentials from the AWS
//! SDK's own chain (profiles, SSO, web identity, ECS, IMDS), so the
//! dashboard has one way of finding credentials for every AWS call.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use countersign_domain::attachments::FileStore;
use object_store::aws::{AmazonS3Builder, AwsCredential};
use object_store::{ClientOptions, CredentialProvider};
use tokio::sync::Mutex;

/// How attachments are kept, as configured.
#[derive(Debug, Clone)]
pub struct FileSettings {
    /// The S3 bucket in AWS mode (`None`: attachments are off there).
    pub bucket: Option<String>,
    /// The largest file accepted, in bytes.
    pub limit: u64,
}

impl Default for FileSettings {
    fn default() -> Self {
        Self {
            bucket: None,
            limit: countersign_domain::attachments::DEFAULT_LIMIT,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FileStoreError {
    #[error("cannot use {path} for attachments: {source}")]
    Directory {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("cannot use the attachments bucket {bucket}: {message}")]
    Bucket { bucket: String, message: String },
}

/// The embedded mode's store: `files/` in the data directory.
pub fn local(data_dir: &std::path::Path, limit: u64) -> Result<FileStore, FileStoreError> {
    let path = data_dir.join("files");
    FileStore::local(&path)
        .map(|store| store.with_limit(limit))
        .map_err(|source| FileStoreError::Directory { path, source })
}

/// AWS mode's store: the bucket through the SDK's credentials, region and
/// endpoint (moto's, in tests), or no store at all without a bucket.
pub fn s3(
    sdk: &aws_config::SdkConfig,
    settings: &FileSettings,
    endpoint_url: Option<&str>,
) -> Result<FileStore, FileStoreError> {
    let Some(bucket) = &settings.bucket else {
        return Ok(FileStore::disabled());
    };
    let failed = |message: String| FileStoreError::Bucket {
        bucket: bucket.clone(),
        message,
    };
    let credentials = sdk
        .credentials_provider()
        .ok_or_else(|| failed("the AWS SDK found no credentials provider".into()))?;
    let mut builder = AmazonS3Builder::new()
        .with_bucket_name(bucket)
        .with_credentials(Arc::new(SdkCredentials::new(credentials)))
        .with_client_options(ClientOptions::new().with_timeout(Duration::from_secs(30)));
    if let Some(region) = sdk.region() {
        builder = builder.with_region(region.as_ref());
    }
    if let Some(url) = endpoint_url {
        // A stand-in (moto) answers on plain http, bucket in the path.
        builder = builder
            .with_endpoint(url)
            .with_allow_http(url.starts_with("http://"));
    }
    let store = builder.build().map_err(|e| failed(e.to_string()))?;
    Ok(FileStore::new(Arc::new(store)).with_limit(settings.limit))
}

/// The SDK's credentials chain as `object_store` asks for it, cached until
/// five minutes before they expire (the chain itself may call IMDS or STS).
#[derive(Debug)]
struct SdkCredentials {
    chain: SharedCredentialsProvider,
    cached: Mutex<Option<(Arc<AwsCredential>, Option<SystemTime>)>>,
}

impl SdkCredentials {
    fn new(chain: SharedCredentialsProvider) -> Self {
        Self {
            chain,
            cached: Mutex::new(None),
        }
    }
}

#[async_trait::async_trait]
impl CredentialProvider for SdkCredentials {
    type Credential = AwsCredential;

    async fn get_credential(&self) -> object_store::Result<Arc<AwsCredential>> {
        let mut cached = self.cached.lock().await;
        let fresh = |expiry: &Option<SystemTime>| {
            expiry.is_none_or(|at| at > SystemTime::now() + Duration::from_secs(300))
        };
        if let Some((credential, expiry)) = cached.as_ref()
            && fresh(expiry)
        {
            return Ok(credential.clone());
        }
        let found =
            self.chain
                .provide_credentials()
                .await
                .map_err(|e| object_store::Error::Generic {
                    store: "S3",
                    source: Box::new(e),
                })?;
        let credential = Arc::new(AwsCredential {
            key_id: found.access_key_id().to_owned(),
            secret_key: found.secret_access_key().to_owned(),
            token: found.session_token().map(str::to_owned),
        });
        *cached = Some((credential.clone(), found.expiry()));
        Ok(credential)
    }
}
