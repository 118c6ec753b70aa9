//! Human tasks of any kind through the REST API of the real binary: the
//! expense approval kind (shipped as files only) with one and two
//! approvers, four eyes, exclusion and rejection; a brand-new kind written
//! into a temporary `--workflows-dir`; claim races; and a row that breaks
//! the task contract. On the embedded services and on moto.

#[path = "support/backends.rs"]
mod backends;
#[path = "support/serve.rs"]
mod serve;
#[path = "support/web.rs"]
mod web;

use serde_json::{Value, json};
use serve::{Instance, assert_error, wait_for};
use web::Api;

/// The people of an expense flow: carol asks, fay and gus are finance,
/// sam is staff (not finance), dave is a customer who sees nothing.
struct People {
    carol: Api,
    fay: Api,
    gus: Api,
    sam: Api,
    dave: Api,
}

fn people(instance: &Instance) -> People {
    instance.add_user("carol", &["customer"]);
    instance.add_member("fay", &["staff"], &["finance"]);
    instance.add_member("gus", &["signer"], &["finance"]);
    instance.add_user("sam", &["staff"]);
    instance.add_user("dave", &["customer"]);
    let api = |name: &str| instance.api(&instance.key(name, "bearer"));
    People {
        carol: api("carol"),
        fay: api("fay"),
        gus: api("gus"),
        sam: api("sam"),
        dave: api("dave"),
    }
}

/// Starts an expense as `who` and waits for its task; the task's JSON.
async fn expense(who: &Api, amount: &str, purpose: &str) -> Value {
    let started = who
        .post(
            "/v1/kinds/expense-approval/start",
            &json!({"values": {"amount": amount, "currency": "EUR", "purpose": purpose}}),
        )
        .await;
    assert_eq!(started.status, 201, "{}", started.body);
    let id = started.json()["subjectId"]
        .as_str()
        .expect("subject id")
        .to_owned();
    wait_for(who, &format!("/v1/tasks/{id}"), |t| t["status"] == "OPEN").await
}

/// Seconds since 1970 of a UTC stamp like `2026-12-01T10:00:00.000Z`.
fn epoch_secs(stamp: &str) -> i64 {
    let n = |from: usize, to: usize| stamp[from..to].parse::<i64>().expect("digits");
    let (y, m, d) = (n(0, 4), n(5, 7), n(8, 10));
    // Days from 1970-01-01 (Howard Hinnant's days_from_civil).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    days * 86_400 + n(11, 13) * 3600 + n(14, 16) * 60 + n(17, 19)
}

async fn expense_flow(instance: &Instance) {
    let p = people(instance);

    // The start form is checked on the server, each problem by field.
    let refused = p
        .carol
        .post(
            "/v1/kinds/expense-approval/start",
            &json!({"values": {"amount": "12.345", "currency": "XXX"}}),
        )
        .await;
    assert_error(&refused, 422, "invalid_form");
    let refusal = refused.json();
    let fields: Vec<&str> = refusal["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .filter_map(|f| f["field"].as_str())
        .collect();
    assert_eq!(
        fields,
        ["amount", "currency", "purpose"],
        "{}",
        refused.body
    );

    // Small: one finance approval resumes it, with the approval in the output.
    let small = expense(&p.carol, "250", "train tickets").await;
    let id = small["taskId"].as_str().expect("id").to_owned();
    assert_eq!(small["quorum"], 1);
    // No deadline on the row: the Task state's TimeoutSeconds (7 days).
    let created = small["createdAt"].as_str().expect("created");
    let deadline = small["deadline"]
        .as_str()
        .expect("a deadline from the state's timeout");
    assert!(deadline > created, "{deadline} after {created}");
    assert_eq!(epoch_secs(deadline) - epoch_secs(created), 7 * 24 * 3600);
    assert_eq!(
        small["subject"]["title"],
        "Expense of 250.00 EUR: train tickets"
    );
    assert_eq!(small["mayDecide"], false, "the requester may not approve");
    // The requester is excluded, whatever their role; staff outside
    // finance are not eligible; a stranger does not see it at all.
    let own = p
        .carol
        .post(
            &format!("/v1/tasks/{id}/answer"),
            &json!({"action": "approve"}),
        )
        .await;
    assert_error(&own, 403, "forbidden");
    let staff = p
        .sam
        .post(
            &format!("/v1/tasks/{id}/answer"),
            &json!({"action": "approve"}),
        )
        .await;
    assert_error(&staff, 403, "forbidden");
    assert_error(
        &p.dave.get(&format!("/v1/tasks/{id}")).await,
        404,
        "not_found",
    );
    let approved = p
        .fay
        .post(
            &format!("/v1/tasks/{id}/answer"),
            &json!({"action": "approve", "comment": "fine", "values": {"costCentre": "ops"}}),
        )
        .await;
    assert_eq!(approved.status, 200, "{}", approved.body);
    assert_eq!(approved.json()["resumed"], true);
    let execution = small["executionId"].as_str().expect("execution");
    let (status, output) = backends::ended(&instance.sfn, execution).await;
    assert_eq!(status, "SUCCEEDED");
    assert_eq!(output["status"], "APPROVED");
    let decision = &output["decision"];
    assert_eq!(decision["action"], "approve");
    assert_eq!(decision["by"], "fay");
    assert_eq!(decision["taskId"], id.as_str());
    assert_eq!(decision["approvals"][0]["by"], "fay");
    assert_eq!(decision["approvals"][0]["comment"], "fine");
    assert_eq!(decision["values"]["costCentre"], "ops");
    let after = wait_for(&p.fay, &format!("/v1/tasks/{id}"), |t| {
        t["status"] != "OPEN"
    })
    .await;
    assert_eq!(after["status"], "APPROVED");
    assert_eq!(after["decidedBy"], "fay");
    let again = p
        .gus
        .post(
            &format!("/v1/tasks/{id}/answer"),
            &json!({"action": "approve"}),
        )
        .await;
    assert_error(&again, 409, "already_decided");

    // Large: two of finance. The first approval is counted and waits; the
    // same person again is refused; the second resumes it with both.
    let large = expense(&p.carol, "4200.00", "conference").await;
    let id = large["taskId"].as_str().expect("id").to_owned();
    assert_eq!(large["quorum"], 2);
    let first = p
        .gus
        .post(
            &format!("/v1/tasks/{id}/answer"),
            &json!({"action": "approve"}),
        )
        .await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.json()["approvals"], 1);
    assert_eq!(first.json()["resumed"], false);
    let twice = p
        .gus
        .post(
            &format!("/v1/tasks/{id}/answer"),
            &json!({"action": "approve"}),
        )
        .await;
    assert_error(&twice, 409, "already_decided");
    let open = p.fay.get(&format!("/v1/tasks/{id}")).await.json();
    assert_eq!(open["status"], "OPEN");
    assert_eq!(open["approvals"][0]["by"], "gus");
    let second = p
        .fay
        .post(
            &format!("/v1/tasks/{id}/answer"),
            &json!({"action": "approve", "comment": "within budget"}),
        )
        .await;
    assert_eq!(second.status, 200, "{}", second.body);
    assert_eq!(second.json()["resumed"], true);
    let (status, output) =
        backends::ended(&instance.sfn, large["executionId"].as_str().expect("e")).await;
    assert_eq!(status, "SUCCEEDED");
    let by: Vec<&str> = output["decision"]["approvals"]
        .as_array()
        .expect("approvals")
        .iter()
        .filter_map(|a| a["by"].as_str())
        .collect();
    assert_eq!(by, ["gus", "fay"]);

    // A rejection needs a reason, carries the kind's error name and ends it.
    let third = expense(&p.carol, "90", "a chair").await;
    let id = third["taskId"].as_str().expect("id").to_owned();
    let bare = p
        .gus
        .post(
            &format!("/v1/tasks/{id}/answer"),
            &json!({"action": "reject"}),
        )
        .await;
    assert_error(&bare, 400, "invalid");
    let unknown = p
        .gus
        .post(
            &format!("/v1/tasks/{id}/answer"),
            &json!({"action": "shrug"}),
        )
        .await;
    assert_error(&unknown, 400, "invalid");
    let rejected = p
        .gus
        .post(
            &format!("/v1/tasks/{id}/answer"),
            &json!({"action": "reject", "reason": "we have chairs"}),
        )
        .await;
    assert_eq!(rejected.status, 200, "{}", rejected.body);
    let (status, output) =
        backends::ended(&instance.sfn, third["executionId"].as_str().expect("e")).await;
    assert_eq!(status, "SUCCEEDED");
    assert_eq!(output["status"], "REJECTED");
    assert_eq!(output["error"]["Error"], "Expense.Rejected");
    // moto drops SendTaskFailure's cause (AWS keeps it): checked where the
    // emulator keeps it.
    if !output["error"]["Cause"].is_null() {
        assert_eq!(output["error"]["Cause"], "we have chairs");
    }
    let after = wait_for(&p.gus, &format!("/v1/tasks/{id}"), |t| {
        t["status"] != "OPEN"
    })
    .await;
    assert_eq!(after["status"], "REJECTED");
    assert_eq!(after["action"], "reject");

    // The lists: finance sees open tasks in their groups; the requester
    // sees their own; a stranger none.
    let fourth = expense(&p.carol, "10", "coffee").await;
    let id = fourth["taskId"].as_str().expect("id");
    let ids = |r: Value| -> Vec<String> {
        r["tasks"]
            .as_array()
            .expect("tasks")
            .iter()
            .filter_map(|t| t["taskId"].as_str().map(str::to_owned))
            .collect()
    };
    assert_eq!(
        ids(p.gus.get("/v1/tasks?view=my-groups").await.json()),
        [id]
    );
    assert_eq!(ids(p.carol.get("/v1/tasks").await.json()), [id]);
    assert!(ids(p.dave.get("/v1/tasks").await.json()).is_empty());
    assert_error(
        &p.gus.get("/v1/tasks?view=everything").await,
        400,
        "invalid",
    );
    assert_error(&p.gus.get("/v1/tasks?cursor=zz").await, 400, "invalid");
}

#[tokio::test]
async fn expense_approval_runs_on_the_embedded_services() {
    expense_flow(&Instance::embedded().await).await;
}

#[tokio::test]
async fn expense_approval_runs_on_moto() {
    expense_flow(&Instance::moto().await).await;
}

/// Two people claim at once: one holds it, the other is told who. Then
/// assignment, delegation and giving back, each with its rules.
#[tokio::test]
async fn claims_race_to_one_winner_and_assignment_follows_the_rules() {
    let instance = Instance::embedded().await;
    let p = people(&instance);
    let task = expense(&p.carol, "40", "cables").await;
    let id = task["taskId"].as_str().expect("id").to_owned();
    let path = format!("/v1/tasks/{id}/claim");
    let empty = json!({});
    let (a, b) = tokio::join!(p.fay.post(&path, &empty), p.gus.post(&path, &empty));
    let (winner, loser) = if a.status == 200 { (a, b) } else { (b, a) };
    assert_eq!(winner.status, 200, "{}", winner.body);
    assert_error(&loser, 409, "claimed");
    let holder = winner.json()["assignee"]
        .as_str()
        .expect("assignee")
        .to_owned();
    assert!(
        loser.json()["message"]
            .as_str()
            .is_some_and(|m| m.contains(&holder)),
        "{}",
        loser.body
    );
    let (holder_api, other_api, other) = if holder == "fay" {
        (&p.fay, &p.gus, "gus")
    } else {
        (&p.gus, &p.fay, "fay")
    };
    // Assigned to one, a single decision is theirs.
    let other_decides = other_api
        .post(
            &format!("/v1/tasks/{id}/answer"),
            &json!({"action": "approve"}),
        )
        .await;
    assert_error(&other_decides, 409, "claimed");
    assert_eq!(
        p.gus.get("/v1/tasks?view=mine").await.json()["tasks"]
            .as_array()
            .map(Vec::len),
        Some(usize::from(holder == "gus"))
    );
    // Nobody outside finance can be given it, nor can the requester, nor
    // a name no user could have (the fuzzer's empty one was a 503).
    let too_long = "x".repeat(2000);
    for to in ["sam", "carol", "nobody", "", too_long.as_str()] {
        let r = holder_api
            .post(&format!("/v1/tasks/{id}/assign"), &json!({"to": to}))
            .await;
        assert_error(&r, 400, "invalid");
    }
    // The holder delegates, with a reason; the history says so.
    let delegated = holder_api
        .post(
            &format!("/v1/tasks/{id}/assign"),
            &json!({"to": other, "reason": "on leave"}),
        )
        .await;
    assert_eq!(delegated.status, 200, "{}", delegated.body);
    let now = other_api.get(&format!("/v1/tasks/{id}")).await.json();
    assert_eq!(now["assignee"], other);
    let last = &now["assignments"][1];
    assert_eq!(last["from"], holder.as_str());
    assert_eq!(last["to"], other);
    assert_eq!(last["reason"], "on leave");
    // A requester cannot take it back; staff can give it back.
    assert_error(
        &p.carol
            .post(&format!("/v1/tasks/{id}/unclaim"), &json!({}))
            .await,
        403,
        "forbidden",
    );
    let back = p
        .sam
        .post(&format!("/v1/tasks/{id}/unclaim"), &json!({}))
        .await;
    assert_eq!(back.status, 200, "{}", back.body);
    assert!(back.json()["assignee"].is_null());
    let unassigned = p.fay.get("/v1/tasks?view=unassigned").await.json();
    assert_eq!(unassigned["tasks"][0]["taskId"], id.as_str());
}

/// A kind nobody wrote Rust for: a descriptor and an ASL file in a
/// temporary directory, started and decided end to end.
#[tokio::test]
async fn a_new_kind_in_a_workflows_dir_runs_without_code() {
    let dir = backends::TempDir(std::env::temp_dir().join(backends::unique("kinds")));
    std::fs::create_dir_all(&dir.0).expect("dir");
    std::fs::write(
        dir.0.join("leave-request.kind.json"),
        json!({
            "kind": "leave-request",
            "title": "Leave request",
            "definition": "leave.asl.json",
            "start": {"roles": ["customer", "staff"], "form": [
                {"name": "from", "label": "From", "type": "date", "required": true},
                {"name": "days", "label": "Days", "type": "number", "required": true, "min": 1, "max": 30}
            ]},
            "list": ["days"]
        })
        .to_string(),
    )
    .expect("descriptor");
    // The workflow describes its task from its start input (a Pass state),
    // writes the contract's row and waits; the answer is its output.
    std::fs::write(
        dir.0.join("leave.asl.json"),
        json!({
            "StartAt": "Describe",
            "States": {
                "Describe": {
                    "Type": "Pass",
                    "Parameters": {
                        "kind": "leave-request",
                        "subject": {"id.$": "$.subject.id", "title.$": "States.Format('Leave for {}', $.requester)"},
                        "requester.$": "$.requester",
                        "eligible": {"groups": ["leads"]},
                        "excluded": {"people.$": "States.Array($.requester)"},
                        "actions": [
                            {"name": "grant", "label": "Grant", "outcome": "success", "output": {"granted": true}},
                            {"name": "refuse", "label": "Refuse", "outcome": "failure", "error": "Leave.Refused", "reason": "required"}
                        ],
                        "context": [{"name": "days", "label": "Days", "value.$": "$.values.days"}]
                    },
                    "ResultPath": "$.task",
                    "Next": "Ask a lead"
                },
                "Ask a lead": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::aws-sdk:dynamodb:putItem.waitForTaskToken",
                    "Parameters": {
                        "TableName": "${TasksTable}",
                        "Item": {
                            "taskId": {"S.$": "$.subject.id"},
                            "token": {"S.$": "$$.Task.Token"},
                            "execution": {"S.$": "$$.Execution.Id"},
                            "createdAt": {"S.$": "$$.State.EnteredTime"},
                            "open": {"S": "open"},
                            "task": {"S.$": "States.JsonToString($.task)"}
                        }
                    },
                    "ResultPath": "$.answer",
                    "Next": "Done"
                },
                "Done": {"Type": "Pass", "OutputPath": "$.answer", "End": true}
            }
        })
        .to_string(),
    )
    .expect("definition");

    let data = backends::TempDir(std::env::temp_dir().join(backends::unique("kind-data")));
    let workflows = dir.0.display().to_string();
    let instance = Instance::embedded_on(data, &["--workflows-dir", &workflows]).await;
    instance.add_user("dave", &["customer"]);
    instance.add_member("lee", &["signer"], &["leads"]);
    let dave = instance.api(&instance.key("dave", "bearer"));
    let lee = instance.api(&instance.key("lee", "bearer"));
    let kinds = dave.get("/v1/kinds").await.json();
    let leave = kinds["kinds"]
        .as_array()
        .expect("kinds")
        .iter()
        .find(|k| k["kind"] == "leave-request")
        .cloned()
        .expect("the new kind is listed");
    assert_eq!(leave["mayStart"], true);
    assert_eq!(leave["deployed"], true);
    let bad = dave
        .post(
            "/v1/kinds/leave-request/start",
            &json!({"values": {"from": "2026-02-30", "days": 31}}),
        )
        .await;
    assert_error(&bad, 422, "invalid_form");
    let started = dave
        .post(
            "/v1/kinds/leave-request/start",
            &json!({"values": {"from": "2026-12-24", "days": "3"}}),
        )
        .await;
    assert_eq!(started.status, 201, "{}", started.body);
    let started = started.json();
    let id = started["subjectId"].as_str().expect("id");
    let task = wait_for(&lee, &format!("/v1/tasks/{id}"), |t| t["status"] == "OPEN").await;
    assert_eq!(task["subject"]["title"], "Leave for dave");
    assert_eq!(task["context"][0]["value"], 3);
    let granted = lee
        .post(
            &format!("/v1/tasks/{id}/answer"),
            &json!({"action": "grant"}),
        )
        .await;
    assert_eq!(granted.status, 200, "{}", granted.body);
    let (status, output) = backends::ended(
        &instance.sfn,
        started["executionArn"].as_str().expect("arn"),
    )
    .await;
    assert_eq!(status, "SUCCEEDED");
    assert_eq!(output["action"], "grant");
    assert_eq!(output["by"], "lee");
    assert_eq!(output["output"]["granted"], true);
}

/// A row that breaks the contract is listed for staff as malformed (with
/// the reason), decided by nobody, and ended by staff with a reason.
#[tokio::test]
async fn a_row_that_breaks_the_contract_shows_as_malformed_and_staff_can_end_it() {
    let instance = Instance::embedded().await;
    let p = people(&instance);
    // A good task, then its row overwritten as a careless workflow would.
    let task = expense(&p.carol, "5", "pens").await;
    let id = task["taskId"].as_str().expect("id").to_owned();
    instance
        .ddb
        .update_item()
        .table_name(&instance.tables.tasks)
        .key(
            "taskId",
            aws_sdk_dynamodb::types::AttributeValue::S(id.clone()),
        )
        .update_expression("SET #task = :bad")
        .expression_attribute_names("#task", "task")
        .expression_attribute_values(
            ":bad",
            aws_sdk_dynamodb::types::AttributeValue::S(
                json!({"kind": "expense-approval", "subject": {"id": id}, "actions": []})
                    .to_string(),
            ),
        )
        .send()
        .await
        .expect("overwrite");
    let listed = p.sam.get("/v1/tasks").await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    let row = listed.json()["tasks"][0].clone();
    assert_eq!(row["taskId"], id.as_str());
    let problem = row["malformed"].as_str().expect("malformed").to_owned();
    assert!(
        problem.contains("/subject") || problem.contains("/actions"),
        "{problem}"
    );
    // Not listed for finance (nobody can tell they are eligible), and
    // nobody can approve it.
    assert!(
        p.gus.get("/v1/tasks").await.json()["tasks"]
            .as_array()
            .is_some_and(Vec::is_empty)
    );
    let approve = p
        .sam
        .post(
            &format!("/v1/tasks/{id}/answer"),
            &json!({"action": "approve"}),
        )
        .await;
    assert_error(&approve, 403, "forbidden");
    let ended = p
        .sam
        .post(
            &format!("/v1/tasks/{id}/answer"),
            &json!({"action": "fail-malformed", "reason": "the workflow wrote a bad row"}),
        )
        .await;
    assert_eq!(ended.status, 200, "{}", ended.body);
    let history = instance
        .sfn
        .get_execution_history()
        .execution_arn(task["executionId"].as_str().expect("e"))
        .reverse_order(true)
        .send()
        .await
        .expect("history");
    let failed = history
        .events()
        .iter()
        .find_map(|e| e.task_failed_event_details())
        .expect("the task failed");
    assert_eq!(failed.error(), Some("Countersign.MalformedTask"));
}

/// Saved views live on the server: a person's own, and those shared with
/// a group they are in; nobody else sees them, and only one's own group
/// can be named.
#[tokio::test]
async fn saved_views_are_kept_per_person_and_shared_with_a_group() {
    let instance = Instance::embedded().await;
    let p = people(&instance);
    let saved = p
        .fay
        .post(
            "/v1/views",
            &json!({"name": "Big expenses", "view": "my-groups", "sort": "deadline", "kind": "expense-approval", "group": "finance"}),
        )
        .await;
    assert_eq!(saved.status, 201, "{}", saved.body);
    assert_eq!(
        saved.json()["href"],
        "/tasks?view=my-groups&sort=deadline&kind=expense-approval"
    );
    let private = p
        .fay
        .post("/v1/views", &json!({"name": "Mine", "view": "mine"}))
        .await;
    assert_eq!(private.status, 201, "{}", private.body);
    let names = |api_views: Value| -> Vec<(String, String)> {
        api_views["views"]
            .as_array()
            .expect("views")
            .iter()
            .map(|v| {
                (
                    v["name"].as_str().unwrap_or_default().to_owned(),
                    v["owner"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    };
    assert_eq!(
        names(p.fay.get("/v1/views").await.json()),
        [
            ("Big expenses".into(), "fay".into()),
            ("Mine".into(), "fay".into())
        ]
    );
    // Gus is in finance: he sees the shared one, not fay's private one.
    assert_eq!(
        names(p.gus.get("/v1/views").await.json()),
        [("Big expenses".to_owned(), "fay".to_owned())]
    );
    assert!(names(p.sam.get("/v1/views").await.json()).is_empty());
    // A group one is not in cannot be named; a bad view is refused.
    let foreign = p
        .sam
        .post("/v1/views", &json!({"name": "x", "group": "finance"}))
        .await;
    assert_error(&foreign, 400, "invalid");
    let bad = p
        .sam
        .post("/v1/views", &json!({"name": "x", "view": "everything"}))
        .await;
    assert_error(&bad, 400, "invalid");
    // Only the owner deletes.
    assert_error(
        &p.gus
            .post("/v1/views/Big%20expenses/delete", &json!({}))
            .await,
        404,
        "not_found",
    );
    // A name no view could have is simply not there.
    let long = format!("/v1/views/{}/delete", "x".repeat(1500));
    assert_error(&p.fay.post(&long, &json!({})).await, 404, "not_found");
    let deleted = p
        .fay
        .post("/v1/views/Big%20expenses/delete", &json!({}))
        .await;
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    assert!(names(p.gus.get("/v1/views").await.json()).is_empty());
}

/// Starts an expense as multipart: its `values` and files named `file`.
async fn start_with_files(who: &Api, values: &Value, files: &[(&str, &[u8])]) -> web::Response {
    let (files_body, content_type) = web::multipart(files);
    let boundary = content_type
        .split("boundary=")
        .nth(1)
        .expect("a boundary")
        .to_owned();
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"values\"\r\n\r\n{values}\r\n"
    )
    .into_bytes();
    body.extend_from_slice(&files_body);
    who.raw(
        "POST",
        "/v1/kinds/expense-approval/start",
        body,
        &[("content-type", &content_type)],
    )
    .await
}

#[tokio::test]
async fn an_expense_starts_with_its_receipt_attached_and_the_approval_names_it() {
    let instance = Instance::embedded().await;
    let p = people(&instance);
    let pdf: &[u8] =
        b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
    let values = json!({"amount": "80", "currency": "EUR", "purpose": "taxi"});
    let open_before = p.carol.get("/v1/tasks").await.json()["tasks"]
        .as_array()
        .map_or(0, Vec::len);

    // Refused before anything starts: a file that is not what its name
    // says, values that are not JSON, an unknown part.
    let r = start_with_files(&p.carol, &values, &[("receipt.pdf", b"<html>")]).await;
    assert_error(&r, 400, "invalid");
    let r = start_with_files(&p.carol, &json!("not an object"), &[]).await;
    assert_error(&r, 400, "invalid");

    let started = start_with_files(&p.carol, &values, &[("receipt.pdf", pdf)]).await;
    assert_eq!(started.status, 201, "{}", started.body);
    let subject = started.json()["subjectId"]
        .as_str()
        .expect("subject")
        .to_owned();
    let task = wait_for(&p.carol, &format!("/v1/tasks/{subject}"), |t| {
        t["status"] == "OPEN"
    })
    .await;
    let open_after = p.carol.get("/v1/tasks").await.json()["tasks"]
        .as_array()
        .map_or(0, Vec::len);
    assert_eq!(
        open_after,
        open_before + 1,
        "the refused starts started nothing"
    );
    let task_id = task["taskId"].as_str().expect("task id").to_owned();

    // The approver sees the receipt on the task, approves, and the
    // approval's receipt names its hash.
    let files = p.fay.get(&format!("/v1/files/task/{task_id}")).await;
    assert_eq!(files.status, 200, "{}", files.body);
    assert_eq!(
        files.json()["files"][0]["attachment"]["name"],
        "receipt.pdf"
    );
    let approved = p
        .fay
        .post(
            &format!("/v1/tasks/{task_id}/answer"),
            &json!({"action": "approve"}),
        )
        .await;
    assert_eq!(approved.status, 200, "{}", approved.body);
    let receipt = p.fay.get(&format!("/v1/receipts/{task_id}")).await;
    assert_eq!(receipt.status, 200, "{}", receipt.body);
    let sha = countersign_domain::secrets::sha256_hex(pdf);
    assert_eq!(
        receipt.json()["receipt"]["files"][0]["sha256"],
        sha.as_str()
    );
    assert_eq!(receipt.json()["receipt"]["decision"]["by"], "fay");
}
