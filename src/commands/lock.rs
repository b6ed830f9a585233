//! `lock`: forgets the vault store's cached login (SPEC §12, §13). The login token an approle
//! or jwt login left in the encrypted cache is revoked on the server (`revoke-self`) when it
//! belongs to the current `[vault]` settings, and the cache file is deleted either way. There
//! is no agent yet; when there is (§13), `lock` also makes it forget what it holds.

use crate::app::Vault;
use crate::error::Result;
use crate::store::vault::VaultStore;
use crate::store::vault::login::Login;
use crate::ui;

/// Revokes and deletes the cached vault login; says what it did on stderr.
pub fn run(vault: &Vault) -> Result<i32> {
    let login = Login::new(&vault.settings, &vault.paths);
    let store = VaultStore::new(&vault.paths, &vault.settings);
    let done = match store.client() {
        Ok(client) => login.logout(client)?,
        // No server to tell (no address, a bad CA file): the cache goes all the same.
        Err(e) => {
            let existed = login.forget()?;
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
    ui::verbose("lock: there is no agent to stop in this version");
    Ok(0)
}
