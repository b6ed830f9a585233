//! The Management API's request and response bodies, as plain serde types that follow
//! InfluxData's OpenAPI documents (tests/fixtures/openapi/) field for field, in camelCase.
//! Unknown fields are ignored. Fields we never need are kept optional so that a server that
//! leaves one out does not turn a created token into an orphan we cannot delete.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::secret::Token;

/// `DatabaseTokenPermission`: one action on one database (or `*`, every database).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Permission {
    /// `read` or `write` (the documents leave the type open; these are the two influxctl uses).
    pub action: String,
    /// A database name (1–64 characters) or `*`.
    pub resource: String,
}

/// The body of `POST …/tokens` (`CreateDatabaseToken`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateDatabaseToken {
    pub description: String,
    pub permissions: Vec<Permission>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Timestamp>,
}

/// The answer to `POST …/tokens`. `accessToken` is shown only this once; it is held as a
/// [`Token`] so that it is redacted in `Debug` and zeroized on drop.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatedDatabaseToken {
    /// Dedicated only.
    #[serde(default)]
    pub account_id: Option<String>,
    /// Dedicated only.
    #[serde(default)]
    pub cluster_id: Option<String>,
    pub id: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub permissions: Vec<Permission>,
    #[serde(default)]
    pub created_at: Option<Timestamp>,
    pub access_token: Token,
    #[serde(default)]
    pub expires_at: Option<Timestamp>,
    #[serde(default)]
    pub revoked_at: Option<Timestamp>,
}

/// One item of `GET …/databases` (`GetClusterDatabases`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Database {
    /// Dedicated only.
    #[serde(default)]
    pub account_id: Option<String>,
    /// Dedicated only.
    #[serde(default)]
    pub cluster_id: Option<String>,
    pub name: String,
    #[serde(default)]
    pub max_tables: Option<u64>,
    #[serde(default)]
    pub max_columns_per_table: Option<u64>,
    /// Nanoseconds; 0 means forever.
    #[serde(default)]
    pub retention_period: Option<i64>,
    /// Kept as JSON: we only ever show it.
    #[serde(default)]
    pub partition_template: Option<serde_json::Value>,
}

/// The documents' `Error` schema: every 4xx/5xx answer carries `{code, message}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ApiErrorBody {
    /// An integer in the documents; some proxies send a string, so both are read.
    #[serde(default, deserialize_with = "code_as_text")]
    pub code: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}

fn code_as_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<serde_json::Value>::deserialize(d)? {
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        Some(serde_json::Value::String(s)) => Some(s),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_request_serializes_in_camel_case() {
        let req = CreateDatabaseToken {
            description: "ci".into(),
            permissions: vec![
                Permission { action: "read".into(), resource: "DatabaseOne".into() },
                Permission { action: "write".into(), resource: "DatabaseTwo".into() },
            ],
            expires_at: Some("2030-01-02T03:04:05Z".parse().unwrap()),
        };
        assert_eq!(
            serde_json::to_string(&req).unwrap(),
            r#"{"description":"ci","permissions":[{"action":"read","resource":"DatabaseOne"},{"action":"write","resource":"DatabaseTwo"}],"expiresAt":"2030-01-02T03:04:05Z"}"#
        );
        let no_expiry = CreateDatabaseToken { expires_at: None, ..req };
        assert!(!serde_json::to_string(&no_expiry).unwrap().contains("expiresAt"));
    }

    #[test]
    fn created_token_parses_the_documents_example() {
        let body = r#"{"accountId":"11111111-1111-4111-8111-111111111111","clusterId":"33333333-3333-4333-8333-333333333333","id":"55555555-5555-4555-8555-555555555555","description":"Limited Access Token","permissions":[{"action":"read","resource":"DatabaseOne"},{"action":"write","resource":"DatabaseTwo"}],"createdAt":"2023-12-21T17:32:28.000Z","accessToken":"apiv1_5555555555555555555555555555555555555555555555555555555555555555","future":1}"#;
        let t: CreatedDatabaseToken = serde_json::from_str(body).unwrap();
        assert_eq!(t.id, "55555555-5555-4555-8555-555555555555");
        assert!(t.access_token.expose().starts_with("apiv1_5555"));
        assert_eq!(t.permissions.len(), 2);
        assert!(t.expires_at.is_none());
        assert!(!format!("{t:?}").contains("apiv1_"));
    }

    #[test]
    fn created_token_without_id_or_access_token_is_refused() {
        assert!(serde_json::from_str::<CreatedDatabaseToken>(r#"{"id":"x"}"#).is_err());
        assert!(
            serde_json::from_str::<CreatedDatabaseToken>(r#"{"accessToken":"apiv1_x"}"#).is_err()
        );
    }

    #[test]
    fn databases_parse_both_products() {
        let dedicated = r#"[{"accountId":"a","clusterId":"c","name":"DatabaseOne","maxTables":500,"maxColumnsPerTable":200,"retentionPeriod":0}]"#;
        let clustered = r#"[{"name":"DatabaseTwo","maxTables":100,"maxColumnsPerTable":50,"retentionPeriod":300000000000,"partitionTemplate":[{"type":"time","value":"%Y"}]}]"#;
        let d: Vec<Database> = serde_json::from_str(dedicated).unwrap();
        let c: Vec<Database> = serde_json::from_str(clustered).unwrap();
        assert_eq!((d[0].name.as_str(), d[0].account_id.as_deref()), ("DatabaseOne", Some("a")));
        assert_eq!(c[0].retention_period, Some(300_000_000_000));
        assert!(c[0].partition_template.is_some());
    }

    #[test]
    fn error_body_reads_numeric_and_text_codes() {
        let a: ApiErrorBody =
            serde_json::from_str(r#"{"code":401,"message":"unauthorized"}"#).unwrap();
        assert_eq!((a.code.as_deref(), a.message.as_deref()), (Some("401"), Some("unauthorized")));
        let b: ApiErrorBody = serde_json::from_str(r#"{"code":"E42"}"#).unwrap();
        assert_eq!((b.code.as_deref(), b.message), (Some("E42"), None));
    }
}
