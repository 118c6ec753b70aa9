//! Sample data for `serve --demo`: the demo users, and a few orders from
//! the demo customers so the inbox has something in it on first look.

use countersign_domain::DomainError;
use countersign_domain::services::Services;
use countersign_domain::users::{Accounts, Role, generate_password};

/// The demo people and what they may do.
pub const USERS: [(&str, Role); 5] = [
    ("sam", Role::Staff),
    ("pat", Role::Staff),
    ("bob", Role::Signer),
    ("carol", Role::Customer),
    ("dave", Role::Customer),
];

/// The demo users in the `finance` group (they approve expenses).
pub const FINANCE: [&str; 2] = ["sam", "pat"];

/// (Re)creates the demo users with new random passwords and prints them:
/// a demo is for trying things, not for keeping secrets across restarts.
pub async fn create_users(accounts: &Accounts) -> Result<(), DomainError> {
    println!("Demo users (new passwords at every start):");
    for (name, role) in USERS {
        let password = generate_password();
        accounts.set_user(name, &[role], &password).await?;
        println!("  {name:<6} {role:<9} {password}");
    }
    // Two of finance approve the large demo expenses.
    let finance = ["finance".to_owned()];
    for name in FINANCE {
        accounts.set_groups(name, &finance).await?;
    }
    println!("Group finance: {}", FINANCE.join(", "));
    Ok(())
}

/// Places three orders (two for carol, one for dave) and one document that
/// alice signs by herself and bob has to sign.
pub async fn place_sample_orders(orders: &Services) -> Result<(), DomainError> {
    let samples: [(&str, &[&str]); 3] = [
        ("carol", &["Really nice hat", "Cool jeans"]),
        ("dave", &["Desk lamp"]),
        ("carol", &["Wool scarf"]),
    ];
    for (customer, items) in samples {
        let items: Vec<String> = items.iter().map(|s| (*s).to_owned()).collect();
        let id = orders.orders().place(customer, &items).await?;
        tracing::info!(order = %id, customer, "demo order placed");
    }
    let signers = [
        countersign_domain::signatures::SignerSpec {
            name: "alice".into(),
            automatic: true,
        },
        countersign_domain::signatures::SignerSpec {
            name: "bob".into(),
            automatic: false,
        },
    ];
    let id = orders
        .documents()
        .request("Supplier contract 2026", &signers, 7 * 24 * 3600)
        .await?;
    tracing::info!(document = %id, "demo document waits for bob");
    Ok(())
}
