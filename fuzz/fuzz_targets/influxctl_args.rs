//! influxctl's arguments as `exec` reads them (`InfluxArgs::parse`) and rewrites them for the
//! child (`rewrite`). The input is the argument list, split at NUL bytes (arguments need not be
//! UTF-8). Checks that a rewrite without a derived config changes nothing; that the rewritten
//! arguments parse again, every `--config` now names the derived config, the profile is the
//! user's (or the added one when there was none), `--account`/`--cluster` and "needs no token"
//! are unchanged; and that rewriting the rewritten arguments again is the identity.
#![no_main]

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use influxctl_cred::influxctl::args::InfluxArgs;
use libfuzzer_sys::fuzz_target;

const DERIVED: &str = "/dev/fd/9";

fuzz_target!(|data: &[u8]| {
    let args: Vec<OsString> = if data.is_empty() {
        Vec::new()
    } else {
        data.split(|b| *b == 0).map(|a| std::ffi::OsStr::from_bytes(a).to_owned()).collect()
    };
    let Ok(parsed) = InfluxArgs::parse(&args) else { return };
    assert_eq!(parsed.args(), &args[..], "parse keeps the arguments");
    assert_eq!(parsed.rewrite(None, None), args, "no derived config, no profile: unchanged");

    let derived = Path::new(DERIVED);
    let add = parsed.profile().is_none().then_some("fuzz-added");
    let rewritten = parsed.rewrite(Some(derived), add);
    let again = InfluxArgs::parse(&rewritten).expect("rewritten arguments parse");
    assert_eq!(again.config().as_deref(), Some(derived), "the child reads the derived config");
    assert_eq!(again.profile(), parsed.profile().or(add), "the profile is kept or added");
    assert_eq!(again.account(), parsed.account(), "--account kept");
    assert_eq!(again.cluster(), parsed.cluster(), "--cluster kept");
    assert_eq!(again.needs_no_token(), parsed.needs_no_token(), "needs-no-token kept");
    assert_eq!(again.rewrite(Some(derived), None), rewritten, "rewrite is idempotent");
    // Values are replaced in place; only the added flags come in front.
    let added = if add.is_some() { 2 } else { 0 } + if parsed.config().is_none() { 2 } else { 0 };
    assert_eq!(rewritten.len(), args.len() + added, "no argument lost or added");
    assert_eq!(rewritten[added..].len(), args.len());
    for (new, old) in rewritten[added..].iter().zip(&args) {
        let kept = new == old || new.as_bytes().ends_with(DERIVED.as_bytes());
        assert!(kept, "only --config values change: {old:?} became {new:?}");
    }
});
