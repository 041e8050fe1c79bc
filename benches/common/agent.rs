//! A fake agent phone: a UDP socket the server's queue is configured to call. It stamps the
//! arrival of each new INVITE (kernel time), answers it with a fixed failure (`486 Busy Here`)
//! so the server moves on without a bridge, and otherwise stays out of the way.

use super::netstamp;
use super::uac::{is_timeout, SipMsg};
use std::collections::HashSet;
use std::net::UdpSocket;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

/// One INVITE the server placed to the agent.
#[derive(Debug, Clone)]
pub struct AgentInvite {
    /// When the kernel received its first transmission.
    pub at: SystemTime,
    /// Its `X-Humanline-Reason` header.
    pub reason: Option<String>,
    /// Whether it carried `User-to-User` and `Call-Info` (the hand-off context).
    pub has_context: bool,
    /// Its `X-Humanline-Call-Id` header: the caller's call in the server's store.
    #[allow(dead_code)] // read by speech_load, not sip_load
    pub call_id: Option<String>,
}

/// The running agent.
pub struct FakeAgent {
    /// Port the agent listens on (127.0.0.1).
    pub port: u16,
    /// New INVITEs, in arrival order.
    pub invites: Receiver<AgentInvite>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FakeAgent {
    /// Starts an agent that answers every INVITE with `status reason`.
    pub fn start(status: u16, reason: &'static str) -> std::io::Result<FakeAgent> {
        let sock = netstamp::bind_loopback()?;
        sock.set_read_timeout(Some(Duration::from_millis(100)))?;
        let port = sock.local_addr()?.port();
        let (tx, invites) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("fake-agent".into())
            .spawn(move || serve(&sock, status, reason, &tx, &flag))?;
        Ok(FakeAgent {
            port,
            invites,
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for FakeAgent {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The agent's loop: answer INVITEs (retransmissions too) with the failure, CANCEL and BYE
/// with 200, ignore ACKs and responses.
fn serve(
    sock: &UdpSocket,
    status: u16,
    reason: &str,
    tx: &mpsc::Sender<AgentInvite>,
    stop: &AtomicBool,
) {
    let mut seen = HashSet::new();
    let mut buf = vec![0u8; 65_535];
    while !stop.load(Ordering::Relaxed) {
        let (n, from, at) = match netstamp::recv(sock, &mut buf) {
            Ok(r) => r,
            Err(e) if is_timeout(&e) => continue,
            Err(_) => return,
        };
        let Some(msg) = SipMsg::parse(&buf[..n]) else {
            continue;
        };
        let call_id = msg.header("Call-ID").unwrap_or_default().to_string();
        let reply = match msg.method() {
            Some("INVITE") => {
                if seen.insert(call_id) {
                    let _ = tx.send(AgentInvite {
                        at,
                        reason: msg.header("X-Humanline-Reason").map(str::to_string),
                        has_context: msg.header("User-to-User").is_some()
                            && msg.header("Call-Info").is_some(),
                        call_id: msg.header("X-Humanline-Call-Id").map(str::to_string),
                    });
                }
                msg.response(status, reason, "agent")
            }
            Some("ACK") | None => continue,
            Some(_) => msg.response(200, "OK", "agent"),
        };
        let _ = sock.send_to(reply.as_bytes(), from);
    }
}
