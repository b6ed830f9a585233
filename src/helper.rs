//! PLACEHOLDER — being replaced by the helper protocol loop.

use std::io::{BufRead, Write};

use crate::app::Vault;
use crate::error::{Error, Result};

pub fn serve(_vault: &Vault, _input: impl BufRead, _output: impl Write) -> Result<()> {
    Err(Error::Other("not built yet".into()))
}
