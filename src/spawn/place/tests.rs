use super::*;
use std::os::unix::fs::PermissionsExt;

fn mode(p: &Path) -> u32 {
    fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn derived_file_is_private_and_removed_on_drop() {
    let root_dir = tempfile::tempdir().unwrap();
    let root = Root::at(root_dir.path().to_owned(), true);
    let d = Derived::create(&root, Inject::File, Zeroizing::new("x = 1\n".into())).unwrap();
    assert_eq!(fs::read_to_string(d.path()).unwrap(), "x = 1\n");
    assert_eq!(mode(d.path()), 0o600);
    assert_eq!(mode(d.path().parent().unwrap()), 0o700);
    let dir = d.path().parent().unwrap().to_owned();
    drop(d);
    assert!(!dir.exists());
}

#[test]
fn derived_file_on_disk_without_allow_disk_is_refused() {
    let root_dir = tempfile::tempdir().unwrap();
    let root = Root::at(root_dir.path().to_owned(), false);
    if root.tmpfs {
        return; // the temp dir is a tmpfs here: nothing is on disk
    }
    let err = Derived::create(&root, Inject::File, Zeroizing::new("x = 1\n".into()))
        .err()
        .expect("refused");
    assert!(err.to_string().contains("allow_disk"), "{err}");
    assert!(fs::read_dir(root_dir.path()).unwrap().next().is_none(), "nothing written");
}

#[cfg(target_os = "linux")]
#[test]
fn derived_memfd_is_sealed_and_readable_twice() {
    let root = Root::at(std::env::temp_dir(), false);
    let d = Derived::create(&root, Inject::Memfd, Zeroizing::new("x = 1\n".into())).unwrap();
    let p = d.path().to_owned();
    assert!(p.starts_with("/dev/fd/"), "{}", p.display());
    let link = fs::read_link(&p).unwrap();
    assert!(link.to_string_lossy().starts_with("/memfd:"), "{}", link.display());
    for _ in 0..2 {
        assert_eq!(fs::read_to_string(&p).unwrap(), "x = 1\n");
    }
    if let Ok(mut w) = fs::OpenOptions::new().write(true).open(&p) {
        assert!(w.write_all(b"y = 2\n").is_err(), "a sealed memfd takes no write");
    }
    assert_eq!(fs::read_to_string(&p).unwrap(), "x = 1\n");
    drop(d);
    assert!(fs::read_link(&p).is_err() || !fs::read_link(&p).unwrap().starts_with("/memfd:"));
}

#[test]
fn sweep_removes_folders_of_dead_processes_in_our_namespace_only() {
    let root_dir = tempfile::tempdir().unwrap();
    let root = Root::at(root_dir.path().to_owned(), true);
    let ns = pid_namespace();
    let other_ns = format!("{}1", ns);
    let me = std::process::id();
    // A pid that cannot exist (above the Linux maximum): in our namespace it is gone; in
    // another it may be a live run seen from outside. Also ours, an old-style name without
    // a namespace, and one not of our naming.
    let dead = format!("exec-99999999-{ns}-abc");
    let foreign = format!("exec-99999999-{other_ns}-abc");
    let mine = format!("exec-{me}-{ns}-abc");
    for name in [dead.as_str(), &foreign, &mine, "exec-99999999-abc", "other"] {
        let p = root_dir.path().join(name);
        fs::create_dir(&p).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o700)).unwrap();
    }
    root.sweep();
    assert!(!root_dir.path().join(&dead).exists());
    assert!(root_dir.path().join(&foreign).exists(), "another namespace's run was removed");
    assert!(root_dir.path().join(&mine).exists());
    assert!(root_dir.path().join("exec-99999999-abc").exists());
    assert!(root_dir.path().join("other").exists());
}

#[test]
fn parse_run_name_needs_pid_namespace_and_random() {
    assert_eq!(parse_run_name("12-4026531836-Ab3"), Some((12, "4026531836".into())));
    for bad in ["12-abc", "x-1-abc", "12--abc", "12-1-", "12-1x-abc"] {
        assert_eq!(parse_run_name(bad), None, "{bad}");
    }
}

#[test]
fn private_root_of_a_shared_folder_is_our_own_run_folder_never_a_name_in_it() {
    let base = tempfile::tempdir().unwrap();
    let shared = Root {
        dir: base.path().to_owned(),
        prefix: "influxctl-cred-exec-",
        tmpfs: false,
        allow_disk: Some(false),
    };
    let home = tempfile::tempdir().unwrap();
    let want = home.path().join("run");
    let private = shared.private_root_in(want.clone()).unwrap();
    assert_eq!((private.dir.as_path(), private.prefix), (want.as_path(), "exec-"));
    assert_eq!(mode(&want), 0o700);
    assert_eq!(fs::read_dir(base.path()).unwrap().count(), 0, "nothing made in the shared folder");
    // Already private: itself.
    let again = private.private_root_in(home.path().join("x")).unwrap();
    assert_eq!(again.dir, private.dir);
    // A symlink where our folder should be is refused.
    fs::remove_dir(&want).unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(elsewhere.path(), &want).unwrap();
    assert!(shared.private_root_in(want).is_err());
}
