//! The accept loop: hyper with a header-read timeout (so slow clients cannot
//! hold connections open) and graceful shutdown; and [`serve_sharded`],
//! which runs it on single-threaded runtimes of its own, each accepting
//! from its own `SO_REUSEPORT` socket, as nginx runs a process per core: a
//! connection's requests then never hop between threads (faster cached
//! delivery; database calls, whose connections live on other runtimes,
//! pay a cross-thread wake-up instead).

use std::future::Future;
use std::time::Duration;

use crate::App;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

/// Serves `app` until `shutdown` completes, then waits (up to `drain`) for
/// requests in flight.
pub async fn serve(
    listener: TcpListener,
    app: App,
    header_timeout: Duration,
    drain: Duration,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    // Out of file descriptors and the like: back off, keep serving.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(app.clone());
        let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
        let conn = graceful.watch(conn.into_owned());
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(%peer, error = %e, "connection closed with an error");
            }
        });
    }
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(drain) => tracing::warn!("shutdown: gave up waiting for requests in flight"),
    }
    Ok(())
}

/// Binds `n` sockets to `addr` with `SO_REUSEPORT`; the kernel spreads
/// connections across them.
pub fn bind_shards(
    addr: std::net::SocketAddr,
    n: usize,
) -> std::io::Result<Vec<std::net::TcpListener>> {
    use socket2::{Domain, Protocol, Socket, Type};
    let mut out = Vec::with_capacity(n);
    let mut addr = addr;
    for _ in 0..n.max(1) {
        let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
        socket.set_reuse_address(true)?;
        socket.set_reuse_port(true)?;
        socket.set_nonblocking(true)?;
        socket.bind(&addr.into())?;
        socket.listen(1024)?;
        let listener: std::net::TcpListener = socket.into();
        // Port 0 asks for any port: the others join the first one's.
        addr = listener.local_addr()?;
        out.push(listener);
    }
    Ok(out)
}

/// Serves `app` on one thread per listener, each with its own
/// current-thread runtime, until `stop` turns true; returns when all have
/// drained.
pub async fn serve_sharded(
    listeners: Vec<std::net::TcpListener>,
    app: App,
    header_timeout: Duration,
    drain: Duration,
    stop: tokio::sync::watch::Receiver<bool>,
) -> std::io::Result<()> {
    let mut threads = Vec::new();
    for (i, std_listener) in listeners.into_iter().enumerate() {
        let app = app.clone();
        let stop = stop.clone();
        let thread = std::thread::Builder::new()
            .name(format!("nubo-http-{i}"))
            .spawn(move || -> std::io::Result<()> {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                runtime.block_on(async move {
                    let listener = TcpListener::from_std(std_listener)?;
                    serve(listener, app, header_timeout, drain, until_true(stop)).await
                })
            })?;
        threads.push(thread);
    }
    tokio::task::spawn_blocking(move || {
        for t in threads {
            match t.join() {
                Ok(r) => r?,
                Err(_) => return Err(std::io::Error::other("an HTTP thread panicked")),
            }
        }
        Ok(())
    })
    .await
    .map_err(std::io::Error::other)?
}

/// Resolves once `flag` is (or becomes) true, or its sender is gone.
pub async fn until_true(mut flag: tokio::sync::watch::Receiver<bool>) {
    while !*flag.borrow() {
        if flag.changed().await.is_err() {
            break;
        }
    }
}
