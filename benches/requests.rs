//! Prints latency and throughput figures for the hot paths of a real `tally serve`: the
//! authenticated read (one user load plus the route's own query) and the deposit (one write
//! transaction). Run with `cargo bench`; set `TEST_DATABASE_URL` to measure a server
//! database instead of SQLite. It asserts nothing about speed: the figures are for people.

#[path = "../tests/api/common.rs"]
mod common;

use std::time::{Duration, Instant};

use common::{TestDb, TestServer, TestUser};
use futures::stream::{self, StreamExt};

const SEQUENTIAL_READS: usize = 2_000;
const CONCURRENT_READS: usize = 10_000;
const DEPOSITS: usize = 2_000;

#[tokio::main]
async fn main() {
    let server = TestServer::spawn_with(TestDb::fresh().await, &[]).await;
    let ada = server.user("bench@example.com").await;
    server.deposit(&ada, "1.00", "USD").await;
    println!("backend: {:?}", server.db.backend);

    let latencies = sequential(&server, &ada, SEQUENTIAL_READS).await;
    report("GET /users/me, one at a time", &latencies);

    for concurrency in [8, 64] {
        let (elapsed, statuses) =
            concurrent(&server, &ada, CONCURRENT_READS, concurrency, Read).await;
        throughput(
            &format!("GET /transactions/, {concurrency} at once"),
            CONCURRENT_READS,
            elapsed,
            &statuses,
        );
    }

    let (elapsed, statuses) = concurrent(&server, &ada, DEPOSITS, 8, Deposit).await;
    throughput(
        "POST /transactions/ deposits, 8 at once",
        DEPOSITS,
        elapsed,
        &statuses,
    );
}

#[derive(Clone, Copy)]
enum Work {
    Read,
    Deposit,
}
use Work::{Deposit, Read};

async fn sequential(server: &TestServer, user: &TestUser, count: usize) -> Vec<Duration> {
    let mut latencies = Vec::with_capacity(count);
    for _ in 0..count {
        let started = Instant::now();
        let reply = server.get("/api/v1/users/me", &user.token).await;
        latencies.push(started.elapsed());
        assert_eq!(reply.status, 200, "{}", reply.text);
    }
    latencies
}

async fn concurrent(
    server: &TestServer,
    user: &TestUser,
    count: usize,
    concurrency: usize,
    work: Work,
) -> (Duration, Vec<u16>) {
    let started = Instant::now();
    let statuses = stream::iter(0..count)
        .map(|_| async move {
            match work {
                Read => {
                    server
                        .get("/api/v1/transactions/?limit=20", &user.token)
                        .await
                        .status
                }
                Deposit => server.deposit(user, "0.01", "USD").await.status,
            }
        })
        .buffer_unordered(concurrency)
        .collect::<Vec<u16>>()
        .await;
    (started.elapsed(), statuses)
}

fn report(name: &str, latencies: &[Duration]) {
    let mut sorted = latencies.to_vec();
    sorted.sort_unstable();
    let at = |q: f64| sorted[((sorted.len() as f64 - 1.0) * q) as usize];
    let micros = |d: Duration| d.as_secs_f64() * 1e6;
    println!(
        "{name}: {} requests, p50 {:.0} µs, p90 {:.0} µs, p99 {:.0} µs",
        sorted.len(),
        micros(at(0.5)),
        micros(at(0.9)),
        micros(at(0.99)),
    );
}

fn throughput(name: &str, count: usize, elapsed: Duration, statuses: &[u16]) {
    let failed = statuses
        .iter()
        .filter(|&&s| !(200..300).contains(&s))
        .count();
    println!(
        "{name}: {count} requests in {:.2} s = {:.0} requests/s, {failed} not 2xx",
        elapsed.as_secs_f64(),
        count as f64 / elapsed.as_secs_f64(),
    );
}
