//! `humanline serve`: the SIP/RTP front end that runs dialplans for real callers.
//!
//! ```text
//!  transport (UDP + TCP)  ── SipMessage ──► dispatch ──► call task (one per call, tokio)
//!        ▲                                   │  new INVITE → plan → call task, or 404/488/503
//!        └──────────── bytes ◄───────────────┘  OPTIONS → 200, strays → 481
//!  call task: IO shell (sockets, RTP, media, ASR pool, store) around one sans-IO CallCore:
//!            caller dialog (UAS transactions) + engine::Call + handoff + agent legs + timers
//! ```
//! Owns sockets, tasks and timers; every rule of the call lives in the call core, `engine`
//! (the IVR) and [`handoff`] (agents, message), all sans-IO. The HTTP API and the web phone run beside it on
//! the same parts; `humanline serve` (`cli/serve.rs`) wires them together.

pub mod agent_leg;
mod bridge;
mod call;
pub mod callback;
mod consult;
mod dial_in;
mod dispatch;
pub mod flood;
pub mod handoff;
mod message_text;
pub mod monitor;
pub mod overload;
pub mod registrar;
#[cfg(test)]
mod registrar_tests;
pub mod secure_media;
pub mod tls;
pub mod tls_dial;
pub mod transport;
mod trunk_register;
pub(crate) mod wait;

use crate::agents::AgentHub;
use crate::asr::{AsrPool, WhisperRecognizer};
use crate::config::Config;
use crate::connections::{self, Budget, Caps};
use crate::live::captions::CaptionHub;
use crate::live::LiveCalls;
use crate::media::net::ports::PortPool;
use crate::media::PromptCache;
use crate::metrics::Metrics;
use crate::plans::PlanCache;
use crate::sip::LocalVia;
use crate::store::records::RecordWriter;
use crate::store::StoreHandle;
use anyhow::Context as _;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// What every call task and the dispatcher share.
pub struct Shared {
    /// The configuration the server started with.
    pub config: Config,
    /// SIP sender.
    pub transport: transport::Transport,
    /// Calls in progress (API view).
    pub live: Arc<LiveCalls>,
    /// Counters.
    pub metrics: Arc<Metrics>,
    /// The store.
    pub store: StoreHandle,
    /// Dialplans by name.
    pub plans: Arc<PlanCache>,
    /// Prompt audio.
    pub prompts: Arc<PromptCache>,
    /// Speech recognition, or why it is not available (every utterance is then a fault).
    pub asr: Result<Arc<AsrPool>, String>,
    /// Agents, queues and the ACD.
    pub agents: Arc<AgentHub>,
    /// Live captions for web callers (the `/phone` gateway listens, call tasks publish).
    pub captions: Arc<CaptionHub>,
    /// The SIP registrar (nonce secret and failure counts).
    registrar: Mutex<registrar::Registrar>,
    /// SIP Call-ID → the task that owns it (caller legs and agent legs alike).
    routes: Mutex<HashMap<String, mpsc::Sender<call::Input>>>,
    /// SIP Call-ID → the task that sent the request (trunks' registrations): its responses.
    outbound: Mutex<HashMap<String, mpsc::Sender<crate::sip::Response>>>,
    /// RTP ports (shared with the `/phone` gateway's SIP legs).
    ports: Arc<PortPool>,
    /// The shared media clock every call's playout is ticked by (a few lanes per worker).
    clock: crate::media::net::MediaClock,
    /// Our Via sent-by for UDP.
    via_udp: LocalVia,
    /// Base URL of the REST API (for Call-Info).
    api_base: String,
    /// Set when the server stops: new calls get 503 while the calls in progress drain.
    draining: std::sync::atomic::AtomicBool,
    /// Calls in progress per source address (`[sip] max_calls_per_source`).
    calls_by_source: crate::connections::ConnectionTable,
    /// Writes finished calls, keeping and retrying the ones the store refuses.
    records: Arc<RecordWriter>,
    /// Calls bridged to agents, by agent, for supervisors to monitor.
    monitor_targets: monitor::Targets,
    /// The outbound trunks (`[trunks]`), checked and with their passwords read.
    trunks: Arc<std::collections::BTreeMap<String, crate::trunk::Trunk>>,
    /// The booked callbacks this node works on.
    callbacks: callback::Callbacks,
    /// Consult calls between agents, for attended transfers.
    consults: consult::Consults,
}

impl Shared {
    fn route(&self, sip_call_id: &str) -> Option<mpsc::Sender<call::Input>> {
        self.routes.lock().ok()?.get(sip_call_id).cloned()
    }

    fn add_route(&self, sip_call_id: &str, tx: mpsc::Sender<call::Input>) {
        if let Ok(mut r) = self.routes.lock() {
            r.insert(sip_call_id.to_string(), tx);
        }
    }

    fn outbound_route(&self, sip_call_id: &str) -> Option<mpsc::Sender<crate::sip::Response>> {
        self.outbound.lock().ok()?.get(sip_call_id).cloned()
    }

    fn add_outbound_route(&self, sip_call_id: &str, tx: mpsc::Sender<crate::sip::Response>) {
        if let Ok(mut r) = self.outbound.lock() {
            r.insert(sip_call_id.to_string(), tx);
        }
    }

    /// A callback was booked: the callback worker looks at the store now.
    pub(crate) fn callbacks_changed(&self) {
        self.callbacks.changed();
    }

    /// Our Via for requests along `hop`: UDP, or our TLS listener for a TLS hop (an error when
    /// none runs).
    fn via_toward(&self, hop: &agent_leg::Hop) -> Result<LocalVia, String> {
        match &hop.tls {
            Some(_) => self
                .transport
                .tls_addr()
                .map(|a| LocalVia {
                    transport: "TLS".into(),
                    port: a.port(),
                    ..self.via_udp.clone()
                })
                .ok_or_else(|| "the hop is TLS and no TLS listener runs ([sip] tls_bind)".into()),
            None => Ok(self.via_udp.clone()),
        }
    }

    /// Sends SIP bytes along `hop`: UDP, or TLS on its connection (opened if none is).
    async fn send_on_hop(&self, hop: &agent_leg::Hop, bytes: Vec<u8>) {
        let peer = match &hop.tls {
            None => Some(transport::Peer::Udp(hop.addr)),
            Some(t) => self.transport.tls_peer(hop.addr, t.connect, &t.name),
        };
        match peer {
            Some(p) => self.transport.send(&p, bytes).await,
            None => tracing::warn!(to = %hop.addr, "no TLS listener: SIP along a TLS hop dropped"),
        }
    }

    fn remove_route(&self, sip_call_id: &str) {
        if let Ok(mut r) = self.routes.lock() {
            r.remove(sip_call_id);
        }
    }

    /// The address written in our SDP: `[sip] public_host` when it is an IP, else the bind IP.
    fn media_ip(&self) -> std::net::IpAddr {
        self.config
            .public_host()
            .parse()
            .unwrap_or(self.config.sip.bind.ip())
    }

    /// Our Via sent-by toward `peer`: its transport, and the TLS listener's port for TLS.
    fn via_for(&self, peer: &transport::Peer) -> LocalVia {
        let port = match (peer.secure(), self.transport.tls_addr()) {
            (true, Some(a)) => a.port(),
            _ => self.via_udp.port,
        };
        LocalVia {
            transport: peer.transport().into(),
            port,
            ..self.via_udp.clone()
        }
    }

    fn call_tasks(&self) -> usize {
        self.live.len()
    }
}

/// Everything the server writes from now on (the database, recordings, messages, the run's
/// token) is readable by its own user only, and what an earlier run left is closed to others:
/// transcripts and callers' voices are personal data.
fn keep_files_private(config: &Config) {
    use std::os::unix::fs::PermissionsExt;
    // SAFETY: umask only changes the process's file-creation mask.
    unsafe {
        libc::umask(0o077);
    }
    let db = &config.paths.database;
    let mut files: Vec<std::path::PathBuf> = vec![db.clone()];
    for suffix in ["-wal", "-shm"] {
        let mut name = db.as_os_str().to_owned();
        name.push(suffix);
        files.push(name.into());
    }
    for f in files.iter().filter(|f| f.exists()) {
        if let Err(e) = std::fs::set_permissions(f, std::fs::Permissions::from_mode(0o600)) {
            tracing::warn!("cannot make {} private: {e}", f.display());
        }
    }
    let rec = &config.paths.recordings;
    if rec.is_dir() {
        if let Err(e) = std::fs::set_permissions(rec, std::fs::Permissions::from_mode(0o700)) {
            tracing::warn!("cannot make {} private: {e}", rec.display());
        }
    }
}

/// Raises the open-files limit to the hard one, then lowers `[sip] max_calls` and the HTTP and
/// SIP-over-TCP connection caps where they would not fit under it, so that calls always find
/// the sockets they need whatever clients hold. Returns the SIP TCP caps.
fn fit_to_open_files(config: &mut Config) -> Caps {
    connections::raise_open_files_limit();
    let files = connections::open_files_limit();
    let wanted = Budget {
        calls: config.sip.max_calls,
        http: Caps {
            total: config.http.max_connections,
            per_ip: config.http.max_connections_per_ip,
        },
        sip_tcp: Caps {
            total: config.sip.tcp_max_connections,
            per_ip: config.sip.tcp_max_connections_per_ip,
        },
    };
    let got = wanted.fit(files);
    if got != wanted {
        tracing::warn!(
            open_files = files.unwrap_or(0),
            calls = got.calls,
            http = got.http.total,
            http_per_ip = got.http.per_ip,
            sip_tcp = got.sip_tcp.total,
            sip_tcp_per_ip = got.sip_tcp.per_ip,
            "the open-files limit is low: limits lowered to fit under it"
        );
    }
    config.sip.max_calls = got.calls;
    config.http.max_connections = got.http.total;
    config.http.max_connections_per_ip = got.http.per_ip;
    got.sip_tcp
}

/// Loads the speech model and starts the recognition workers; without a model the server still
/// serves (keys work, spoken answers go to a person as an ASR fault) and says why in its log.
fn start_asr(config: &Config) -> Result<Arc<AsrPool>, String> {
    let a = &config.asr;
    let workers = a.worker_count(std::thread::available_parallelism().map_or(1, |n| n.get()));
    match WhisperRecognizer::load(&a.model, a.threads.max(1) as i32) {
        Ok(r) => {
            tracing::info!(
                model = %a.model.display(),
                workers,
                threads = a.threads,
                "speech recognition ready"
            );
            let pool = AsrPool::new(Arc::new(r), workers, a.queue);
            if crate::failpoints::enabled("asr_worker_dies") {
                pool.die_on_next_job();
            }
            Ok(Arc::new(pool))
        }
        Err(e) => {
            tracing::error!("speech recognition off: {e}");
            Err(e.to_string())
        }
    }
}

/// Reads the media loop's tick counters once a second and raises or clears the overload flag
/// that makes new calls get 503 ([`overload`]).
fn spawn_overload_watch(metrics: Arc<Metrics>, sip: &crate::config::SipConfig) {
    let window = std::time::Duration::from_secs_f64(sip.overload_window_seconds.max(1.0));
    let mut guard = overload::OverloadGuard::new(window, sip.overload_late_ratio);
    let started = std::time::Instant::now();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(1));
        let mut was = false;
        loop {
            every.tick().await;
            guard.observe(
                started.elapsed(),
                metrics
                    .rtp_send_ticks_total
                    .load(std::sync::atomic::Ordering::Relaxed),
                metrics
                    .rtp_send_late_total
                    .load(std::sync::atomic::Ordering::Relaxed),
            );
            let now = guard.overloaded();
            if now != was {
                let ratio = guard.late_ratio().unwrap_or(0.0) * 100.0;
                if now {
                    tracing::warn!(
                        "overloaded: {ratio:.1} % of media ticks late; new calls get 503"
                    );
                } else {
                    tracing::info!(
                        "no longer overloaded ({ratio:.1} % of media ticks late); taking calls"
                    );
                }
                was = now;
            }
            metrics
                .overloaded
                .store(u64::from(now), std::sync::atomic::Ordering::Relaxed);
        }
    });
}

/// The SIP side of humanline, started: its transport bound, its store open, its speech
/// workers, agents, plans and prompts ready. Whoever starts it (`humanline serve`) builds the
/// HTTP API and the web phone on the same parts ([`Server::live`], [`Server::store`]…), then
/// hands it to [`Server::run`].
pub struct Server {
    shared: Arc<Shared>,
    inbound: mpsc::Receiver<transport::Inbound>,
    sip_addr: SocketAddr,
}

impl Server {
    /// Opens the store, binds SIP (UDP and TCP on `[sip] bind`) and starts everything behind
    /// it. `api_base` is where the REST API answers (`http://host:port`), sent to agents'
    /// phones in `Call-Info` so they can open the caller's record.
    pub async fn start(mut config: Config, api_base: String) -> anyhow::Result<Server> {
        // A TLS listener that cannot be set up stops the start before anything is opened.
        let tls = match tls::listener(&config.sip)? {
            Some((addr, acceptor)) => {
                let connector = tls_dial::connector(config.sip.tls_ca_file.as_deref())
                    .map_err(anyhow::Error::msg)?;
                Some((addr, acceptor, connector))
            }
            None => None,
        };
        let tcp_caps = fit_to_open_files(&mut config);
        let faults = crate::failpoints::named();
        if !faults.is_empty() {
            tracing::warn!(
                ?faults,
                "HUMANLINE_FAILPOINTS is set: these faults will happen on purpose (fault tests only)"
            );
        }
        keep_files_private(&config);
        let metrics = Arc::new(Metrics::default());
        let opening = config.clone();
        let store = tokio::task::spawn_blocking(move || StoreHandle::open_configured(&opening))
            .await?
            .with_context(|| match &config.store.postgres {
                Some(c) => format!("opening the Postgres database {c:?}"),
                None => format!("opening database {}", config.paths.database.display()),
            })?;
        tracing::info!(backend = store.backend(), node = store.node(), "store open");
        std::fs::create_dir_all(&config.paths.recordings).with_context(|| {
            format!(
                "creating recordings folder {}",
                config.paths.recordings.display()
            )
        })?;
        let flood = flood::FloodGuard::new(
            config.sip.flood_messages_per_second,
            config.sip.flood_burst,
            config.sip.trusted_peers.clone(),
        );
        let (transport, inbound) = transport::start(
            config.sip.bind,
            Arc::clone(&metrics),
            flood,
            transport::TcpRules::new(&config.sip, tcp_caps),
            tls,
        )
        .await
        .with_context(|| match config.sip.tls_bind {
            Some(t) => format!(
                "binding SIP on {} (UDP and TCP) and {t} (TLS)",
                config.sip.bind
            ),
            None => format!("binding SIP on {} (UDP and TCP)", config.sip.bind),
        })?;
        if let Some(a) = transport.tls_addr() {
            tracing::info!(addr = %a, "SIP over TLS listening");
        }
        let sip_addr = transport.local_addr()?;
        let live = Arc::new(LiveCalls::default());
        let asr = start_asr(&config);
        let agents = Arc::new(AgentHub::new(&config));
        if config.store.postgres.is_some() {
            // Several nodes on one database: phones and busy agents are shared through it.
            agents.share_through(store.clone());
        }
        agents.spawn_ticker();
        spawn_overload_watch(Arc::clone(&metrics), &config.sip);
        let plans = Arc::new(PlanCache::new(
            config.paths.dialplans.clone(),
            config.paths.prompts.clone(),
            store.clone(),
        ));
        plans.spawn_watcher(std::time::Duration::from_secs_f64(
            config.paths.watch_dialplans_seconds.max(0.0),
        ));
        let loudness = config.media.prompt_loudness_dbfs;
        let prompts = Arc::new(PromptCache::with_audio(
            config.paths.prompts.clone(),
            crate::media::PromptAudio {
                // 0 (or anything not a level below full scale) plays the files as recorded.
                loudness_dbfs: (loudness.is_finite() && loudness < 0.0)
                    .then_some(loudness.max(-40.0)),
                pacing: config.elderly.pacing(),
            },
        ));
        let records = Arc::new(RecordWriter::new(
            store.clone(),
            Arc::clone(&live),
            Arc::clone(&metrics),
        ));
        records.spawn_retry();
        let ports = Arc::new(PortPool::new(
            config.media.rtp_port_min,
            config.media.rtp_port_max,
        ));
        let trunks = crate::trunk::resolve_all(&config).map_err(|e| anyhow::anyhow!(e))?;
        let clock = crate::media::net::MediaClock::per_worker(Arc::clone(&metrics));
        let shared = Arc::new(Shared {
            trunks: Arc::new(trunks),
            monitor_targets: monitor::Targets::default(),
            callbacks: callback::Callbacks::default(),
            consults: consult::Consults::default(),
            clock,
            asr,
            agents,
            captions: Arc::new(CaptionHub::default()),
            via_udp: LocalVia {
                host: config.public_host(),
                port: sip_addr.port(),
                transport: "UDP".into(),
            },
            api_base,
            plans,
            prompts,
            ports,
            routes: Mutex::new(HashMap::new()),
            outbound: Mutex::new(HashMap::new()),
            registrar: Mutex::new(registrar::Registrar::new(
                &config.sip,
                registrar::nonce_secret(),
            )),
            transport,
            live,
            metrics,
            store,
            draining: std::sync::atomic::AtomicBool::new(false),
            calls_by_source: crate::connections::ConnectionTable::uncounted(Caps {
                total: 0,
                per_ip: config.sip.max_calls_per_source,
            }),
            records,
            config,
        });
        trunk_register::spawn_all(&shared);
        Ok(Server {
            shared,
            inbound,
            sip_addr,
        })
    }

    /// Where SIP answers (UDP and TCP).
    pub fn sip_addr(&self) -> SocketAddr {
        self.sip_addr
    }

    /// The configuration the server started with.
    pub fn config(&self) -> &Config {
        &self.shared.config
    }

    /// Calls in progress.
    pub fn live(&self) -> Arc<LiveCalls> {
        Arc::clone(&self.shared.live)
    }

    /// Counters.
    pub fn metrics(&self) -> Arc<Metrics> {
        Arc::clone(&self.shared.metrics)
    }

    /// The store.
    pub fn store(&self) -> StoreHandle {
        self.shared.store.clone()
    }

    /// Agents, queues and the ACD.
    pub fn agents(&self) -> Arc<AgentHub> {
        Arc::clone(&self.shared.agents)
    }

    /// Dialplans by name.
    pub fn plans(&self) -> Arc<PlanCache> {
        Arc::clone(&self.shared.plans)
    }

    /// Prompt audio.
    pub fn prompts(&self) -> Arc<PromptCache> {
        Arc::clone(&self.shared.prompts)
    }

    /// RTP ports (the web phone's SIP legs take theirs from the same pool).
    pub fn ports(&self) -> Arc<PortPool> {
        Arc::clone(&self.shared.ports)
    }

    /// Live captions (call tasks publish, the web phone's sessions listen).
    pub fn captions(&self) -> Arc<CaptionHub> {
        Arc::clone(&self.shared.captions)
    }

    /// Takes calls until `shutdown` completes, then drains: new calls get 503, calls in
    /// progress go on for `[sip] drain_seconds`, the rest are ended, and every call is stored
    /// before this returns.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()>) -> anyhow::Result<()> {
        let dispatcher = tokio::spawn(dispatch::run(Arc::clone(&self.shared), self.inbound));
        tokio::spawn(callback::serve(Arc::clone(&self.shared)));
        if let Some(board) = self.shared.live.monitor_desk.serve() {
            tokio::spawn(monitor::serve_board(Arc::clone(&self.shared), board));
        }
        tokio::select! {
            _ = dispatcher => {
                tracing::error!("the SIP transport closed");
                return Ok(());
            }
            _ = shutdown => {}
        }
        drain(&self.shared).await;
        Ok(())
    }
}

/// Stops taking calls and waits for the calls in progress, ending those still there after
/// `[sip] drain_seconds`. Returns once every call is stored (or after a last grace period).
async fn drain(shared: &Arc<Shared>) {
    use std::sync::atomic::Ordering::Relaxed;
    use std::time::Duration;
    shared.draining.store(true, Relaxed);
    let grace = Duration::from_secs_f64(shared.config.sip.drain_seconds.max(0.0));
    tracing::info!(
        calls = shared.call_tasks(),
        "stopping: new calls get 503; calls in progress have {:.0} s to finish",
        grace.as_secs_f64()
    );
    let wait_empty = |limit: Duration| async move {
        let until = tokio::time::Instant::now() + limit;
        while shared.call_tasks() > 0 && tokio::time::Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    wait_empty(grace).await;
    let left = shared.call_tasks();
    if left > 0 {
        tracing::warn!(
            calls = left,
            "drain time over: ending the calls still in progress"
        );
        let tasks: Vec<_> = shared
            .routes
            .lock()
            .map(|r| r.values().cloned().collect())
            .unwrap_or_default();
        for t in tasks {
            let _ = t.send(call::Input::Shutdown).await;
        }
        // Each call sends its BYE and writes its record before leaving the live view.
        wait_empty(Duration::from_secs(5)).await;
    }
    let records = Arc::clone(&shared.records);
    let unsaved = tokio::task::spawn_blocking(move || records.retry())
        .await
        .unwrap_or(0);
    if unsaved > 0 {
        tracing::error!(
            unsaved,
            "stopping with call records the database still refuses"
        );
    }
    tracing::info!(calls = shared.call_tasks(), "stopped");
}
