//! A `countersign serve` child process for tests that drive the binary as
//! its users do: users and keys made with the admin commands beside it,
//! plain HTTP calls with JSON bodies.

#![allow(dead_code)]

use std::io::Write;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::backends;
use super::web::{Api, Response};

/// A running `countersign serve` and the store flags its admin commands
/// need to reach the same data.
pub struct Instance {
    pub child: Child,
    pub addr: SocketAddr,
    /// The DynamoDB and Step Functions this instance uses, and its tables
    /// holding tokens.
    pub ddb: aws_sdk_dynamodb::Client,
    pub sfn: aws_sdk_sfn::Client,
    pub tables: countersign_domain::tables::Tables,
    pub token_tables: [String; 3],
    pub store: Vec<String>,
    pub env: Vec<(&'static str, &'static str)>,
    pub _data: Option<backends::TempDir>,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How a test reaches the tables behind a `serve` child.
#[derive(Clone)]
pub enum Reach {
    /// The child's embedded services' socket (on a port it announces),
    /// with this credential.
    Embedded(countersign_server::embedded::Credential),
    Moto,
}

impl Instance {
    /// Embedded mode in a fresh data directory.
    pub async fn embedded() -> Instance {
        let dir = std::env::temp_dir().join(backends::unique("countersign-rest"));
        Self::embedded_on(backends::TempDir(dir), &[]).await
    }

    /// Embedded mode on `data` (a restart: the same data again), with
    /// `extra` serve flags.
    pub async fn embedded_on(data: backends::TempDir, extra: &[&str]) -> Instance {
        let store = vec!["--data-dir".to_owned(), data.0.display().to_string()];
        let credential = countersign_server::embedded::Credential {
            access_key_id: "rest-test".into(),
            secret_access_key: countersign_domain::users::generate_password(),
        };
        // `--flag=value`: a value is never read as an option of its own.
        let mut serve_args = vec![
            format!("--access-key-id={}", credential.access_key_id),
            format!("--secret-access-key={}", credential.secret_access_key),
        ];
        serve_args.extend(extra.iter().map(|a| (*a).to_owned()));
        Self::start(
            store,
            serve_args,
            Reach::Embedded(credential),
            countersign_domain::tables::Tables::default(),
            vec![],
            Some(data),
        )
        .await
    }

    /// AWS mode against the test binary's moto, with tables of its own.
    pub async fn moto() -> Instance {
        Self::moto_on(&backends::unique("rest"), &[]).await
    }

    /// AWS mode with the tables named by `suffix` (a restart: the same
    /// again), with `extra` serve flags.
    pub async fn moto_on(suffix: &str, extra: &[&str]) -> Instance {
        let mut store = backends::aws_args(suffix);
        store.push("--provision".to_owned());
        let env = vec![
            ("AWS_ACCESS_KEY_ID", "countersign-test"),
            ("AWS_SECRET_ACCESS_KEY", "countersign-test"),
        ];
        let name = |t: &str| format!("{suffix}-{t}");
        let tables = countersign_domain::tables::Tables {
            orders: name("orders"),
            actions: name("actions"),
            decisions: name("decisions"),
            documents: name("documents"),
            signature_requests: name("signature-requests"),
            users: name("users"),
            sessions: name("sessions"),
            meta: name("meta"),
            api_keys: name("api-keys"),
            tasks: name("tasks"),
            views: name("views"),
            attachments: name("attachments"),
        };
        Self::start(
            store,
            extra.iter().map(|a| (*a).to_owned()).collect(),
            Reach::Moto,
            tables,
            env,
            None,
        )
        .await
    }

    pub async fn start(
        store: Vec<String>,
        serve_args: Vec<String>,
        reach: Reach,
        tables: countersign_domain::tables::Tables,
        env: Vec<(&'static str, &'static str)>,
        data: Option<backends::TempDir>,
    ) -> Instance {
        let token_tables = [
            tables.tasks.clone(),
            tables.signature_requests.clone(),
            tables.decisions.clone(),
        ];
        let mut command = Command::new(env!("CARGO_BIN_EXE_countersign"));
        command
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(&serve_args)
            .args(&store)
            .envs(env.iter().copied())
            .env_remove("AWS_PROFILE")
            .stderr(Stdio::null());
        let mut announcements = vec!["dashboard on "];
        if let Reach::Embedded(_) = reach {
            // The embedded services on a socket too, to read their tables.
            command.args(["--services-listen", "127.0.0.1:0"]);
            announcements.push("embedded services on ");
        }
        let (mut child, addrs) = backends::spawn_announced(&mut command, &announcements);
        let addr = addrs[0];
        let probe = Api::new(addr, None);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Ok(r)) =
                tokio::time::timeout(Duration::from_secs(2), try_get(&probe, "/readyz")).await
                && r.status == 200
            {
                break;
            }
            assert!(
                child.try_wait().expect("poll").is_none(),
                "serve exited early"
            );
            assert!(Instant::now() < deadline, "serve never became ready");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let config = match &reach {
            Reach::Embedded(credential) => {
                countersign_server::aws::embedded_config(addrs[1], credential).await
            }
            Reach::Moto => countersign_server::aws::local_config(backends::moto_url()).await,
        };
        Instance {
            child,
            addr,
            ddb: aws_sdk_dynamodb::Client::new(&config),
            sfn: aws_sdk_sfn::Client::new(&config),
            tables,
            token_tables,
            store,
            env,
            _data: data,
        }
    }

    /// Adds every task token now stored to `tokens` (a decided task's
    /// token is deleted, so this is called while tasks wait).
    pub async fn harvest(&self, tokens: &mut std::collections::HashSet<String>) {
        for table in &self.token_tables {
            let out = self.ddb.scan().table_name(table).send().await;
            for item in out.iter().flat_map(|o| o.items()) {
                // Task rows and the ledger say `token`; signature requests
                // `taskToken`.
                for name in ["token", "taskToken"] {
                    if let Some(t) = item.get(name).and_then(|v| v.as_s().ok()) {
                        tokens.insert(t.clone());
                    }
                }
            }
        }
    }

    /// Runs an admin command against this instance's data; its stdout.
    pub fn admin(&self, args: &[&str], stdin: &str) -> String {
        let mut child = Command::new(env!("CARGO_BIN_EXE_countersign"))
            .args(args)
            .args(&self.store)
            .envs(self.env.iter().copied())
            .env_remove("AWS_PROFILE")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("admin command");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(stdin.as_bytes())
            .expect("write stdin");
        let out = child.wait_with_output().expect("admin output");
        assert!(
            out.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Adds `name` with `roles`, in `groups`.
    pub fn add_member(&self, name: &str, roles: &[&str], groups: &[&str]) {
        let mut args = vec!["users", "add", name];
        for role in roles {
            args.extend(["--role", role]);
        }
        for group in groups {
            args.extend(["--group", group]);
        }
        self.admin(&args, "a long enough password\n");
    }

    pub fn add_user(&self, name: &str, roles: &[&str]) {
        let mut args = vec!["users", "add", name];
        for role in roles {
            args.extend(["--role", role]);
        }
        self.admin(&args, "a long enough password\n");
    }

    /// A new key for `user`: the last line `api-keys create` prints.
    pub fn key(&self, user: &str, kind: &str) -> String {
        let out = self.admin(&["api-keys", "create", "--user", user, "--kind", kind], "");
        out.lines().last().expect("a key line").to_owned()
    }

    pub fn api(&self, key: &str) -> Api {
        Api::new(self.addr, Some(key))
    }

    pub fn anonymous(&self) -> Api {
        Api::new(self.addr, None)
    }
}

pub async fn try_get(api: &Api, path: &str) -> Result<Response, String> {
    api.try_raw("GET", path, Vec::new(), &[]).await
}

pub fn assert_error(r: &Response, status: u16, code: &str) {
    assert_eq!(r.status, status, "{}", r.body);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.json()["error"], code, "{}", r.body);
}

/// GETs `path` until `ready` holds (workflows move on their own time).
pub async fn wait_for(api: &Api, path: &str, ready: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = api.get(path).await;
        if r.status == 200 {
            let value = r.json();
            if ready(&value) {
                return value;
            }
            assert!(Instant::now() < deadline, "{path} never got there: {value}");
        } else {
            assert!(Instant::now() < deadline, "{path}: {} {}", r.status, r.body);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
