//! What `influxctl-cred exec` adds to a run: the stand-in influxctl
//! (`examples/fake-influxctl.rs`) run directly with a plaintext config, and `/bin/true` (exec's
//! own cost, nothing read), against the same programs run through `exec` with the token in the
//! env store (`INFLUXCTL_CRED_TOKEN`), once with `--inject memfd` (a sealed memfd, the Linux
//! default) and once with `--inject file` (a private runtime dir on tmpfs, `/dev/shm` where
//! present) — interleaved, in the same run, on the same machine; medians and p90. Goal: at most
//! 3 ms added at the median.
//!
//! `cargo bench --bench exec_overhead` (release build; `BENCH_ITERATIONS`, default 300). Under
//! `cargo test --all-targets` it only checks, with a few runs, that both commands work.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

const TOKEN: &str = "M.V1.test-bench-exec-0123456789abcdefghijklmnopqrstuvwxyz";

const CONFIG: &str = r#"[[profile]]
  name = "default"
  product = "dedicated"
  account_id = "acc-bench"
  cluster_id = "clu-bench"
"#;

fn main() {
    let benching = std::env::args().any(|a| a == "--bench");
    let iterations: usize = if benching {
        std::env::var("BENCH_ITERATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(300)
    } else {
        3
    };
    let home = tempfile::tempdir().expect("temp dir");
    // exec treats a PROGRAM as influxctl when it is named so (else as a script, with a shim):
    // the stand-in runs through a link called influxctl, as a real install would.
    let fake = home.path().join("bin").join("influxctl");
    std::fs::create_dir_all(home.path().join("bin")).expect("mkdir bin");
    #[cfg(unix)]
    std::os::unix::fs::symlink(fake_influxctl(), &fake).expect("link the stand-in");
    #[cfg(not(unix))]
    std::fs::copy(fake_influxctl(), &fake).expect("copy the stand-in");
    // $XDG_RUNTIME_DIR is a tmpfs in a desktop session; /dev/shm is one too, where present.
    let shm = Path::new("/dev/shm");
    let run_dir = if shm.is_dir() { tempfile::tempdir_in(shm) } else { tempfile::tempdir() };
    let run_dir = run_dir.expect("runtime dir");
    let run = run_dir.path().to_owned();
    let user_config = home.path().join("xdg-config").join("influxctl").join("config.toml");
    std::fs::create_dir_all(user_config.parent().expect("parent")).expect("mkdir");
    std::fs::write(&user_config, CONFIG).expect("write config");
    let plain = home.path().join("plain.toml");
    std::fs::write(&plain, format!("{CONFIG}  mgmt_token = \"{TOKEN}\"\n")).expect("write");

    let base = |program: &Path| {
        let mut c = Command::new(program);
        c.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", home.path())
            .env("XDG_CONFIG_HOME", home.path().join("xdg-config"))
            .env("XDG_RUNTIME_DIR", &run)
            .env("INFLUXCTL_CRED_HOME", home.path().join("cred"))
            .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bench-bus")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        c
    };
    // What is run, each command once per round, the rounds interleaved: the stand-in (reads
    // the config, takes the token) and /bin/true (reads nothing: exec's own cost alone), each
    // directly and through `exec` with each injection (`--inject memfd`, the Linux default, and
    // `--inject file`, on the tmpfs runtime dir).
    let truth = Path::new("/bin/true");
    let direct = |program: &Path| {
        let mut c = base(program);
        if program == fake.as_path() {
            c.arg("--config").arg(&plain);
        }
        c.args(["database", "list"]);
        c
    };
    let through_exec = |inject: &str, program: &Path| {
        let mut c = base(Path::new(env!("CARGO_BIN_EXE_influxctl-cred")));
        // /bin/true counts as influxctl by being the same file as $INFLUXCTL_CRED_INFLUXCTL.
        c.env("INFLUXCTL_CRED_TOKEN", TOKEN)
            .env("INFLUXCTL_CRED_INFLUXCTL", program)
            .args(["exec", "--inject", inject, "--"]);
        c.arg(program).args(["database", "list"]);
        c
    };
    type Make<'a> = Box<dyn Fn() -> Command + 'a>;
    let mut commands: Vec<(&str, Make)> = vec![
        ("/bin/true directly", Box::new(|| direct(truth))),
        ("exec --inject memfd -- /bin/true", Box::new(|| through_exec("memfd", truth))),
        ("exec --inject file  -- /bin/true", Box::new(|| through_exec("file", truth))),
        ("influxctl (stand-in) directly, plaintext config", Box::new(|| direct(&fake))),
        ("exec --inject memfd -- influxctl", Box::new(|| through_exec("memfd", &fake))),
        ("exec --inject file  -- influxctl", Box::new(|| through_exec("file", &fake))),
    ];
    if !cfg!(target_os = "linux") {
        commands.retain(|(name, _)| !name.contains("memfd"));
    }

    let warmup = if benching { 10 } else { 0 };
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); commands.len()];
    for i in 0..iterations + warmup {
        // Rotate the order each round, so that no command always follows the same one.
        for k in 0..commands.len() {
            let j = (i + k) % commands.len();
            let t = time(commands[j].1());
            if i >= warmup {
                times[j].push(t);
            }
        }
    }
    let medians: Vec<(f64, f64)> = times.iter_mut().map(|t| stats(t)).collect();
    println!("exec overhead over {iterations} runs each (interleaved), same machine, same run:");
    for ((name, _), (m, p)) in commands.iter().zip(&medians) {
        println!("  {name:<48} median {m:>7.2} ms   p90 {p:>7.2} ms");
    }
    let median_of =
        |name: &str| commands.iter().position(|(n, _)| *n == name).map(|i| medians[i].0);
    for (base_name, program) in [
        ("/bin/true directly", "/bin/true"),
        ("influxctl (stand-in) directly, plaintext config", "influxctl"),
    ] {
        let Some(b) = median_of(base_name) else { continue };
        for inject in ["memfd", "file "] {
            let name = format!("exec --inject {inject} -- {program}");
            if let Some(m) = median_of(&name) {
                println!(
                    "  added by exec --inject {inject} to {program:<10} median {:+.2} ms",
                    m - b
                );
            }
        }
    }
    println!("  (goal: at most 3 ms added at the median)");
    let left = std::fs::read_dir(run.join("influxctl-cred")).map(|r| r.count()).unwrap_or(0);
    assert_eq!(left, 0, "exec left derived configs behind");
}

/// The stand-in, built with the profile of this bench binary.
fn fake_influxctl() -> PathBuf {
    let exe = std::env::current_exe().expect("bench binary path");
    let profile_dir = exe.parent().and_then(Path::parent).expect("target/<profile>");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut build = Command::new(cargo);
    build.args(["build", "--quiet", "--example", "fake-influxctl"]);
    // Without the variables cargo set for this bench: a build script watching one of them
    // (ring watches CARGO_MANIFEST_DIR) would otherwise rebuild half the tree each time.
    for (key, _) in std::env::vars_os() {
        if let Some(k) = key.to_str()
            && (k.starts_with("CARGO_PKG_")
                || k.starts_with("CARGO_BIN_EXE_")
                || matches!(
                    k,
                    "CARGO_MANIFEST_DIR"
                        | "CARGO_MANIFEST_PATH"
                        | "CARGO_CRATE_NAME"
                        | "CARGO_BIN_NAME"
                        | "CARGO_TARGET_TMPDIR"
                        | "CARGO_PRIMARY_PACKAGE"
                        | "CARGO_RUSTC_CURRENT_DIR"
                        | "OUT_DIR"
                ))
        {
            build.env_remove(k);
        }
    }
    if profile_dir.file_name().is_some_and(|n| n == "release") {
        build.arg("--release");
    }
    assert!(build.status().expect("run cargo").success(), "cannot build the stand-in");
    profile_dir.join("examples").join("fake-influxctl")
}

/// Milliseconds for one run, which must succeed.
fn time(mut cmd: Command) -> f64 {
    let start = Instant::now();
    let status = cmd.status().expect("spawn");
    let elapsed = start.elapsed();
    assert!(status.success(), "a measured command failed");
    elapsed.as_secs_f64() * 1000.0
}

fn stats(v: &mut [f64]) -> (f64, f64) {
    v.sort_by(|a, b| a.total_cmp(b));
    (v[v.len() / 2], v[v.len() * 9 / 10])
}
