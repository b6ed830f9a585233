//! Median latency of `influxctl-cred get` on the file store, beside the floor for any credential
//! helper measured in the same run on the same machine: `git credential-store get` reading a
//! plaintext file. Run with `cargo bench --bench get_latency` (release build); prints figures,
//! asserts nothing about time.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const TOKEN: &str = "M.V1.test-bench-0123456789abcdefghijklmnopqrstuvwxyz";

fn main() {
    // `cargo bench` passes --bench; under `cargo test` this is a quick smoke run of 3.
    let benching = std::env::args().any(|a| a == "--bench");
    let iterations: usize = if benching {
        std::env::var("BENCH_ITERATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(300)
    } else {
        3
    };
    let bin = env!("CARGO_BIN_EXE_influxctl-cred");
    let home = tempfile::tempdir().expect("temp dir");
    let cred_home = home.path().join("cred");

    // Our side: one entry in the file store (default identity generated on first write).
    let ours = |args: &[&str]| {
        let mut c = Command::new(bin);
        c.args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", home.path())
            .env("XDG_CONFIG_HOME", home.path().join("xdg-config"))
            .env("INFLUXCTL_CRED_HOME", &cred_home)
            .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bench-bus");
        c
    };
    let mut store = ours(&["store", "-p", "bench", "--store", "file"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn store");
    store.stdin.take().expect("stdin").write_all(TOKEN.as_bytes()).expect("write token");
    assert!(store.wait().expect("wait").success(), "storing the bench token failed");

    // Baseline: git's plaintext credential store.
    let git_file = home.path().join("git-credentials");
    std::fs::write(&git_file, format!("https://bench:{TOKEN}@example.com\n")).expect("write");
    let git_file_arg = git_file.display().to_string();

    let mut ours_t = Vec::with_capacity(iterations);
    let mut git_t = Vec::with_capacity(iterations);
    let warmup = if benching { 10 } else { 0 };
    for i in 0..iterations + warmup {
        let a = time(ours(&["get", "-p", "bench"]), None, TOKEN);
        let b = time(
            git(&["credential-store", "--file", &git_file_arg, "get"], home.path()),
            Some(b"protocol=https\nhost=example.com\n\n"),
            TOKEN,
        );
        if i >= warmup {
            ours_t.push(a);
            git_t.push(b);
        }
    }
    let (om, op) = stats(&mut ours_t);
    let (gm, gp) = stats(&mut git_t);
    println!("get latency over {iterations} runs each (interleaved), same machine, same run:");
    println!("  influxctl-cred get (file store, age) median {om:>7.2} ms   p90 {op:>7.2} ms");
    println!("  git credential-store get (plaintext) median {gm:>7.2} ms   p90 {gp:>7.2} ms");
    println!("  ratio of medians: {:.2}x", om / gm);
}

fn git(args: &[&str], home: &Path) -> Command {
    let mut c = Command::new("git");
    c.args(args).env("HOME", home).env("GIT_CONFIG_NOSYSTEM", "1");
    c
}

/// Runs `cmd` once, feeding `input`, and checks that it printed `expect`.
fn time(mut cmd: Command, input: Option<&[u8]>, expect: &str) -> f64 {
    cmd.stdin(if input.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let start = Instant::now();
    let mut child = cmd.spawn().expect("spawn");
    if let Some(bytes) = input {
        child.stdin.take().expect("stdin").write_all(bytes).expect("feed");
    }
    let out = child.wait_with_output().expect("wait");
    let elapsed: Duration = start.elapsed();
    assert!(out.status.success(), "a measured command failed");
    assert!(String::from_utf8_lossy(&out.stdout).contains(expect), "wrong output");
    elapsed.as_secs_f64() * 1000.0
}

fn stats(v: &mut [f64]) -> (f64, f64) {
    v.sort_by(|a, b| a.total_cmp(b));
    (v[v.len() / 2], v[v.len() * 9 / 10])
}
