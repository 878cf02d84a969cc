//! A W3C WebDriver session with chromedriver: the few commands the console's
//! browser tests and its benchmark (`bench/src/console.rs`, which includes
//! this file) send, as JSON over plain HTTP on loopback. Errors are the
//! driver's own error code and message.

use serde_json::{Value, json};

/// The key under which WebDriver names an element (W3C WebDriver, 6.3).
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// One browser session.
pub struct WebDriver {
    http: reqwest::Client,
    /// `http://127.0.0.1:PORT/session/ID`.
    session: String,
}

impl WebDriver {
    /// Opens a session with `capabilities` on the chromedriver listening on
    /// `port`.
    pub async fn open(port: u16, capabilities: Value) -> Result<WebDriver, String> {
        let http = reqwest::Client::builder()
            .no_proxy()
            .build()
            .map_err(|error| format!("an HTTP client for chromedriver: {error}"))?;
        let driver = format!("http://127.0.0.1:{port}");
        let mut opener = WebDriver {
            http,
            session: format!("{driver}/session"),
        };
        let body = json!({ "capabilities": { "alwaysMatch": capabilities } });
        let answer = opener.send(reqwest::Method::POST, "", Some(body)).await?;
        let id = answer
            .get("sessionId")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("no session id in {answer}"))?;
        opener.session = format!("{driver}/session/{id}");
        Ok(opener)
    }

    /// Sends one command under the session's address: its `value`, or the
    /// driver's error and message.
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, String> {
        let mut request = self.http.request(method, format!("{}{path}", self.session));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer: Value = request
            .send()
            .await
            .map_err(|error| format!("chromedriver: {error}"))?
            .json()
            .await
            .map_err(|error| format!("chromedriver's answer: {error}"))?;
        let value = answer.get("value").cloned().unwrap_or(Value::Null);
        match value.get("error").and_then(Value::as_str) {
            Some(error) => Err(format!(
                "{error}: {}",
                value.get("message").unwrap_or(&Value::Null)
            )),
            None => Ok(value),
        }
    }

    /// Loads `url`.
    pub async fn goto(&self, url: &str) -> Result<(), String> {
        let body = json!({ "url": url });
        self.send(reqwest::Method::POST, "/url", Some(body))
            .await
            .map(drop)
    }

    /// Runs `script` in the page (a function body; `arguments` are `args`).
    pub async fn execute(&self, script: &str, args: Vec<Value>) -> Result<Value, String> {
        let body = json!({ "script": script, "args": args });
        self.send(reqwest::Method::POST, "/execute/sync", Some(body))
            .await
    }

    /// Runs `script` in the page and waits for it to call its last argument;
    /// what it passed.
    #[allow(dead_code)] // The benchmark runs no asynchronous script.
    pub async fn execute_async(&self, script: &str, args: Vec<Value>) -> Result<Value, String> {
        let body = json!({ "script": script, "args": args });
        self.send(reqwest::Method::POST, "/execute/async", Some(body))
            .await
    }

    /// The WebDriver id of the first element matching `css`.
    async fn find(&self, css: &str) -> Result<String, String> {
        let body = json!({ "using": "css selector", "value": css });
        let found = self
            .send(reqwest::Method::POST, "/element", Some(body))
            .await?;
        found
            .get(ELEMENT_KEY)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| format!("no element id in {found}"))
    }

    /// Clicks the first element matching `css`.
    pub async fn click(&self, css: &str) -> Result<(), String> {
        let element = self.find(css).await?;
        let path = format!("/element/{element}/click");
        self.send(reqwest::Method::POST, &path, Some(json!({})))
            .await
            .map(drop)
    }

    /// Types `text` into the first element matching `css`.
    pub async fn send_keys(&self, css: &str, text: &str) -> Result<(), String> {
        let element = self.find(css).await?;
        let path = format!("/element/{element}/value");
        let body = json!({ "text": text });
        self.send(reqwest::Method::POST, &path, Some(body))
            .await
            .map(drop)
    }

    /// Resizes the window.
    #[allow(dead_code)] // The benchmark keeps one size.
    pub async fn set_window_size(&self, width: u32, height: u32) -> Result<(), String> {
        let body = json!({ "width": width, "height": height });
        self.send(reqwest::Method::POST, "/window/rect", Some(body))
            .await
            .map(drop)
    }

    /// A PNG of the viewport.
    #[allow(dead_code)] // The benchmark takes none.
    pub async fn screenshot(&self) -> Result<Vec<u8>, String> {
        use base64::Engine as _;
        let encoded = self.send(reqwest::Method::GET, "/screenshot", None).await?;
        base64::engine::general_purpose::STANDARD
            .decode(encoded.as_str().unwrap_or_default())
            .map_err(|error| format!("the screenshot's base64: {error}"))
    }

    /// Ends the session (the browser quits).
    pub async fn close(&self) -> Result<(), String> {
        self.send(reqwest::Method::DELETE, "", None).await.map(drop)
    }
}
