//! Countersign's model: the types the server and the browser share. They
//! hold no AWS types and no secrets, so the same type serves the domain,
//! the REST API and the pages (one type per concept), and the browser
//! build can use them.
//!
//! # Layout
//! - `forms`: forms described by data, and the checks on their values.
//! - `people`: users, roles and groups.
//! - `statuses`: where an order or a signature stands.
//! - `tasks`: the task contract's types and a task's state.

pub mod forms;
pub mod people;
pub mod statuses;
pub mod tasks;
