//! Concurrent writers to the file store, and writers killed mid-write (docs/spec.md §10.7).

use std::io::Write;
use std::process::{Command as StdCommand, Stdio};
use std::time::Duration;

use super::{get, run, store};
use crate::util::{TOKEN, TestEnv};

#[test]
fn parallel_writers_lose_no_entry() {
    let env = TestEnv::new();
    assert_eq!(store(&env, "seed", TOKEN).0, 0);
    let results: Vec<(String, i32, String)> = std::thread::scope(|s| {
        let env = &env;
        let mut handles = Vec::new();
        for i in 0..40 {
            handles.push(s.spawn(move || {
                let p = format!("p{i}");
                let (code, _, err) = store(env, &p, &format!("M.V1.test-distinct-{i}"));
                (p, code, err)
            }));
        }
        for i in 0..20 {
            handles.push(s.spawn(move || {
                let (code, _, err) = store(env, "same", &format!("M.V1.test-same-{i}"));
                ("same".to_owned(), code, err)
            }));
        }
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (p, code, err) in &results {
        assert_eq!(*code, 0, "{p}: {err}");
    }
    for i in 0..40 {
        assert_eq!(get(&env, &format!("p{i}")).1, format!("M.V1.test-distinct-{i}\n"));
    }
    assert!(get(&env, "same").1.starts_with("M.V1.test-same-"));
    let (_, out, _) = run(&env, &["list", "--format", "json"], "", &[]);
    let rows: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 42, "{out}");
}

#[test]
fn writers_killed_mid_write_leave_old_or_new_entries() {
    let env = TestEnv::new();
    let profiles: Vec<String> = (0..6).map(|i| format!("k{i}")).collect();
    for p in &profiles {
        assert_eq!(store(&env, p, &format!("M.V1.test-old-{p}")).0, 0);
    }
    let bin = env.cmd().get_program().to_owned();
    let vars: Vec<(std::ffi::OsString, std::ffi::OsString)> =
        env.cmd().get_envs().filter_map(|(k, v)| Some((k.to_owned(), v?.to_owned()))).collect();
    // Kill delays are drawn below the time one `store` takes on this machine now, so that most
    // kills land mid-write whatever the machine's speed or load; rounds go on until 20 writers
    // were killed while running (bounded).
    let started = std::time::Instant::now();
    assert_eq!(store(&env, &profiles[0], "M.V1.test-old-k0").0, 0);
    let typical_us = (started.elapsed().as_micros() as u64).max(1);
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut killed_running = 0;
    let mut round = 0;
    while killed_running < 20 && round < 400 {
        round += 1;
        let p = &profiles[round % profiles.len()];
        let mut child = StdCommand::new(&bin)
            .env_clear()
            .envs(vars.iter().map(|(k, v)| (k, v)))
            .args(["--store", "file", "store", "-p", p])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let token = format!("M.V1.test-new-{p}-{round}\n");
        let _ = child.stdin.take().unwrap().write_all(token.as_bytes());
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        std::thread::sleep(Duration::from_micros(seed % typical_us));
        if child.try_wait().unwrap().is_none() {
            killed_running += 1;
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    assert!(
        killed_running >= 20,
        "only {killed_running} of {round} writers were killed while running"
    );
    for p in &profiles {
        let (code, out, err) = get(&env, p);
        assert_eq!(code, 0, "{p}: {err}");
        assert!(
            out == format!("M.V1.test-old-{p}\n")
                || out.starts_with(&format!("M.V1.test-new-{p}-")),
            "{p}: {out}"
        );
    }
    let (code, out, _) = run(&env, &["list", "--format", "json"], "", &[]);
    assert_eq!(code, 0);
    let rows: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), profiles.len(), "{out}");
    assert!(!out.contains("metadata unavailable"), "{out}");
}
