//! The admin commands (`countersign users …`, `countersign api-keys …`). They reach the same tables
//! as `serve`: in embedded mode they open the DynamoDB file themselves
//! (never the workflow engine, which only `serve` runs), in AWS mode they
//! use the same settings.

use std::io::{BufRead, IsTerminal};

use countersign_domain::DomainError;
use countersign_domain::api_keys::KeyKind;
use countersign_domain::users::{Accounts, Role};

use crate::cli::{ApiKeysCommand, StoreArgs, UsersCommand};
use crate::embedded::{EmbeddedError, EmbeddedServices};

/// Why an admin command failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("{0}")]
    Embedded(#[from] EmbeddedError),
    #[error("{0}")]
    Domain(#[from] DomainError),
    #[error("reading the password: {0}")]
    Password(std::io::Error),
}

/// The users table (and its neighbours) for `store`, plus the embedded
/// DynamoDB to stop when done.
pub async fn connect(
    store: &StoreArgs,
) -> Result<(Accounts, Option<EmbeddedServices>), AdminError> {
    let tables = store.tables();
    let (sdk, embedded, provision) = match store.aws_settings() {
        None => {
            let embedded = EmbeddedServices::start_dynamodb(&store.data_dir)?;
            let sdk = crate::aws::in_process_config(embedded.in_process_client()).await;
            (sdk, Some(embedded), true)
        }
        Some(settings) => (
            crate::aws::aws_config(&settings).await,
            None,
            settings.provision,
        ),
    };
    let ddb = aws_sdk_dynamodb::Client::new(&sdk);
    if provision {
        tables.ensure(&ddb).await?;
    }
    Ok((Accounts { ddb, tables }, embedded))
}

/// Runs one `users` command, printing its result.
pub async fn users(command: UsersCommand) -> Result<(), AdminError> {
    let store = match &command {
        UsersCommand::Add { store, .. }
        | UsersCommand::Groups { store, .. }
        | UsersCommand::List { store }
        | UsersCommand::Remove { store, .. } => store,
    };
    let (accounts, embedded) = connect(store).await?;
    let result = run(&accounts, &command).await;
    if let Some(embedded) = embedded {
        embedded.stop().await;
    }
    result
}

async fn run(accounts: &Accounts, command: &UsersCommand) -> Result<(), AdminError> {
    match command {
        UsersCommand::Add {
            name,
            roles,
            groups,
            ..
        } => {
            let roles = roles
                .iter()
                .map(|r| r.parse::<Role>().map_err(DomainError::from))
                .collect::<Result<Vec<_>, _>>()?;
            // Check the name before asking for a password.
            countersign_domain::users::check_name(name)?;
            let password = read_password(name)?;
            let user = accounts
                .add_user_in_groups(name, &roles, groups, &password)
                .await?;
            if user.groups.is_empty() {
                println!("added {} ({})", user.name, roles_text(&user.roles));
            } else {
                println!(
                    "added {} ({}; groups {})",
                    user.name,
                    roles_text(&user.roles),
                    user.groups.join(", ")
                );
            }
        }
        UsersCommand::Groups {
            name: None,
            groups,
            clear,
            ..
        } => {
            if !groups.is_empty() || *clear {
                return Err(
                    DomainError::Invalid("name the user whose groups to set".into()).into(),
                );
            }
            let mut members: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
            let users = accounts.users().await?;
            for user in &users {
                for group in &user.groups {
                    members.entry(group).or_default().push(&user.name);
                }
            }
            for (group, names) in members {
                println!("{group:<24} {}", names.join(", "));
            }
        }
        UsersCommand::Groups {
            name: Some(name),
            groups,
            clear,
            ..
        } => {
            let user = if groups.is_empty() && !*clear {
                accounts.user(name).await?.ok_or(DomainError::NotFound)?
            } else {
                accounts.set_groups(name, groups).await?
            };
            println!("{}: {}", user.name, user.groups.join(", "));
        }
        UsersCommand::List { .. } => {
            for user in accounts.users().await? {
                println!(
                    "{:<24} {:<24} {}",
                    user.name,
                    roles_text(&user.roles),
                    user.created_at
                );
            }
        }
        UsersCommand::Remove { name, .. } => {
            accounts.remove_user(name).await?;
            println!("removed {name}");
        }
    }
    Ok(())
}

/// Runs one `api-keys` command, printing its result.
pub async fn api_keys(command: ApiKeysCommand) -> Result<(), AdminError> {
    let store = match &command {
        ApiKeysCommand::Create { store, .. }
        | ApiKeysCommand::List { store }
        | ApiKeysCommand::Revoke { store, .. } => store,
    };
    let (accounts, embedded) = connect(store).await?;
    let result = run_keys(&accounts, &command).await;
    if let Some(embedded) = embedded {
        embedded.stop().await;
    }
    result
}

async fn run_keys(accounts: &Accounts, command: &ApiKeysCommand) -> Result<(), AdminError> {
    match command {
        ApiKeysCommand::Create { user, kind, .. } => {
            let kind: KeyKind = kind.parse()?;
            let (key, secret) = accounts.create_key(user, kind).await?;
            println!("created {} key {} for {}", key.kind, key.id, key.user);
            println!("it is shown this once; keep it somewhere safe:");
            // Alone on the last line, for scripts: `… | tail -n 1`.
            println!("{secret}");
        }
        ApiKeysCommand::List { .. } => {
            for key in accounts.keys().await? {
                println!(
                    "{:<14} {:<24} {:<8} {}",
                    key.id, key.user, key.kind, key.created_at
                );
            }
        }
        ApiKeysCommand::Revoke { id, .. } => {
            accounts.revoke_key(id).await?;
            println!("revoked {id}");
        }
    }
    Ok(())
}

fn roles_text(roles: &[Role]) -> String {
    roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// One line from standard input; at a terminal, asked for without echo.
fn read_password(name: &str) -> Result<String, AdminError> {
    if std::io::stdin().is_terminal() {
        rpassword::prompt_password(format!("password for {name}: ")).map_err(AdminError::Password)
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(AdminError::Password)?;
        Ok(line.trim_end_matches(['\r', '\n']).to_owned())
    }
}
