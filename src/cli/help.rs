//! The long `--help` text after each command's options: what happens, exit codes, and
//! examples. Every command has an `Examples:` section (a unit test in `cli` holds to it).

pub const TOP: &str = "\
Examples:
  influxctl-cred import --all                          # plaintext tokens out of config.toml
  influxctl-cred exec -p prod -- influxctl database list
  eval \"$(influxctl-cred shell-init bash)\"             # every `influxctl` through exec
  influxctl-cred list

`influxctl-cred COMMAND --help` says what a command does, its exit codes and examples.";

pub const STORE: &str = "\
Reads the token from stdin (one line), or asks for it without echo on a terminal. A token on
the command line is refused: every process could read it, and shell history keeps it.

Examples:
  influxctl-cred store -p prod < token.txt
  pbpaste | influxctl-cred store -p prod --token-id 0a1b2c --expires-at 2027-01-01T00:00:00Z";

pub const GET: &str = "\
Prints the token on stdout (or JSON with its metadata: --format json). Prefer `exec`, which
never shows the token to anything but influxctl.

Exit codes a script can branch on:
  0  the token is on stdout
  3  not-found: no token stored for the profile
  4  expired: only an expired token, or one with less than --min-ttl left
  5  store-unavailable: keyring locked or unreachable, no identity for the file store
  6  interaction-required: unlocking needs a terminal, but there is none (or --non-interactive)
  7  cluster-mismatch: the profile points elsewhere than when the token was stored (see rebind)

Examples:
  influxctl-cred get -p prod --min-ttl 15m
  influxctl-cred get -p prod --format json | jq .expires_at";

pub const ERASE: &str = "\
Deletes the profile's entry from every store that holds it. Erasing what is not there is
not an error. With --revoke, influxctl revokes the token on the server first (authenticated
with that token); when that fails, nothing is erased.

Examples:
  influxctl-cred erase -p old-cluster
  influxctl-cred erase -p prod --revoke";

pub const LIST: &str = "\
One row per stored entry (never the token). An entry from the env store ($INFLUXCTL_CRED_TOKEN*)
shows \"-\" where nothing is known: created, expires.

Examples:
  influxctl-cred list
  influxctl-cred list --format json | jq -r '.[].profile'";

pub const REKEY: &str = "\
Re-encrypts every file-store entry to the recipients now configured (after adding a
recipient, or replacing a lost identity).

Examples:
  influxctl-cred rekey";

pub const DOCTOR: &str = "\
Checks each store, the identities, file permissions, influxctl's config (plaintext tokens,
bindings) and expiry. --online also asks the servers about each stored token.

Examples:
  influxctl-cred doctor
  influxctl-cred doctor --online --format json";

pub const CREATE: &str = "\
Runs `influxctl management create` under your OAuth login, stores the new token (read back
before it counts) and prints its id and expiry, never the token.

Examples:
  influxctl-cred create -p prod
  influxctl-cred create -p ci --ttl 30d --description \"CI runner\"";

pub const ROTATE: &str = "\
Creates a new token, stores it, reads it back, then revokes the old one (unless --keep-old).
If any step fails, the stored token is still one that works.

Examples:
  influxctl-cred rotate -p prod
  influxctl-cred rotate -p ci --with-current-token --ttl 30d";

pub const VERIFY: &str = "\
Asks the Management API whether the stored token is accepted.
Exit codes: 0 valid, 9 invalid (rejected), 1 unreachable.

Examples:
  influxctl-cred verify -p prod
  influxctl-cred verify -p prod --format json";

pub const EXEC: &str = "\
What happens: influxctl-cred finds the config and profile influxctl will use (its own --config
and --profile, else $INFLUXCTL_PROFILE, else -p, else \"default\"), checks the stored token's
binding and expiry, writes a derived config (your config.toml with mgmt_token set in that one
profile) and runs PROGRAM with `--config <derived>`. The token is never in any argv or
environment, and the derived config is removed when PROGRAM ends, however it ends.

How the derived config is given (--inject):
  memfd  a sealed memory file, inherited as an open fd and named /dev/fd/N (Linux default)
  file   a 0600 file in a fresh 0700 folder on a tmpfs; on disk only with allow_disk = true
         (the default off Linux)
  fifo   a named pipe that serves the config to each reader and holds nothing on disk

A PROGRAM that is not influxctl (a script: `sh -c '…'`, `make`, …) gets its arguments
untouched. Its PATH starts with a private folder holding an `influxctl` shim that adds
`--config <derived>` to every influxctl the script runs, and $INFLUXCTL_CRED_CONFIG names the
derived config. An `exec` inside it does not inject a second time.

Exit codes:
  the program's own code
  128+N  the program was killed by signal N
  125    influxctl-cred itself failed before the program ran (message and kind on stderr)
  126    the program exists but cannot be run
  127    the program was not found (also from the shim when no real influxctl exists)

Examples:
  influxctl-cred exec -p prod -- influxctl database list
  influxctl-cred exec -p prod -- sh -c 'influxctl database list && influxctl table list db1'";

pub const IMPORT: &str = "\
Moves plaintext `mgmt_token` values out of influxctl's config.toml into a store, then removes
them from the file (unless --keep-plaintext). Each token is stored and read back before its
line is removed.

Examples:
  influxctl-cred import --all --dry-run
  influxctl-cred import --all";

pub const SHELL_INIT: &str = "\
Prints a function named `influxctl` that runs each influxctl command through `exec`. Profiles
without a stored token run unchanged, so OAuth logins keep working; `command influxctl`
bypasses the function.

Examples:
  eval \"$(influxctl-cred shell-init bash)\"     # in ~/.bashrc
  influxctl-cred shell-init fish | source       # in config.fish";

pub const HELPER: &str = "\
Reads one JSON request per line on stdin and answers one JSON line each on stdout (protocol v1,
docs/protocol.md); exits 0 at end of input.

Examples:
  echo '{\"v\":1,\"id\":1,\"kind\":\"get\",\"profile\":\"prod\"}' | influxctl-cred helper";

pub const REBIND: &str = "\
Shows the endpoint the token was bound to and the one the profile now names, asks, and binds
the token to the new one. Use it only after moving the profile on purpose.

Examples:
  influxctl-cred rebind -p prod
  influxctl-cred rebind -p prod --yes";

pub const AUDIT: &str = "\
Shows the audit log: one record for each token released by get, exec or helper, and each
refusal, creation and rotation (never a token).

Examples:
  influxctl-cred audit --since 7d
  influxctl-cred audit -p prod --format json";

pub const COMPLETIONS: &str = "\
Examples:
  influxctl-cred completions bash > ~/.local/share/bash-completion/completions/influxctl-cred
  influxctl-cred completions zsh > \"${fpath[1]}/_influxctl-cred\"";

pub const MAN: &str = "\
Examples:
  influxctl-cred man > influxctl-cred.1 && man ./influxctl-cred.1";

pub const SETUP: &str = "\
Reports influxctl's config and the profiles that still hold a plaintext mgmt_token, picks the
store for new tokens (and says why), creates the default age identity when the file store will
be used, moves plaintext tokens after a \"y\" on a terminal (or with --import; without a
terminal it only reports), and prints the shell-init line for $SHELL. A second run changes
nothing. docs/commands.md has the details.

Examples:
  influxctl-cred setup
  influxctl-cred setup --import --format json";

pub const ANNOTATE: &str = "\
Changes the metadata of a stored entry: token id, description, expiry. The token, its cluster
binding and its origin stay as they are; the token is never asked for. --lookup-id finds the id
with `influxctl management list` (the one live token whose token_prefix matches).

Examples:
  influxctl-cred annotate -p prod --token-id 0a1b2c3d-4e5f-6789-abcd-ef0123456789
  influxctl-cred annotate -p prod --lookup-id
  influxctl-cred annotate -p prod --description \"CI writer\" --expires-at 2027-03-01T00:00:00Z";

pub const AGENT: &str = "\
Listens on agent.sock in a 0700 folder ($INFLUXCTL_CRED_HOME/run, else
$XDG_RUNTIME_DIR/influxctl-cred, else influxctl-cred/run in your state folder, e.g.
~/.local/state), answers only processes of
this user, and opens entry files with the identities `unlock` gave it; it never hands an
identity out. Exits at --ttl, after --idle without a request, on `lock` or SIGTERM. Usually
started by `unlock` or by the systemd/launchd units in packaging/. docs/agent.md.

Examples:
  influxctl-cred agent --ttl 8h --idle 1h
  systemctl --user enable --now influxctl-cred-agent.service";

pub const UNLOCK: &str = "\
Asks, on the terminal, the passphrase of each passphrase-protected identity once, and gives
the unlocked identities to the agent (started when none runs). Until `lock`, the TTL or the
idle timeout, get, exec, list and helper open entries without a prompt, also without a
terminal. Exit 6 when there is no terminal to ask on.

Examples:
  influxctl-cred unlock
  influxctl-cred unlock --ttl 2h && ./nightly-job.sh";

pub const LOCK: &str = "\
Makes the agent forget every identity and stop. Nothing to forget is not an error.

Examples:
  influxctl-cred lock";
