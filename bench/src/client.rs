//! HTTPS clients for the API calls the benchmark makes.
//!
//! Each worker owns one [`ApiClient`], so each holds one HTTP/1.1 keep-alive
//! connection: the load looks like that many independent applications, and no
//! request waits for a connection another worker holds.

use std::time::Duration;

use anyhow::{Context as _, bail};
use base64::Engine as _;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use serde::{Deserialize, Serialize};

use crate::server::DevEnv;

/// A request that takes longer than this counts as an error.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// One client with its own connection to the server.
#[derive(Clone)]
pub struct ApiClient {
    http: reqwest::Client,
    address: String,
}

#[derive(Serialize)]
struct CreateKeyRequest<'a> {
    name: &'a str,
}

#[derive(Deserialize)]
struct CreatedKey {
    id: String,
}

#[derive(Deserialize)]
struct Material {
    material: String,
}

impl ApiClient {
    /// A client that trusts only the server's CA and sends its token.
    pub fn new(env: &DevEnv) -> anyhow::Result<ApiClient> {
        let certificate = reqwest::Certificate::from_pem(&env.ca_pem)
            .context("cannot parse the server's CA certificate")?;
        let mut authorization = HeaderValue::from_str(&format!("Bearer {}", env.token))
            .context("the token in dev.env is not a valid header value")?;
        authorization.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, authorization);
        let http = reqwest::Client::builder()
            .use_rustls_tls()
            .tls_built_in_root_certs(false)
            .add_root_certificate(certificate)
            .http1_only()
            .pool_max_idle_per_host(1)
            .timeout(REQUEST_TIMEOUT)
            .default_headers(headers)
            .build()
            .context("cannot build the HTTPS client")?;
        Ok(ApiClient {
            http,
            address: env.address.clone(),
        })
    }

    /// `GET /v1/sys/health`: opens the connection (TCP and TLS) so that the
    /// handshake is not counted in the first measured request.
    pub async fn health(&self) -> anyhow::Result<()> {
        let response = self
            .http
            .get(format!("{}/v1/sys/health", self.address))
            .send()
            .await
            .context("GET /v1/sys/health failed")?;
        let status = response.status();
        let body = response.bytes().await.context("GET /v1/sys/health body")?;
        if !status.is_success() {
            bail!(
                "GET /v1/sys/health answered {status}: {}",
                String::from_utf8_lossy(&body)
            );
        }
        Ok(())
    }

    /// `POST /v1/keys` with an AES-256 key named `name` in the default tenant;
    /// returns the new key's id.
    pub async fn create_key(&self, name: &str) -> anyhow::Result<String> {
        let response = self
            .http
            .post(format!("{}/v1/keys", self.address))
            .json(&CreateKeyRequest { name })
            .send()
            .await
            .context("POST /v1/keys failed")?;
        let status = response.status();
        let body = response.bytes().await.context("POST /v1/keys body")?;
        if status != reqwest::StatusCode::CREATED {
            bail!(
                "POST /v1/keys answered {status}: {}",
                String::from_utf8_lossy(&body)
            );
        }
        let created: CreatedKey =
            serde_json::from_slice(&body).context("POST /v1/keys answered unexpected JSON")?;
        Ok(created.id)
    }

    /// `GET /v1/keys/{id}/material`. With `check`, also decodes the material
    /// and checks it is an AES-256 key; without, only the status is checked, to
    /// keep the load generator's own CPU use low.
    pub async fn get_material(&self, id: &str, check: bool) -> anyhow::Result<()> {
        let response = self
            .http
            .get(format!("{}/v1/keys/{id}/material", self.address))
            .send()
            .await
            .context("GET /v1/keys/{id}/material failed")?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .context("GET /v1/keys/{id}/material body")?;
        if status != reqwest::StatusCode::OK {
            bail!(
                "GET /v1/keys/{{id}}/material answered {status}: {}",
                String::from_utf8_lossy(&body)
            );
        }
        if check {
            let material: Material = serde_json::from_slice(&body)
                .context("GET /v1/keys/{id}/material answered unexpected JSON")?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(material.material.as_bytes())
                .context("key material is not base64")?;
            if bytes.len() != 32 {
                bail!(
                    "key material of an AES-256 key is {} bytes, not 32",
                    bytes.len()
                );
            }
        }
        Ok(())
    }
}
