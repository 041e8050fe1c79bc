//! Supervisor monitoring as the board and the calls share it: the modes, who monitors a call
//! in progress, and the board's requests (ring my phone into this call, switch mode, stop),
//! which the SIP server carries out (`server::monitor`).

use serde::Serialize;
use tokio::sync::{mpsc, oneshot};

/// How a supervisor takes part in a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Hears both sides; nobody hears them.
    Listen,
    /// Hears both sides; only the agent hears them (coaching).
    Whisper,
    /// Hears both sides; both hear them (joins the call).
    Barge,
}

impl Mode {
    /// Every mode, in key order (1, 2, 3).
    pub const ALL: [Mode; 3] = [Mode::Listen, Mode::Whisper, Mode::Barge];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Listen => "listen",
            Mode::Whisper => "whisper",
            Mode::Barge => "barge",
        }
    }

    /// The mode a supervisor's key switches to during monitoring: 1 listen, 2 whisper,
    /// 3 barge.
    pub fn from_key(key: char) -> Option<Mode> {
        match key {
            '1' => Some(Mode::Listen),
            '2' => Some(Mode::Whisper),
            '3' => Some(Mode::Barge),
            _ => None,
        }
    }

    /// Whether the agent hears the supervisor.
    pub fn to_agent(self) -> bool {
        matches!(self, Mode::Whisper | Mode::Barge)
    }

    /// Whether the caller hears the supervisor.
    pub fn to_caller(self) -> bool {
        self == Mode::Barge
    }
}

impl std::str::FromStr for Mode {
    type Err = String;

    fn from_str(s: &str) -> Result<Mode, String> {
        Mode::ALL
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| format!("unknown monitoring mode {s:?}: listen, whisper or barge"))
    }
}

/// Who monitors a call in progress, as the board shows it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Monitoring {
    /// The supervisor's user name.
    pub supervisor: String,
    /// The mode now.
    pub mode: Mode,
}

/// What the board asks of the SIP server for one call.
#[derive(Debug)]
pub struct MonitorRequest {
    /// The supervisor asking (logged in).
    pub supervisor: String,
    /// The call (our call id).
    pub call_id: String,
    /// The mode to join in or switch to; `None`: stop monitoring.
    pub mode: Option<Mode>,
    /// The answer: what happens (`Ok`, in words) or why nothing can (`Err`).
    pub reply: oneshot::Sender<Result<String, String>>,
}

/// The board's way to the SIP server (set once the server runs).
#[derive(Debug, Default)]
pub struct MonitorDesk {
    tx: std::sync::OnceLock<mpsc::Sender<MonitorRequest>>,
}

impl MonitorDesk {
    /// The server takes the requests (once; a second call gets `None`).
    pub fn serve(&self) -> Option<mpsc::Receiver<MonitorRequest>> {
        let (tx, rx) = mpsc::channel(64);
        self.tx.set(tx).ok().map(|()| rx)
    }

    /// Asks the server to ring `supervisor`'s phone into `call_id` in `mode`, switch their
    /// mode, or (`None`) end their monitoring; the server's answer.
    pub async fn ask(
        &self,
        supervisor: &str,
        call_id: &str,
        mode: Option<Mode>,
    ) -> Result<String, String> {
        let tx = self.tx.get().ok_or("no SIP server runs in this process")?;
        let (reply, answer) = oneshot::channel();
        tx.send(MonitorRequest {
            supervisor: supervisor.to_string(),
            call_id: call_id.to_string(),
            mode,
            reply,
        })
        .await
        .map_err(|_| "the SIP server stopped".to_string())?;
        answer
            .await
            .map_err(|_| "the SIP server did not answer".to_string())?
    }
}
