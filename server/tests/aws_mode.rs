//! AWS mode through the real binary: `countersign serve --aws` against moto
//! (an AWS-compatible endpoint), credentials from the environment as the
//! default chain finds them, tables and the workflow created with
//! `--provision`. The dashboard must become ready and its orders must run on
//! moto's Step Functions.

#[path = "support/backends.rs"]
mod backends;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[tokio::test]
async fn serve_in_aws_mode_provisions_and_runs_orders_on_the_endpoint() {
    let moto = backends::moto().await;
    let url = backends::moto_url();
    let suffix = backends::unique("aws");
    let mut command = Command::new(env!("CARGO_BIN_EXE_countersign"));
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--aws", "--provision"])
        .args(["--aws-region", "us-east-1", "--aws-endpoint-url", url])
        .args(["--orders-table", &format!("{suffix}-orders")])
        .args(["--actions-table", &format!("{suffix}-actions")])
        .args(["--decisions-table", &format!("{suffix}-decisions")])
        .args(["--documents-table", &format!("{suffix}-documents")])
        .args(["--signature-requests-table", &format!("{suffix}-requests")])
        .args(["--tasks-table", &format!("{suffix}-tasks")])
        // Demo data on moto is what this test wants: it has to say so.
        .args(["--demo", "--demo-in-aws"])
        .env("AWS_ACCESS_KEY_ID", "countersign-test")
        .env("AWS_SECRET_ACCESS_KEY", "countersign-test")
        .env_remove("AWS_PROFILE")
        .stderr(Stdio::null());
    let (mut child, addrs) = backends::spawn_announced(&mut command, &["dashboard on "]);
    let port = addrs[0].port();

    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let ready = readyz(port)
            .await
            .is_some_and(|status| status.starts_with("HTTP/1.1 200"));
        if ready {
            break;
        }
        assert!(
            child.try_wait().expect("poll").is_none(),
            "serve exited early"
        );
        assert!(Instant::now() < deadline, "serve --aws never became ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The demo orders ran on moto's Step Functions and reached their first wait.
    let machines = moto.sfn.list_state_machines().send().await.expect("list");
    let arn = machines
        .state_machines()
        .iter()
        .find(|m| m.name() == countersign_server::PROCESS_ORDER_NAME)
        .map(|m| m.state_machine_arn().to_owned())
        .expect("the workflow was deployed on the endpoint");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let pending = moto
            .ddb
            .scan()
            .table_name(format!("{suffix}-tasks"))
            .send()
            .await
            .expect("scan")
            .count();
        if pending >= 3 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "demo orders did not reach their wait ({pending}/3) on {arn}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    child.kill().expect("stop");
    let _ = child.wait();
}

/// The status line of `GET /readyz`, if the server answers.
async fn readyz(port: u16) -> Option<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .ok()?;
    stream
        .write_all(
            format!("GET /readyz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .await
        .ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.ok()?;
    answer.lines().next().map(str::to_owned)
}

#[test]
fn demo_data_is_refused_in_aws_mode_unless_asked_for() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_countersign"))
        .args(["serve", "--demo", "--aws", "--listen", "127.0.0.1:0"])
        .args(["--aws-endpoint-url", "http://127.0.0.1:9"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("--demo-in-aws"), "{said}");
}
