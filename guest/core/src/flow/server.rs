//! What the hook reads about a server once per component instance: the schema, and
//! whether the server can allocate in one round trip.

use super::Hook;
use crate::error::HookError;
use crate::filter;
use crate::schema::Schema;
use crate::types::Scope;
use std::sync::Arc;

/// The feature OID of Modify-Increment (RFC 4525).
pub const MODIFY_INCREMENT_FEATURE: &str = "1.3.6.1.1.14";
/// The control OID of Post-Read (RFC 4527).
pub const POST_READ_CONTROL: &str = "1.3.6.1.1.13.2";

/// The schema and the advertised features of one server.
#[derive(Debug)]
pub struct ServerInfo {
    pub schema: Schema,
    /// The root DSE lists Modify-Increment in `supportedFeatures`.
    pub modify_increment: bool,
    /// The root DSE lists the Post-Read control in `supportedControl`.
    pub post_read: bool,
}

/// Server information already read, by server, so that a long-lived component
/// instance reads the root DSE and the subschema entry once instead of on every spawn.
#[derive(Debug, Default)]
pub struct ServerCache {
    entries: Vec<(String, Arc<ServerInfo>)>,
}

impl ServerCache {
    fn get(&self, server: &str) -> Option<Arc<ServerInfo>> {
        self.entries
            .iter()
            .find(|(known, _)| known == server)
            .map(|(_, info)| Arc::clone(info))
    }

    fn insert(&mut self, server: &str, info: Arc<ServerInfo>) {
        self.entries.retain(|(known, _)| known != server);
        self.entries.push((server.to_string(), info));
    }
}

impl Hook<'_, '_, '_> {
    /// Reads the root DSE and the subschema entry it names, once per server.
    pub(super) fn server_info(&mut self) -> Result<Arc<ServerInfo>, HookError> {
        let server = self.config.server.clone();
        if let Some(info) = self.cache.get(&server) {
            return Ok(info);
        }

        let requested =
            ["subschemaSubentry", "supportedFeatures", "supportedControl"].map(String::from);
        let root = self
            .services
            .directory
            .search("", Scope::BaseObject, filter::ANY_OBJECT, &requested)
            .map_err(|error| HookError::directory("reading the root DSE", &server, error))?;
        let root = root.first();
        let advertises = |attribute: &str, oid: &str| {
            root.and_then(|entry| entry.values(attribute))
                .is_some_and(|values| values.iter().any(|value| value == oid))
        };
        let modify_increment = advertises("supportedFeatures", MODIFY_INCREMENT_FEATURE);
        let post_read = advertises("supportedControl", POST_READ_CONTROL);
        let subschema_dn = root
            .and_then(|entry| entry.values("subschemaSubentry"))
            .and_then(|values| values.first())
            .cloned()
            .ok_or_else(|| {
                HookError::schema(format!(
                    "the server at {server} does not name its subschema entry \
                     (subschemaSubentry in the root DSE), so object classes cannot be checked; \
                     allow reading the root DSE and the subschema entry"
                ))
            })?;

        let requested = ["objectClasses".to_string(), "attributeTypes".to_string()];
        let entries = self
            .services
            .directory
            .search(
                &subschema_dn,
                Scope::BaseObject,
                "(objectClass=subschema)",
                &requested,
            )
            .map_err(|error| {
                HookError::directory(
                    &format!("reading the subschema entry {subschema_dn}"),
                    &server,
                    error,
                )
            })?;
        let Some(entry) = entries.first() else {
            return Err(HookError::schema(format!(
                "the subschema entry {subschema_dn} at {server} could not be read; allow \
                 reading it"
            )));
        };
        let schema = Schema::parse(
            &subschema_dn,
            entry.values("objectClasses").unwrap_or_default(),
            entry.values("attributeTypes").unwrap_or_default(),
        );
        if schema.classes.is_empty() {
            return Err(HookError::schema(format!(
                "the subschema entry {subschema_dn} at {server} lists no object classes that \
                 could be read"
            )));
        }
        self.debug(|| {
            format!(
                "read {} object classes and {} attribute types from {subschema_dn}; \
                 Modify-Increment {}, Post-Read {}",
                schema.classes.len(),
                schema.attributes.len(),
                if modify_increment {
                    "advertised"
                } else {
                    "not advertised"
                },
                if post_read {
                    "advertised"
                } else {
                    "not advertised"
                },
            )
        });

        let info = Arc::new(ServerInfo {
            schema,
            modify_increment,
            post_read,
        });
        self.cache.insert(&server, Arc::clone(&info));
        Ok(info)
    }
}
