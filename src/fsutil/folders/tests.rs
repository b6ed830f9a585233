//! The kept walks: every change that matters is seen on the next check.

use std::os::unix::fs::PermissionsExt;

use super::*;

fn chmod(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn check(dir: &Path) -> Result<()> {
    check_folders(dir, ErrorKind::StoreUnavailable)
}

fn kept(dir: &Path) -> bool {
    WALKS.with(|w| w.borrow().iter().any(|w| w.asked == dir))
}

/// A private folder `base` (0700) with `base/a/b` in it.
fn tree() -> (tempfile::TempDir, PathBuf) {
    let d = tempfile::tempdir().unwrap();
    let b = d.path().join("a").join("b");
    std::fs::create_dir_all(&b).unwrap();
    (d, b)
}

#[test]
fn a_folder_made_writable_after_a_kept_walk_is_refused_next_time() {
    let (d, b) = tree();
    check(&b).unwrap();
    assert!(kept(&b), "the walk is kept");
    check(&b).unwrap();
    let a = d.path().join("a");
    for mode in [0o777, 0o720, 0o702] {
        chmod(&a, mode);
        let err = check(&b).unwrap_err();
        assert!(err.to_string().contains("group or others may write"), "{err}");
        assert!(err.hint().unwrap().contains(&format!("chmod go-w {}", a.display())));
        assert!(!kept(&b), "a refusal keeps nothing");
        chmod(&a, 0o700);
        check(&b).unwrap();
    }
}

#[test]
fn a_folder_replaced_by_a_link_to_a_writable_place_is_refused() {
    let (d, b) = tree();
    check(&b).unwrap();
    // `a` moves away; in its place a link to a world-writable folder holding its own `b`.
    let a = d.path().join("a");
    let evil = d.path().join("evil");
    std::fs::create_dir_all(evil.join("b")).unwrap();
    chmod(&evil, 0o777);
    std::fs::rename(&a, d.path().join("a-old")).unwrap();
    std::os::unix::fs::symlink(&evil, &a).unwrap();
    let err = check(&b).unwrap_err();
    assert!(err.to_string().contains(&evil.display().to_string()), "{err}");
    chmod(&evil, 0o700);
}

#[test]
fn a_folder_replaced_by_another_is_walked_again() {
    let (d, b) = tree();
    check(&b).unwrap();
    // Same names, new folders: the new `a` is world-writable.
    let a = d.path().join("a");
    std::fs::rename(&a, d.path().join("a-old")).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    chmod(&a, 0o777);
    assert!(check(&b).is_err());
    chmod(&a, 0o700);
    check(&b).unwrap();
}

#[test]
fn a_link_asked_for_that_points_elsewhere_is_walked_again() {
    let d = tempfile::tempdir().unwrap();
    let good = d.path().join("good");
    let open = d.path().join("open");
    std::fs::create_dir_all(&good).unwrap();
    std::fs::create_dir_all(open.join("inner")).unwrap();
    chmod(&open, 0o777);
    let link = d.path().join("link");
    std::os::unix::fs::symlink(&good, &link).unwrap();
    check(&link).unwrap();
    assert!(kept(&link));
    std::fs::remove_file(&link).unwrap();
    std::os::unix::fs::symlink(open.join("inner"), &link).unwrap();
    let err = check(&link).unwrap_err();
    assert!(err.to_string().contains(&open.display().to_string()), "{err}");
    chmod(&open, 0o700);
}

#[test]
fn missing_and_relative_folders_are_not_kept() {
    let (d, _b) = tree();
    let missing = d.path().join("a").join("nope").join("deeper");
    check(&missing).unwrap();
    assert!(!kept(&missing));
    check(Path::new(".")).unwrap_or(());
    assert!(!kept(Path::new(".")));
}

#[test]
fn at_most_a_few_walks_are_kept() {
    let d = tempfile::tempdir().unwrap();
    for i in 0..3 * KEPT_WALKS {
        let f = d.path().join(format!("f{i}"));
        std::fs::create_dir(&f).unwrap();
        check(&f).unwrap();
    }
    assert_eq!(WALKS.with(|w| w.borrow().len()), KEPT_WALKS);
}

#[test]
fn within_a_request_a_folder_is_checked_once_and_the_next_request_checks_again() {
    let (d, b) = tree();
    let c = d.path().join("a").join("c");
    std::fs::create_dir(&c).unwrap();
    check(&b).unwrap();
    check(&c).unwrap();
    let a = d.path().join("a");
    one_request(|| {
        check(&b).unwrap();
        assert!(checked_in_this_request(&a) && checked_in_this_request(d.path()));
        check(&c).unwrap();
    });
    assert!(THIS_REQUEST.with(|r| r.borrow().is_none()), "the request's notes are gone");
    chmod(&a, 0o777);
    one_request(|| {
        assert!(check(&b).is_err());
        assert!(check(&c).is_err());
        assert!(!checked_in_this_request(&a));
    });
    // Outside a request nothing is noted.
    chmod(&a, 0o700);
    check(&b).unwrap();
    assert!(!checked_in_this_request(&a));
}
