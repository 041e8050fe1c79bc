//! What a new call starts with: its engine (plan, wall clock, caller, the operator's
//! "closed now") and the core's fixed facts, read from the server's configuration.

use super::*;

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s.max(0.0))
}

/// The engine for a new call: its plan, the wall clock (hours nodes), who calls (branches may
/// test the From user) and the operator's emergency "closed now".
pub(super) fn new_engine(sh: &Shared, plan: &LoadedPlan, caller: &str) -> engine::Call {
    let mut engine = engine::Call::new(Arc::clone(&plan.program));
    engine.set_wall_clock(now_ms() / 1000);
    if let Some(user) = crate::sip::NameAddr::parse(caller)
        .ok()
        .and_then(|a| a.sip_uri().ok())
        .and_then(|u| u.user)
    {
        engine.set_caller(&user);
    }
    if let Some(why) = sh.plans.switch().closed_now() {
        engine.close_now(&why);
    }
    engine
}

/// The core's fixed facts about a new call, from the server's configuration.
pub(super) fn core_config(
    sh: &Shared,
    id: &str,
    peer: &Peer,
    answer_sdp: String,
    addr: core::MediaAddr,
    request_uri: &str,
    srtp_keys: Option<(crate::sip::sdes::Crypto, crate::sip::sdes::Crypto)>,
) -> core::Config {
    let caller_via = sh.via_for(peer);
    // sip: with the transport, or sips: for a sips: request over TLS (RFC 5630).
    let contact = format!(
        "<{}>",
        crate::server::tls::contact_uri(peer, &caller_via, request_uri)
    );
    let message_max = secs(sh.config.messages.max_seconds);
    let queues = sh
        .config
        .queues
        .iter()
        .map(|(name, q)| {
            let rules = crate::server::handoff::Rules {
                ring_timeout: secs(q.ring_timeout_seconds),
                max_wait: secs(q.max_wait_seconds),
                announce_every: secs(q.announce_every_seconds),
                message_max,
                brief: (q.mode == crate::config::QueueMode::Warm)
                    .then(|| secs(q.brief_timeout_seconds)),
                callback_after: q.offer_callback_after_seconds.map(secs),
            };
            (name.clone(), rules)
        })
        .collect();
    let media = &sh.config.media;
    core::Config {
        call_id: id.to_string(),
        call_url: format!("{}/api/calls/{id}", sh.api_base),
        answer_delay: Duration::from_millis(sh.config.sip.answer_delay_ms),
        caller: core::CallerConfig {
            addr: peer.addr(),
            reliable: peer.reliable(),
            trusted_peers: sh.config.sip.trusted_peers.clone(),
            via: caller_via,
            contact,
            media: addr,
            answer_sdp,
            srtp_keys,
        },
        agent_via: sh.via_udp.clone(),
        agent_via_tls: sh.transport.tls_addr().map(|a| crate::sip::LocalVia {
            transport: "TLS".into(),
            port: a.port(),
            ..sh.via_udp.clone()
        }),
        trunks: std::sync::Arc::clone(&sh.trunks),
        agents: sh
            .config
            .queues
            .values()
            .flat_map(|q| q.agents.iter())
            .filter(|a| !a.contains(':') && !a.contains('@'))
            .cloned()
            .collect(),
        srtp_queues: sh
            .config
            .queues
            .iter()
            .filter(|(_, q)| q.require_srtp)
            .map(|(n, _)| n.clone())
            .collect(),
        callback_numbers: sh
            .config
            .queues
            .iter()
            .map(|(n, q)| (n.clone(), q.callback_numbers.clone()))
            .collect(),
        rtp_timeout: Duration::from_secs_f64(media.rtp_timeout_seconds.max(1.0)),
        agent_rtp_timeout: Duration::from_secs_f64(media.agent_rtp_timeout_seconds.max(1.0)),
        queues,
        message_max,
    }
}
