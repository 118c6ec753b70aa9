//! Who may do what, over HTTP against a whole server: every server
//! function × every kind of caller, sessions (new id at sign-in, dead
//! after sign-out, idle and absolute limits, removed users), failed
//! sign-in limits, and the same-origin rule for anything that changes
//! state.

#[path = "support/backends.rs"]
mod backends;
#[path = "support/web.rs"]
mod web;

use std::collections::BTreeSet;
use std::time::Duration;

use countersign_domain::users::Role;
use web::{Browser, Response, Server};

const PASSWORD: &str = "a-long-enough-password";

/// Who calls, in the table's columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Anonymous,
    /// sam: staff.
    Staff,
    /// bob: the signer documents are addressed to.
    Signer,
    /// erin: a signer nothing is addressed to.
    OtherSigner,
    /// carol: the customer whose order it is.
    Customer,
    /// dave: another customer.
    OtherCustomer,
}

const EVERYONE: [Who; 6] = [
    Who::Anonymous,
    Who::Staff,
    Who::Signer,
    Who::OtherSigner,
    Who::Customer,
    Who::OtherCustomer,
];

impl Who {
    fn name(self) -> Option<&'static str> {
        match self {
            Who::Anonymous => None,
            Who::Staff => Some("sam"),
            Who::Signer => Some("bob"),
            Who::OtherSigner => Some("erin"),
            Who::Customer => Some("carol"),
            Who::OtherCustomer => Some("dave"),
        }
    }
}

async fn people(server: &Server) {
    for (name, role) in [
        ("sam", Role::Staff),
        ("bob", Role::Signer),
        ("erin", Role::Signer),
        ("carol", Role::Customer),
        ("dave", Role::Customer),
        ("probe", Role::Customer),
    ] {
        server.add_user(name, &[role], PASSWORD).await;
    }
}

/// A fresh browser for `who`, so that one cell's sign-in or sign-out
/// cannot affect another's.
async fn browser(server: &Server, who: Who) -> Browser {
    match who.name() {
        None => server.anonymous(),
        Some(name) => server.signed_in(name, PASSWORD).await,
    }
}

async fn place_order(carol: &mut Browser) -> String {
    let r = carol
        .post("/api/orders/place", &[("items", "Hat\nScarf")])
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json().as_str().expect("an id").to_owned()
}

/// The start form of a small expense.
fn expense_form() -> Vec<(String, String)> {
    vec![
        ("kind".into(), "expense-approval".into()),
        ("values[amount]".into(), "12".into()),
        ("values[currency]".into(), "EUR".into()),
        ("values[purpose]".into(), "lamp".into()),
    ]
}

/// An expense carol asks for; its task id once its workflow has written it.
async fn expense(carol: &mut Browser) -> String {
    let form = expense_form();
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = carol.post("/api/tasks/start", &form).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let id = r.json().as_str().expect("an id").to_owned();
    for _ in 0..200 {
        let r = carol
            .post("/api/tasks/get", &[("task_id", id.as_str())])
            .await;
        if r.status == 200 {
            return id;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("expense {id} never waited");
}

/// The order's waiting task id, once its workflow has written it.
async fn waiting_task(sam: &mut Browser, order_id: &str) -> String {
    for _ in 0..200 {
        let r = sam.post("/api/orders/get", &[("order_id", order_id)]).await;
        if r.status == 200
            && let Some(task) = r.json()["pending"]["task_id"].as_str()
        {
            return task.to_owned();
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("order {order_id} never waited");
}

async fn document_for_bob(sam: &mut Browser) -> (String, String) {
    let r = sam
        .post(
            "/api/signatures/request",
            &[
                ("title", "Supplier contract"),
                ("signers", "alice (auto)\nbob"),
                ("timeout", "1"),
                ("unit", "hours"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let id = r.json().as_str().expect("an id").to_owned();
    for _ in 0..200 {
        let r = sam
            .post("/api/signatures/document", &[("document_id", &id)])
            .await;
        if r.status == 200 {
            let requests = r.json()["requests"].clone();
            let task = requests.as_array().and_then(|list| {
                list.iter()
                    .find(|q| q["signer"] == "bob")
                    .and_then(|q| q["task_id"].as_str().map(str::to_owned))
            });
            if let Some(task) = task {
                return (id, task);
            }
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("document {id} never waited for bob");
}

/// A row of the table: a server function, who succeeds, what the others get.
type Row = (&'static str, Vec<Who>, Vec<(Who, u16)>);
/// A call's form fields, and (for a decision) the order and task that must
/// still wait if the call is refused.
type Call = (Vec<(String, String)>, Option<(String, String)>);

/// What a cell must answer: success, or this refusal.
fn expect(ok: &[Who], refusals: &[(Who, u16)], who: Who) -> u16 {
    if ok.contains(&who) {
        200
    } else {
        refusals
            .iter()
            .find(|(w, _)| *w == who)
            .map(|(_, code)| *code)
            .unwrap_or_else(|| panic!("the table says nothing of {who:?}"))
    }
}

#[tokio::test]
async fn every_server_function_admits_exactly_its_callers() {
    use Who::*;
    let server = Server::start().await;
    people(&server).await;
    let mut sam = browser(&server, Staff).await;
    let mut carol = browser(&server, Customer).await;
    let carols_order = place_order(&mut carol).await;
    waiting_task(&mut sam, &carols_order).await;
    let (bobs_document, _) = document_for_bob(&mut sam).await;
    // erin is finance: she may decide carol's expenses; bob may not see them.
    let (accounts, embedded) = server.accounts().await;
    accounts
        .set_groups("erin", &["finance".to_owned()])
        .await
        .expect("groups");
    if let Some(e) = embedded {
        e.stop().await;
    }
    let carols_expense = expense(&mut carol).await;
    // A decision on carol's order, for its receipt.
    let decided_task = waiting_task(&mut sam, &carols_order).await;
    let r = sam
        .post(
            "/api/orders/decide",
            &[
                ("order_id", carols_order.as_str()),
                ("task_id", decided_task.as_str()),
                ("action", "advance"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let signed_in = [Staff, Signer, OtherSigner, Customer, OtherCustomer];
    let only_finance = vec![
        (Anonymous, 401),
        // Staff outside finance see it but may not decide it; the
        // requester is excluded.
        (Staff, 403),
        (Customer, 403),
        (Signer, 404),
        (OtherCustomer, 404),
    ];

    let not_staff = [
        (Anonymous, 401),
        (Signer, 403),
        (OtherSigner, 403),
        (Customer, 403),
        (OtherCustomer, 403),
    ];
    let not_customer = [
        (Anonymous, 401),
        (Staff, 403),
        (Signer, 403),
        (OtherSigner, 403),
    ];
    let not_signer = [
        (Anonymous, 401),
        (Staff, 403),
        (Customer, 403),
        (OtherCustomer, 403),
    ];
    // (server function, who succeeds, what the others get)
    let table: Vec<Row> = vec![
        ("/api/auth/me", EVERYONE.to_vec(), vec![]),
        ("/api/auth/sign_in", EVERYONE.to_vec(), vec![]),
        ("/api/auth/sign_out", EVERYONE.to_vec(), vec![]),
        // Staff may place orders too (taken by phone, say).
        (
            "/api/orders/place",
            vec![Staff, Customer, OtherCustomer],
            vec![(Anonymous, 401), (Signer, 403), (OtherSigner, 403)],
        ),
        (
            "/api/orders/mine",
            vec![Customer, OtherCustomer],
            not_customer.to_vec(),
        ),
        (
            "/api/orders/get",
            vec![Staff, Customer],
            vec![
                (Anonymous, 401),
                (Signer, 403),
                (OtherSigner, 403),
                // Another customer's order does not exist for them.
                (OtherCustomer, 404),
            ],
        ),
        ("/api/orders/inbox", vec![Staff], not_staff.to_vec()),
        ("/api/orders/decide", vec![Staff], not_staff.to_vec()),
        ("/api/orders/decide-many", vec![Staff], not_staff.to_vec()),
        ("/api/orders/events", vec![Staff], not_staff.to_vec()),
        ("/api/orders/flow", vec![Staff], not_staff.to_vec()),
        ("/api/signatures/events", vec![Staff], not_staff.to_vec()),
        ("/api/signatures/flow", vec![Staff], not_staff.to_vec()),
        (
            "/api/signatures/desk",
            vec![Signer, OtherSigner],
            not_signer.to_vec(),
        ),
        (
            "/api/signatures/document",
            vec![Staff, Signer],
            vec![
                (Anonymous, 401),
                // Not named on it: it does not exist for them.
                (OtherSigner, 404),
                (Customer, 403),
                (OtherCustomer, 403),
            ],
        ),
        (
            "/api/signatures/decide",
            vec![Signer],
            vec![
                (Anonymous, 401),
                (Staff, 403),
                (OtherSigner, 404),
                (Customer, 403),
                (OtherCustomer, 403),
            ],
        ),
        ("/api/signatures/request", vec![Staff], not_staff.to_vec()),
        (
            "/api/tasks/list",
            signed_in.to_vec(),
            vec![(Anonymous, 401)],
        ),
        (
            "/api/tasks/get",
            vec![Staff, OtherSigner, Customer],
            vec![(Anonymous, 401), (Signer, 404), (OtherCustomer, 404)],
        ),
        // The workflow behind a task: whoever may see the task.
        (
            "/api/tasks/flow",
            vec![Staff, OtherSigner, Customer],
            vec![(Anonymous, 401), (Signer, 404), (OtherCustomer, 404)],
        ),
        ("/api/tasks/answer", vec![OtherSigner], only_finance.clone()),
        ("/api/tasks/claim", vec![OtherSigner], only_finance),
        (
            "/api/tasks/assign",
            vec![Staff],
            vec![
                (Anonymous, 401),
                // Neither staff nor its holder.
                (OtherSigner, 403),
                (Customer, 403),
                (Signer, 404),
                (OtherCustomer, 404),
            ],
        ),
        (
            "/api/files/list",
            vec![Staff, Signer],
            vec![
                (Anonymous, 401),
                (OtherSigner, 404),
                (Customer, 403),
                (OtherCustomer, 403),
            ],
        ),
        (
            // Staff, and the order's customer; for anyone else it does
            // not exist.
            "/api/receipts/get",
            vec![Staff, Customer],
            vec![
                (Anonymous, 401),
                (Signer, 404),
                (OtherSigner, 404),
                (OtherCustomer, 404),
            ],
        ),
        (
            // The audit page's filter: staff only.
            "/api/audit/kinds",
            vec![Staff],
            vec![
                (Anonymous, 401),
                (Signer, 403),
                (OtherSigner, 403),
                (Customer, 403),
                (OtherCustomer, 403),
            ],
        ),
        (
            "/api/tasks/start",
            signed_in.to_vec(),
            vec![(Anonymous, 401)],
        ),
        (
            "/api/tasks/save_view",
            signed_in.to_vec(),
            vec![(Anonymous, 401)],
        ),
        (
            "/api/tasks/delete_view",
            signed_in.to_vec(),
            vec![(Anonymous, 401)],
        ),
    ];

    // The table must name every server function there is.
    let registered: BTreeSet<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.to_owned())
        .collect();
    let covered: BTreeSet<String> = table.iter().map(|(p, _, _)| (*p).to_owned()).collect();
    assert_eq!(
        registered, covered,
        "a server function is missing from the table"
    );

    let mut bodies: Vec<String> = Vec::new();
    let mut failures = Vec::new();
    for (path, ok, refusals) in &table {
        for who in EVERYONE {
            let want = expect(ok, refusals, who);
            let mut caller = browser(&server, who).await;
            // Fresh things to act on, so each cell decides its own.
            let (args, check): Call = match *path {
                "/api/auth/sign_in" => (
                    vec![
                        ("name".into(), "probe".into()),
                        ("password".into(), PASSWORD.into()),
                    ],
                    None,
                ),
                "/api/orders/place" => (vec![("items".into(), "Lamp".into())], None),
                "/api/orders/get" => (vec![("order_id".into(), carols_order.clone())], None),
                "/api/orders/decide" => {
                    let order = place_order(&mut carol).await;
                    let task = waiting_task(&mut sam, &order).await;
                    (
                        vec![
                            ("order_id".into(), order.clone()),
                            ("task_id".into(), task.clone()),
                            ("action".into(), "advance".into()),
                        ],
                        Some((order, task)),
                    )
                }
                "/api/orders/decide-many" => {
                    let order = place_order(&mut carol).await;
                    let task = waiting_task(&mut sam, &order).await;
                    (
                        vec![
                            ("picked[0]".into(), format!("{order}.{task}")),
                            ("action".into(), "advance".into()),
                        ],
                        Some((order, task)),
                    )
                }
                "/api/orders/events" | "/api/orders/flow" => {
                    (vec![("order_id".into(), carols_order.clone())], None)
                }
                "/api/signatures/events" | "/api/signatures/flow" => {
                    (vec![("document_id".into(), bobs_document.clone())], None)
                }
                "/api/signatures/document" => {
                    (vec![("document_id".into(), bobs_document.clone())], None)
                }
                "/api/signatures/decide" => {
                    let (document, task) = document_for_bob(&mut sam).await;
                    (
                        vec![
                            ("document_id".into(), document),
                            ("task_id".into(), task),
                            ("action".into(), "sign".into()),
                        ],
                        None,
                    )
                }
                "/api/signatures/request" => (
                    vec![
                        ("title".into(), "NDA".into()),
                        ("signers".into(), "bob".into()),
                        ("timeout".into(), "1".into()),
                        ("unit".into(), "hours".into()),
                    ],
                    None,
                ),
                "/api/tasks/get" | "/api/tasks/flow" => {
                    (vec![("task_id".into(), carols_expense.clone())], None)
                }
                "/api/tasks/answer" => (
                    vec![
                        ("task_id".into(), expense(&mut carol).await),
                        ("action".into(), "approve".into()),
                    ],
                    None,
                ),
                "/api/tasks/claim" => (
                    vec![
                        ("task_id".into(), expense(&mut carol).await),
                        ("what".into(), "claim".into()),
                    ],
                    None,
                ),
                "/api/tasks/assign" => (
                    vec![
                        ("task_id".into(), expense(&mut carol).await),
                        ("to".into(), "erin".into()),
                    ],
                    None,
                ),
                "/api/tasks/start" => (expense_form(), None),
                "/api/files/list" => (
                    vec![
                        ("of".into(), "document".into()),
                        ("id".into(), bobs_document.clone()),
                    ],
                    None,
                ),
                "/api/receipts/get" => (vec![("id".into(), decided_task.clone())], None),
                "/api/tasks/save_view" => (
                    vec![
                        ("name".into(), "Open".into()),
                        ("view".into(), "open".into()),
                    ],
                    None,
                ),
                "/api/tasks/delete_view" => {
                    // A view of their own to delete, when they may save one.
                    if who != Anonymous {
                        let saved = caller
                            .post(
                                "/api/tasks/save_view",
                                &[("name", "Gone"), ("view", "open")],
                            )
                            .await;
                        assert_eq!(saved.status, 200, "{}", saved.body);
                    }
                    (vec![("name".into(), "Gone".into())], None)
                }
                _ => (vec![], None),
            };
            let form: Vec<(&str, &str)> =
                args.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let r: Response = caller.post(path, &form).await;
            if r.status != want {
                failures.push(format!(
                    "{path} as {who:?}: {} (wanted {want}): {}",
                    r.status, r.body
                ));
            }
            // A refused decision changed nothing: the step still waits.
            if let (Some((order, task)), true) = (&check, want != 200) {
                let still = waiting_task(&mut sam, order).await;
                assert_eq!(&still, task, "{path} as {who:?} moved the order");
            }
            bodies.push(r.body);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // No answer carried a task token.
    let tokens = task_tokens(&server).await;
    assert!(!tokens.is_empty(), "the run made tokens");
    for body in &bodies {
        for token in &tokens {
            assert!(!body.contains(token.as_str()), "a token leaked: {body}");
        }
    }
    server.stop().await;
}

/// Every task token the workflows of this server wrote.
async fn task_tokens(server: &Server) -> Vec<String> {
    let (accounts, embedded) = server.accounts().await;
    let tables = countersign_domain::tables::Tables::default();
    let mut tokens = Vec::new();
    for table in [&tables.tasks, &tables.signature_requests, &tables.decisions] {
        let out = accounts
            .ddb
            .scan()
            .table_name(table)
            .send()
            .await
            .expect("scan");
        for item in out.items() {
            for name in ["token", "taskToken"] {
                if let Some(t) = item.get(name).and_then(|v| v.as_s().ok()) {
                    tokens.push(t.clone());
                }
            }
        }
    }
    if let Some(e) = embedded {
        e.stop().await;
    }
    tokens
}

#[tokio::test]
async fn sign_in_issues_a_new_session_id_and_sign_out_kills_the_old_one() {
    let server = Server::start().await;
    people(&server).await;

    // An id planted in the browser before sign-in is not kept.
    let mut browser = server.anonymous();
    let planted = "countersign_session=AAAAAAAAAAAAAAAAAAAAAA".to_owned();
    browser.cookie = Some(planted.clone());
    let r = browser.sign_in("sam", PASSWORD).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let first = browser.cookie.clone().expect("a session cookie");
    assert_ne!(first, planted);
    let set_cookie = r.header("set-cookie").expect("set-cookie");
    assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
    assert!(set_cookie.contains("SameSite=Lax"), "{set_cookie}");

    // Signing in again (say, as someone else) changes the id again and
    // the first id stops working.
    browser.sign_in("sam", PASSWORD).await;
    let second = browser.cookie.clone().expect("a session cookie");
    assert_ne!(second, first);
    let mut stale = server.anonymous();
    stale.cookie = Some(first);
    let r = stale.post("/api/auth/me", &[]).await;
    assert_eq!(r.json(), serde_json::Value::Null, "{}", r.body);

    // Signing out ends the session for every copy of the cookie.
    let r = browser.post("/api/auth/sign_out", &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mut kept = server.anonymous();
    kept.cookie = Some(second);
    let r = kept.post("/api/orders/inbox", &[]).await;
    assert_eq!(r.status, 401, "{}", r.body);
    server.stop().await;
}

#[tokio::test]
async fn sessions_end_when_idle_too_long_when_too_old_and_when_the_user_goes() {
    let server = Server::start_with(|c| {
        c.web.idle_secs = 1;
        c.policy.idle_secs = 1;
    })
    .await;
    people(&server).await;
    let mut sam = server.signed_in("sam", PASSWORD).await;
    assert_eq!(sam.post("/api/orders/inbox", &[]).await.status, 200);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(sam.post("/api/orders/inbox", &[]).await.status, 401, "idle");
    server.stop().await;

    let server = Server::start_with(|c| c.policy.absolute_secs = 1).await;
    people(&server).await;
    let mut sam = server.signed_in("sam", PASSWORD).await;
    assert_eq!(sam.post("/api/orders/inbox", &[]).await.status, 200);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    // Used all along, but older than the absolute limit.
    for _ in 0..2 {
        tokio::time::sleep(Duration::from_millis(600)).await;
        sam.post("/api/auth/me", &[]).await;
    }
    assert_eq!(
        sam.post("/api/orders/inbox", &[]).await.status,
        401,
        "absolute"
    );

    let mut dave = server.signed_in("dave", PASSWORD).await;
    assert_eq!(dave.post("/api/orders/mine", &[]).await.status, 200);
    let (accounts, embedded) = server.accounts().await;
    accounts.remove_user("dave").await.expect("remove");
    if let Some(e) = embedded {
        e.stop().await;
    }
    assert_eq!(
        dave.post("/api/orders/mine", &[]).await.status,
        401,
        "removed"
    );
    server.stop().await;
}

#[tokio::test]
async fn failed_sign_ins_are_limited_per_account_and_address_and_per_address() {
    let server = Server::start_with(|c| {
        c.policy.limits.per_account = 3;
        c.policy.limits.per_address = 5;
    })
    .await;
    people(&server).await;
    let mut browser = server.anonymous();
    for _ in 0..3 {
        let r = browser.sign_in("sam", "wrong-password").await;
        assert_eq!(r.status, 401, "{}", r.body);
        assert!(r.body.contains("BadCredentials"), "{}", r.body);
    }
    // From this address even the right password is refused now, with a
    // clear message.
    let r = browser.sign_in("sam", PASSWORD).await;
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(r.body.contains("TooManyAttempts"), "{}", r.body);
    assert!(browser.cookie.is_none());

    // Another account from the same address still works …
    assert_eq!(browser.sign_in("bob", PASSWORD).await.status, 200);
    // … until the address has failed too often, for any name, even
    // names that do not exist.
    for name in ["nobody", "erin"] {
        let r = browser.sign_in(name, "wrong-password").await;
        assert_eq!(r.status, 401, "{}", r.body);
    }
    let r = browser.sign_in("carol", PASSWORD).await;
    assert_eq!(r.status, 429, "{}", r.body);
    server.stop().await;
}

#[tokio::test]
async fn a_cross_site_request_is_refused_and_changes_nothing() {
    let server = Server::start().await;
    people(&server).await;
    let mut carol = server.signed_in("carol", PASSWORD).await;
    let mut sam = server.signed_in("sam", PASSWORD).await;
    let order = place_order(&mut carol).await;
    let task = waiting_task(&mut sam, &order).await;
    let form = [
        ("order_id", order.as_str()),
        ("task_id", task.as_str()),
        ("action", "advance"),
    ];

    let mut forged = sam.clone();
    forged.origin = Some("http://evil.example".into());
    let r = forged.post("/api/orders/decide", &form).await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("cross-site"), "{}", r.body);

    let mut bare = sam.clone();
    bare.origin = None;
    let r = bare.post("/api/orders/decide", &form).await;
    assert_eq!(r.status, 403, "no Origin and no Referer: {}", r.body);
    let r = bare
        .post_with(
            "/api/orders/decide",
            &form,
            &[("referer", "http://evil.example/page")],
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(waiting_task(&mut sam, &order).await, task, "nothing moved");

    // From our own page it goes through.
    let referer = format!("http://{}/inbox", server.addr);
    let r = bare
        .post_with(
            "/api/orders/decide",
            &form,
            &[("referer", referer.as_str())],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    server.stop().await;
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let server = Server::start().await;
    let browser = Browser::at(server.addr);
    for path in ["/sign-in", "/openapi.json", "/no-such-page", "/healthz"] {
        let r = browser.try_get(path).await.expect("get");
        assert_eq!(r.header("x-frame-options"), Some("DENY"), "{path}");
        assert_eq!(
            r.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(r.header("referrer-policy"), Some("same-origin"), "{path}");
        assert!(
            r.header("content-security-policy")
                .is_some_and(|c| c.contains("frame-ancestors 'none'")),
            "{path}: {:?}",
            r.header("content-security-policy")
        );
        // Served over http here: no HSTS (it would pin a plain address).
        assert_eq!(r.header("strict-transport-security"), None, "{path}");
    }
    // A page's inline scripts carry the nonce its CSP names, a new one
    // each time; a script without it would not run.
    let mut seen = Vec::new();
    for _ in 0..2 {
        let r = browser.try_get("/sign-in").await.expect("get");
        let csp = r.header("content-security-policy").expect("csp").to_owned();
        let nonce = csp
            .split("'nonce-")
            .nth(1)
            .and_then(|rest| rest.split('\'').next())
            .expect("a nonce")
            .to_owned();
        assert!(csp.contains("script-src 'self' 'nonce-"), "{csp}");
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        let scripts = r.body.matches("<script").count();
        assert!(scripts > 0);
        assert_eq!(
            r.body.matches(&format!("nonce=\"{nonce}\"")).count(),
            r.body.matches("<script").count() - r.body.matches("<script src").count(),
            "every inline script carries the nonce: {}",
            r.body
        );
        seen.push(nonce);
    }
    assert_ne!(seen[0], seen[1]);
    server.stop().await;
}

#[tokio::test]
async fn a_plain_form_post_goes_back_only_to_a_page_of_this_site() {
    let server = Server::start().await;
    people(&server).await;
    let mut carol = server.signed_in("carol", PASSWORD).await;
    let mut sam = server.signed_in("sam", PASSWORD).await;
    for trick in ["//evil.example/inbox", "/\\evil.example/inbox"] {
        let order = place_order(&mut carol).await;
        let task = waiting_task(&mut sam, &order).await;
        let form = [
            ("order_id", order.as_str()),
            ("task_id", task.as_str()),
            ("action", "advance"),
        ];
        let referer = format!("http://{}{trick}", server.addr);
        let r = sam
            .clone()
            .post_with(
                "/api/orders/decide",
                &form,
                &[("referer", referer.as_str()), ("accept", "text/html")],
            )
            .await;
        let location = r.header("location").unwrap_or_default().to_owned();
        assert!(
            (300..400).contains(&r.status),
            "{trick}: {} {}",
            r.status,
            r.body
        );
        assert!(
            location.starts_with("/?") && !location.starts_with("//"),
            "{trick}: sent to {location:?}"
        );
    }
    // A page of ours is where it goes back to.
    let order = place_order(&mut carol).await;
    let task = waiting_task(&mut sam, &order).await;
    let form = [
        ("order_id", order.as_str()),
        ("task_id", task.as_str()),
        ("action", "advance"),
    ];
    let referer = format!("http://{}/inbox?q=abc", server.addr);
    let r = sam
        .clone()
        .post_with(
            "/api/orders/decide",
            &form,
            &[("referer", referer.as_str()), ("accept", "text/html")],
        )
        .await;
    assert!(
        r.header("location")
            .is_some_and(|l| l.starts_with("/inbox?q=abc&done=")),
        "{:?}",
        r.header("location")
    );
    server.stop().await;
}

#[tokio::test]
async fn bad_cursors_page_tokens_names_and_bodies_get_a_4xx_not_a_5xx() {
    let server = Server::start().await;
    people(&server).await;
    let mut carol = server.signed_in("carol", PASSWORD).await;
    let mut sam = server.signed_in("sam", PASSWORD).await;
    let order = place_order(&mut carol).await;
    waiting_task(&mut sam, &order).await;

    // A cursor that decodes but names no row of the index, and garbage.
    let wrong_keys = base64url(br#"{"orders":{"after":{"inbox":"orders"}}}"#);
    for cursor in [wrong_keys.as_str(), "%%%not-a-cursor"] {
        let r = sam.post("/api/orders/inbox", &[("cursor", cursor)]).await;
        assert_eq!(r.status, 400, "cursor {cursor}: {}", r.body);
    }
    let r = sam
        .post(
            "/api/orders/events",
            &[("order_id", order.as_str()), ("page", "not-a-page-token")],
        )
        .await;
    assert_eq!(r.status, 400, "events page token: {}", r.body);

    // A 60 kB name is a wrong name, not a failure of the service (one of
    // 100 kB is a body over the limit: 413 below).
    let long = "n".repeat(60_000);
    let mut anonymous = Browser::at(server.addr);
    let r = anonymous
        .post(
            "/api/auth/sign_in",
            &[("name", long.as_str()), ("password", "whatever it is")],
        )
        .await;
    assert_eq!(r.status, 401, "{}", r.body);

    // A 3 MB body is refused for its size.
    let huge = "x".repeat(3 * 1024 * 1024);
    let r = sam
        .post(
            "/api/orders/decide",
            &[
                ("order_id", order.as_str()),
                ("task_id", huge.as_str()),
                ("action", "advance"),
            ],
        )
        .await;
    assert_eq!(r.status, 413, "{}", &r.body[..r.body.len().min(200)]);
    server.stop().await;
}

/// Base64url without padding, as the inbox's cursors are written.
fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().fold(0u32, |n, b| (n << 8) | u32::from(*b)) << (8 * (3 - chunk.len()));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// The rows of the sessions table: (id, data).
async fn session_rows(server: &Server) -> Vec<(String, String)> {
    let (accounts, embedded) = server.accounts().await;
    let out = accounts
        .ddb
        .scan()
        .table_name(&accounts.tables.sessions)
        .send()
        .await
        .expect("scan");
    if let Some(e) = embedded {
        e.stop().await;
    }
    let text = |item: &std::collections::HashMap<_, aws_sdk_dynamodb::types::AttributeValue>,
                name: &str| {
        item.get(name)
            .and_then(|v| v.as_s().ok())
            .cloned()
            .unwrap_or_default()
    };
    out.items()
        .iter()
        .map(|item| (text(item, "id"), text(item, "data")))
        .collect()
}

#[tokio::test]
async fn session_ids_are_stored_only_as_hashes_and_an_ended_session_stays_ended() {
    use sha2::Digest;
    use tower_sessions::SessionStore;
    let server = Server::start().await;
    people(&server).await;
    let sam = server.signed_in("sam", PASSWORD).await;
    let cookie = sam.cookie.clone().expect("cookie");
    let id = cookie
        .strip_prefix("countersign_session=")
        .expect("the session cookie");
    let rows = session_rows(&server).await;
    assert!(!rows.is_empty());
    for (row_id, data) in &rows {
        assert!(
            !row_id.contains(id) && !data.contains(id),
            "{row_id} {data}"
        );
    }
    let hashed: String = sha2::Sha256::digest(id.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert!(rows.iter().any(|(row_id, _)| *row_id == hashed));

    // A request still running when its session ended (signed out in
    // another tab) saves afterwards: the session must not come back.
    let (accounts, embedded) = server.accounts().await;
    let store = countersign_server::sessions::DynamoDbStore::new(
        accounts.ddb.clone(),
        accounts.tables.sessions.clone(),
    );
    let mut record = tower_sessions::session::Record {
        id: Default::default(),
        data: [("user".to_owned(), serde_json::json!("sam"))].into(),
        expiry_date: time::OffsetDateTime::now_utc() + time::Duration::hours(1),
    };
    store.create(&mut record).await.expect("create");
    assert!(store.load(&record.id).await.expect("load").is_some());
    store.delete(&record.id).await.expect("delete");
    store.save(&record).await.expect("a late save is no error");
    assert!(
        store.load(&record.id).await.expect("load").is_none(),
        "a late save brought an ended session back"
    );
    if let Some(e) = embedded {
        e.stop().await;
    }
    server.stop().await;
}

#[tokio::test]
async fn removing_a_user_revokes_their_keys_and_sessions_and_adding_them_again_brings_none_back() {
    use countersign_domain::api_keys::KeyKind;
    let server = Server::start().await;
    people(&server).await;
    let mut dave = server.signed_in("dave", PASSWORD).await;
    assert_eq!(dave.post("/api/orders/mine", &[]).await.status, 200);
    let (accounts, embedded) = server.accounts().await;
    let (_, key) = accounts
        .create_key("dave", KeyKind::Bearer)
        .await
        .expect("key");
    assert!(accounts.bearer_user(&key).await.expect("check").is_some());

    accounts.remove_user("dave").await.expect("remove");
    let keys = accounts.keys().await.expect("keys");
    assert!(keys.iter().all(|k| k.user != "dave"), "{keys:?}");
    assert!(accounts.bearer_user(&key).await.expect("check").is_none());
    assert_eq!(dave.post("/api/orders/mine", &[]).await.status, 401);

    // The same name again is someone new: nothing of the old dave works.
    let stale_cookie = dave.cookie.clone();
    server.add_user("dave", &[Role::Customer], PASSWORD).await;
    let mut old = server.anonymous();
    old.cookie = stale_cookie;
    assert_eq!(old.post("/api/orders/mine", &[]).await.status, 401);
    assert!(accounts.bearer_user(&key).await.expect("check").is_none());
    let mut fresh = server.signed_in("dave", PASSWORD).await;
    assert_eq!(fresh.post("/api/orders/mine", &[]).await.status, 200);
    if let Some(e) = embedded {
        e.stop().await;
    }
    server.stop().await;
}

#[tokio::test]
async fn a_webhook_call_is_spent_once_unless_its_failure_gives_it_back() {
    use countersign_domain::api_keys::{KeyKind, SignedCall, WebhookRefusal, webhook_signature};
    let server = Server::start().await;
    people(&server).await;
    let (accounts, embedded) = server.accounts().await;
    let (key, secret) = accounts
        .create_key("sam", KeyKind::Webhook)
        .await
        .expect("key");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let path = "/hooks/tasks/o.x.y";
    let body = br#"{"status":"SUCCESS"}"#;
    let header = format!(
        "t={now},k={},v1={}",
        key.id,
        webhook_signature(&secret, now, "POST", path, body)
    );
    let call = SignedCall {
        header: &header,
        method: "POST",
        path,
        body,
    };
    let (user, marker) = accounts
        .webhook_user(call, now)
        .await
        .expect("checked")
        .expect("accepted");
    assert_eq!(user.name, "sam");
    // Its decision failed for a passing reason: the marker is given back.
    accounts
        .release_webhook_call(marker)
        .await
        .expect("release");
    let (_, _kept) = accounts
        .webhook_user(call, now)
        .await
        .expect("checked")
        .expect("accepted again after the release");
    assert_eq!(
        accounts
            .webhook_user(call, now)
            .await
            .expect("checked")
            .err(),
        Some(WebhookRefusal::Replayed)
    );
    // Another path (another task) is another signature: refused.
    let elsewhere = SignedCall {
        path: "/hooks/tasks/o.x.z",
        ..call
    };
    assert_eq!(
        accounts
            .webhook_user(elsewhere, now)
            .await
            .expect("checked")
            .err(),
        Some(WebhookRefusal::BadSignature)
    );
    if let Some(e) = embedded {
        e.stop().await;
    }
    server.stop().await;
}

/// A sign-in attempt from `address` (the server trusts X-Forwarded-For).
async fn sign_in_from(server: &Server, name: &str, password: &str, address: &str) -> Response {
    let mut browser = server.anonymous();
    browser
        .post_with(
            "/api/auth/sign_in",
            &[("name", name), ("password", password)],
            &[("x-forwarded-for", address)],
        )
        .await
}

#[tokio::test]
async fn parallel_guesses_cannot_overrun_the_limit() {
    let server = Server::start_with(|c| {
        c.web.trust_forwarded_for = true;
        c.policy.limits.per_account = 3;
    })
    .await;
    people(&server).await;
    let guesses = (0..16).map(|_| sign_in_from(&server, "sam", "wrong-password", "198.51.100.7"));
    let answers = futures_util::future::join_all(guesses).await;
    let checked = answers
        .iter()
        .filter(|r| r.body.contains("BadCredentials"))
        .count();
    for r in &answers {
        assert!(
            r.status == 401 || r.status == 429,
            "{} {}",
            r.status,
            r.body
        );
    }
    assert!(
        checked <= 3,
        "{checked} guesses were checked, the limit is 3"
    );
    server.stop().await;
}

#[tokio::test]
async fn argon2_work_is_capped_and_the_excess_is_told_to_retry_at_once() {
    let server = Server::start_with(|c| c.web.trust_forwarded_for = true).await;
    people(&server).await;
    let attempts = (0..16).map(|i| {
        let address = format!("198.51.100.{i}");
        let server = &server;
        async move { sign_in_from(server, "sam", PASSWORD, &address).await }
    });
    let answers = futures_util::future::join_all(attempts).await;
    let busy = answers
        .iter()
        .filter(|r| r.status == 429 && r.body.contains("Busy"))
        .count();
    for r in &answers {
        assert!(
            r.status == 200 || r.status == 429,
            "{} {}",
            r.status,
            r.body
        );
    }
    assert!(
        busy > 0,
        "16 sign-ins at once on a capped pool: none was told to retry"
    );
    // Told to retry, they get in when they do.
    for (i, r) in answers.iter().enumerate() {
        if r.status == 429 {
            let again = sign_in_from(&server, "sam", PASSWORD, &format!("198.51.100.{i}")).await;
            assert_eq!(again.status, 200, "{}", again.body);
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn nobody_can_lock_a_person_out_of_their_account() {
    let server = Server::start_with(|c| {
        c.web.trust_forwarded_for = true;
        c.policy.limits.per_account = 3;
        c.policy.limits.per_account_anywhere = 4;
    })
    .await;
    people(&server).await;
    let home = "203.0.113.10";
    assert_eq!(
        sign_in_from(&server, "sam", PASSWORD, home).await.status,
        200
    );

    // One attacker address: it is stopped; sam, elsewhere, is not.
    for _ in 0..3 {
        let r = sign_in_from(&server, "sam", "wrong-password", "198.51.100.1").await;
        assert_eq!(r.status, 401, "{}", r.body);
    }
    let r = sign_in_from(&server, "sam", PASSWORD, "198.51.100.1").await;
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(r.body.contains("TooManyAttempts"), "{}", r.body);
    assert_eq!(
        sign_in_from(&server, "sam", PASSWORD, home).await.status,
        200
    );
    assert_eq!(
        sign_in_from(&server, "sam", PASSWORD, "203.0.113.77")
            .await
            .status,
        200,
        "a new address with the right password"
    );

    // Many attacker addresses: unknown addresses are stopped for sam's
    // account, but sam at an address of theirs still gets in.
    for i in 2..8 {
        sign_in_from(&server, "sam", "wrong-password", &format!("198.51.100.{i}")).await;
    }
    let r = sign_in_from(&server, "sam", PASSWORD, "192.0.2.200").await;
    assert_eq!(
        r.status, 429,
        "an unknown address, after a spread attack: {}",
        r.body
    );
    assert_eq!(
        sign_in_from(&server, "sam", PASSWORD, home).await.status,
        200,
        "sam at home is not locked out"
    );
    // Other accounts are untouched.
    assert_eq!(
        sign_in_from(&server, "bob", PASSWORD, "192.0.2.200")
            .await
            .status,
        200
    );
    server.stop().await;
}

#[tokio::test]
async fn the_same_origin_check_trusts_neither_the_host_header_nor_an_authorization_header() {
    let server = Server::start().await;
    people(&server).await;
    let mut carol = server.signed_in("carol", PASSWORD).await;
    let mut sam = server.signed_in("sam", PASSWORD).await;
    let order = place_order(&mut carol).await;
    let task = waiting_task(&mut sam, &order).await;
    let form = [
        ("order_id", order.as_str()),
        ("task_id", task.as_str()),
        ("action", "advance"),
    ];
    let mut forged = sam.clone();
    // A rebound name: Origin and Host agree, but are not this site.
    forged.origin = Some("http://evil.example".into());
    let r = forged
        .post_with("/api/orders/decide", &form, &[("host", "evil.example")])
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    // The right host and port, the wrong scheme.
    forged.origin = Some(format!("https://{}", server.addr));
    let r = forged.post("/api/orders/decide", &form).await;
    assert_eq!(r.status, 403, "{}", r.body);
    // A Basic-auth proxy's header (any Authorization) skips nothing, on
    // sign-in and sign-out either (login and logout CSRF).
    forged.origin = Some("http://evil.example".into());
    let basic = [("authorization", "Basic dXNlcjpwYXNz")];
    let r = forged.post_with("/api/orders/decide", &form, &basic).await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = forged.post_with("/api/auth/sign_out", &[], &basic).await;
    assert_eq!(r.status, 403, "{}", r.body);
    let mut stranger = server.anonymous();
    stranger.origin = Some("http://evil.example".into());
    let r = stranger
        .post_with(
            "/api/auth/sign_in",
            &[("name", "dave"), ("password", PASSWORD)],
            &basic,
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(stranger.cookie.is_none());
    assert_eq!(waiting_task(&mut sam, &order).await, task, "nothing moved");
    // A loopback name for the same port is this site.
    let mut local = sam.clone();
    local.origin = Some(format!("http://localhost:{}", server.addr.port()));
    let r = local.post("/api/orders/decide", &form).await;
    assert_eq!(r.status, 200, "{}", r.body);
    server.stop().await;
}

#[tokio::test]
async fn callers_never_see_an_internal_error_text() {
    let server = Server::start().await;
    people(&server).await;
    let mut sam = server.signed_in("sam", PASSWORD).await;
    // A number the parser cannot read: refused as malformed, with a
    // reference, not the parser's own words.
    let r = sam
        .post(
            "/api/signatures/request",
            &[
                ("title", "NDA"),
                ("signers", "bob"),
                ("timeout", "12abc"),
                ("unit", "hours"),
            ],
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("reference"), "{}", r.body);
    for internal in ["invalid digit", "ParseIntError", "serde", "Deserializ"] {
        assert!(!r.body.contains(internal), "{internal} in {}", r.body);
    }
    server.stop().await;
}
