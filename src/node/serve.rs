//! The HTTP(S) server of a node: one port for REST and node-to-node RPC.
//!
//! hyper's HTTP/1.1 connection builder behind our own accept loop, so that the listener holds
//! against outsiders: at most [`ServeLimits::max_connections`] connections at once (more are
//! closed on accept), a header-read timeout (a client that opens a connection and sends
//! nothing, or trickles its headers, is cut off), TLS handshakes on the connection's own task
//! with a timeout (a slow handshake never stalls the accept loop), and a graceful shutdown that
//! lets requests in flight finish. With TLS, a plain-HTTP client fails the handshake and gets
//! no answer.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio_rustls::rustls;
use tokio_rustls::TlsAcceptor;

/// Bounds of the listener.
#[derive(Clone, Debug)]
pub struct ServeLimits {
    pub max_connections: usize,
    /// How long a client may take to send a request's headers, and how long a kept-alive
    /// connection may sit idle.
    pub header_read_timeout: Duration,
    pub tls_handshake_timeout: Duration,
}

impl Default for ServeLimits {
    fn default() -> Self {
        Self {
            max_connections: 1024,
            header_read_timeout: Duration::from_secs(10),
            tls_handshake_timeout: Duration::from_secs(10),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {what} {path}: {source}")]
    Read { what: &'static str, path: String, source: std::io::Error },
    #[error("{path} holds no PEM {what}")]
    Empty { what: &'static str, path: String },
    #[error("invalid TLS certificate or key ({cert}, {key}): {reason}")]
    Invalid { cert: String, key: String, reason: String },
}

fn read_pem(what: &'static str, path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read { what, path: path.display().to_string(), source })
}

/// The server side of TLS from PEM files: the certificate chain and its private key.
pub fn server_tls(cert: &Path, key: &Path) -> Result<TlsAcceptor, TlsError> {
    let cert_pem = read_pem("the TLS certificate", cert)?;
    let certs: Vec<_> = rustls_pemfile::certs(&mut cert_pem.as_slice()).filter_map(Result::ok).collect();
    if certs.is_empty() {
        return Err(TlsError::Empty { what: "certificate", path: cert.display().to_string() });
    }
    let key_pem = read_pem("the TLS key", key)?;
    let private = rustls_pemfile::private_key(&mut key_pem.as_slice())
        .ok()
        .flatten()
        .ok_or_else(|| TlsError::Empty { what: "private key", path: key.display().to_string() })?;
    let invalid =
        |reason: String| TlsError::Invalid { cert: cert.display().to_string(), key: key.display().to_string(), reason };
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| invalid(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, private)
        .map_err(|e| invalid(e.to_string()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Read a CA bundle (PEM) and check that it holds at least one certificate.
pub fn ca_bundle(path: &Path) -> Result<Vec<u8>, TlsError> {
    let pem = read_pem("the TLS CA file", path)?;
    if rustls_pemfile::certs(&mut pem.as_slice()).filter_map(Result::ok).next().is_none() {
        return Err(TlsError::Empty { what: "certificate", path: path.display().to_string() });
    }
    Ok(pem)
}

/// Log at most once a second what the accept loop refused.
fn warn_limited(what: &'static str, error: &dyn std::fmt::Display) {
    static LAST: AtomicU64 = AtomicU64::new(0);
    let now =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0);
    let last = LAST.load(Ordering::Relaxed);
    if now.saturating_sub(last) >= 1000
        && LAST.compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed).is_ok()
    {
        tracing::warn!(%error, "{what}");
    }
}

/// Serve `app` on `listener` until `shutdown` turns true, then finish the requests in flight.
pub async fn serve(
    listener: TcpListener,
    app: axum::Router,
    tls: Option<TlsAcceptor>,
    limits: ServeLimits,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) -> std::io::Result<()> {
    let graceful = GracefulShutdown::new();
    let connections = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    let stopped = async move {
        let _ = shutdown.wait_for(|s| *s).await;
    };
    tokio::pin!(stopped);
    loop {
        let (stream, _peer) = tokio::select! {
            _ = &mut stopped => break,
            accepted = listener.accept() => match accepted {
                Ok(c) => c,
                Err(e) => {
                    // Out of file descriptors, mostly: wait a little instead of spinning.
                    warn_limited("Cannot accept a connection.", &e);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Ok(permit) = connections.clone().try_acquire_owned() else {
            warn_limited("Connection limit reached; closing a new connection.", &limits.max_connections);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(app.clone());
        let watcher = graceful.watcher();
        let tls = tls.clone();
        let limits = limits.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let mut http = hyper::server::conn::http1::Builder::new();
            http.timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout).keep_alive(true);
            let result = match tls {
                None => watcher.watch(http.serve_connection(TokioIo::new(stream), service)).await,
                Some(acceptor) => {
                    let stream = match tokio::time::timeout(limits.tls_handshake_timeout, acceptor.accept(stream)).await
                    {
                        Ok(Ok(s)) => s,
                        Ok(Err(e)) => {
                            tracing::debug!(error = %e, "TLS handshake failed.");
                            return;
                        }
                        Err(_) => {
                            tracing::debug!("TLS handshake timed out.");
                            return;
                        }
                    };
                    watcher.watch(http.serve_connection(TokioIo::new(stream), service)).await
                }
            };
            if let Err(e) = result {
                tracing::debug!(error = %e, "Connection ended with an error.");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}
