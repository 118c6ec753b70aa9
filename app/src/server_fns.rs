//! The server functions, one module a resource. Every function here is a
//! public HTTP endpoint: its doc comment says who may call it.

pub mod service_check;
