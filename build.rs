//! Tells the test suite whether `TEST_DATABASE_URL` names a database server, so the tests
//! that need one are reported as ignored on SQLite instead of passing without running.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(database_server)");
    println!("cargo::rerun-if-env-changed=TEST_DATABASE_URL");

    let url = std::env::var("TEST_DATABASE_URL").unwrap_or_default();
    let servers = ["postgres:", "postgresql:", "mysql:", "mariadb:"];
    if servers.iter().any(|scheme| url.starts_with(scheme)) {
        println!("cargo::rustc-cfg=database_server");
    }
}
