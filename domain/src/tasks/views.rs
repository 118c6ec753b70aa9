//! The task lists. Each reads one sparse index in order (open tasks oldest
//! first or soonest deadline first; one person's assigned tasks) and keeps
//! what the view and the reader's rights allow: never a Scan, and a page
//! costs a bounded number of reads however many tasks exist.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::types::AttributeValue;
pub use countersign_model::tasks::{Filter, Sort, View};

use super::Tasks;
use super::contract::{self, OPEN, Task};
use crate::DomainError;
use crate::items::unavailable;
use crate::tables::{TASKS_BY_ASSIGNEE, TASKS_BY_DEADLINE, TASKS_OPEN};
use crate::users::User;

/// One page of a list, and where the next starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub tasks: Vec<Task>,
    pub next: Option<String>,
}

/// Most tasks on one page.
pub const MAX_PAGE: usize = 100;
/// Index reads one page may make before it answers with what it has.
const MAX_READS: usize = 10;

impl Tasks<'_> {
    /// A page of `filter`'s tasks as `user` may see them, from `cursor`.
    pub async fn list(
        self,
        user: &User,
        filter: &Filter,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<Page, DomainError> {
        let limit = limit.clamp(1, MAX_PAGE);
        let (index, partition, sort) = match (filter.view, filter.sort) {
            (View::Mine, _) => (
                TASKS_BY_ASSIGNEE,
                ("assignee", user.name.clone()),
                "createdAt",
            ),
            (_, Sort::Oldest) => (TASKS_OPEN, ("open", OPEN.to_owned()), "createdAt"),
            (_, Sort::Deadline) => (TASKS_BY_DEADLINE, ("open", OPEN.to_owned()), "deadline"),
        };
        let mut start = cursor
            .map(|c| decode_cursor(c, partition.0, sort))
            .transpose()?;
        let mut tasks = Vec::new();
        for _ in 0..MAX_READS {
            let out = self
                .s
                .ddb
                .query()
                .table_name(&self.s.tables.tasks)
                .index_name(index)
                .key_condition_expression("#p = :p")
                .expression_attribute_names("#p", partition.0)
                .expression_attribute_values(":p", AttributeValue::S(partition.1.clone()))
                .set_exclusive_start_key(start.take())
                .limit(i32::try_from(MAX_PAGE).unwrap_or(100))
                .send()
                .await
                .map_err(|e| unavailable("listing tasks")(format!("{e:?}")))?;
            for item in out.items() {
                let Some((task, _)) = contract::from_item(item) else {
                    continue;
                };
                if !keeps(filter, user, &task) {
                    continue;
                }
                tasks.push(task);
                if tasks.len() == limit {
                    let next = cursor_of(item, partition.0, sort);
                    return Ok(Page { tasks, next });
                }
            }
            start = out.last_evaluated_key().cloned();
            if start.is_none() {
                return Ok(Page { tasks, next: None });
            }
        }
        // Many rows read, few kept: answer now and go on from there.
        let next = start.and_then(|key| cursor_of(&key, partition.0, sort));
        Ok(Page { tasks, next })
    }
}

fn keeps(filter: &Filter, user: &User, task: &Task) -> bool {
    if !task.may_see(user) {
        return false;
    }
    if let Some(kind) = &filter.kind
        && task.kind() != Some(kind.as_str())
    {
        return false;
    }
    match filter.view {
        View::Open | View::Mine => true,
        View::Unassigned => task.assignee.is_none(),
        View::MyGroups => task
            .spec()
            .is_some_and(|s| s.eligible.groups.iter().any(|g| user.groups.contains(g))),
    }
}

/// A cursor is the index key of the last row returned, as hex of JSON: it
/// names nothing the reader could not see on the page.
fn cursor_of(
    item: &HashMap<String, AttributeValue>,
    partition: &str,
    sort: &str,
) -> Option<String> {
    let mut key = BTreeMap::new();
    for name in ["taskId", partition, sort] {
        key.insert(name.to_owned(), item.get(name)?.as_s().ok()?.clone());
    }
    let json = serde_json::to_vec(&key).ok()?;
    Some(json.iter().map(|b| format!("{b:02x}")).collect())
}

fn decode_cursor(
    cursor: &str,
    partition: &str,
    sort: &str,
) -> Result<HashMap<String, AttributeValue>, DomainError> {
    let invalid = || DomainError::Invalid("the cursor is not one this list gave".into());
    if cursor.len() > 4096 || !cursor.len().is_multiple_of(2) {
        return Err(invalid());
    }
    let bytes = (0..cursor.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(cursor.get(i..i + 2).unwrap_or("zz"), 16))
        .collect::<Result<Vec<u8>, _>>()
        .map_err(|_| invalid())?;
    let key: BTreeMap<String, String> = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    let expected: Vec<&str> = {
        let mut names = vec!["taskId", partition, sort];
        names.sort_unstable();
        names
    };
    if key.keys().map(String::as_str).collect::<Vec<_>>() != expected
        || key.values().any(|v| v.is_empty() || v.len() > 1024)
    {
        return Err(invalid());
    }
    Ok(key
        .into_iter()
        .map(|(k, v)| (k, AttributeValue::S(v)))
        .collect())
}
