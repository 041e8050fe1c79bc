//! `humanline.toml`: where the server listens, where its files are, and who answers each queue.
//! Every key has a default, so `humanline serve` runs with no file at all.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

mod queue;
pub use queue::{MessagesConfig, QueueConfig, QueueMode};

/// The whole configuration file.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// SIP listener.
    pub sip: SipConfig,
    /// RTP media.
    pub media: MediaConfig,
    /// HTTP API.
    pub http: HttpConfig,
    /// Files and folders.
    pub paths: PathsConfig,
    /// Queue name → the agents who answer it.
    pub queues: BTreeMap<String, QueueConfig>,
    /// Messages left when nobody answers.
    pub messages: MessagesConfig,
    /// Speech recognition and endpointing.
    pub asr: AsrConfig,
    /// The web phone (`/phone`): callers calling from a browser.
    pub phone: PhoneConfig,
    /// Where calls, users and plan versions are kept: SQLite or a shared Postgres.
    pub store: StoreConfig,
    /// How prompts sound to a caller in elderly mode.
    pub elderly: ElderlyConfig,
    /// Data lookups of dialplans: the URL allow-list, the size cap, header secrets.
    pub lookups: crate::lookup::LookupsConfig,
    /// Outbound SIP trunks (`[trunks.NAME]`): carriers' proxies that agents listed as
    /// `trunk:NAME/NUMBER` are called through.
    pub trunks: BTreeMap<String, crate::trunk::TrunkConfig>,
}

/// `[elderly]`: once a call is in elderly mode (the hesitation score switched it, or the plan's
/// `elderly_from_start`), every prompt from the next one on plays slower, with its pitch kept,
/// and with a little more silence between sentences.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ElderlyConfig {
    /// Playback speed, 0.5–1.0 (default 0.8: 0.8× speed, every prompt 1.25× as long).
    pub prompt_speed: f64,
    /// Silence added at each sentence break, milliseconds (default 300).
    pub sentence_gap_ms: u32,
}

impl Default for ElderlyConfig {
    fn default() -> Self {
        let p = crate::media::Pacing::default();
        ElderlyConfig {
            prompt_speed: p.speed,
            sentence_gap_ms: p.sentence_gap_ms,
        }
    }
}

impl ElderlyConfig {
    /// The pacing the prompt cache renders with (the speed kept within 0.5–1.0, the gap within
    /// 0–2000 ms: a faster "slow" pace or a longer silence would not help anyone).
    pub fn pacing(&self) -> crate::media::Pacing {
        let speed = if self.prompt_speed.is_finite() {
            self.prompt_speed.clamp(0.5, 1.0)
        } else {
            crate::media::Pacing::default().speed
        };
        crate::media::Pacing {
            speed,
            sentence_gap_ms: self.sentence_gap_ms.min(2000),
        }
    }
}

/// `[store]`: one node keeps everything in the SQLite file `[paths] database`; several nodes
/// behind a SIP proxy share one PostgreSQL database instead (DESIGN §10).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// libpq-style connection string (`host=… port=… user=… dbname=…`); unset: SQLite.
    pub postgres: Option<String>,
    /// This server's name on the calls it stores (default: the host name).
    pub node: Option<String>,
    /// Connections to the database at most (default 4): queries run on blocking threads, one
    /// connection each, so a slow query (a busy SQLite writer, a far Postgres) holds up only
    /// the requests queued behind the whole pool, never the server's async threads.
    pub connections: usize,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            postgres: None,
            node: None,
            connections: 4,
        }
    }
}

/// `[phone]`: the `/phone` page and its WebRTC-to-SIP gateway.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PhoneConfig {
    /// Serve `/phone` and `/ws/phone` (they need no login: callers are the public).
    pub enabled: bool,
    /// Web calls at once; more are told the line is busy (the SIP side's `[sip] max_calls`
    /// still applies to all calls together).
    pub max_calls: usize,
    /// Web-phone sockets open at once from one address; more get 429.
    pub max_sockets_per_ip: usize,
}

impl Default for PhoneConfig {
    fn default() -> Self {
        PhoneConfig {
            enabled: true,
            max_calls: 50,
            max_sockets_per_ip: 4,
        }
    }
}

/// `[asr]`: the on-box recognizer, its worker pool and the endpointing around it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AsrConfig {
    /// The ggml whisper model (`humanline model install` writes it): by default the q8_0 one,
    /// `models/ggml-base-q8_0.bin`; `models/ggml-base.bin` is full precision (f16), and
    /// `models/ggml-base-q5_1.bin` the smallest (`humanline model install --format ...`).
    pub model: PathBuf,
    /// Recognitions that run at once (worker threads); 0 means as many as the cores allow at
    /// `threads` each (cores ÷ threads, at least one).
    pub workers: usize,
    /// CPU threads each recognition gives whisper (default 2: one utterance on both cores of
    /// a 2-core box answers about twice as fast as two side by side on one core each).
    pub threads: usize,
    /// Utterances that may wait for a worker; more are refused (the caller goes to a person).
    pub queue: usize,
    /// Seconds an utterance may wait and run before it counts as an ASR fault.
    pub deadline_seconds: f64,
    /// Recognise in the plan's language (`false`: detect it, about twice as slow).
    pub use_plan_language: bool,
    /// earshot VAD score (0–1) from which a frame counts as voice.
    pub vad_threshold: f32,
    /// Longest end-of-utterance silence, however slow the speaker.
    pub max_endpoint_silence_seconds: f64,
    /// An utterance is cut after this long.
    pub max_utterance_seconds: f64,
    /// Recognise what was said so far at short pauses, while a worker is idle, so that a
    /// request for a person is acted on before the caller stops (and a turn that ends right
    /// after the pause needs no second recognition).
    pub early_decisions: bool,
    /// Silence inside an utterance that marks such a pause.
    pub checkpoint_silence_seconds: f64,
    /// A turn that would move nothing at its node (no choice, key or person, or text the
    /// recogniser doubts) is recognised once more through a wider encoder window (twice the
    /// first, at least 768 frames) when a worker is idle; its text is used when it moves the
    /// call.
    pub second_look: bool,
    /// Contextual biasing: logits added to the tokens of the words a caller is likely to say
    /// at the node (its choices, those of the questions ahead, the names of a person) while
    /// whisper decodes; 0 (the default: measured not to help whisper base, see the README)
    /// turns it off. See `asr::Boost`.
    pub boost_logit: f32,
}

impl Default for AsrConfig {
    fn default() -> Self {
        AsrConfig {
            model: "models/ggml-base-q8_0.bin".into(),
            workers: 0,
            threads: 2,
            queue: 16,
            deadline_seconds: 8.0,
            use_plan_language: true,
            vad_threshold: 0.5,
            max_endpoint_silence_seconds: 2.5,
            max_utterance_seconds: 20.0,
            early_decisions: true,
            checkpoint_silence_seconds: 0.24,
            boost_logit: 0.0,
            second_look: true,
        }
    }
}

impl AsrConfig {
    /// The number of recognition workers on a machine with `cores` cores: `workers`, or for 0
    /// as many as fit the cores at `threads` each (at least one).
    pub fn worker_count(&self, cores: usize) -> usize {
        if self.workers == 0 {
            (cores / self.threads.max(1)).max(1)
        } else {
            self.workers
        }
    }
}

/// `[sip]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SipConfig {
    /// Address for both UDP and TCP.
    pub bind: SocketAddr,
    /// Host written in Via, Contact and SDP (defaults to the bind address).
    pub public_host: Option<String>,
    /// Calls served at once; more get 503.
    pub max_calls: usize,
    /// Milliseconds between `180 Ringing` and `200 OK` (0: answer at once).
    pub answer_delay_ms: u64,
    /// Digest realm of agents' SIP phones. Each user's stored HA1 is bound to it: changing it
    /// means setting every password again (`humanline user passwd`).
    pub realm: String,
    /// Shortest registration the registrar grants, in seconds (a phone asking for less gets
    /// this much); the longest is 3600. Lower it only for tests.
    pub register_min_expires: u32,
    /// Failed REGISTER authentications allowed per source IP per minute; past that the
    /// registrar answers 403 without checking.
    pub register_max_failures: usize,
    /// Digest challenges sent to phones, most preferred first (RFC 8760: SHA-256 before MD5).
    /// Some old clients answer only the first challenge and know only MD5: put "MD5" first
    /// for them.
    pub digest_algorithms: Vec<crate::sip::digest::Algorithm>,
    /// Share of the media loop's 20 ms send ticks that may run late (over
    /// `overload_window_seconds`) before new calls get 503: past it the machine cannot keep
    /// up, and the calls in progress come first. 1 switches the check off.
    pub overload_late_ratio: f64,
    /// The window of `overload_late_ratio`, in seconds.
    pub overload_window_seconds: f64,
    /// On SIGTERM or Ctrl-C: how long calls in progress may go on (new calls get 503) before
    /// the rest are ended and stored, in seconds.
    pub drain_seconds: f64,
    /// SIP messages a second handled from one source address; more are dropped unread (a
    /// flood). 0 switches the limit off.
    pub flood_messages_per_second: f64,
    /// Messages one source may send at once before the rate applies.
    pub flood_burst: f64,
    /// Sources never limited: a proxy or trunk in front of the server carries many callers.
    pub trusted_peers: Vec<std::net::IpAddr>,
    /// Calls at once from one source address (trusted peers and the web phone's gateway are
    /// not limited); 0: no limit.
    pub max_calls_per_source: usize,
    /// SIP connections over TCP in all; 0: as many as the open-files limit leaves.
    pub tcp_max_connections: usize,
    /// SIP connections over TCP from one address (trusted peers too); 0: no limit.
    pub tcp_max_connections_per_ip: usize,
    /// A TCP connection that carries no message this long is closed (phones send keep-alives).
    pub tcp_idle_timeout_seconds: f64,
    /// Once a message starts on a TCP connection, it must arrive whole within this.
    pub tcp_message_timeout_seconds: f64,
    /// Address of the SIP-over-TLS listener (RFC 3261 §26, RFC 5630); `None`: no TLS. Needs
    /// `tls_cert` and `tls_key`. Its connections share the TCP caps and timeouts above.
    pub tls_bind: Option<SocketAddr>,
    /// PEM file of our certificate chain (leaf first) for `tls_bind`.
    pub tls_cert: Option<std::path::PathBuf>,
    /// PEM file of the certificate's private key (PKCS#8, PKCS#1 or SEC1).
    pub tls_key: Option<std::path::PathBuf>,
    /// PEM file of the authorities whose certificates we accept when we open a TLS connection
    /// to an agent's phone (a `sips:` static URI, a phone whose registration connection
    /// closed); unset: the system's bundle (`SSL_CERT_FILE`, else
    /// `/etc/ssl/certs/ca-certificates.crt`).
    pub tls_ca_file: Option<std::path::PathBuf>,
    /// Take `RTP/SAVP` offers (SDES keys, RFC 4568) that came over plain UDP or TCP too. Off:
    /// keys sent in clear protect nothing, so such offers get 488.
    pub srtp_over_plain: bool,
    /// Every call must be offered SRTP (over TLS); a plain `RTP/AVP` offer gets 488.
    pub require_srtp: bool,
}

impl Default for SipConfig {
    fn default() -> Self {
        SipConfig {
            bind: "127.0.0.1:5060".parse().expect("valid literal"),
            public_host: None,
            max_calls: 200,
            answer_delay_ms: 0,
            realm: "humanline".into(),
            register_min_expires: 60,
            register_max_failures: 10,
            digest_algorithms: vec![
                crate::sip::digest::Algorithm::Sha256,
                crate::sip::digest::Algorithm::Md5,
            ],
            overload_late_ratio: 0.05,
            overload_window_seconds: 5.0,
            drain_seconds: 30.0,
            flood_messages_per_second: 500.0,
            flood_burst: 1000.0,
            trusted_peers: Vec::new(),
            max_calls_per_source: 20,
            tcp_max_connections: 1024,
            tcp_max_connections_per_ip: 64,
            tcp_idle_timeout_seconds: 300.0,
            tcp_message_timeout_seconds: 10.0,
            tls_bind: None,
            tls_cert: None,
            tls_key: None,
            tls_ca_file: None,
            srtp_over_plain: false,
            require_srtp: false,
        }
    }
}

/// `[media]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MediaConfig {
    /// First RTP port (even ports are used).
    pub rtp_port_min: u16,
    /// Last RTP port.
    pub rtp_port_max: u16,
    /// Record every call to a stereo WAV (left caller, right line).
    pub record: bool,
    /// How many packets the jitter buffer holds (20 ms each).
    pub jitter_packets: usize,
    /// Seconds without RTP from the caller before the call counts as a media fault.
    pub rtp_timeout_seconds: f64,
    /// Seconds without RTP from a bridged agent before the agent's leg counts as dropped (the
    /// caller goes back to the head of the queue).
    pub agent_rtp_timeout_seconds: f64,
    /// Level every prompt is brought to when loaded, as RMS over its voiced parts (dBFS,
    /// default −20), peak-limited at −1 dBFS; `0` plays the files as they are.
    pub prompt_loudness_dbfs: f64,
    /// Send media to a loopback or private SDP address that is not the peer's own SIP address
    /// before the peer's first packet (a LAN behind a proxy); off: such a target waits for the
    /// peer's RTP, so nobody can aim our audio at an internal host.
    pub allow_private_targets: bool,
}

impl Default for MediaConfig {
    fn default() -> Self {
        MediaConfig {
            rtp_port_min: 20000,
            rtp_port_max: 29999,
            record: false,
            jitter_packets: 3,
            rtp_timeout_seconds: 30.0,
            agent_rtp_timeout_seconds: 10.0,
            prompt_loudness_dbfs: crate::media::DEFAULT_LOUDNESS_DBFS,
            allow_private_targets: false,
        }
    }
}

/// `[http]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Address of the HTTP API.
    pub bind: SocketAddr,
    /// Service bearer token for `/api` with supervisor rights (tests, scripts). Unset: a random
    /// one is made at start and logged. People log in, or use `humanline user token`.
    pub api_token: Option<String>,
    /// Hours a browser login lasts.
    pub session_hours: f64,
    /// Seconds a client has to send a request's headers (slow clients are cut off); 0: no limit.
    pub header_timeout_seconds: f64,
    /// Seconds from a request's headers to its answer, body included (408 after); 0: no limit.
    pub request_timeout_seconds: f64,
    /// Open HTTP connections in all; 0: no limit.
    pub max_connections: usize,
    /// Open HTTP connections from one address (raise it behind a proxy); 0: no limit.
    pub max_connections_per_ip: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            bind: "127.0.0.1:8080".parse().expect("valid literal"),
            api_token: None,
            session_hours: 12.0,
            header_timeout_seconds: 10.0,
            request_timeout_seconds: 30.0,
            max_connections: 2048,
            max_connections_per_ip: 128,
        }
    }
}

/// `[paths]`. Relative paths are relative to the current directory.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PathsConfig {
    /// Folder of dialplans: `sip:NAME@host` runs `NAME.toml`.
    pub dialplans: PathBuf,
    /// Folder of prompts (`<language>/<name>.wav`).
    pub prompts: PathBuf,
    /// SQLite file.
    pub database: PathBuf,
    /// Folder for call recordings and caller messages.
    pub recordings: PathBuf,
    /// How often the dialplans folder is checked for edited plans, in seconds (default 1);
    /// 0: only when a call asks for the plan.
    pub watch_dialplans_seconds: f64,
}

impl Default for PathsConfig {
    fn default() -> Self {
        PathsConfig {
            dialplans: "dialplans".into(),
            prompts: "prompts".into(),
            database: "humanline.db".into(),
            recordings: "recordings".into(),
            watch_dialplans_seconds: 1.0,
        }
    }
}

impl Config {
    /// Reads a configuration file; errors name the file, line and column.
    pub fn load(path: &Path) -> anyhow::Result<Config> {
        let src = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read config {}: {e}", path.display()))?;
        let config: Config = toml::from_str(&src).map_err(|e| {
            let (line, col) = e
                .span()
                .map(|s| {
                    let before = &src[..s.start.min(src.len())];
                    (
                        before.matches('\n').count() + 1,
                        before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1,
                    )
                })
                .unwrap_or((1, 1));
            anyhow::anyhow!("{}:{line}:{col}: {}", path.display(), e.message())
        })?;
        config
            .check()
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        Ok(config)
    }

    /// The rules no single key can say: a queue that requires SRTP needs a TLS listener (agents
    /// register over it and our Via names it), and its static agents must be reached over TLS;
    /// trunks and the queue members reached through them ([`crate::trunk::check`]).
    pub fn check(&self) -> Result<(), String> {
        crate::trunk::check(self)?;
        for (name, q) in &self.queues {
            if q.offer_callback_after_seconds.is_none() {
                continue;
            }
            match &q.callback_trunk {
                None => {
                    return Err(format!(
                        "[queues.{name}] offer_callback_after_seconds needs callback_trunk = \
                         \"NAME\" naming the [trunks.NAME] that calls customers back"
                    ))
                }
                Some(t) if !self.trunks.contains_key(t) => {
                    return Err(format!(
                        "[queues.{name}] callback_trunk = {t:?}, but there is no [trunks.{t}]"
                    ))
                }
                Some(_) => {}
            }
            if q.callback_attempts == 0 {
                return Err(format!(
                    "[queues.{name}] callback_attempts must be at least 1"
                ));
            }
        }
        for (name, q) in self.queues.iter().filter(|(_, q)| q.require_srtp) {
            if self.sip.tls_bind.is_none() {
                return Err(format!(
                    "[queues.{name}] require_srtp = true needs [sip] tls_bind, tls_cert and \
                     tls_key: its agents are reached over SIP/TLS only"
                ));
            }
            if let Some(uri) = q.agents.iter().find(|a| {
                (a.starts_with("sip:") || a.starts_with("sips:"))
                    && !crate::agents::uri_wants_tls(a)
            }) {
                return Err(format!(
                    "[queues.{name}] require_srtp = true, but agent {uri:?} is not reached \
                     over TLS: write it as sips:… or add ;transport=tls"
                ));
            }
        }
        Ok(())
    }

    /// The host to advertise in SIP and SDP.
    pub fn public_host(&self) -> String {
        self.sip
            .public_host
            .clone()
            .unwrap_or_else(|| self.sip.bind.ip().to_string())
    }
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
