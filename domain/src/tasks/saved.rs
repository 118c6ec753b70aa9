//! Saved views: a person names a filter of the task list and keeps it on
//! the server (not in one browser), and may share it with one of their
//! groups, whose members then see it in their list of views too.
//!
//! The views table is keyed by owner and name; the sparse
//! `views-by-group` index (only a shared view carries `group`) lists a
//! group's views. Reading someone's views is one Query for their own and
//! one per group they are in: never a Scan.

use aws_sdk_dynamodb::types::AttributeValue;
pub use countersign_model::tasks::SavedView;

use super::views::Filter;
use crate::DomainError;
use crate::items::{Item, s, unavailable};
use crate::services::Services;
use crate::tables::VIEWS_BY_GROUP;
use crate::users::User;

/// Longest view name.
pub const MAX_NAME: usize = 60;
/// Most views one person may keep.
pub const MAX_VIEWS: usize = 50;

/// People's saved task views, their own and their groups'.
/// A handle on [`Services`]; get one with [`Services::saved_views`].
#[derive(Debug, Clone, Copy)]
pub struct SavedViews<'a> {
    s: &'a Services,
}

impl Services {
    /// People's saved task views.
    pub fn saved_views(&self) -> SavedViews<'_> {
        SavedViews { s: self }
    }
}

impl SavedViews<'_> {
    /// Saves (or replaces) `user`'s view `name`, shared with `group` if
    /// given (one of their own groups).
    pub async fn save(
        self,
        user: &User,
        name: &str,
        filter: &Filter,
        group: Option<&str>,
    ) -> Result<SavedView, DomainError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME || name.chars().any(char::is_control)
        {
            return Err(DomainError::Invalid(format!(
                "a view's name is 1 to {MAX_NAME} characters"
            )));
        }
        let group = group.map(str::trim).filter(|g| !g.is_empty());
        if let Some(group) = group
            && !user.groups.iter().any(|g| g == group)
        {
            return Err(DomainError::Invalid(format!(
                "you can share a view only with a group you are in, not {group:?}"
            )));
        }
        if let Some(kind) = &filter.kind
            && !crate::kinds::usable_kind_name(kind)
        {
            return Err(DomainError::Invalid(format!("there is no kind {kind:?}")));
        }
        let own = self.own(&user.name).await?;
        if own.len() >= MAX_VIEWS && !own.iter().any(|v| v.name == name) {
            return Err(DomainError::Invalid(format!(
                "you keep {MAX_VIEWS} views already; delete one first"
            )));
        }
        let view = SavedView {
            owner: user.name.clone(),
            name: name.to_owned(),
            filter: filter.clone(),
            group: group.map(str::to_owned),
            created_at: self.s.clock.stamp(),
        };
        let mut put = self
            .s
            .ddb
            .put_item()
            .table_name(&self.s.tables.views)
            .item("owner", AttributeValue::S(view.owner.clone()))
            .item("name", AttributeValue::S(view.name.clone()))
            .item(
                "filter",
                AttributeValue::S(serde_json::to_string(&view.filter).unwrap_or_default()),
            )
            .item("createdAt", AttributeValue::S(view.created_at.clone()));
        if let Some(group) = &view.group {
            put = put.item("group", AttributeValue::S(group.clone()));
        }
        put.send()
            .await
            .map_err(|e| unavailable("saving a view")(format!("{e:?}")))?;
        Ok(view)
    }

    /// Deletes `user`'s own view `name`.
    pub async fn delete(self, user: &User, name: &str) -> Result<(), DomainError> {
        // No view has a name it could not have been saved under; such a
        // name is not sent to DynamoDB (a key over 1 KiB is its error).
        if name.is_empty() || name.chars().count() > MAX_NAME {
            return Err(DomainError::NotFound);
        }
        let out = self
            .s
            .ddb
            .delete_item()
            .table_name(&self.s.tables.views)
            .key("owner", AttributeValue::S(user.name.clone()))
            .key("name", AttributeValue::S(name.to_owned()))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| unavailable("deleting a view")(format!("{e:?}")))?;
        if out.attributes().is_some() {
            Ok(())
        } else {
            Err(DomainError::NotFound)
        }
    }

    /// `user`'s own views and those shared with their groups, by name.
    pub async fn list(self, user: &User) -> Result<Vec<SavedView>, DomainError> {
        let mut views = self.own(&user.name).await?;
        for group in &user.groups {
            let out = self
                .s
                .ddb
                .query()
                .table_name(&self.s.tables.views)
                .index_name(VIEWS_BY_GROUP)
                .key_condition_expression("#group = :group")
                .expression_attribute_names("#group", "group")
                .expression_attribute_values(":group", AttributeValue::S(group.clone()))
                .limit(i32::try_from(MAX_VIEWS).unwrap_or(50))
                .send()
                .await
                .map_err(|e| unavailable("reading shared views")(format!("{e:?}")))?;
            views.extend(
                out.items()
                    .iter()
                    .filter_map(view_from)
                    .filter(|v| v.owner != user.name),
            );
        }
        views.sort_by(|a, b| (&a.name, &a.owner).cmp(&(&b.name, &b.owner)));
        Ok(views)
    }

    async fn own(self, owner: &str) -> Result<Vec<SavedView>, DomainError> {
        let out = self
            .s
            .ddb
            .query()
            .table_name(&self.s.tables.views)
            .key_condition_expression("#owner = :owner")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_values(":owner", AttributeValue::S(owner.to_owned()))
            .send()
            .await
            .map_err(|e| unavailable("reading views")(format!("{e:?}")))?;
        Ok(out.items().iter().filter_map(view_from).collect())
    }
}

fn view_from(item: &Item) -> Option<SavedView> {
    Some(SavedView {
        owner: s(item, "owner")?,
        name: s(item, "name")?,
        filter: s(item, "filter")
            .and_then(|f| serde_json::from_str(&f).ok())
            .unwrap_or_default(),
        group: s(item, "group"),
        created_at: s(item, "createdAt").unwrap_or_default(),
    })
}
