//! One module a page, plus the pieces they share.

pub mod audit;
pub mod common;
pub mod documents;
pub mod files;
pub mod flow;
pub mod forms;
pub mod home;
pub mod inbox;
pub mod not_found;
pub mod orders;
pub mod receipt;
pub mod sign_in;
pub mod task;
pub mod tasks;
