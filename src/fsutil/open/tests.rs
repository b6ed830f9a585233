use super::*;
use crate::fsutil::check_folders;
use std::os::unix::fs::PermissionsExt;

fn chmod(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn private_tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

#[test]
fn read_missing_file_is_none() {
    let d = private_tempdir();
    assert!(read(&d.path().join("nope"), FileKind::Settings).unwrap().is_none());
}

#[test]
fn read_fifo_is_refused_without_waiting() {
    let d = private_tempdir();
    let p = d.path().join("fifo");
    nix::unistd::mkfifo(&p, nix::sys::stat::Mode::S_IRUSR | nix::sys::stat::Mode::S_IWUSR).unwrap();
    for kind in [FileKind::Settings, FileKind::InfluxctlConfig, FileKind::StoreEntry] {
        let err = read(&p, kind).unwrap_err();
        assert!(err.to_string().contains("a FIFO"), "{err}");
        assert_eq!(err.kind(), kind.refusal());
    }
}

#[test]
fn read_symlink_to_dev_zero_is_refused() {
    let d = private_tempdir();
    let p = d.path().join("zero");
    std::os::unix::fs::symlink("/dev/zero", &p).unwrap();
    let err = read(&p, FileKind::Identity).unwrap_err();
    assert!(err.to_string().contains("a device"), "{err}");
    let err = read(&p, FileKind::Settings).unwrap_err();
    assert!(err.to_string().contains("symbolic link"), "{err}");
}

#[test]
fn read_group_writable_config_is_refused_with_chmod_go_w() {
    let d = private_tempdir();
    let p = d.path().join("config.toml");
    std::fs::write(&p, "x = 1\n").unwrap();
    chmod(&p, 0o666);
    let err = read(&p, FileKind::Settings).unwrap_err();
    assert_eq!(err.exit_code(), 2);
    assert!(err.hint().unwrap().contains("chmod go-w"), "{:?}", err.hint());
    chmod(&p, 0o644);
    assert_eq!(&read(&p, FileKind::Settings).unwrap().unwrap()[..], b"x = 1\n");
}

#[test]
fn read_world_writable_folder_is_refused_without_chmod_on_tmp() {
    let d = private_tempdir();
    let sub = d.path().join("open");
    std::fs::create_dir(&sub).unwrap();
    chmod(&sub, 0o777);
    let p = sub.join("config.toml");
    std::fs::write(&p, "x = 1\n").unwrap();
    let err = read(&p, FileKind::InfluxctlConfig).unwrap_err();
    assert!(err.to_string().contains(&sub.display().to_string()), "{err}");
    assert!(err.hint().unwrap().contains("chmod go-w"));
    // /tmp itself (root-owned, sticky) is fine.
    check_folders(&std::env::temp_dir(), ErrorKind::StoreUnavailable).unwrap();
}

#[test]
fn read_file_of_another_user_is_refused_with_copy_hint() {
    if euid() != 0 {
        return; // only root can give a file away
    }
    let d = private_tempdir();
    let p = d.path().join("config.toml");
    std::fs::write(&p, "x = 1\n").unwrap();
    nix::unistd::chown(&p, Some(nix::unistd::Uid::from_raw(65534)), None).unwrap();
    let err = read(&p, FileKind::InfluxctlConfig).unwrap_err();
    assert!(err.to_string().contains("uid 65534"), "{err}");
    assert!(!err.hint().unwrap().contains("chmod go-w"), "{:?}", err.hint());
}

#[test]
fn read_over_cap_is_refused() {
    let d = private_tempdir();
    let p = d.path().join("identity.txt");
    std::fs::write(&p, vec![b'#'; (SMALL_CAP + 1) as usize]).unwrap();
    chmod(&p, 0o600);
    let err = read(&p, FileKind::OwnIdentity).unwrap_err();
    assert!(err.to_string().contains("larger than 64 KiB"), "{err}");
}
