//! `list`: every entry of every store, as a table for people or JSON for programs.

use jiff::Timestamp;

use crate::app::{ListRow, Vault};
use crate::cli::{FormatArgs, ListFormat};
use crate::error::{Error, Result};
use crate::ui;

pub fn list(vault: &Vault, args: &FormatArgs) -> Result<i32> {
    // One command reads every entry's files from the same folders: each folder's strict-modes
    // check is done once for the whole listing (as one helper request does), not once a file.
    let (rows, mut failed) = crate::fsutil::one_request(|| vault.list());
    // The store the user named (`--store`) that cannot be listed is the answer: its error,
    // not a warning above an empty table.
    if let Some(only) = vault.reading_only()
        && let Some(i) = failed.iter().position(|(kind, _)| *kind == only)
    {
        return Err(failed.swap_remove(i).1);
    }
    for (store, e) in &failed {
        ui::warn(format!("could not list the {store} store: {e}"));
    }
    for r in rows.iter().filter(|r| r.expiry_unknown() && !r.times_unknown()) {
        ui::note(format!(
            "profile {:?} ({} store): its metadata could not be read, so its expiry is unknown: {}",
            r.meta.profile,
            r.store,
            r.meta.description.as_deref().unwrap_or("`influxctl-cred doctor` says why")
        ));
    }
    let text = match args.format {
        ListFormat::Json => {
            // A row's JSON leaves out made-up times (app/row.rs).
            serde_json::to_string_pretty(&rows).map_err(|e| Error::Other(e.to_string()))? + "\n"
        }
        ListFormat::Table => table(&rows),
    };
    ui::stdout(text.as_bytes())?;
    Ok(if failed.is_empty() { 0 } else { failed[0].1.exit_code() })
}

/// The `list` table. ACTIVE marks the row `get` would use when a profile is in several stores.
pub fn table(rows: &[ListRow]) -> String {
    let header = ["PROFILE", "STORE", "ACTIVE", "TOKEN ID", "DESCRIPTION", "CREATED", "EXPIRES"];
    let cells: Vec<[String; 7]> = rows
        .iter()
        .map(|r| {
            let created = match r.created_unknown() {
                true => "-".to_owned(),
                false => short_time(r.meta.created_at),
            };
            let expires = match r.meta.expires_at {
                _ if r.times_unknown() => "-".to_owned(),
                None if r.expiry_unknown() => "unknown".to_owned(),
                Some(t) => format!("{} ({})", short_time(t), r.expiry),
                None => "never".to_owned(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::{Entry, Origin};
    use crate::secret::Token;
    use crate::settings::StoreKind;

    #[test]
    fn table_shows_a_dash_not_1970_for_an_unknown_creation_time() {
        let token = Token::new("M.V1.test-row0123456789abcdef".into()).unwrap();
        let mut meta = Entry::new("hand", token, Origin::Stored).meta();
        meta.created_at = Timestamp::UNIX_EPOCH;
        let row =
            ListRow { store: StoreKind::Vault, meta, expiry: "never expires".into(), active: true };
        let table = table(&[row]);
        assert!(!table.contains("1970"), "{table}");
        let line = table.lines().nth(1).unwrap();
        let cells: Vec<&str> = line.split("  ").map(str::trim).filter(|c| !c.is_empty()).collect();
        assert_eq!(cells[cells.len() - 2..], ["-", "never"], "{table}");
    }
}
