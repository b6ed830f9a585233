use super::*;

fn rec(profile: &str) -> Record {
    let mut r = Record::new("get", profile, "released");
    r.store = Some("file".into());
    r
}

#[test]
fn lines_append_and_parse_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub").join("audit.jsonl");
    append(&path, &rec("a")).unwrap();
    append(&path, &rec("b")).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let back: Vec<Record> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(back.iter().map(|r| r.profile.as_str()).collect::<Vec<_>>(), ["a", "b"]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        let d = std::fs::metadata(path.parent().unwrap()).unwrap();
        assert_eq!(d.permissions().mode() & 0o777, 0o700);
    }
}

#[test]
fn a_full_log_is_rotated() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let f = std::fs::File::create(&path).unwrap();
    f.set_len(ROTATE_AT).unwrap();
    append(&path, &rec("new")).unwrap();
    assert_eq!(std::fs::metadata(rotated(&path)).unwrap().len(), ROTATE_AT);
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.lines().count(), 1);
    assert!(text.contains("\"profile\":\"new\""));
    // Just under the limit: no rotation.
    let small = dir.path().join("small.jsonl");
    std::fs::File::create(&small).unwrap().set_len(ROTATE_AT - 1).unwrap();
    append(&small, &rec("x")).unwrap();
    assert!(!rotated(&small).exists());
}

#[test]
fn exec_records_the_program_and_its_name() {
    let r = rec("p").with_program(std::ffi::OsStr::new("/usr/bin/influxctl"));
    assert_eq!(r.program.as_deref(), Some("/usr/bin/influxctl"));
    assert_eq!(r.argv0.as_deref(), Some("influxctl"));
}

#[cfg(unix)]
#[test]
fn a_symlinked_log_is_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("elsewhere");
    std::fs::write(&target, b"").unwrap();
    let path = dir.path().join("audit.jsonl");
    std::os::unix::fs::symlink(&target, &path).unwrap();
    assert!(append(&path, &rec("a")).is_err());
    assert_eq!(std::fs::read(&target).unwrap(), b"");
}

fn profiles(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str::<Record>(l).unwrap().profile)
        .collect()
}

#[test]
fn a_log_rotated_by_another_process_gets_the_next_line_in_the_new_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    append(&path, &rec("a")).unwrap();
    append(&path, &rec("b")).unwrap();
    // Another process rotates the log while we may hold it open.
    std::fs::rename(&path, rotated(&path)).unwrap();
    append(&path, &rec("c")).unwrap();
    assert_eq!(profiles(&rotated(&path)), ["a", "b"]);
    assert_eq!(profiles(&path), ["c"]);
    // Rotated again, and a third process has already started the new log.
    std::fs::rename(&path, rotated(&path)).unwrap();
    let mut other = serde_json::to_vec(&rec("other")).unwrap();
    other.push(b'\n');
    std::fs::write(&path, other).unwrap();
    append(&path, &rec("c2")).unwrap();
    assert_eq!(profiles(&rotated(&path)), ["c"]);
    assert_eq!(profiles(&path), ["other", "c2"]);
    // Removed meanwhile: started again.
    std::fs::remove_file(&path).unwrap();
    append(&path, &rec("d")).unwrap();
    assert_eq!(profiles(&path), ["d"]);
}

#[test]
fn a_log_held_open_that_fills_up_is_rotated_by_us() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    append(&path, &rec("a")).unwrap();
    // Another process's lines fill it up to the limit.
    std::fs::OpenOptions::new().append(true).open(&path).unwrap().set_len(ROTATE_AT).unwrap();
    append(&path, &rec("b")).unwrap();
    assert_eq!(std::fs::metadata(rotated(&path)).unwrap().len(), ROTATE_AT);
    assert_eq!(profiles(&path), ["b"]);
}

#[cfg(unix)]
#[test]
fn a_log_held_open_then_replaced_by_a_symlink_is_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    append(&path, &rec("a")).unwrap();
    let target = dir.path().join("elsewhere");
    std::fs::write(&target, b"").unwrap();
    std::fs::rename(&path, dir.path().join("moved")).unwrap();
    std::os::unix::fs::symlink(&target, &path).unwrap();
    assert!(append(&path, &rec("b")).is_err());
    assert_eq!(std::fs::read(&target).unwrap(), b"");
    assert_eq!(profiles(&dir.path().join("moved")), ["a"]);
}
