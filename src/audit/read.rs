//! `audit [--since DUR] [-p P] [--format table|json]`: reads the log (the rotated file first),
//! newest last. Lines that are not records (a torn or foreign line) are skipped with a warning.

use std::io::BufRead;

use jiff::{SignedDuration, Timestamp};

use super::{Record, log_path, rotated};
use crate::error::{Error, Result};

/// Which records to show.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub since: Option<SignedDuration>,
    pub profile: Option<String>,
}

impl Filter {
    fn keeps(&self, r: &Record, now: Timestamp) -> bool {
        if self.profile.as_deref().is_some_and(|p| p != r.profile) {
            return false;
        }
        match self.since {
            None => true,
            Some(d) => r.time.parse::<Timestamp>().is_ok_and(|t| t.duration_since(now) >= -d.abs()),
        }
    }
}

/// The `audit` command.
pub fn command(filter: &Filter, json: bool) -> Result<i32> {
    let path = log_path().ok_or_else(|| {
        Error::Other("cannot find the audit log's folder; set INFLUXCTL_CRED_HOME".into())
    })?;
    let now = Timestamp::now();
    let mut records = Vec::new();
    let mut skipped = 0usize;
    for p in [rotated(&path), path.clone()] {
        let file = match std::fs::File::open(&p) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                return Err(Error::Other(format!(
                    "cannot read the audit log {}: {e}",
                    p.display()
                )));
            }
        };
        for line in std::io::BufReader::new(file).split(b'\n') {
            let line = line.map_err(|e| {
                Error::Other(format!("cannot read the audit log {}: {e}", p.display()))
            })?;
            match serde_json::from_slice::<Record>(&line) {
                Ok(r) if filter.keeps(&r, now) => records.push(r),
                Ok(_) => {}
                Err(_) if line.is_empty() => {}
                Err(_) => skipped += 1,
            }
        }
    }
    if skipped > 0 {
        crate::ui::warn(format!("skipped {skipped} line(s) of the audit log that are not records"));
    }
    let mut out = String::new();
    if json {
        for r in &records {
            out.push_str(&serde_json::to_string(r).map_err(|e| Error::Other(e.to_string()))?);
            out.push('\n');
        }
    } else {
        out.push_str("TIME\tCOMMAND\tPROFILE\tSTORE\tTOKEN ID\tPROGRAM\tPID\tOUTCOME\n");
        for r in &records {
            let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_owned());
            out.push_str(&format!(
                "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
                r.time,
                r.command,
                r.profile,
                dash(&r.store),
                dash(&r.token_id),
                dash(&r.argv0),
                r.pid,
                r.outcome
            ));
        }
    }
    crate::ui::stdout(out.as_bytes())?;
    Ok(0)
}
