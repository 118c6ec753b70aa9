//! Sample data for `serve --demo`: a few orders from the demo customers, so
//! the inbox has something in it on first look.

use countersign_domain::DomainError;
use countersign_domain::orders::Services;

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
        let id = orders.place_order(customer, &items).await?;
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
        .request_signatures("Supplier contract 2026", &signers, 7 * 24 * 3600)
        .await?;
    tracing::info!(document = %id, "demo document waits for bob");
    Ok(())
}
