//! Connections to the database, kept open between requests, each with the
//! statements it has prepared (a prepared statement is parsed and planned
//! once per connection, not at every read).
//!
//! A connection that failed, or whose operation timed out, is dropped rather
//! than returned: its state is unknown. Connecting again is what follows the
//! database through a restart.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_postgres::{Client, Statement};

use super::config::DatabaseConfig;
use super::tls::RustlsConnector;
use super::unavailable;
use crate::store::StoreError;

/// How long one database operation (a read, a group's transaction) may take
/// before the database counts as out of reach and the connection is dropped.
pub(super) const OPERATION_TIMEOUT: Duration = Duration::from_secs(10);

/// Opens connections to the database.
pub(super) struct Connector {
    config: tokio_postgres::Config,
    tls: RustlsConnector,
}

impl Connector {
    pub(super) fn new(config: &DatabaseConfig) -> Result<Connector, StoreError> {
        Ok(Connector {
            config: config.driver.clone(),
            tls: config.connector()?,
        })
    }

    /// A new connection, its I/O driven by a task of the current runtime.
    pub(super) async fn connect(&self) -> Result<Connection, StoreError> {
        Ok(Connection::new(self.connect_driven().await?))
    }

    /// A new connection and the driver's connection object, for a caller
    /// that drives it itself (to read notifications).
    pub(super) async fn connect_raw(
        &self,
    ) -> Result<
        (
            Client,
            tokio_postgres::Connection<
                tokio_postgres::Socket,
                super::tls::RustlsStream<tokio_postgres::Socket>,
            >,
        ),
        StoreError,
    > {
        let connecting = self.config.connect(self.tls.clone());
        let (client, connection) = tokio::time::timeout(OPERATION_TIMEOUT, connecting)
            .await
            .map_err(|_| unavailable("connecting to the database timed out"))?
            .map_err(super::classify)?;
        Ok((client, connection))
    }

    /// A new connection whose I/O runs on a task of its own.
    async fn connect_driven(&self) -> Result<Client, StoreError> {
        let (client, connection) = self.connect_raw().await?;
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "a database connection ended");
            }
        });
        Ok(client)
    }
}

/// One connection and the statements prepared on it.
pub(super) struct Connection {
    pub(super) client: Client,
    statements: HashMap<&'static str, Statement>,
}

impl Connection {
    fn new(client: Client) -> Connection {
        Connection {
            client,
            statements: HashMap::new(),
        }
    }

    /// `sql` prepared on this connection (once).
    pub(super) async fn statement(&mut self, sql: &'static str) -> Result<Statement, StoreError> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(sql).await.map_err(super::classify)?;
        self.statements.insert(sql, statement.clone());
        Ok(statement)
    }
}

/// The read connections.
pub(super) struct Pool {
    connector: Arc<Connector>,
    idle: Mutex<Vec<Connection>>,
    permits: Arc<Semaphore>,
}

/// A connection taken from the pool; it goes back when dropped, unless
/// [`Pooled::discard`] was called.
pub(super) struct Pooled {
    connection: Option<Connection>,
    pool: Arc<Pool>,
    _permit: OwnedSemaphorePermit,
}

impl Pool {
    /// A pool of at most `size` connections made by `connector`.
    pub(super) fn new(connector: Arc<Connector>, size: usize) -> Pool {
        Pool {
            connector,
            idle: Mutex::new(Vec::new()),
            permits: Arc::new(Semaphore::new(size)),
        }
    }

    /// A connection: an idle one, or a new one.
    pub(super) async fn get(self: &Arc<Self>) -> Result<Pooled, StoreError> {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|_| unavailable("the connection pool is closed"))?;
        let idle = loop {
            let next = self
                .idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pop();
            match next {
                Some(connection) if connection.client.is_closed() => continue,
                other => break other,
            }
        };
        let connection = match idle {
            Some(connection) => connection,
            None => Connection::new(self.connector.connect_driven().await?),
        };
        Ok(Pooled {
            connection: Some(connection),
            pool: Arc::clone(self),
            _permit: permit,
        })
    }
}

impl Pooled {
    /// The connection.
    pub(super) fn connection(&mut self) -> Result<&mut Connection, StoreError> {
        self.connection
            .as_mut()
            .ok_or_else(|| unavailable("the connection was discarded"))
    }

    /// Drops the connection instead of returning it (its state is unknown).
    pub(super) fn discard(&mut self) {
        self.connection = None;
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        if let Some(connection) = self.connection.take() {
            if !connection.client.is_closed() {
                self.pool
                    .idle
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(connection);
            }
        }
    }
}
