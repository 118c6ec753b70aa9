//! Sample data for `serve --demo`: a few orders from the demo customers, so
//! the inbox has something in it on first look.

use countersign_domain::DomainError;
use countersign_domain::orders::Services;

/// Places three orders (two for carol, one for dave).
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
    Ok(())
}
