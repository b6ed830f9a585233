//! `list`: every entry of every store, as a table for people or JSON for programs.

use jiff::Timestamp;

use crate::app::{ListRow, Vault};
use crate::cli::{FormatArgs, ListFormat};
use crate::error::{Error, Result};
use crate::settings::StoreKind;
use crate::ui;

pub fn list(vault: &Vault, args: &FormatArgs) -> Result<i32> {
    let (rows, failed) = vault.list();
    for (store, e) in &failed {
        ui::warn(format!("could not list the {store} store: {e}"));
    }
    let text = match args.format {
        ListFormat::Json => {
            serde_json::to_string_pretty(&json_rows(&rows)?)
                .map_err(|e| Error::Other(e.to_string()))?
                + "\n"
        }
        ListFormat::Table => table(&rows),
    };
    ui::stdout(text.as_bytes())?;
    Ok(if failed.is_empty() { 0 } else { failed[0].1.exit_code() })
}

/// An env-store entry (`$INFLUXCTL_CRED_TOKEN*`) has no record of when it was made or when it
/// expires: `list` shows "-" (JSON: `null`, expiry `"unknown"`), never a made-up time.
fn unknown_times(r: &ListRow) -> bool {
    r.store == StoreKind::Env
}

/// The rows as JSON, without made-up times ([`unknown_times`]).
fn json_rows(rows: &[ListRow]) -> Result<Vec<serde_json::Value>> {
    rows.iter()
        .map(|r| {
            let mut v = serde_json::to_value(r).map_err(|e| Error::Other(e.to_string()))?;
            if unknown_times(r)
                && let Some(o) = v.as_object_mut()
            {
                o.insert("created_at".into(), serde_json::Value::Null);
                o.insert("expires_at".into(), serde_json::Value::Null);
                o.insert("expiry".into(), "unknown".into());
            }
            Ok(v)
        })
        .collect()
}

/// The `list` table. ACTIVE marks the row `get` would use when a profile is in several stores.
pub fn table(rows: &[ListRow]) -> String {
    let header = ["PROFILE", "STORE", "ACTIVE", "TOKEN ID", "DESCRIPTION", "CREATED", "EXPIRES"];
    let cells: Vec<[String; 7]> = rows
        .iter()
        .map(|r| {
            let (created, expires) = match r.meta.expires_at {
                _ if unknown_times(r) => ("-".to_owned(), "-".to_owned()),
                Some(t) => {
                    (short_time(r.meta.created_at), format!("{} ({})", short_time(t), r.expiry))
                }
                None => (short_time(r.meta.created_at), "never".to_owned()),
            };
            [
                cell(&r.meta.profile, MAX_CELL),
                r.store.to_string(),
                if r.active { "yes" } else { "-" }.to_owned(),
                cell(r.meta.token_id.as_deref().unwrap_or("-"), MAX_CELL),
                cell(r.meta.description.as_deref().unwrap_or("-"), MAX_DESCRIPTION_CELL),
                created,
                expires,
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |row: &[String]| {
        let parts: Vec<String> = row.iter().zip(widths).map(|(c, w)| format!("{c:<w$}")).collect();
        out.push_str(parts.join("  ").trim_end());
        out.push('\n');
    };
    line(&header.map(str::to_owned));
    for row in &cells {
        line(row);
    }
    out
}

/// The widest a `list` column gets (a profile name is at most 256 characters).
const MAX_CELL: usize = 256;

/// The widest the description column gets; `--format json` shows it whole.
const MAX_DESCRIPTION_CELL: usize = 60;

/// One table cell as shown: control characters (which an entry written by another tool may
/// hold) become `?`, and a value longer than `max` characters is cut with `…`. Whatever a
/// store holds, the table stays one line per entry and never panics on its width.
fn cell(value: &str, max: usize) -> String {
    let mut out: String =
        value.chars().take(max).map(|c| if c.is_control() { '?' } else { c }).collect();
    if value.chars().nth(max).is_some() {
        out.pop();
        out.push('…');
    }
    out
}

fn short_time(t: Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M").to_string()
}
