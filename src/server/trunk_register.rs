//! The IO side of trunks' outbound registrations: one task per `[trunks.NAME]` with
//! `register = true`, owning a sans-IO [`Registration`] — it sends what the machine says
//! to the trunk's proxy, feeds it the responses the dispatcher routes here by Call-ID and
//! sleeps until its next deadline. Outcomes go to the log and `/metrics`
//! (`humanline_trunk_registered`); a failure is retried by the machine, never fatal.

use super::agent_leg::Hop;
use super::transport::Peer;
use super::Shared;
use crate::sip::{LocalVia, Response};
use crate::trunk::register::{RegEvent, Registration};
use crate::trunk::Trunk;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Starts the registration of every trunk that asks for one.
pub(super) fn spawn_all(shared: &Arc<Shared>) {
    for trunk in shared.trunks.values() {
        if trunk.register_expires.is_some() {
            let sh = Arc::clone(shared);
            let trunk = trunk.clone();
            tokio::spawn(async move { run(sh, trunk).await });
        }
    }
}

async fn run(sh: Arc<Shared>, trunk: Trunk) {
    let proxy = trunk.proxy.clone();
    let hop = match tokio::task::spawn_blocking(move || Hop::to(&proxy, None, false)).await {
        Ok(Ok(h)) => h,
        Ok(Err(e)) => {
            return tracing::error!(trunk = %trunk.name, "trunk not registered: {e}");
        }
        Err(_) => return,
    };
    let via = match (&hop.tls, sh.transport.tls_addr()) {
        (None, _) => sh.via_udp.clone(),
        (Some(_), Some(a)) => LocalVia {
            transport: "TLS".into(),
            port: a.port(),
            ..sh.via_udp.clone()
        },
        (Some(_), None) => {
            return tracing::error!(trunk = %trunk.name, "trunk not registered: no TLS listener");
        }
    };
    let mut reg = Registration::new(&trunk, via);
    let (tx, mut rx) = mpsc::channel::<Response>(16);
    sh.add_outbound_route(reg.call_id(), tx);
    let start = Instant::now();
    let mut pending = reg.poll(Duration::ZERO);
    loop {
        let (send, event) = pending;
        for bytes in send {
            send_to(&sh, &hop, bytes).await;
        }
        if let Some(e) = event {
            report(&sh, &trunk, &e);
        }
        let wake = reg
            .deadline()
            .map_or(start + Duration::from_secs(3600), |d| start + d);
        pending = tokio::select! {
            resp = rx.recv() => match resp {
                Some(r) => reg.on_response(start.elapsed(), &r),
                None => return,
            },
            _ = tokio::time::sleep_until(wake) => reg.poll(start.elapsed()),
        };
    }
}

async fn send_to(sh: &Shared, hop: &Hop, bytes: Vec<u8>) {
    let peer = match &hop.tls {
        None => Some(Peer::Udp(hop.addr)),
        Some(t) => sh.transport.tls_peer(hop.addr, t.connect, &t.name),
    };
    if let Some(p) = peer {
        sh.transport.send(&p, bytes).await;
    }
}

fn report(sh: &Shared, trunk: &Trunk, e: &RegEvent) {
    sh.metrics.trunks.note(&trunk.name, e);
    match e {
        RegEvent::Registered(d) => tracing::info!(
            trunk = %trunk.name,
            expires_s = d.as_secs(),
            "trunk registered"
        ),
        RegEvent::Failed(0) => tracing::error!(
            trunk = %trunk.name,
            proxy = %trunk.proxy,
            "trunk registration failed: no answer (or a challenge we cannot answer); trying \
             again in 30 s"
        ),
        RegEvent::Failed(status) => tracing::error!(
            trunk = %trunk.name,
            proxy = %trunk.proxy,
            status,
            "trunk registration refused (401/403: check [trunks] username and password); \
             trying again in 30 s"
        ),
    }
}
