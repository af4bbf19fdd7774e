//! Fuzz targets for the client side of the wire protocol: packet framing, command decoding,
//! COM_STMT_EXECUTE parameters (with a registered statement's parameter count), and the
//! handshake response and authentication exchange.
//!
//! Both targets read the input as the bytes a client sends, after a few leading bytes that
//! choose what the session looks like, and run the proxy's own code over it through
//! [`MemStream`]; the answers are dropped.

use super::mem_stream::{run_ready, MemStream};
use super::sql_text;
use crate::protocol::auth::credential::{self, Credential};
use crate::protocol::auth::{self, Plugin};
use crate::protocol::binary::{binary_row, execute_stmt_id, parse_execute, ParamType};
use crate::protocol::command::{self, Command};
use crate::protocol::packet::{PacketStream, MAX_PRE_AUTH_PACKET};
use crate::sql::literal::{self, Charset};
use mysql_common::collations::Collation;
use mysql_common::packets::Column;

/// Packets read per input at most (each one is decoded and, for SQL, analysed).
const MAX_PACKETS: usize = 64;

/// Long data held per statement at most (the session's `max_allowed_packet` check).
const MAX_LONG_DATA: usize = 1 << 20;

/// A prepared statement as the session registers it.
struct Registered {
    id: u32,
    param_count: usize,
    types: Option<Vec<ParamType>>,
    long_data: Vec<Option<Vec<u8>>>,
    long_data_held: usize,
}

/// Client commands after login: `[count selector][collation][flags]` then the wire bytes.
///
/// The statement registered under id 1 has the parameter count chosen by the first byte (a
/// small count, or with 0xF0 and above a 16-bit count from the next two bytes, up to 65,535 as
/// a prepare on a shard may report). Every packet is framed by [`PacketStream`] with the
/// session's limit, decoded by [`command::decode`], and handled as the session does the pure
/// part of it: SQL text through [`sql_text`], executes through [`parse_execute`] and then
/// rendered as literals ([`literal::param`]) and as a binary row.
pub fn client_commands(data: &[u8]) {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let (param_count, rest) = if sel >= 0xF0 {
        match rest.get(..2) {
            Some(c) => (u16::from_le_bytes([c[0], c[1]]) as usize, &rest[2..]),
            None => return,
        }
    } else {
        (usize::from(sel % 24), rest)
    };
    let [collation, flags, ref wire @ ..] = *rest else {
        return;
    };
    let secure = flags & 1 != 0;
    let charset = Charset::from_collation_id(u16::from(collation));
    let mut stmt = Registered {
        id: 1,
        param_count,
        types: None,
        long_data: vec![None; param_count],
        long_data_held: 0,
    };
    let mut ps = PacketStream::new(MemStream::new(wire));
    // After login: a bounded packet size, oversized packets drained.
    ps.set_max_packet(if flags & 2 != 0 { 4096 } else { 1 << 20 }, true);
    for _ in 0..MAX_PACKETS {
        // Each command starts a new sequence, as on a connection.
        ps.begin_command();
        let payload = match run_ready(ps.read()) {
            Some(Ok(Some(p))) => p,
            Some(Err(crate::protocol::packet::PacketError::TooLarge(_))) => continue,
            _ => break,
        };
        match command::decode(payload, secure) {
            Command::Query(q) | Command::StmtPrepare(q) => sql_text::analyse(&q),
            Command::InitDb(db) => {
                let _ = crate::sql::quote_ident(&db);
                let _ = crate::sql::parse_use(&format!("USE {}", crate::sql::quote_ident(&db)));
            }
            Command::FieldList { table, wildcard } => {
                let _ = crate::sql::quote_ident(&table);
                let _ =
                    crate::sql::contains_ignore_ascii_case(table.as_bytes(), wildcard.as_bytes());
            }
            Command::ChangeUser(c) => {
                let nonce = [b'x'; 20];
                let secret = Credential::Plain("secret".into());
                match Plugin::from_name(&c.plugin).unwrap_or(Plugin::Native) {
                    Plugin::Native => {
                        let _ = secret.verify_native(&nonce, &c.auth_response);
                    }
                    _ => {
                        let digest = credential::sha2_digest(b"secret");
                        let _ = credential::verify_sha2_fast(&digest, &nonce, &c.auth_response);
                        let _ = secret.verify_clear(&c.auth_response);
                    }
                }
                if let Some(id) = c.charset {
                    let _ = Charset::from_collation_id(id);
                }
            }
            Command::StmtSendLongData {
                stmt_id,
                param,
                data,
            } => {
                if stmt_id != stmt.id {
                    continue;
                }
                let p = usize::from(param);
                if p >= stmt.long_data.len()
                    || stmt.long_data_held.saturating_add(data.len()) > MAX_LONG_DATA
                {
                    stmt.long_data.iter_mut().for_each(|d| *d = None);
                    stmt.long_data_held = 0;
                    continue;
                }
                stmt.long_data_held += data.len();
                stmt.long_data[p]
                    .get_or_insert_with(Vec::new)
                    .extend_from_slice(&data);
            }
            Command::StmtExecute(body) => execute(&mut stmt, &body, charset),
            Command::StmtReset(id) | Command::StmtClose(id) if id == stmt.id => {
                stmt.long_data.iter_mut().for_each(|d| *d = None);
                stmt.long_data_held = 0;
            }
            _ => {}
        }
    }
}

/// COM_STMT_EXECUTE for the registered statement, as the session decodes and renders it.
fn execute(stmt: &mut Registered, body: &[u8], charset: Option<Charset>) {
    if execute_stmt_id(body) != Some(stmt.id) {
        return;
    }
    let req = parse_execute(
        body,
        stmt.param_count,
        stmt.types.as_deref(),
        &stmt.long_data,
    );
    stmt.long_data.iter_mut().for_each(|d| *d = None);
    stmt.long_data_held = 0;
    let Ok(req) = req else {
        return;
    };
    if let Some(t) = req.new_types {
        stmt.types = Some(t);
    }
    let cs = charset.unwrap_or(Charset::UTF8MB4);
    for v in &req.params {
        let _ = literal::param(v, cs);
    }
    let _ = crate::sql::param_misread_reason(&req.params, charset);
    if let Some(types) = &stmt.types {
        let columns: Vec<Column> = types.iter().map(|t| Column::new(t.ty)).collect();
        let mut row = Vec::new();
        binary_row(&mut row, &columns, &req.params);
        // The same values as text, as merged rows carry them.
        let text: Vec<_> = req
            .params
            .iter()
            .map(|v| match literal::param(v, cs) {
                Ok(s) => {
                    mysql_common::value::Value::Bytes(s.trim_matches('\'').as_bytes().to_vec())
                }
                Err(_) => mysql_common::value::Value::NULL,
            })
            .collect();
        row.clear();
        binary_row(&mut row, &columns, &text);
    }
}

/// One RSA key and fast-path cache for every handshake input (making a key per input would
/// be all the target does).
static FUZZ_AUTH: std::sync::LazyLock<auth::AuthState> = std::sync::LazyLock::new(|| {
    match auth::rsa_exchange::ServerKey::generate() {
        Ok(key) => auth::AuthState::with_key(key),
        // Without a key, full authentication over plain TCP fails (as in the proxy).
        Err(_) => auth::AuthState::default(),
    }
});

thread_local! {
    /// A one-thread runtime per fuzzing thread for the authentication exchange.
    static FUZZ_RUNTIME: Option<tokio::runtime::Runtime> =
        tokio::runtime::Builder::new_current_thread().build().ok();
}

/// The handshake: `[flags]` then the bytes a client sends after the greeting (its handshake
/// response, then an auth switch response if asked for one).
///
/// Flags bits 0-1 choose the account's password (unknown user, empty, `secret`, or the
/// native hash of `secret`), bit 2 the greeting's plugin (native or caching_sha2), bit 3
/// whether the transport counts as secure. Runs
/// [`auth::read_hello`] under the pre-login packet limit and [`auth::authenticate`] as the
/// connection does, then resolves the requested collation.
pub fn handshake(data: &[u8]) {
    let Some((&flags, wire)) = data.split_first() else {
        return;
    };
    let credential = match flags & 3 {
        0 => None,
        1 => Some(Credential::Plain(String::new())),
        2 => Some(Credential::Plain("secret".into())),
        // SHA1(SHA1("secret")): a hashed password, whose caching_sha2 logins need the full path.
        _ => Some(Credential::NativeHash(
            credential::parse_native_hash(&credential::native_hash_text("secret"))
                .unwrap_or([0; 20]),
        )),
    };
    let nonce = *b"0123456789abcdefghij";
    let mut ps = PacketStream::new(MemStream::new(wire));
    ps.set_max_packet(MAX_PRE_AUTH_PACKET, false);
    let plugin = if flags & 4 == 0 {
        "mysql_native_password"
    } else {
        "caching_sha2_password"
    };
    auth::write_greeting(&mut ps, auth::SERVER_VERSION, 7, &nonce, plugin, false);
    let Some(Ok(hello)) = run_ready(auth::read_hello(&mut ps)) else {
        return;
    };
    let account = credential.as_ref().map(|credential| auth::Account {
        name: "app",
        credential,
    });
    let ctx = auth::AuthContext {
        secure: flags & 8 != 0,
        state: &FUZZ_AUTH,
    };
    // Run to the end on a runtime: full authentication decrypts and checks hashes on the
    // blocking pool; the in-memory stream never waits (it reads as closed when exhausted).
    let auth = auth::authenticate(
        &mut ps,
        &nonce,
        &hello.plugin,
        &hello.auth_response,
        account,
        ctx,
    );
    let _ = FUZZ_RUNTIME.with(|rt| rt.as_ref().map(|rt| rt.block_on(auth)));
    let coll = Collation::resolve(u16::from(hello.collation).into());
    let _ = (coll.charset(), coll.collation());
    let _ = Charset::from_collation_id(u16::from(hello.collation));
    if let Some(db) = &hello.database {
        let _ = crate::sql::quote_ident(db);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed(target: &str, name: &str) -> Vec<u8> {
        let path = format!("{}/fuzz/corpus/{target}/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn handshake_seeds_are_well_formed() {
        for name in [
            "native",
            "sha2",
            "switch",
            "empty-password",
            "latin1-no-attrs",
        ] {
            let data = seed("handshake", name);
            let mut ps = PacketStream::new(MemStream::new(&data[1..]));
            ps.set_max_packet(MAX_PRE_AUTH_PACKET, false);
            // The greeting (packet 0) went out: the response is packet 1.
            ps.seq = 1;
            let hello = run_ready(auth::read_hello(&mut ps)).expect("ready");
            assert!(hello.is_ok(), "{name}: {:?}", hello.err());
        }
    }

    #[test]
    fn execute_seeds_decode() {
        let data = seed("packet", "execute-typed-then-remembered");
        let mut ps = PacketStream::new(MemStream::new(&data[3..]));
        let mut types = None;
        for _ in 0..2 {
            ps.begin_command();
            let p = run_ready(ps.read())
                .expect("ready")
                .expect("read")
                .expect("packet");
            let Command::StmtExecute(body) = command::decode(p, true) else {
                panic!("not an execute");
            };
            let req = parse_execute(&body, 2, types.as_deref(), &[]).expect("decode");
            types = req.new_types.or(types);
        }
    }
}
