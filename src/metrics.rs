//! Prometheus metrics: what an operator watches. Lock-free counters, text exposition by hand.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Upper bounds (seconds) of the time-to-human histogram buckets.
const TTH_BUCKETS: [f64; 10] = [0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];
use crate::engine::Reason;

/// All counters of one server.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Calls in progress.
    pub active_calls: AtomicU64,
    /// Calls answered since start.
    pub calls_total: AtomicU64,
    /// INVITEs refused with 503 (over the limit).
    pub calls_rejected_total: AtomicU64,
    escalations: [AtomicU64; Reason::ALL.len()],
    tth_buckets: [AtomicU64; 10],
    tth_count: AtomicU64,
    tth_sum_ms: AtomicU64,
    /// RTP packets sent.
    pub rtp_sent_total: AtomicU64,
    /// RTP packets received.
    pub rtp_received_total: AtomicU64,
    /// Received packets that arrived too late to play.
    pub rtp_late_total: AtomicU64,
    /// Received packets never seen (sequence gaps).
    pub rtp_lost_total: AtomicU64,
    /// Sending ticks that ran more than 10 ms late.
    pub rtp_send_late_total: AtomicU64,
    /// Sending ticks (one per call every 20 ms).
    pub rtp_send_ticks_total: AtomicU64,
    /// 1 while new calls are refused because the media loop runs late.
    pub overloaded: AtomicU64,
    /// Call records the store refused so far and that wait to be written again.
    pub records_unsaved: AtomicU64,
    /// SIP messages that could not be parsed.
    pub sip_malformed_total: AtomicU64,
    /// SIP messages dropped unread because their source sent too many.
    pub sip_flood_dropped_total: AtomicU64,
    /// Open HTTP connections (WebSockets leave the count once upgraded).
    pub http_connections: AtomicU64,
    /// HTTP connections closed unread because their address or the server had too many.
    pub http_connections_refused_total: AtomicU64,
    /// Requests on a call's Call-ID that were not the caller's (wrong tags or source): 481.
    pub sip_dialog_mismatch_total: AtomicU64,
    /// RTP packets refused: not from the leg's peer (strict source).
    pub rtp_strangers_total: AtomicU64,
    /// Passwords checked (argon2) for logins.
    pub logins_checked_total: AtomicU64,
    /// Open SIP connections over TCP.
    pub sip_tcp_connections: AtomicU64,
    /// SIP TCP connections closed unread (over a cap) or closed idle or too slow.
    pub sip_tcp_closed_total: AtomicU64,
    /// SIP-over-TLS connections whose handshake failed or did not finish in time.
    pub sip_tls_handshake_failures_total: AtomicU64,
    /// SRTP packets dropped: failed authentication, replayed, or too short.
    pub srtp_rejected_total: AtomicU64,
    /// Trunks' outbound registrations (`humanline_trunk_registered`).
    pub trunks: crate::trunk::register::Health,
    /// Utterances sent to the recognizer.
    pub asr_jobs_total: AtomicU64,
    /// Utterances that could not be recognised (no model, overload, deadline, error).
    pub asr_failures_total: AtomicU64,
    /// Early looks at an utterance still under way (checkpoints sent to an idle recognizer).
    pub asr_checkpoints_total: AtomicU64,
    /// Turns whose end needed no recognition of its own: a checkpoint had heard it all.
    pub asr_checkpoint_reused_total: AtomicU64,
    /// Turns that moved nothing, recognised again through a wider window (second looks).
    pub asr_second_looks_total: AtomicU64,
    /// Second looks stopped because a finished turn needed the worker.
    pub asr_second_looks_preempted_total: AtomicU64,
    /// Requests for a person acted on before the caller finished speaking.
    pub early_human_requests_total: AtomicU64,
}

impl Metrics {
    /// Counts an escalation by reason name and the time from call start to the hand-off.
    pub fn escalated(&self, reason: Option<Reason>, seconds: f64) {
        if let Some(r) = reason {
            self.escalations[r.index()].fetch_add(1, Relaxed);
        }
        for (i, le) in TTH_BUCKETS.iter().enumerate() {
            if seconds <= *le {
                self.tth_buckets[i].fetch_add(1, Relaxed);
            }
        }
        self.tth_count.fetch_add(1, Relaxed);
        self.tth_sum_ms
            .fetch_add((seconds * 1000.0) as u64, Relaxed);
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut o = String::new();
        let mut one = |name: &str, kind: &str, help: &str, v: &AtomicU64| {
            let _ = writeln!(
                o,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {}",
                v.load(Relaxed)
            );
        };
        one(
            "humanline_active_calls",
            "gauge",
            "Calls in progress.",
            &self.active_calls,
        );
        one(
            "humanline_calls_total",
            "counter",
            "Calls answered.",
            &self.calls_total,
        );
        one(
            "humanline_calls_rejected_total",
            "counter",
            "INVITEs refused with 503.",
            &self.calls_rejected_total,
        );
        one(
            "humanline_rtp_packets_sent_total",
            "counter",
            "RTP packets sent.",
            &self.rtp_sent_total,
        );
        one(
            "humanline_rtp_packets_received_total",
            "counter",
            "RTP packets received.",
            &self.rtp_received_total,
        );
        one(
            "humanline_rtp_packets_late_total",
            "counter",
            "Received RTP packets too late to play.",
            &self.rtp_late_total,
        );
        one(
            "humanline_rtp_packets_lost_total",
            "counter",
            "Received RTP packets missing.",
            &self.rtp_lost_total,
        );
        one(
            "humanline_rtp_send_late_total",
            "counter",
            "20 ms send ticks more than 10 ms late.",
            &self.rtp_send_late_total,
        );
        one(
            "humanline_rtp_send_ticks_total",
            "counter",
            "20 ms send ticks (one per call).",
            &self.rtp_send_ticks_total,
        );
        one(
            "humanline_overloaded",
            "gauge",
            "1 while new calls get 503 because the media loop runs late.",
            &self.overloaded,
        );
        one(
            "humanline_records_unsaved",
            "gauge",
            "Call records the database refused (locked, disk full), waiting to be written again.",
            &self.records_unsaved,
        );
        one(
            "humanline_sip_malformed_total",
            "counter",
            "SIP messages that could not be parsed.",
            &self.sip_malformed_total,
        );
        one(
            "humanline_sip_flood_dropped_total",
            "counter",
            "SIP messages dropped unread: their source sent more than [sip] flood_messages_per_second.",
            &self.sip_flood_dropped_total,
        );
        one(
            "humanline_http_connections",
            "gauge",
            "Open HTTP connections.",
            &self.http_connections,
        );
        one(
            "humanline_http_connections_refused_total",
            "counter",
            "HTTP connections closed unread: over [http] max_connections or max_connections_per_ip.",
            &self.http_connections_refused_total,
        );
        one(
            "humanline_sip_dialog_mismatch_total",
            "counter",
            "Requests on a call's Call-ID whose tags or source were not the caller's, answered 481.",
            &self.sip_dialog_mismatch_total,
        );
        one(
            "humanline_rtp_strangers_total",
            "counter",
            "RTP packets refused: not from the leg's peer (another address, or another port once the peer's is known).",
            &self.rtp_strangers_total,
        );
        one(
            "humanline_logins_checked_total",
            "counter",
            "Passwords checked for logins (attempts over the rate limit are refused before).",
            &self.logins_checked_total,
        );
        one(
            "humanline_sip_tcp_connections",
            "gauge",
            "Open SIP connections over TCP.",
            &self.sip_tcp_connections,
        );
        one(
            "humanline_sip_tcp_closed_total",
            "counter",
            "SIP TCP connections the server closed: over [sip] tcp_max_connections or tcp_max_connections_per_ip, idle, or a message too slow to arrive.",
            &self.sip_tcp_closed_total,
        );
        one(
            "humanline_sip_tls_handshake_failures_total",
            "counter",
            "SIP-over-TLS connections closed because the TLS handshake failed or took longer than [sip] tcp_message_timeout_seconds.",
            &self.sip_tls_handshake_failures_total,
        );
        one(
            "humanline_srtp_rejected_total",
            "counter",
            "SRTP packets dropped: authentication failed, a replay, or too short to carry a tag.",
            &self.srtp_rejected_total,
        );
        one(
            "humanline_asr_jobs_total",
            "counter",
            "Utterances sent to the recognizer.",
            &self.asr_jobs_total,
        );
        one(
            "humanline_asr_failures_total",
            "counter",
            "Utterances that could not be recognised.",
            &self.asr_failures_total,
        );
        one(
            "humanline_asr_checkpoints_total",
            "counter",
            "Early recognitions of an utterance still under way (at short pauses).",
            &self.asr_checkpoints_total,
        );
        one(
            "humanline_asr_second_looks_total",
            "counter",
            "Turns that moved nothing, recognised again through the full encoder window.",
            &self.asr_second_looks_total,
        );
        one(
            "humanline_asr_second_looks_preempted_total",
            "counter",
            "Second looks stopped because a finished turn needed the recognition worker.",
            &self.asr_second_looks_preempted_total,
        );
        one(
            "humanline_asr_checkpoint_reused_total",
            "counter",
            "Turns whose text came from a checkpoint that had heard all of it.",
            &self.asr_checkpoint_reused_total,
        );
        one(
            "humanline_early_human_requests_total",
            "counter",
            "Requests for a person acted on before the caller stopped speaking.",
            &self.early_human_requests_total,
        );
        let _ = writeln!(o, "# HELP humanline_escalations_total Hand-offs to a person, by reason.\n# TYPE humanline_escalations_total counter");
        for (r, c) in Reason::ALL
            .iter()
            .map(|r| r.as_str())
            .zip(&self.escalations)
        {
            let _ = writeln!(
                o,
                "humanline_escalations_total{{reason=\"{r}\"}} {}",
                c.load(Relaxed)
            );
        }
        let _ = writeln!(o, "# HELP humanline_time_to_human_seconds Call start to hand-off.\n# TYPE humanline_time_to_human_seconds histogram");
        for (le, c) in TTH_BUCKETS.iter().zip(&self.tth_buckets) {
            let _ = writeln!(
                o,
                "humanline_time_to_human_seconds_bucket{{le=\"{le}\"}} {}",
                c.load(Relaxed)
            );
        }
        let n = self.tth_count.load(Relaxed);
        let _ = writeln!(
            o,
            "humanline_time_to_human_seconds_bucket{{le=\"+Inf\"}} {n}"
        );
        let _ = writeln!(
            o,
            "humanline_time_to_human_seconds_sum {}",
            self.tth_sum_ms.load(Relaxed) as f64 / 1000.0
        );
        let _ = writeln!(o, "humanline_time_to_human_seconds_count {n}");
        self.trunks.render(&mut o);
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_a_cumulative_histogram() {
        let m = Metrics::default();
        m.escalated(Some(Reason::ZeroOut), 0.3);
        m.escalated(Some(Reason::Hesitation), 20.0);
        let t = m.render();
        assert!(t.contains("humanline_escalations_total{reason=\"zero_out\"} 1"));
        assert!(t.contains("humanline_time_to_human_seconds_bucket{le=\"0.5\"} 1"));
        assert!(t.contains("humanline_time_to_human_seconds_bucket{le=\"30\"} 2"));
        assert!(t.contains("humanline_time_to_human_seconds_count 2"));
    }
}
