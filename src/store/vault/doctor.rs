//! The `doctor` line of the vault store: is the server reachable and unsealed (`sys/health`),
//! how we log in and how long the token lives (`auth/token/lookup-self`), and whether its
//! policy can read, write and list our prefix (`sys/capabilities-self`). Never the token.

use serde::Deserialize;

use super::VaultStore;
use super::client::origin;
use crate::check::{Check, Status};
use crate::paths::Paths;
use crate::settings::{Settings, VaultAuth};

/// A static token with less than this left (seconds) makes the line a warning.
const SHORT_TTL: i64 = 3600;

#[derive(Deserialize)]
struct Health {
    #[serde(default)]
    initialized: bool,
    #[serde(default)]
    sealed: bool,
    #[serde(default)]
    standby: bool,
    #[serde(default)]
    version: String,
}

#[derive(Deserialize)]
struct LookupSelf {
    data: LookupData,
}

#[derive(Deserialize)]
struct LookupData {
    #[serde(default)]
    ttl: i64,
}

/// The one `doctor` line of the vault store (`None` when it is not enabled).
pub fn doctor_check(paths: &Paths, settings: &Settings, enabled: bool) -> Option<Check> {
    if !enabled {
        return None;
    }
    let store = VaultStore::new(paths, settings);
    let (status, detail) = report(&store);
    Some(Check::new("store vault", status, detail))
}

fn report(store: &VaultStore) -> (Status, String) {
    let warn = |text: String| (Status::Warn, text);
    let client = match store.client() {
        Ok(c) => c,
        Err(e) => return warn(with_hint(&e)),
    };
    let target = client.target();
    let addrs: Vec<String> = target.addrs.iter().map(origin).collect();
    let mut parts = vec![format!("{} ({})", addrs.join(", "), target.addrs_from)];
    if let Some(ns) = &target.namespace {
        parts.push(format!("namespace {ns:?}"));
    }
    // Every state answers 200, so nothing is retried: doctor says what it sees.
    let health = "sys/health?standbyok=true&perfstandbyok=true&sealedcode=200&uninitcode=200";
    let h = match client.get_raw(health, None) {
        Ok(reply) => serde_json::from_slice::<Health>(&reply.body).ok(),
        Err(e) => return warn(format!("{}: {}", parts.join(", "), with_hint(&e))),
    };
    match h {
        None => return warn(format!("{}: the health check answered no JSON", parts.join(", "))),
        Some(h) if !h.initialized => return warn(format!("{}: not initialized", parts.join(", "))),
        Some(h) if h.sealed => {
            return warn(format!(
                "{}: sealed (unseal it: `bao operator unseal`)",
                parts.join(", ")
            ));
        }
        Some(h) => parts.push(format!(
            "unsealed, {}{}",
            if h.standby { "standby" } else { "active" },
            if h.version.is_empty() { String::new() } else { format!(", version {}", h.version) }
        )),
    }
    let mut short_lived = false;
    let (token, source) = match store.token() {
        Ok(t) => t,
        Err(e) => return warn(format!("{}; {}", parts.join(", "), with_hint(&e))),
    };
    match client.get_raw("auth/token/lookup-self", Some(&token)) {
        Ok(r) if r.ok() => {
            let ttl =
                serde_json::from_slice::<LookupSelf>(&r.body).map(|l| l.data.ttl).unwrap_or(0);
            // A static token about to expire is worth a warning; a login renews itself.
            short_lived = ttl > 0 && ttl < SHORT_TTL && store.settings().auth == VaultAuth::Token;
            let ttl = if ttl <= 0 {
                "never expires".to_owned()
            } else {
                format!("ttl {}", crate::duration::humanize(jiff::SignedDuration::from_secs(ttl)))
            };
            parts.push(format!("login: {source}, {ttl}"));
        }
        Ok(r) if r.status == 403 => {
            let why = r.errors(Some(&token)).join("; ");
            return warn(format!(
                "{}; the server refused the {source} ({why}): log in again",
                parts.join(", ")
            ));
        }
        Ok(r) => parts.push(format!("login: {source}, lookup-self answered {}", r.status)),
        Err(e) => return warn(format!("{}; {}", parts.join(", "), with_hint(&e))),
    }
    let layout = store.layout();
    let data = layout.data_path("default");
    // A LIST is a request on the folder, `<mount>/metadata/<prefix>/` with its slash: a
    // policy's `…/<prefix>/*` grants `list` there and nothing on the path without it.
    let list = format!("{}/", layout.list_path());
    let body = serde_json::json!({ "paths": [data, list] }).to_string();
    let caps = match client.post_raw("sys/capabilities-self", body.as_bytes(), Some(&token)) {
        Ok(r) if r.ok() => serde_json::from_slice::<serde_json::Value>(&r.body).ok(),
        _ => None,
    };
    let Some(caps) = caps else {
        parts.push("policy: sys/capabilities-self did not answer".into());
        return (Status::Warn, parts.join(", "));
    };
    let of = |path: &str| -> Vec<String> {
        let v = caps.get("data").and_then(|d| d.get(path)).or_else(|| caps.get(path));
        v.and_then(|v| v.as_array())
            .map(|a| a.iter().filter_map(|c| c.as_str().map(str::to_owned)).collect())
            .unwrap_or_default()
    };
    let (on_data, on_list) = (of(&data), of(&list));
    let has = |caps: &[String], c: &str| caps.iter().any(|x| x == c || x == "root");
    let can_read = has(&on_data, "read");
    let can_write = has(&on_data, "create") || has(&on_data, "update");
    let can_list = has(&on_list, "list");
    parts.push(format!(
        "policy on {data}: {}; list on {list}: {}",
        match (can_read, can_write) {
            (true, true) => "read and write",
            (true, false) => "read only",
            (false, true) => "write only",
            (false, false) => "neither read nor write",
        },
        if can_list { "yes" } else { "no" }
    ));
    if short_lived {
        parts.push("the token expires within the hour: log in again (`bao login`)".into());
    }
    let status = if can_read && !short_lived { Status::Ok } else { Status::Warn };
    (status, parts.join(", "))
}

fn with_hint(e: &crate::error::Error) -> String {
    match e.hint() {
        Some(h) => format!("{e} ({h})"),
        None => e.to_string(),
    }
}
