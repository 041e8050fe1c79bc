//! What the server stored about a call, read back over its API (`GET /api/calls/{id}` with the
//! service token), and the latencies the bench takes from it, all on the server's call clock:
//! end of an utterance (`utterances[].ended_ms`) → the engine's decision (the `heard` event),
//! the ASR queue wait of each utterance, and escalation decision (`transfer`) → agent INVITE
//! (`agent_dial`).

use crate::common::server::{http_get, Server};
use anyhow::Context;
use serde_json::Value;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The stored record of call `id`, waiting up to `wait` for it to leave the live view.
pub fn call(server: &Server, id: &str, wait: Duration) -> anyhow::Result<Value> {
    let until = Instant::now() + wait;
    loop {
        let v: Value = serde_json::from_str(&http_get(server.http, &format!("/api/calls/{id}"))?)?;
        if v["live"] != true {
            return Ok(v["call"].clone());
        }
        anyhow::ensure!(
            Instant::now() < until,
            "call {id} still live after {wait:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Calls in progress: their SIP Call-ID → the server's call id and whether the call has been
/// handed over (its escalation reason is set from the decision on, whatever the queue's
/// state: queued, ringing, leaving a message).
pub fn live(server: &Server) -> anyhow::Result<HashMap<String, (String, bool)>> {
    let v: Value = serde_json::from_str(&http_get(server.http, "/api/calls")?)?;
    Ok(v["live"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| {
            Some((
                c["sip_call_id"].as_str()?.to_string(),
                (c["id"].as_str()?.to_string(), !c["reason"].is_null()),
            ))
        })
        .collect())
}

/// One recognised utterance.
#[derive(Debug, Clone)]
pub struct Turn {
    /// End of speech → decision (the matching `heard` event), ms; `None` when the engine did
    /// not act on it (the call was already handed over).
    pub decision_ms: Option<f64>,
    /// Time the utterance waited for a recognition worker, ms.
    pub asr_queue_ms: Option<f64>,
    /// The end-of-turn window the turn was heard under (longer for slow and elderly
    /// speakers), ms.
    pub window_ms: Option<f64>,
    /// Whether the turn moved nothing at first and was recognised again through a wider
    /// window before the decision (an `asr_second_look` event between its end and it).
    pub second_look: bool,
}

fn events(call: &Value) -> impl Iterator<Item = &Value> {
    call["events"].as_array().into_iter().flatten()
}

fn at(e: &Value) -> Option<f64> {
    e["at_ms"].as_f64()
}

/// The call's utterances, each paired with the first `heard` event of the same text at or
/// after its end.
pub fn turns(call: &Value) -> Vec<Turn> {
    let heard: Vec<(f64, &str)> = events(call)
        .filter(|e| e["kind"] == "heard")
        .filter_map(|e| Some((at(e)?, e["detail"]["text"].as_str().unwrap_or(""))))
        .collect();
    let second_looks: Vec<f64> = events(call)
        .filter(|e| e["kind"] == "asr_second_look")
        .filter_map(at)
        .collect();
    let mut used = vec![false; heard.len()];
    call["utterances"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|u| {
            let text = u["text"].as_str().unwrap_or("").trim().to_string();
            let ended = u["ended_ms"].as_f64();
            let decided = ended.and_then(|end| {
                let i = (0..heard.len())
                    .find(|&i| !used[i] && heard[i].0 >= end && heard[i].1.trim() == text)?;
                used[i] = true;
                Some((end, heard[i].0))
            });
            Turn {
                decision_ms: decided.map(|(end, at)| at - end),
                asr_queue_ms: u["features"]["asr_queue_ms"].as_f64(),
                window_ms: u["features"]["endpoint_window_ms"].as_f64(),
                second_look: decided
                    .is_some_and(|(end, at)| second_looks.iter().any(|&s| s >= end && s <= at)),
            }
        })
        .collect()
}

/// Utterances that never got a decision because recognition failed (queue full, deadline
/// missed): each is a fault that sends the caller to a person.
pub fn asr_faults(call: &Value) -> usize {
    events(call).filter(|e| e["kind"] == "asr_fault").count()
}

/// An escalation as stored: its reason and how long the INVITE to the agent took.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Escalation {
    /// The `transfer` event's reason (`human_request`, `retries`, `hesitation`, …).
    pub reason: String,
    /// Decision (`transfer`) → first `agent_dial`, ms.
    pub decision_to_dial_ms: f64,
    /// The caller's last input before the decision (`heard`, `digit` or `no_input`) → first
    /// `agent_dial`, ms: includes whatever the server plays between the two.
    pub input_to_dial_ms: Option<f64>,
}

/// The call's first escalation that reached an agent.
pub fn escalation(call: &Value) -> anyhow::Result<Escalation> {
    let all: Vec<&Value> = events(call).collect();
    let t = all
        .iter()
        .position(|e| e["kind"] == "transfer")
        .context("no `transfer` event")?;
    let decided = at(all[t]).context("transfer without a time")?;
    let dialled = all[t..]
        .iter()
        .find(|e| e["kind"] == "agent_dial")
        .and_then(|e| at(e))
        .context("no `agent_dial` after the transfer")?;
    let input = all[..t]
        .iter()
        .rev()
        .find(|e| matches!(e["kind"].as_str(), Some("heard" | "digit" | "no_input")))
        .and_then(|e| at(e));
    Ok(Escalation {
        reason: all[t]["detail"]["reason"]
            .as_str()
            .unwrap_or("?")
            .to_string(),
        decision_to_dial_ms: dialled - decided,
        input_to_dial_ms: input.map(|i| dialled - i),
    })
}
