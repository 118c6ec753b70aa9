//! The `#[server]` functions: each is an HTTP endpoint under `/api/`
//! whose doc comment says who may call it, and which checks it before
//! anything else.

pub mod audit;
pub mod auth;
pub mod files;
pub mod flow;
pub mod orders;
pub mod signatures;
pub mod tasks;
