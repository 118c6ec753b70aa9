//! The workflow drawn and where each answer leads, over HTTP against a
//! whole embedded server, for every shipped workflow: the SVG has every
//! state of the definition, the path taken and the state waited in are
//! marked (and move when a decision moves the execution), a rejection
//! shows its failed task, and every action of every shipped kind says
//! where it leads.

#[path = "support/backends.rs"]
mod backends;
#[path = "support/web.rs"]
mod web;

use std::time::Duration;

use countersign_domain::users::Role;
use serde_json::Value;
use web::{Browser, Server};

const PASSWORD: &str = "a-long-enough-password";

async fn server() -> Server {
    let server = Server::start().await;
    for (name, role) in [
        ("sam", Role::Staff),
        ("bob", Role::Signer),
        ("carol", Role::Customer),
    ] {
        server.add_user(name, &[role], PASSWORD).await;
    }
    server
}

/// Calls a server function until it answers 200 and `ready` holds.
async fn until(
    who: &mut Browser,
    path: &str,
    form: &[(&str, &str)],
    ready: impl Fn(&Value) -> bool,
) -> Value {
    let mut last = String::new();
    for _ in 0..400 {
        let r = who.post(path, form).await;
        if r.status == 200 {
            let v = r.json();
            if ready(&v) {
                return v;
            }
        }
        last = r.body;
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{path} never got ready: {last}");
}

/// The top-level state names of a shipped definition.
fn states_of(file: &str) -> Vec<String> {
    let text = std::fs::read_to_string(format!(
        "{}/../workflows/{file}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("a shipped workflow");
    let v: Value = serde_json::from_str(&text).expect("JSON");
    v["States"]
        .as_object()
        .expect("States")
        .keys()
        .cloned()
        .collect()
}

/// What the SVG says of a state: its `data-mark`.
fn mark(svg: &str, state: &str) -> String {
    let key = format!(r#"data-state="{}" data-mark=""#, escape(state));
    let at = svg
        .find(&key)
        .unwrap_or_else(|| panic!("no state {state} in {svg}"));
    let rest = &svg[at + key.len()..];
    rest[..rest.find('"').expect("closing quote")].to_owned()
}

fn edge_taken(svg: &str, from: &str, to: &str) -> bool {
    svg.contains(&format!(
        r#"class="edge taken" data-from="{}" data-to="{}""#,
        escape(from),
        escape(to)
    ))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn lead(card: &Value, action: &str) -> String {
    card["leads"]
        .as_array()
        .expect("leads")
        .iter()
        .find(|l| l["action"] == action)
        .unwrap_or_else(|| panic!("no lead for {action}: {card}"))["text"]
        .as_str()
        .expect("text")
        .to_owned()
}

fn assert_every_state(svg: &str, file: &str) {
    for state in states_of(file) {
        assert_eq!(
            svg.matches(&format!(r#"data-state="{}""#, escape(&state)))
                .count(),
            1,
            "{state} drawn once"
        );
    }
    assert!(svg.starts_with("<svg") && svg.contains(r#"role="img""#));
    assert!(
        svg.contains("<title") && svg.contains("<desc"),
        "a text alternative"
    );
}

#[tokio::test]
async fn an_order_is_drawn_where_it_stands_and_each_answer_says_where_it_leads() {
    let server = server().await;
    let mut carol = server.signed_in("carol", PASSWORD).await;
    let mut sam = server.signed_in("sam", PASSWORD).await;
    let r = carol.post("/api/orders/place", &[("items", "Hat")]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let order = r.json().as_str().expect("an id").to_owned();
    let waiting = |step: &'static str| {
        move |v: &Value| v["pending"]["step"] == step && v["pending"]["task_id"].is_string()
    };
    let page = until(
        &mut sam,
        "/api/orders/get",
        &[("order_id", &order)],
        waiting("PENDING"),
    )
    .await;
    let task = page["pending"]["task_id"]
        .as_str()
        .expect("task")
        .to_owned();

    let card = until(&mut sam, "/api/tasks/flow", &[("task_id", &task)], |_| true).await;
    let svg = card["svg"].as_str().expect("svg");
    assert_every_state(svg, "process-order.asl.json");
    assert_eq!(mark(svg, "Record PENDING"), "taken");
    assert_eq!(mark(svg, "Wait for staff: PENDING"), "here");
    assert_eq!(mark(svg, "Record PROCESSING"), "untouched");
    assert!(edge_taken(svg, "Record PENDING", "Ask staff: PENDING"));
    assert_eq!(
        svg.matches(r#"data-from="Record PENDING" data-to="Ask staff: PENDING""#)
            .count(),
        2,
        "Next and Catch are two arrows"
    );
    assert!(
        svg.contains(r#"class="edge" data-from="Record PENDING" data-to="Ask staff: PENDING" data-via="catch""#),
        "the Catch was not taken"
    );
    assert!(!edge_taken(
        svg,
        "Wait for staff: PENDING",
        "Record PROCESSING"
    ));
    assert_eq!(
        lead(&card, "advance"),
        "Record PROCESSING → waits at Wait for staff: PROCESSING"
    );
    assert_eq!(lead(&card, "reject"), "Record ERROR → the workflow ends");

    // The order page says the same for staff.
    let by_order = until(
        &mut sam,
        "/api/orders/flow",
        &[("order_id", &order)],
        |_| true,
    )
    .await;
    assert_eq!(by_order["leads"], card["leads"]);
    // The customer sees neither the inner workflow nor its tasks.
    let r = carol
        .post("/api/orders/flow", &[("order_id", &order)])
        .await;
    assert_eq!(r.status, 403, "{}", r.body);

    // Approved: the marks move on.
    let r = sam
        .post(
            "/api/orders/decide",
            &[
                ("order_id", &order),
                ("task_id", &task),
                ("action", "advance"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let page = until(
        &mut sam,
        "/api/orders/get",
        &[("order_id", &order)],
        waiting("PROCESSING"),
    )
    .await;
    let next = page["pending"]["task_id"]
        .as_str()
        .expect("task")
        .to_owned();
    let card = until(&mut sam, "/api/orders/flow", &[("order_id", &order)], |v| {
        v["svg"]
            .as_str()
            .is_some_and(|s| mark(s, "Wait for staff: PROCESSING") == "here")
    })
    .await;
    let svg = card["svg"].as_str().expect("svg");
    assert_eq!(mark(svg, "Wait for staff: PENDING"), "taken");
    assert!(edge_taken(
        svg,
        "Wait for staff: PENDING",
        "Record PROCESSING"
    ));
    assert_eq!(lead(&card, "advance"), "Record SENT → the workflow ends");

    // Rejected: the waiting task is marked failed and the catch path taken.
    let r = sam
        .post(
            "/api/orders/decide",
            &[
                ("order_id", &order),
                ("task_id", &next),
                ("action", "reject"),
                ("reason", "out of stock"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let card = until(&mut sam, "/api/orders/flow", &[("order_id", &order)], |v| {
        v["svg"]
            .as_str()
            .is_some_and(|s| mark(s, "Record ERROR") == "taken")
    })
    .await;
    let svg = card["svg"].as_str().expect("svg");
    assert_eq!(mark(svg, "Wait for staff: PROCESSING"), "failed");
    assert!(edge_taken(
        svg,
        "Wait for staff: PROCESSING",
        "Record ERROR"
    ));
    assert_eq!(mark(svg, "Record SENT"), "untouched");
    assert!(
        card["leads"].as_array().expect("leads").is_empty(),
        "nothing waits"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_signature_is_drawn_inside_its_map_and_leads_out_of_it() {
    let server = server().await;
    let mut sam = server.signed_in("sam", PASSWORD).await;
    let mut bob = server.signed_in("bob", PASSWORD).await;
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
    let document = r.json().as_str().expect("an id").to_owned();
    let doc = until(
        &mut sam,
        "/api/signatures/document",
        &[("document_id", &document)],
        |v| {
            v["requests"].as_array().is_some_and(|l| {
                l.iter()
                    .any(|q| q["signer"] == "bob" && q["task_id"].is_string())
            })
        },
    )
    .await;
    let task = doc["requests"]
        .as_array()
        .and_then(|l| l.iter().find(|q| q["signer"] == "bob"))
        .and_then(|q| q["task_id"].as_str())
        .expect("bob's task")
        .to_owned();

    // Bob, who signs, sees where his answer leads.
    let card = until(&mut bob, "/api/tasks/flow", &[("task_id", &task)], |_| true).await;
    let svg = card["svg"].as_str().expect("svg");
    assert_every_state(svg, "sign-document.asl.json");
    assert_eq!(mark(svg, "Record WAITING"), "taken");
    assert_eq!(mark(svg, "Collect signatures"), "here");
    // The Map is one box; its inside opens below the picture (a link in
    // the picture would be interactive content inside role=img).
    assert!(
        svg.contains(r#" group" data-state="Collect signatures""#),
        "the Map is drawn as one box: {svg}"
    );
    assert!(!svg.contains("<a "), "nothing in the picture is a link");
    let inside = &card["insides"][0];
    assert_eq!(inside["state"], "Collect signatures");
    assert!(
        inside["id"]
            .as_str()
            .is_some_and(|id| id.starts_with("inside-collect-signatures-")),
        "{inside}"
    );
    let inner = inside["svgs"][0].as_str().expect("inside svg");
    assert_eq!(mark(inner, "Request signature"), "here");
    assert_eq!(mark(inner, "Sign automatically"), "taken", "alice signed");
    assert_eq!(mark(inner, "Expire request"), "untouched");
    assert_eq!(
        lead(&card, "sign"),
        "Record signature → once all of Collect signatures is done → Record SIGNED → the workflow ends"
    );
    assert_eq!(
        lead(&card, "decline"),
        "Declined (fails) → Record DECLINED → Close open requests → the workflow ends"
    );

    // Staff see it on the document too; the signer does not (inner steps).
    let by_doc = until(
        &mut sam,
        "/api/signatures/flow",
        &[("document_id", &document)],
        |_| true,
    )
    .await;
    assert_eq!(by_doc["svg"], card["svg"]);
    let r = bob
        .post("/api/signatures/flow", &[("document_id", &document)])
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    server.stop().await;
}

#[tokio::test]
async fn an_expense_says_where_approve_and_reject_lead() {
    let server = server().await;
    let mut carol = server.signed_in("carol", PASSWORD).await;
    let mut sam = server.signed_in("sam", PASSWORD).await;
    let r = carol
        .post(
            "/api/tasks/start",
            &[
                ("kind", "expense-approval"),
                ("values[amount]", "1200"),
                ("values[currency]", "EUR"),
                ("values[purpose]", "a desk"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let task = r.json().as_str().expect("an id").to_owned();
    let card = until(&mut sam, "/api/tasks/flow", &[("task_id", &task)], |_| true).await;
    let svg = card["svg"].as_str().expect("svg");
    assert_every_state(svg, "expense-approval.asl.json");
    // Above the threshold: the Choice took the two-approver way.
    assert_eq!(mark(svg, "Two approvers"), "taken");
    assert_eq!(mark(svg, "One approver"), "untouched");
    assert!(edge_taken(svg, "Above the threshold?", "Two approvers"));
    assert_eq!(mark(svg, "Wait for finance"), "here");
    assert_eq!(lead(&card, "approve"), "Approved → the workflow ends");
    assert_eq!(lead(&card, "reject"), "Rejected → the workflow ends");
    server.stop().await;
}
