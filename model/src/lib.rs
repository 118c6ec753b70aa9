//! Countersign's model: the types the server and the browser share. They
//! hold no AWS types and no secrets, so the same type serves the domain,
//! the REST API and the pages (one type per concept), and the browser
//! build can use them.
//!
//! # Layout
//! - `orders`: an order, its history and notifications, its waiting step.
//! - `documents`: documents to sign, signers and their requests.
//! - `inbox`: the staff inbox's rows and pages.
//! - `files`: attached files, their types, and the hashes a decision saw.
//! - `events`: an execution's events, without what could carry a token.
//! - `forms`: forms described by data, and the checks on their values.
//! - `people`: users, roles and groups.
//! - `receipts`: a decision's signed receipt, as its page shows it.
//! - `statuses`: where an order or a signature stands.
//! - `tasks`: the task contract's types and a task's state.

pub mod documents;
pub mod events;
pub mod files;
pub mod forms;
pub mod inbox;
pub mod orders;
pub mod people;
pub mod receipts;
pub mod statuses;
pub mod tasks;
