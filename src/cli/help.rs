//! The long `--help` text after each command's options: what happens, exit codes, and
//! examples. Every command has an `Exit codes` and an `Examples:` section (unit tests in
//! `cli` hold to both). A usage error exits 2, except under `exec` (125, as `env` does).

pub const TOP: &str = "\
Exit codes (every `COMMAND --help` lists its own):
  0    ok
  1    anything else (the message says what)
  2    usage: bad flags, bad input, bad config
  3    not-found   4  expired   5  store-unavailable   6  interaction-required
  7    cluster-mismatch   8  influxctl-failed   9  api-error   75  locked (store lock busy)
  exec: the program's own code; 125 when influxctl-cred fails before the program runs, usage
  errors included (126/127: the program cannot be run / is not found)

The manual page: `man influxctl-cred` (or `influxctl-cred man`).

Examples:
  influxctl-cred import --all                          # plaintext tokens out of config.toml
  influxctl-cred exec -p prod -- influxctl database list
  eval \"$(influxctl-cred shell-init bash)\"             # every `influxctl` through exec
  influxctl-cred list

`influxctl-cred COMMAND --help` says what a command does, its exit codes and examples.";

pub const STORE: &str = "\
Reads the token from stdin (one line), or asks for it without echo on a terminal. A token on
the command line is refused: every process could read it, and shell history keeps it.

Exit codes:
  0  stored
  2  usage: bad flags, an empty or malformed token, a token as an argument, a past --expires-at
  5  store-unavailable: the store cannot be written
  6  interaction-required: the token is to be typed, but there is no terminal
  75 locked: another run holds the store lock

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
  2  usage: bad flags
  1  anything else

Examples:
  influxctl-cred get -p prod --min-ttl 15m
  influxctl-cred get -p prod --format json | jq .expires_at";

pub const ERASE: &str = "\
Deletes the profile's entry from every store that holds it. Erasing what is not there is
not an error. With --revoke, influxctl revokes the token on the server first (authenticated
with that token); when that fails, nothing is erased.

Exit codes:
  0  erased, or there was nothing to erase
  2  usage: bad flags
  3  not-found: --revoke, but no token is stored
  5  store-unavailable: a store that may hold the entry cannot be reached
  7  cluster-mismatch: --revoke, but the profile points elsewhere than the token's cluster
  8  influxctl-failed: --revoke, and influxctl could not revoke it (nothing was erased)
  75 locked: another run holds the store lock

Examples:
  influxctl-cred erase -p old-cluster
  influxctl-cred erase -p prod --revoke";

pub const LIST: &str = "\
One row per stored entry (never the token). An entry from the env store ($INFLUXCTL_CRED_TOKEN*)
shows \"-\" where nothing is known: created, expires.

Exit codes:
  0  listed
  2  usage: bad flags
  5  store-unavailable: a store could not be listed (the others are still shown)

Examples:
  influxctl-cred list
  influxctl-cred list --format json | jq -r '.[].profile'";

pub const REKEY: &str = "\
Re-encrypts every file-store entry to the recipients now configured (after adding a
recipient, or replacing a lost identity).

Exit codes:
  0  every entry re-encrypted
  1  an entry could not be re-encrypted (it is left as it was)
  2  usage: bad flags or settings
  5  store-unavailable: no identity to open the entries with
  75 locked: another run holds the store lock

Examples:
  influxctl-cred rekey";

pub const DOCTOR: &str = "\
Checks each store, the identities, file permissions, influxctl's config (plaintext tokens,
bindings) and expiry. --online also asks the servers about each stored token.

Exit codes:
  0  no check failed (warnings allowed)
  1  a check failed
  2  usage: bad flags

Examples:
  influxctl-cred doctor
  influxctl-cred doctor --online --format json";

pub const CREATE: &str = "\
Runs `influxctl management create` under your OAuth login, stores the new token (read back
before it counts) and prints its id and expiry, never the token.

Exit codes:
  0  created and stored
  2  usage: bad flags, a past --expires-at, a profile that already has a token (use rotate)
  5  store-unavailable
  6  interaction-required: the OAuth login needs a terminal
  8  influxctl-failed: influxctl could not create the token (nothing was stored)
  75 locked: another run holds the store lock

Examples:
  influxctl-cred create -p prod
  influxctl-cred create -p ci --ttl 30d --description \"CI runner\"";

pub const ROTATE: &str = "\
Creates a new token, stores it, reads it back, then revokes the old one (unless --keep-old).
If any step fails, the stored token is still one that works.

Exit codes:
  0  rotated
  1  a later step failed; the message says which token is stored and which is valid
  2  usage: bad flags
  3  not-found: no token stored for the profile
  5  store-unavailable
  6  interaction-required: the OAuth login needs a terminal (see --with-current-token)
  7  cluster-mismatch
  8  influxctl-failed: influxctl could not create, test or revoke a token
  75 locked: another run holds the store lock

Examples:
  influxctl-cred rotate -p prod
  influxctl-cred rotate -p ci --with-current-token --ttl 30d";

pub const VERIFY: &str = "\
Asks the Management API whether the stored token is accepted.
Exit codes:
  0  valid
  1  unreachable
  2  usage: bad flags, or the profile names no cluster
  3  not-found: no token stored for the profile
  9  invalid: the Management API rejected the token

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
derived config while exec runs (a FIFO served by exec under the default memfd, or the --inject
file or fifo path); nothing the script's processes keep can read the token after exec returns.
An `exec` inside it uses that derived config and injects nothing a second time; a -p, --store,
--influxctl-config, --inject, --min-ttl or --database-token asking for anything else is a
usage error (125).

Exit codes:
  the program's own code
  128+N  the program was killed by signal N
  125    influxctl-cred itself failed before the program ran (message and kind on stderr),
         including usage errors: a bad flag, a PROGRAM beginning with `-`, a nested exec
         asking for something else
  126    the program exists but cannot be run
  127    the program was not found (also from the shim when no real influxctl exists)

Examples:
  influxctl-cred exec -p prod -- influxctl database list
  influxctl-cred exec -p prod -- sh -c 'influxctl database list && influxctl table list db1'";

pub const IMPORT: &str = "\
Moves plaintext `mgmt_token` values out of influxctl's config.toml into a store, then removes
them from the file (unless --keep-plaintext). Each token is stored and read back before its
line is removed.

Exit codes:
  0  imported (or nothing to import)
  2  usage: no config, a profile whose store holds another token, a malformed token; with
     --dry-run, after every profile was reported
  5  store-unavailable
  75 locked: another run holds the store lock

Examples:
  influxctl-cred import --all --dry-run
  influxctl-cred import --all";

pub const SHELL_INIT: &str = "\
Prints a function named `influxctl` that runs each influxctl command through `exec`. Profiles
without a stored token run unchanged, so OAuth logins keep working; `command influxctl`
bypasses the function.

Exit codes:
  0  printed
  2  usage: no shell named and $SHELL is not bash, zsh or fish

Examples:
  eval \"$(influxctl-cred shell-init bash)\"     # in ~/.bashrc
  influxctl-cred shell-init fish | source       # in config.fish";

pub const HELPER: &str = "\
Reads one JSON request per line on stdin and answers one JSON line each on stdout (protocol v1:
hello, get, store, erase, list; an error is an answer with its kind, not an exit code).

Exit codes:
  0  end of input
  1  stdin or stdout failed
  2  usage: bad flags

Examples:
  echo '{\"v\":1,\"id\":1,\"kind\":\"get\",\"profile\":\"prod\"}' | influxctl-cred helper";

pub const REBIND: &str = "\
Shows the endpoint the token was bound to and the one the profile now names, asks, and binds
the token to the new one. Use it only after moving the profile on purpose.

Exit codes:
  0  bound (or already bound)
  1  declined at the question
  2  usage: bad flags, or the profile is not in influxctl's config
  3  not-found: no token stored for the profile
  6  interaction-required: no terminal to ask on, and no --yes

Examples:
  influxctl-cred rebind -p prod
  influxctl-cred rebind -p prod --yes";

pub const AUDIT: &str = "\
Shows the audit log: one record for each token released by get, exec or helper, and each
refusal, creation and rotation (never a token).

Exit codes:
  0  shown
  1  the log cannot be read
  2  usage: bad flags

Examples:
  influxctl-cred audit --since 7d
  influxctl-cred audit -p prod --format json";

pub const COMPLETIONS: &str = "\
Exit codes: 0 printed; 2 usage (an unknown shell).

Examples:
  influxctl-cred completions bash > ~/.local/share/bash-completion/completions/influxctl-cred
  influxctl-cred completions zsh > \"${fpath[1]}/_influxctl-cred\"";

pub const MAN: &str = "\
Exit codes: 0 printed; 2 usage (bad flags).

Examples:
  influxctl-cred man > influxctl-cred.1 && man ./influxctl-cred.1";

pub const SETUP: &str = "\
Reports influxctl's config and the profiles that still hold a plaintext mgmt_token, picks the
store for new tokens (and says why), creates the default age identity when the file store will
be used, moves plaintext tokens after a \"y\" on a terminal (or with --import; without a
terminal it only reports), and prints the shell-init line for $SHELL. A second run changes
nothing.

Exit codes:
  0  done (or nothing to do)
  1  a step failed; the message says which
  2  usage: bad flags, a config that does not parse
  5  store-unavailable: the chosen store cannot be used

Examples:
  influxctl-cred setup
  influxctl-cred setup --import --format json";

pub const ANNOTATE: &str = "\
Changes the metadata of a stored entry: token id, description, expiry. The token, its cluster
binding and its origin stay as they are; the token is never asked for. --lookup-id finds the id
with `influxctl management list` (the one live token whose token_prefix matches), authenticated
with the stored token; on a terminal, with your OAuth login when the stored token cannot list.

Exit codes:
  0  updated
  1  --lookup-id found no single live token that matches (the hint says how to set it)
  2  usage: bad flags or values
  3  not-found: no token stored for the profile
  7  cluster-mismatch: --lookup-id, but the profile points elsewhere than the token's cluster
  8  influxctl-failed: --lookup-id, and influxctl could not list the tokens
  75 locked: another run holds the store lock

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
started by `unlock` or by the systemd/launchd units that come with the packages.

Exit codes:
  0  stopped (TTL, idle, lock, SIGTERM)
  1  cannot listen (another agent runs, or the folder is not private)
  2  usage: bad flags

Examples:
  influxctl-cred agent --ttl 8h --idle 1h
  systemctl --user enable --now influxctl-cred-agent.service";

pub const UNLOCK: &str = "\
Asks, on the terminal, the passphrase of each passphrase-protected identity once, and gives
the unlocked identities to the agent (started when none runs). Until `lock`, the TTL or the
idle timeout, get, exec, list and helper open entries without a prompt, also without a
terminal.

Exit codes:
  0  unlocked
  1  the agent could not be started or reached
  2  usage: bad flags
  5  store-unavailable: no identity, or a wrong passphrase
  6  interaction-required: no terminal to ask on

Examples:
  influxctl-cred unlock
  influxctl-cred unlock --ttl 2h && ./nightly-job.sh";

pub const LOCK: &str = "\
Makes the agent forget every identity and stop. Nothing to forget is not an error.

Exit codes: 0 locked, also when there was nothing to forget; 2 usage (bad flags).

Examples:
  influxctl-cred lock";
