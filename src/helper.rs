//! The helper protocol loop (docs/spec.md §6): reads request lines from any [`BufRead`], answers each
//! with exactly one JSON line on any [`Write`], in order, flushing after each, until EOF. The
//! wire types and the parsing rules are [`crate::protocol`]; every answer comes from
//! [`Vault`]. Nothing but response lines is ever written to `output`; diagnostics go to stderr
//! and never hold a token.
//!
//! Lines are read in chunks into one fixed buffer of [`MAX_LINE`] bytes, so a line that never
//! ends cannot make us buffer it: past the limit the rest of the line is skipped and the line
//! is answered with `invalid-request`. Lines that are empty or only whitespace are not
//! requests and get no answer. The request buffer and every encoded response are zeroized
//! after use (buffers outside our hands, such as the standard streams' own, are not).

use std::io::{BufRead, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};

use jiff::SignedDuration;
use serde_json::Value;
use zeroize::{Zeroize, Zeroizing};

use crate::app::Vault;
use crate::entry::{Entry, Origin};
use crate::error::{Error, Result};
use crate::protocol::{
    self, EraseOk, GetOk, GetRequest, HelloOk, ListOk, MAX_LINE, OkBody, Request, Response,
    StoreOk, StoreRequest,
};
use crate::settings::StoreKind;
use crate::ui;

/// Answers requests from `input` on `output` until EOF (then `Ok`). Fails only when the streams
/// themselves fail; every bad request is answered and the session goes on.
pub fn serve(vault: &Vault, mut input: impl BufRead, mut output: impl Write) -> Result<()> {
    // Allocated once at its full size, so that it never moves (a move would leave a copy).
    let mut line = Zeroizing::new(Vec::with_capacity(MAX_LINE));
    // A session re-reads only what changed (identities, entries: docs/performance.md).
    vault.keep_for_session();
    loop {
        let response = match read_line(&mut input, &mut line)? {
            Read::Eof => {
                ui::verbose("helper: end of input");
                return Ok(());
            }
            Read::TooLong => {
                ui::verbose("helper: refused a line longer than 64 KiB");
                let err =
                    Error::InvalidRequest(format!("the line is longer than {MAX_LINE} bytes"));
                Response::error(Value::Null, &err)
            }
            Read::Line if line.iter().all(u8::is_ascii_whitespace) => continue,
            Read::Line => answer(vault, &line),
        };
        // Only the bytes of this line: the rest of the buffer was never written since it was
        // last zeroized (every line is, after its answer), and zeroizing all 64 KiB on every
        // request was a third of a session's instructions.
        line.as_mut_slice().zeroize();
        line.clear();
        write_response(&mut output, &response)?;
    }
}

/// What [`read_line`] found.
#[derive(Debug, PartialEq, Eq)]
enum Read {
    /// A line (without its `\n`) is in the buffer. The last line may lack its `\n`.
    Line,
    /// A line longer than [`MAX_LINE`] was skipped; the buffer is empty.
    TooLong,
    /// No more input.
    Eof,
}

/// Reads the next line into `line` (which holds at most [`MAX_LINE`] bytes), chunk by chunk.
fn read_line(input: &mut impl BufRead, line: &mut Vec<u8>) -> Result<Read> {
    line.clear();
    let mut started = false;
    let mut too_long = false;
    loop {
        let chunk = match input.fill_buf() {
            Ok(chunk) => chunk,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::Other(format!("cannot read the request stream: {e}"))),
        };
        if chunk.is_empty() {
            return Ok(match (started, too_long) {
                (false, _) => Read::Eof,
                (true, true) => Read::TooLong,
                (true, false) => Read::Line,
            });
        }
        started = true;
        let newline = chunk.iter().position(|&b| b == b'\n');
        let part = &chunk[..newline.unwrap_or(chunk.len())];
        if !too_long {
            if line.len() + part.len() > MAX_LINE {
                too_long = true;
                line.zeroize();
            } else {
                line.extend_from_slice(part);
            }
        }
        let used = part.len() + usize::from(newline.is_some());
        input.consume(used);
        if newline.is_some() {
            return Ok(if too_long { Read::TooLong } else { Read::Line });
        }
    }
}

/// The response to one request line. A panic while answering is caught and answered `other`
/// (the panic hook prints where it happened, never its message).
fn answer(vault: &Vault, line: &[u8]) -> Response {
    let (id, request) = protocol::parse_request(line);
    let request = match request {
        Ok(r) => r,
        Err(e) => {
            ui::verbose(format!("helper: refused a request: {}", e.kind().as_str()));
            return Response::error(id, &e);
        }
    };
    let kind = request.kind().as_str();
    // A prompt needs both: a `get` that asks for it, and a CLI that had a terminal.
    let allow_prompts =
        !vault.opts.non_interactive && matches!(&request, Request::Get(g) if g.interactive);
    // Each folder is checked once per request (crate::fsutil::one_request).
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        crate::fsutil::one_request(|| {
            vault.with_prompts(allow_prompts, || dispatch(vault, request))
        })
    }))
    .unwrap_or_else(|_| {
        Err(Error::Other(format!("internal error while answering a {kind} request")))
    });
    match outcome {
        Ok(body) => {
            ui::verbose(format!("helper: {kind}: ok"));
            Response::ok(id, body)
        }
        Err(e) => {
            ui::verbose(format!("helper: {kind}: {}: {e}", e.kind().as_str()));
            Response::error(id, &e)
        }
    }
}

fn dispatch(vault: &Vault, request: Request) -> Result<OkBody> {
    match request {
        Request::Hello => Ok(OkBody::Hello(HelloOk::new(vault.usable()))),
        Request::Get(r) => get(vault, r),
        Request::Store(r) => store(vault, r),
        Request::Erase(r) => Ok(OkBody::Erase(EraseOk { existed: vault.erase(&r.profile, None)? })),
        Request::List => list(vault),
    }
}

/// `get` goes through [`Vault::get`], which checks binding and expiry.
fn get(vault: &Vault, r: GetRequest) -> Result<OkBody> {
    let min_ttl = match r.min_ttl_secs {
        None => None,
        Some(secs) => Some(
            i64::try_from(secs)
                .map(SignedDuration::from_secs)
                .map_err(|_| Error::InvalidRequest("`min_ttl_secs` is too large".into()))?,
        ),
    };
    let snap = vault.snapshot()?;
    crate::lifecycle::auto_rotate(vault, &snap, &r.profile, min_ttl)?;
    let found = vault
        .get_in(&snap, &r.profile, min_ttl)
        .inspect_err(|e| crate::audit::refused("helper", &r.profile, e))?;
    crate::audit::record(&crate::audit::released("helper", &found.entry, found.store));
    if let Some(warning) = vault.expiry_warning(&found.entry.meta()) {
        ui::warn(warning);
    }
    let e = found.entry;
    Ok(OkBody::Get(GetOk {
        cache: protocol::cache_for(found.store, e.expires_at),
        token: e.token,
        token_id: e.token_id,
        expires_at: e.expires_at,
        store: found.store,
        cluster: e.cluster,
    }))
}

/// `store` writes through [`Vault::put`], which binds the entry and takes the store lock.
fn store(vault: &Vault, r: StoreRequest) -> Result<OkBody> {
    if let Some(d) = &r.description {
        crate::entry::check_description(d)?;
    }
    let mut entry = Entry::new(&r.profile, r.token, Origin::Stored);
    entry.expires_at = r.expires_at;
    entry.token_id = r.token_id;
    entry.description = r.description;
    let w = vault.put(entry, r.store)?;
    ui::note(format!(
        "{} the token of profile {:?} in the {} store",
        if w.replaced { "replaced" } else { "stored" },
        r.profile,
        w.store
    ));
    Ok(OkBody::Store(StoreOk { store: w.store, replaced: w.replaced }))
}

/// `list` answers the rows of the stores that could be listed (the others are named on
/// stderr); when no row came back and every store that keeps entries failed, it answers the
/// first failure instead of an empty list that would look like "nothing stored".
fn list(vault: &Vault) -> Result<OkBody> {
    let (entries, failed) = vault.list();
    for (store, e) in &failed {
        ui::warn(format!("could not list the {store} store: {e}"));
    }
    let keeping = vault.kinds().into_iter().filter(|k| *k != StoreKind::Env).count();
    if entries.is_empty() && !failed.is_empty() && failed.len() >= keeping {
        let (_, first) = failed.into_iter().next().expect("failed is not empty");
        return Err(first);
    }
    Ok(OkBody::List(ListOk { entries }))
}

/// A growable buffer that zeroizes every buffer it leaves behind, so that an encoded response
/// (which may hold a token) leaves no copy in freed memory.
struct SecretBuf(Zeroizing<Vec<u8>>);

impl Write for SecretBuf {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let need = self.0.len() + bytes.len();
        if need > self.0.capacity() {
            let mut bigger = Zeroizing::new(Vec::with_capacity(need.max(2 * self.0.capacity())));
            bigger.extend_from_slice(&self.0);
            self.0 = bigger; // the old buffer is zeroized as it drops
        }
        self.0.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Encodes `response` as one line, writes it and flushes.
fn write_response(output: &mut impl Write, response: &Response) -> Result<()> {
    let mut buf = SecretBuf(Zeroizing::new(Vec::with_capacity(1024)));
    if serde_json::to_writer(&mut buf, response).is_err() {
        // Not reachable with these types; answer rather than fall silent.
        buf.0.zeroize();
        buf.0.extend_from_slice(
            br#"{"v":1,"id":null,"error":{"kind":"other","message":"cannot encode the response"}}"#,
        );
    }
    buf.write_all(b"\n")
        .and_then(|()| output.write_all(&buf.0))
        .and_then(|()| output.flush())
        .map_err(|e| Error::Other(format!("cannot write the response: {e}")))
}

#[cfg(test)]
mod tests;
