//! A TCP proxy between an LDAP client and slapd that injects network faults at exact
//! points of the conversation.
//!
//! The proxy reads the server's replies message by message (each LDAPMessage is one
//! BER SEQUENCE) and counts the replies that complete an operation: everything but
//! search entries, search references and intermediate responses. A fault applies
//! after a given number of completed operations, counted from when it was set:
//! - [`Fault::DropAfter`] closes every connection, as a crashed server or a broken
//!   network would, and lets later connections pass;
//! - [`Fault::StallAfter`] keeps forwarding requests to slapd but holds back every
//!   further reply, as a server that hangs mid-operation would.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

/// What the proxy does to the conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Forward everything.
    Pass,
    /// Close all connections after this many completed operations.
    DropAfter(usize),
    /// Hold back all replies after this many completed operations.
    StallAfter(usize),
}

#[derive(Debug)]
struct State {
    fault: Fault,
    completed: usize,
    connections: Vec<TcpStream>,
    stalled: bool,
}

/// A running proxy on 127.0.0.1.
pub struct FaultProxy {
    port: u16,
    state: Arc<Mutex<State>>,
    stopping: Arc<AtomicBool>,
}

impl FaultProxy {
    /// Listens on a free port of 127.0.0.1 and forwards to `target_port` there.
    pub fn start(target_port: u16) -> std::io::Result<FaultProxy> {
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        let port = listener.local_addr()?.port();
        let state = Arc::new(Mutex::new(State {
            fault: Fault::Pass,
            completed: 0,
            connections: Vec::new(),
            stalled: false,
        }));
        let stopping = Arc::new(AtomicBool::new(false));

        let (accept_state, accept_stopping) = (Arc::clone(&state), Arc::clone(&stopping));
        thread::spawn(move || {
            for client in listener.incoming() {
                if accept_stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                let Ok(server) = TcpStream::connect(("127.0.0.1", target_port)) else {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                };
                relay(client, server, Arc::clone(&accept_state));
            }
        });

        Ok(FaultProxy {
            port,
            state,
            stopping,
        })
    }

    /// The port clients connect to.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The URL clients connect to.
    pub fn url(&self) -> String {
        format!("ldap://127.0.0.1:{}", self.port)
    }

    /// Sets the fault; the count of completed operations starts again at zero.
    pub fn set(&self, fault: Fault) {
        let mut state = lock(&self.state);
        state.fault = fault;
        state.completed = 0;
        state.stalled = false;
    }

    /// Returns the number of operations completed since the fault was set.
    pub fn completed(&self) -> usize {
        lock(&self.state).completed
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        let mut state = lock(&self.state);
        for connection in state.connections.drain(..) {
            let _ = connection.shutdown(Shutdown::Both);
        }
        // Wake the accept loop so that it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn relay(client: TcpStream, server: TcpStream, state: Arc<Mutex<State>>) {
    let (Ok(client_reader), Ok(server_writer)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    {
        let mut guard = lock(&state);
        for stream in [&client, &server] {
            if let Ok(copy) = stream.try_clone() {
                guard.connections.push(copy);
            }
        }
    }

    // Requests pass unchanged.
    thread::spawn(move || {
        let (mut from, mut to) = (client_reader, server_writer);
        let mut buffer = [0u8; 16 * 1024];
        while let Ok(count) = from.read(&mut buffer) {
            if count == 0 || to.write_all(&buffer[..count]).is_err() {
                break;
            }
        }
        let _ = to.shutdown(Shutdown::Write);
    });

    // Replies pass message by message, so that faults hit exact points.
    thread::spawn(move || {
        let (mut from, mut to) = (server, client);
        let mut pending: Vec<u8> = Vec::new();
        let mut buffer = [0u8; 16 * 1024];
        loop {
            let count = match from.read(&mut buffer) {
                Ok(0) | Err(_) => break,
                Ok(count) => count,
            };
            pending.extend_from_slice(&buffer[..count]);
            while let Some(length) = message_length(&pending) {
                let message: Vec<u8> = pending.drain(..length).collect();
                if !forward(&message, &mut to, &state) {
                    // Stalled: keep reading so that slapd is not blocked, but send nothing.
                    while let Ok(count) = from.read(&mut buffer) {
                        if count == 0 {
                            break;
                        }
                    }
                    return;
                }
            }
        }
        let _ = to.shutdown(Shutdown::Write);
    });
}

/// Forwards one reply unless a fault holds it back; returns false once stalled.
fn forward(message: &[u8], to: &mut TcpStream, state: &Mutex<State>) -> bool {
    let mut guard = lock(state);
    if guard.stalled {
        return false;
    }
    if let Fault::StallAfter(limit) = guard.fault
        && guard.completed >= limit
    {
        guard.stalled = true;
        return false;
    }
    let completes = completes_operation(message);
    let drop_now =
        completes && matches!(guard.fault, Fault::DropAfter(limit) if guard.completed + 1 >= limit);
    if drop_now {
        // Stop reading requests before the client sees this reply, because a fast
        // client could otherwise get its next request to slapd before the cut below.
        for connection in &guard.connections {
            let _ = connection.shutdown(Shutdown::Read);
        }
    }
    if to.write_all(message).is_err() {
        return true;
    }
    if completes {
        guard.completed += 1;
        if drop_now {
            // Cut every connection at once. The reply already written still reaches
            // the client before the end of stream.
            for connection in guard.connections.drain(..) {
                let _ = connection.shutdown(Shutdown::Both);
            }
            guard.fault = Fault::Pass;
        }
    }
    true
}

/// The length of the first complete BER element in `bytes`, if it is all there.
fn message_length(bytes: &[u8]) -> Option<usize> {
    let first = *bytes.get(1)?;
    let (header, content) = if first & 0x80 == 0 {
        (2, first as usize)
    } else {
        let count = (first & 0x7f) as usize;
        if count == 0 || count > 4 {
            // Indefinite or absurd lengths do not occur in LDAP; pass the rest through.
            return Some(bytes.len());
        }
        let mut length = 0usize;
        for index in 0..count {
            length = (length << 8) | *bytes.get(2 + index)? as usize;
        }
        (2 + count, length)
    };
    let total = header + content;
    (bytes.len() >= total).then_some(total)
}

/// Returns true unless the message is a search entry, a search reference or an
/// intermediate response, which precede the reply that completes an operation.
fn completes_operation(message: &[u8]) -> bool {
    // LDAPMessage ::= SEQUENCE { messageID INTEGER, protocolOp CHOICE, ... }
    let header = match message.get(1) {
        Some(first) if first & 0x80 == 0 => 2,
        Some(first) => 2 + (first & 0x7f) as usize,
        None => return false,
    };
    let Some(id_length) = message.get(header + 1) else {
        return false;
    };
    let operation = header + 2 + *id_length as usize;
    !matches!(message.get(operation), Some(0x64 | 0x73 | 0x79))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_length_reads_short_and_long_forms() {
        assert_eq!(message_length(&[0x30, 0x03, 1, 2, 3, 9]), Some(5));
        assert_eq!(message_length(&[0x30, 0x03, 1, 2]), None);
        assert_eq!(message_length(&[0x30, 0x81, 0x02, 1, 2]), Some(5));
        assert_eq!(message_length(&[0x30, 0x82, 0x01]), None);
    }

    #[test]
    fn completes_operation_skips_search_entries() {
        // messageID 1, then searchResEntry (0x64) or searchResDone (0x65).
        assert!(!completes_operation(&[
            0x30, 0x05, 0x02, 0x01, 0x01, 0x64, 0x00
        ]));
        assert!(completes_operation(&[
            0x30, 0x05, 0x02, 0x01, 0x01, 0x65, 0x00
        ]));
        assert!(completes_operation(&[
            0x30, 0x05, 0x02, 0x01, 0x01, 0x61, 0x00
        ]));
    }
}
