//! `lock`'s part for the vault store (docs/spec.md §12, §13): the login token an approle or jwt login
//! left in the encrypted cache is revoked on the server (`revoke-self`) when it belongs to the
//! current `[vault]` settings, and the cache file is deleted either way; so are the login
//! tokens the agent holds, before the agent is told to forget everything (`commands/agent.rs`,
//! which calls this first).

use crate::app::Vault;
use crate::error::Result;
use crate::store::vault::VaultStore;
use crate::store::vault::login::Login;
use crate::ui;

/// Revokes and deletes the cached vault login; says what it did on stderr.
pub fn forget_vault_login(vault: &Vault) -> Result<()> {
    let login = Login::new(&vault.settings, &vault.paths);
    let store = VaultStore::new(&vault.paths, &vault.settings);
    let done = match store.client() {
        Ok(client) => login.logout(client)?,
        // No server to tell (no address, a bad CA file): the cache goes all the same.
        Err(e) => {
            let existed = login.forget()?;
            #[cfg(unix)]
            let held = crate::agent::client::status().map_or(0, |s| s.logins);
            #[cfg(not(unix))]
            let held = 0;
            if held > 0 {
                ui::note(format!(
                    "lock: the agent's {held} vault login{} cannot be revoked ({e}); the agent forgets {}",
                    if held == 1 { "" } else { "s" },
                    if held == 1 { "it" } else { "them" }
                ));
            }
            if existed {
                format!(
                    "deleted the vault login cache {} without revoking its token ({e}); it expires by itself",
                    login.cache_path().display()
                )
            } else {
                "no vault login was cached".to_owned()
            }
        }
    };
    ui::note(format!("lock: {done}"));
    Ok(())
}
