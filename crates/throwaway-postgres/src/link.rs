//! A TCP relay that a test can cut, to separate a client from the database as
//! a network partition would: [`Link::cut`] shuts every relayed connection
//! down at once and closes new ones as soon as they are accepted, until
//! [`Link::restore`].

use std::io::{Read as _, Write as _};
use std::net::{Shutdown, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crate::Error;

/// A relay from a loopback port of its own to `target`.
pub struct Link {
    port: u16,
    shared: Arc<Shared>,
}

struct Shared {
    cut: AtomicBool,
    /// Both sockets of every relayed connection, to shut them down at a cut.
    open: Mutex<Vec<TcpStream>>,
    stopped: AtomicBool,
}

impl Link {
    /// Listens on 127.0.0.1 (a free port) and relays each connection to `target`.
    pub fn start(target: impl ToSocketAddrs) -> Result<Link, Error> {
        let target: Vec<_> = target
            .to_socket_addrs()
            .map_err(|source| Error::Io {
                path: "link target".into(),
                source,
            })?
            .collect();
        let listener = TcpListener::bind("127.0.0.1:0").map_err(|source| Error::Io {
            path: "127.0.0.1:0".into(),
            source,
        })?;
        let port = listener
            .local_addr()
            .map_err(|source| Error::Io {
                path: "127.0.0.1:0".into(),
                source,
            })?
            .port();
        let shared = Arc::new(Shared {
            cut: AtomicBool::new(false),
            open: Mutex::new(Vec::new()),
            stopped: AtomicBool::new(false),
        });
        let accepting = Arc::clone(&shared);
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if accepting.stopped.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                if accepting.cut.load(Ordering::SeqCst) {
                    // Partitioned: the connection ends as soon as it opens.
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                let Ok(upstream) = TcpStream::connect(&target[..]) else {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                };
                let _ = client.set_nodelay(true);
                let _ = upstream.set_nodelay(true);
                relay(&accepting, client, upstream);
            }
        });
        Ok(Link { port, shared })
    }

    /// The port clients connect to.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Drops every connection through the link now, and every new one until
    /// [`Link::restore`].
    pub fn cut(&self) {
        self.shared.cut.store(true, Ordering::SeqCst);
        let open = std::mem::take(
            &mut *self
                .shared
                .open
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        for socket in open {
            let _ = socket.shutdown(Shutdown::Both);
        }
    }

    /// Lets new connections through again.
    pub fn restore(&self) {
        self.shared.cut.store(false, Ordering::SeqCst);
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        self.shared.stopped.store(true, Ordering::SeqCst);
        self.cut();
        // Wakes the accepting thread so that it sees `stopped`.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// Copies bytes both ways between `client` and `upstream` on two threads,
/// keeping clones of both sockets so that a cut can shut them down.
fn relay(shared: &Arc<Shared>, client: TcpStream, upstream: TcpStream) {
    let (Ok(client_copy), Ok(upstream_copy)) = (client.try_clone(), upstream.try_clone()) else {
        return;
    };
    {
        let mut open = shared.open.lock().unwrap_or_else(PoisonError::into_inner);
        for socket in [&client, &upstream] {
            if let Ok(clone) = socket.try_clone() {
                open.push(clone);
            }
        }
    }
    std::thread::spawn(move || pump(client, upstream_copy));
    std::thread::spawn(move || pump(upstream, client_copy));
}

/// Copies from `from` to `to` until either ends, then shuts both down.
fn pump(mut from: TcpStream, mut to: TcpStream) {
    let mut buffer = [0_u8; 16 * 1024];
    loop {
        match from.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(read) => {
                let Some(chunk) = buffer.get(..read) else {
                    break;
                };
                if to.write_all(chunk).is_err() {
                    break;
                }
            }
        }
    }
    let _ = from.shutdown(Shutdown::Both);
    let _ = to.shutdown(Shutdown::Both);
}
