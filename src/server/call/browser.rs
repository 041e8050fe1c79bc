//! An agent in the browser console: the call is offered over the console's WebSocket with a
//! WebRTC SDP offer and the screen pop; the agent's accept brings the SDP answer back; the
//! caller's audio goes to the browser as PCMU and the browser's comes back the same way.
//! A browser that closes or loses its connection while talking is a dropped leg: the caller
//! goes back to the head of the queue.

use super::*;
use crate::agents::{BrowserReply, ToConsole};
use crate::media::{linear_to_ulaw, Codec};
use crate::server::handoff;
use crate::webrtc::{MediaPeer, PeerConfig, PeerEvent};

/// The browser side of a call.
pub(super) struct BrowserLeg {
    agent: String,
    peer: MediaPeer,
    replies: mpsc::UnboundedReceiver<BrowserReply>,
    connected: bool,
    answered: bool,
}

/// Something from the browser leg.
pub(super) enum FromBrowser {
    Reply(Option<BrowserReply>),
    Peer(Option<PeerEvent>),
}

/// Waits for the browser leg, or forever when there is none (for `select!`).
pub(super) async fn next_from_browser(leg: &mut Option<BrowserLeg>) -> FromBrowser {
    match leg {
        Some(l) => tokio::select! {
            r = l.replies.recv() => FromBrowser::Reply(r),
            e = l.peer.next_event() => FromBrowser::Peer(e),
        },
        None => std::future::pending().await,
    }
}

impl CallTask {
    fn peer_config(&self) -> PeerConfig {
        PeerConfig {
            ip: self.sh.media_ip(),
            rtp_port_min: self.sh.config.media.rtp_port_min,
            rtp_port_max: self.sh.config.media.rtp_port_max,
            ..PeerConfig::default()
        }
    }

    /// Rings `agent`'s console: the WebRTC offer and the screen pop (earlier calls read from
    /// the store) are made beside the call ([`jobs::Done::BrowserOffer`]), then offered.
    pub(super) fn dial_browser(&mut self, agent: &str) {
        let cfg = self.peer_config();
        let pop = self.screen_pop_later();
        let agent = agent.to_string();
        self.jobs.spawn(async move {
            let (offer, pop) = tokio::join!(MediaPeer::offer(&cfg), pop);
            let result = offer
                .map(|(peer, sdp)| (peer, sdp, pop))
                .map_err(|e| e.to_string());
            jobs::Done::BrowserOffer { agent, result }
        });
    }

    /// The console offer for `agent` is made: it goes to the console, unless the hand-off
    /// moved on meanwhile (then the peer is closed and nothing is offered).
    pub(super) async fn browser_offered(
        &mut self,
        agent: String,
        made: Result<(MediaPeer, String, serde_json::Value), String>,
    ) {
        let wanted = self.core.rings(&agent) && self.browser.is_none();
        let (peer, sdp, pop) = match made {
            Ok(m) if wanted => m,
            Ok((peer, ..)) => return close_later(peer),
            Err(why) if wanted => return self.dial_failed(agent, why).await,
            Err(_) => return,
        };
        let Some(replies) = self.sh.agents.offer_browser(&agent, &self.id, sdp, pop) else {
            close_later(peer);
            let why = format!("{agent} has no console open");
            return self.dial_failed(agent, why).await;
        };
        self.event("agent_dial", json!({ "agent": agent, "via": "browser" }));
        let a = agent.clone();
        self.sh.live.update(&self.id, |c| {
            c.agent = Some(a);
            c.state = crate::live::CallState::RingingAgent;
        });
        self.browser = Some(BrowserLeg {
            agent,
            peer,
            replies,
            connected: false,
            answered: false,
        });
    }

    async fn dial_failed(&mut self, agent: String, why: String) {
        tracing::warn!(agent, "cannot call agent: {why}");
        self.input(core::Input::DialFailed { agent, why }).await;
    }

    /// Ends the browser leg, telling the console why.
    pub(super) fn end_browser(&mut self, by: &str) {
        if let Some(leg) = self.browser.take() {
            let msg = if leg.connected {
                ToConsole::Ended {
                    call_id: self.id.clone(),
                    by: by.to_string(),
                }
            } else {
                ToConsole::Cancel {
                    call_id: self.id.clone(),
                }
            };
            self.sh.agents.browser_done(&leg.agent, msg);
            close_later(leg.peer);
        }
    }

    pub(super) async fn on_browser(&mut self, what: FromBrowser) {
        let bridged = self.core.bridged();
        let Some(leg) = self.browser.as_mut() else {
            return;
        };
        let agent = leg.agent.clone();
        let input = match what {
            FromBrowser::Reply(Some(BrowserReply::Answer { sdp })) => {
                match leg.peer.accept_answer(&sdp).await {
                    Ok(()) => {
                        leg.answered = true;
                        self.event("agent_accepted", json!({ "agent": agent }));
                        if self.warm_queue() {
                            self.event(
                                "brief_choice",
                                json!({ "agent": agent, "choice": "take", "via": "console" }),
                            );
                        }
                        None // bridged once the media is up
                    }
                    Err(e) => {
                        tracing::warn!(agent, "console answer unusable: {e}");
                        self.event(
                            "agent_failed",
                            json!({ "agent": agent, "why": e.to_string() }),
                        );
                        self.end_browser("line");
                        Some(handoff::Input::AgentFailed(0))
                    }
                }
            }
            FromBrowser::Reply(Some(BrowserReply::Transfer { to, notes })) => {
                if bridged {
                    self.input(core::Input::AgentTransfer { to, notes }).await;
                }
                None
            }
            FromBrowser::Reply(Some(BrowserReply::Consult { agent: colleague })) => {
                self.start_consult(&agent, &colleague).await;
                None
            }
            FromBrowser::Reply(Some(BrowserReply::ConsultEnd { complete })) => {
                if complete {
                    self.complete_consult().await;
                } else {
                    self.end_consult("ended", "back to the caller").await;
                }
                None
            }
            FromBrowser::Reply(Some(BrowserReply::Decline)) => {
                self.event("agent_declined", json!({ "agent": agent }));
                if self.warm_queue() {
                    self.event(
                        "brief_choice",
                        json!({ "agent": agent, "choice": "pass", "via": "console" }),
                    );
                }
                self.end_browser("agent");
                Some(handoff::Input::AgentFailed(603))
            }
            FromBrowser::Reply(Some(BrowserReply::HangUp)) | FromBrowser::Reply(None) => {
                self.event("agent_hung_up", json!({ "agent": agent }));
                self.end_browser("agent");
                Some(if bridged {
                    handoff::Input::AgentHungUp
                } else {
                    handoff::Input::AgentFailed(0)
                })
            }
            FromBrowser::Peer(Some(PeerEvent::Connected)) => {
                leg.connected = true;
                if leg.answered && !bridged {
                    self.event(
                        "agent_answered",
                        json!({ "agent": agent, "via": "browser" }),
                    );
                    Some(handoff::Input::AgentAnswered)
                } else {
                    None
                }
            }
            FromBrowser::Peer(Some(PeerEvent::Audio(payload))) => {
                if bridged {
                    self.core.handle(self.now(), core::Input::AgentPacket);
                    if self.consult_hears_console(&payload) {
                        return;
                    }
                    let mut pcm = [0i16; FRAME];
                    let n = Codec::Pcmu.decode(&payload, &mut pcm);
                    self.relay_to_caller(&pcm[..n], false);
                }
                None
            }
            FromBrowser::Peer(Some(PeerEvent::Digit(_))) => None,
            FromBrowser::Peer(closed) => {
                let why = match closed {
                    Some(PeerEvent::Closed { why }) => why,
                    _ => "the connection's driver stopped".to_string(),
                };
                tracing::warn!(agent, "console media closed: {why}");
                self.event("agent_media_closed", json!({ "agent": agent, "why": why }));
                self.end_browser("line");
                Some(if bridged {
                    handoff::Input::AgentDropped
                } else {
                    handoff::Input::AgentFailed(0)
                })
            }
        };
        if let Some(i) = input {
            self.input(core::Input::Browser(i)).await;
        }
    }

    /// Whether the caller waits in a warm queue (the console's Decline is "Pass" there).
    fn warm_queue(&self) -> bool {
        self.core
            .transfer()
            .and_then(|(q, _)| self.sh.config.queues.get(q))
            .is_some_and(|q| q.mode == crate::config::QueueMode::Warm)
    }

    /// The caller's decoded frame, to a bridged browser agent.
    pub(super) async fn send_to_browser(&self, pcm: &[i16]) {
        if let Some(leg) = &self.browser {
            if leg.connected {
                let mut frame = [0xFFu8; FRAME];
                for (o, s) in frame.iter_mut().zip(pcm) {
                    *o = linear_to_ulaw(*s);
                }
                let _ = leg.peer.send_pcmu(&frame[..pcm.len().min(FRAME)]).await;
            }
        }
    }
}

impl BrowserLeg {
    /// A PCMU frame to the console, once its media is up.
    pub(super) async fn send_pcmu(&self, frame: &[u8]) {
        if self.connected {
            let _ = self.peer.send_pcmu(frame).await;
        }
    }
}

/// Closes a WebRTC peer beside the call (closing waits on its connection's tasks).
fn close_later(peer: MediaPeer) {
    tokio::spawn(async move { peer.close().await });
}
