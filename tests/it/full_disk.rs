//! A full disk: a write that cannot complete fails with a typed error and a non-zero exit, and
//! what was stored before stays readable. The store lives on a tiny tmpfs mounted for the test
//! (needs root, as CI runs; ignored for a bare `cargo test`).

use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;

use crate::util::{TestEnv, text};

const OLD: &str = "M.V1.test-full-disk-old-token";
const NEW: &str = "M.V1.test-full-disk-new-token";

/// A tmpfs of `size` mounted on `dir`, unmounted on drop.
struct Mount(PathBuf);

impl Mount {
    fn tmpfs(dir: &Path, size: &str) -> Mount {
        std::fs::create_dir_all(dir).unwrap();
        let st = StdCommand::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size},mode=0700"), "tmpfs"])
            .arg(dir)
            .status()
            .expect("run mount");
        assert!(st.success(), "mounting a tmpfs needs root");
        Mount(dir.to_owned())
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = StdCommand::new("umount").arg("-l").arg(&self.0).status();
    }
}

fn run(env: &TestEnv, args: &[&str], stdin: &str) -> (i32, String, String) {
    let out = env.cmd().args(args).write_stdin(stdin).output().unwrap();
    (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
}

/// Fills the file system under `dir` until a write fails.
fn fill(dir: &Path) {
    use std::io::Write;
    let mut f = std::fs::File::create(dir.join("filler")).unwrap();
    let chunk = vec![0u8; 4096];
    while f.write_all(&chunk).and_then(|()| f.sync_all()).is_ok() {}
}

#[test]
#[ignore = "needs root (mounts a tiny tmpfs)"]
fn store_on_full_disk_fails_typed_and_keeps_the_old_entry() {
    let env = TestEnv::new();
    let _mount = Mount::tmpfs(&env.cred_home(), "256k");
    let (code, _, err) = run(&env, &["--store", "file", "store", "-p", "prod"], OLD);
    assert_eq!(code, 0, "{err}");

    fill(&env.cred_home());
    let (code, _, err) = run(&env, &["--store", "file", "store", "-p", "prod"], NEW);
    assert_eq!(code, 1, "a full disk is kind other: {err}");
    assert!(err.contains("kind: other"), "{err}");
    assert!(err.to_lowercase().contains("no space left"), "the cause is named: {err}");
    assert!(!err.contains(NEW) && !err.contains(OLD), "{err}");

    // Nothing stored before is lost, and reading works on a full disk.
    let (code, out, err) = run(&env, &["get", "-p", "prod"], "");
    assert_eq!((code, out.as_str()), (0, format!("{OLD}\n").as_str()), "{err}");
    let (code, out, _) = run(&env, &["list", "--format", "json"], "");
    assert_eq!(code, 0);
    assert!(out.contains("\"prod\""), "{out}");
    // No half-written temp file is left behind.
    let leftovers: Vec<_> = std::fs::read_dir(env.store_dir())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // Once there is room again, the write goes through.
    std::fs::remove_file(env.cred_home().join("filler")).unwrap();
    let (code, _, err) = run(&env, &["--store", "file", "store", "-p", "prod"], NEW);
    assert_eq!(code, 0, "{err}");
    let (_, out, _) = run(&env, &["get", "-p", "prod"], "");
    assert_eq!(out, format!("{NEW}\n"));
}
