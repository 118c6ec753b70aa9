#![allow(
    dead_code,
    reason = "each test binary uses its own part of this support module"
)]

//! Fault injection through an SDK interceptor: a chosen call fails either
//! before it is sent (the service never sees it) or after the service
//! answered (the call was applied, the answer is lost). Works the same on
//! every backend, because it sits in the client.

use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};

/// When an injected fault strikes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// Before the request leaves: nothing was applied.
    Before,
    /// After the service answered: applied, but the caller hears an error.
    After,
}

/// One fault: the next `times` calls of `operation` whose body contains
/// every one of `needles` fail, `When`.
#[derive(Debug, Clone)]
pub struct Fault {
    pub operation: &'static str,
    pub needles: Vec<String>,
    pub when: When,
    pub times: u32,
}

impl Fault {
    /// The next call of `operation` whose body holds all of `needles`.
    pub fn once(operation: &'static str, needles: &[&str], when: When) -> Self {
        Fault {
            operation,
            needles: needles.iter().map(|n| (*n).to_owned()).collect(),
            when,
            times: 1,
        }
    }
}

#[derive(Debug, Default)]
struct Plan {
    faults: Vec<Fault>,
    /// Calls that were failed, as (operation, when).
    struck: Vec<(String, When)>,
}

/// The interceptor; clones share one plan.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    plan: Arc<Mutex<Plan>>,
}

#[derive(Debug, Clone)]
struct FailAfter(Option<String>);
impl Storable for FailAfter {
    type Storer = StoreReplace<Self>;
}

impl Faults {
    /// Adds a fault to the plan.
    pub fn inject(&self, fault: Fault) {
        self.plan.lock().expect("plan").faults.push(fault);
    }

    /// Forgets every fault not yet struck.
    pub fn clear(&self) {
        self.plan.lock().expect("plan").faults.clear();
    }

    /// How many calls were failed so far.
    pub fn struck(&self) -> usize {
        self.plan.lock().expect("plan").struck.len()
    }

    /// SDK clients for `config` that go through this plan.
    pub fn clients(
        &self,
        config: &aws_config::SdkConfig,
    ) -> (aws_sdk_sfn::Client, aws_sdk_dynamodb::Client) {
        let sfn = aws_sdk_sfn::config::Builder::from(config)
            .interceptor(self.clone())
            .build();
        let ddb = aws_sdk_dynamodb::config::Builder::from(config)
            .interceptor(self.clone())
            .build();
        (
            aws_sdk_sfn::Client::from_conf(sfn),
            aws_sdk_dynamodb::Client::from_conf(ddb),
        )
    }

    /// The fault this request meets, if any, used up by one.
    fn take(&self, operation: &str, body: &str) -> Option<When> {
        let mut plan = self.plan.lock().expect("plan");
        let i = plan.faults.iter().position(|f| {
            f.operation == operation && f.needles.iter().all(|n| body.contains(n.as_str()))
        })?;
        let when = plan.faults[i].when;
        plan.faults[i].times -= 1;
        if plan.faults[i].times == 0 {
            plan.faults.remove(i);
        }
        plan.struck.push((operation.to_owned(), when));
        Some(when)
    }
}

fn injected(what: &str) -> BoxError {
    format!("injected fault: {what}").into()
}

impl Intercept for Faults {
    fn name(&self) -> &'static str {
        "countersign-test-faults"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request();
        // awsJson: the operation is the part of X-Amz-Target after the dot.
        let operation = request
            .headers()
            .get("x-amz-target")
            .and_then(|t| t.rsplit('.').next())
            .unwrap_or_default()
            .to_owned();
        let body = request
            .body()
            .bytes()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default();
        match self.take(&operation, &body) {
            Some(When::Before) => Err(injected(&format!("{operation} before it was sent"))),
            Some(When::After) => {
                cfg.interceptor_state()
                    .store_put(FailAfter(Some(operation)));
                Ok(())
            }
            // An SDK retry of a failed attempt is a new attempt: only the
            // faults planned for it strike.
            None => {
                cfg.interceptor_state().store_put(FailAfter(None));
                Ok(())
            }
        }
    }

    fn read_before_deserialization(
        &self,
        _context: &BeforeDeserializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        match cfg.load::<FailAfter>() {
            Some(FailAfter(Some(operation))) => Err(injected(&format!(
                "{operation}'s answer, after it was applied"
            ))),
            _ => Ok(()),
        }
    }
}
