//! The HTTP surface of `serve`, driven over a real socket: health,
//! readiness, pages rendered on the server, and data that outlives a
//! restart on the same directory.

#[path = "support/backends.rs"]
mod backends;
#[path = "support/web.rs"]
mod web;

use countersign_domain::users::Role;
use web::Server;

#[tokio::test]
async fn health_and_readiness_answer() {
    let server = Server::start().await;
    let mut browser = server.anonymous();
    let r = browser.get("/healthz").await;
    assert_eq!((r.status, r.body.as_str()), (200, "ok"));
    let r = browser.get("/readyz").await;
    assert_eq!((r.status, r.body.as_str()), (200, "ready"));
    server.stop().await;
}

#[tokio::test]
async fn pages_render_on_the_server_with_their_data() {
    let server = Server::start().await;
    server.add_user("sam", &[Role::Staff], "sam-password").await;
    let mut anonymous = server.anonymous();
    let page = anonymous.get("/").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("id=\"sign-in-link\""), "{}", page.body);
    let page = anonymous.get("/sign-in").await;
    assert!(page.body.contains("name=\"password\""), "{}", page.body);

    let mut sam = server.signed_in("sam", "sam-password").await;
    let page = sam.get("/").await;
    assert!(page.body.contains("Signed in as"), "{}", page.body);
    assert!(page.body.contains("<strong>sam</strong>"), "{}", page.body);
    let page = sam.get("/inbox").await;
    assert!(
        page.body.contains("Nothing waits for a decision"),
        "{}",
        page.body
    );
    let page = sam.get("/no/such/page").await;
    assert_eq!(page.status, 404);
    server.stop().await;
}

#[tokio::test]
async fn users_survive_a_restart_on_the_same_data_dir() {
    let server = Server::start().await;
    server
        .add_user("carol", &[Role::Customer], "carol-password")
        .await;
    let dir = server.stop().await;

    let server = Server::start_config(web::config(dir)).await;
    let mut carol = server.signed_in("carol", "carol-password").await;
    let me = carol.post("/api/auth/me", &[]).await;
    assert_eq!(me.json()["name"], "carol", "{}", me.body);
    server.stop().await;
}
