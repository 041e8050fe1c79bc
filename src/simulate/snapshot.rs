//! Where a simulated call stands after the caller's lines so far — for the operator page,
//! which runs the whole script again with each new input: the clock is simulated, so a run
//! repeats exactly, and the page always shows the plan as it is in the editor now.

use super::report::{SimEvent, Summary};
use super::runner::{SimStart, Simulator};
use super::script::ScriptLine;
use crate::engine::Program;
use crate::prompts::PromptCatalog;
use serde::Serialize;
use std::sync::Arc;

/// The state of a simulated call waiting for its caller's next line (or ended).
#[derive(Debug, Clone, Serialize)]
pub struct Snapshot {
    /// Everything that happened, in order.
    pub events: Vec<SimEvent>,
    /// The node the call is at; `None` once it ended.
    pub node: Option<String>,
    /// The hesitation score now.
    pub hesitation_score: f64,
    /// Whether the call ended (a transfer, the plan hung up, or the caller did).
    pub ended: bool,
    /// How it ended, with what an agent would get; `None` while it goes on.
    pub outcome: Option<Summary>,
}

/// Runs `lines` against a new call of `prog` and stops where the call waits for the caller.
pub fn simulate_lines(
    prog: Arc<Program>,
    catalog: PromptCatalog,
    lines: &[ScriptLine],
) -> Snapshot {
    simulate_lines_with(prog, catalog, lines, SimStart::default())
}

/// The same, with the call started as `start` says (a fixed clock for hours nodes, the
/// operator's "closed now", who calls).
pub fn simulate_lines_with(
    prog: Arc<Program>,
    catalog: PromptCatalog,
    lines: &[ScriptLine],
    start: SimStart,
) -> Snapshot {
    let mut sim = Simulator::start_with(prog, catalog, start);
    sim.run_until_waiting();
    for l in lines {
        sim.apply(l);
        sim.run_until_waiting();
    }
    let hesitation_score = (sim.call().hesitation_score() * 1000.0).round() / 1000.0;
    if sim.ended() {
        let report = sim.finish();
        Snapshot {
            events: report.events,
            node: None,
            hesitation_score,
            ended: true,
            outcome: Some(report.summary),
        }
    } else {
        Snapshot {
            events: sim.events().to_vec(),
            node: Some(sim.call().node_name().to_string()),
            hesitation_score,
            ended: false,
            outcome: None,
        }
    }
}
