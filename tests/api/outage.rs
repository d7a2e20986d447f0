//! The database going away mid-traffic and coming back, through a loopback TCP proxy of the
//! test's own between the server and the database. The shared database server is never
//! stopped.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::Method;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

use crate::common::{TestDb, TestServer};

/// Forwards loopback connections to the database until cut.
struct TcpProxy {
    address: SocketAddr,
    up: Arc<AtomicBool>,
    connections: Arc<Mutex<Vec<AbortHandle>>>,
    accept_loop: AbortHandle,
}

impl TcpProxy {
    async fn start(target: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the proxy");
        let address = listener.local_addr().expect("proxy address");
        let up = Arc::new(AtomicBool::new(true));
        let connections = Arc::new(Mutex::new(Vec::new()));

        let (loop_up, loop_connections) = (Arc::clone(&up), Arc::clone(&connections));
        let accept_loop = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !loop_up.load(Ordering::SeqCst) {
                    continue;
                }
                let Ok(mut outbound) = TcpStream::connect(&target).await else {
                    continue;
                };
                let forward = tokio::spawn(async move {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                });
                loop_connections
                    .lock()
                    .expect("connections")
                    .push(forward.abort_handle());
            }
        })
        .abort_handle();

        Self {
            address,
            up,
            connections,
            accept_loop,
        }
    }

    /// Drops every forwarded connection and refuses new ones, as a dead network would.
    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for connection in self.connections.lock().expect("connections").drain(..) {
            connection.abort();
        }
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.cut();
        self.accept_loop.abort();
    }
}

/// `scheme://user@host:port/db?query` → (`host:port`, the URL with `proxy` in its place).
fn route_through(url: &str, proxy: SocketAddr) -> (String, String) {
    let authority_start = url.find("://").map_or(0, |i| i + 3);
    let host_start = url[authority_start..]
        .find('@')
        .map_or(authority_start, |i| authority_start + i + 1);
    let host_end = url[host_start..]
        .find('/')
        .map_or(url.len(), |i| host_start + i);
    let target = url[host_start..host_end].to_owned();
    (
        target,
        format!("{}{proxy}{}", &url[..host_start], &url[host_end..]),
    )
}

#[tokio::test]
#[cfg_attr(
    not(database_server),
    ignore = "needs TEST_DATABASE_URL naming PostgreSQL or MariaDB"
)]
async fn an_outage_is_503_and_the_same_process_serves_again_when_the_database_returns() {
    let db = TestDb::fresh().await;
    let (target, _) = route_through(&db.url, "127.0.0.1:1".parse().expect("address"));
    let proxy = TcpProxy::start(target).await;
    let (_, proxied_url) = route_through(&db.url, proxy.address);
    let mut via_proxy = db.shared();
    via_proxy.url = proxied_url;
    let settings = [("TALLY_DB_ACQUIRE_TIMEOUT_MS", "1000")];
    let server = TestServer::spawn_with(via_proxy, &settings).await;
    let ada = server.user("ada@example.com").await;
    server.deposit(&ada, "5.00", "USD").await;

    proxy.cut();
    let (me, history, deposit) = tokio::join!(
        server.get("/api/v1/users/me", &ada.token),
        server.get("/api/v1/transactions/", &ada.token),
        server.deposit(&ada, "1.00", "USD"),
    );
    let ready_during = server.send(Method::GET, "/health/ready", None, None).await;
    proxy.restore();
    let recovered = wait_until_ready(&server).await;
    let after = server.get("/api/v1/transactions/", &ada.token).await;

    for reply in [&me, &history, &deposit] {
        reply.assert_problem(503, "service_unavailable");
    }
    ready_during.assert_problem(503, "service_unavailable");
    assert!(recovered, "/health/ready never turned 200 again");
    assert_eq!(after.status, 200, "{}", after.text);
    assert_eq!(db.transaction_count().await, 1);
}

async fn wait_until_ready(server: &TestServer) -> bool {
    for _ in 0..50 {
        if server
            .send(Method::GET, "/health/ready", None, None)
            .await
            .status
            == 200
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    false
}
