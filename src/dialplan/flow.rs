//! The flow graph of a plan as the operator page draws it: the plan's own nodes and edges, plus
//! the edges every plan has whatever its author wrote — the zero-out from every node and the
//! escalations (a request for a person, hesitation, retries, faults) from every question.

use super::plan::{Dialplan, NodeKind};
use serde::Serialize;

/// Nodes and edges, with the start node's id.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlowGraph {
    /// Where every call begins.
    pub start: String,
    /// The plan's nodes, then one `queue` node per queue reached.
    pub nodes: Vec<FlowNode>,
    /// Every way from one node to another.
    pub edges: Vec<FlowEdge>,
}

/// One box of the graph.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlowNode {
    /// The node's name, or `queue:NAME` for a queue of people.
    pub id: String,
    /// `say`, `ask`, `branch`, `collect`, `hours`, `language`, `lookup`, `transfer`, `hangup`
    /// or `queue`.
    pub kind: &'static str,
    /// What to print in the box.
    pub label: String,
    /// The prompt the node plays first, if any.
    pub prompt: Option<String>,
    /// The 1-based line of `[nodes.NAME]` in the source.
    pub line: Option<usize>,
}

/// One arrow.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlowEdge {
    /// From this node id.
    pub from: String,
    /// To this node id.
    pub to: String,
    /// `next`, `choice`, `case`, `default`, `collected`, `found`, `failure`, `open`, `closed`,
    /// `holiday`, `transfer`, `zero_out` or `escalation`.
    pub kind: &'static str,
    /// What takes the call along it (`1 · billing, invoice`).
    pub label: String,
}

/// Choice words shown on an edge before "…".
const WORDS_SHOWN: usize = 3;

/// The flow graph of `plan`.
pub fn flow_graph(plan: &Dialplan) -> FlowGraph {
    let mut nodes = Vec::with_capacity(plan.nodes.len() + 2);
    let mut edges = Vec::new();
    let mut queues: Vec<String> = vec![plan.escalation.queue.clone()];
    let escalation_queue = queue_id(&plan.escalation.queue);
    let name = |id: super::plan::NodeId| plan.node(id).name.clone();
    for n in &plan.nodes {
        let (kind, prompt) = match &n.kind {
            NodeKind::Say { prompt, .. } => ("say", prompt.clone()),
            NodeKind::Ask { prompt, .. } => ("ask", Some(prompt.clone())),
            NodeKind::Branch { .. } => ("branch", None),
            NodeKind::Transfer { prompt, .. } => ("transfer", prompt.clone()),
            NodeKind::Hangup { prompt } => ("hangup", prompt.clone()),
            NodeKind::Collect(c) => ("collect", Some(c.prompt.clone())),
            NodeKind::Hours { .. } => ("hours", None),
            NodeKind::Language { prompt, .. } => ("language", prompt.clone()),
            NodeKind::Lookup(_) => ("lookup", None),
        };
        nodes.push(FlowNode {
            id: n.name.clone(),
            kind,
            label: n.name.clone(),
            prompt,
            line: node_line(&plan.source, &n.name),
        });
        let mut edge = |to: String, kind: &'static str, label: String| {
            edges.push(FlowEdge {
                from: n.name.clone(),
                to,
                kind,
                label,
            })
        };
        match &n.kind {
            NodeKind::Say { next, .. } => edge(name(*next), "next", String::new()),
            NodeKind::Language { next, language, .. } => {
                edge(name(*next), "next", format!("in {}", language.code()))
            }
            NodeKind::Ask { choices, .. } => {
                for c in choices {
                    edge(name(c.go), "choice", choice_label(c.dtmf, &c.words));
                }
            }
            NodeKind::Branch {
                var,
                cases,
                default,
            } => {
                for (value, to) in cases {
                    edge(name(*to), "case", format!("{var} = {value}"));
                }
                edge(name(*default), "default", "otherwise".into());
            }
            NodeKind::Transfer { queue, .. } => {
                if !queues.contains(queue) {
                    queues.push(queue.clone());
                }
                edge(queue_id(queue), "transfer", String::new());
            }
            NodeKind::Hangup { .. } => {}
            NodeKind::Lookup(l) => {
                let vars: Vec<&str> = l.fields.iter().map(|(v, _)| v.as_str()).collect();
                edge(name(l.next), "found", vars.join(", "));
                edge(
                    name(l.failure),
                    "failure",
                    "error · timeout · refused".into(),
                );
            }
            NodeKind::Hours {
                schedule,
                open,
                closed,
                holiday,
            } => {
                edge(name(*open), "open", format!("open ({schedule})"));
                edge(name(*closed), "closed", "closed · closed now".into());
                edge(
                    name(holiday.unwrap_or(*closed)),
                    "holiday",
                    "a holiday".into(),
                );
            }
            NodeKind::Collect(c) => {
                let len = if c.min_digits == c.max_digits {
                    format!("{} digits", c.min_digits)
                } else {
                    format!("{}-{} digits", c.min_digits, c.max_digits)
                };
                edge(name(c.next), "collected", format!("{} ({len})", c.var));
                match c.failure {
                    Some(f) => edge(name(f), "failure", "tries ran out".into()),
                    None => edge(escalation_queue.clone(), "failure", "tries ran out".into()),
                }
            }
        }
        let zero_out = plan.escalation.zero_out;
        let zero_label = match &n.kind {
            // Digits are keyed here: the zero-out is the repeat key, then the zero-out key.
            NodeKind::Collect(_) if zero_out.is_ascii_digit() => {
                format!("{}{zero_out} (zero-out)", plan.repeat_key)
            }
            _ => format!("{zero_out} (zero-out)"),
        };
        edge(escalation_queue.clone(), "zero_out", zero_label);
        if matches!(n.kind, NodeKind::Lookup(_)) {
            edge(
                escalation_queue.clone(),
                "escalation",
                "asks for a person".into(),
            );
        }
        if n.kind.listens() {
            edge(
                escalation_queue.clone(),
                "escalation",
                "asks for a person · hesitates · retries · fault".into(),
            );
        }
    }
    nodes.extend(queues.iter().map(|q| FlowNode {
        id: queue_id(q),
        kind: "queue",
        label: format!("a person ({q})"),
        prompt: None,
        line: None,
    }));
    FlowGraph {
        start: plan.node(plan.start).name.clone(),
        nodes,
        edges,
    }
}

fn queue_id(queue: &str) -> String {
    format!("queue:{queue}")
}

fn choice_label(dtmf: Option<char>, words: &[String]) -> String {
    let mut parts: Vec<String> = dtmf.map(|d| d.to_string()).into_iter().collect();
    if !words.is_empty() {
        let mut w = words
            .iter()
            .take(WORDS_SHOWN)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        if words.len() > WORDS_SHOWN {
            w.push_str(", …");
        }
        parts.push(w);
    }
    parts.join(" · ")
}

/// The line of `[nodes.NAME]` (or `[nodes."NAME"]`) in the source.
fn node_line(source: &str, name: &str) -> Option<usize> {
    let bare = format!("[nodes.{name}]");
    let quoted = format!("[nodes.\"{name}\"]");
    source
        .lines()
        .position(|l| {
            let t: String = l
                .split('#')
                .next()
                .unwrap_or("")
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            t == bare || t == quoted
        })
        .map(|i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialplan::{load_str, LoadOptions};
    use std::path::Path;

    const PLAN: &str = r#"
name = "t"
language = "en"
start = "menu"

[escalation]
queue = "support"

[nodes.menu]
ask = "main_menu"
choices = [
  { dtmf = "1", words = ["billing", "invoice", "bill", "payment"], go = "billing" },
  { dtmf = "2", go = "bye" },
]

[nodes.billing]
say = "transfer_billing"
transfer = "billing"

[nodes.bye]
say = "goodbye"
hangup = true
"#;

    fn graph() -> FlowGraph {
        let opts = LoadOptions {
            prompts_dir: None,
            skip_prompt_files: true,
        };
        let loaded = load_str(PLAN, Path::new("t.toml"), &opts).expect("valid plan");
        flow_graph(&loaded.plan)
    }

    #[test]
    fn nodes_carry_their_kind_prompt_and_line() {
        let g = graph();
        assert_eq!(g.start, "menu");
        let menu = g.nodes.iter().find(|n| n.id == "menu").unwrap();
        assert_eq!(
            (menu.kind, menu.prompt.as_deref(), menu.line),
            ("ask", Some("main_menu"), Some(9))
        );
        // The plan's nodes in its own (alphabetical) order, then the queues reached.
        let ids: Vec<&str> = g.nodes.iter().map(|n| n.id.as_str()).collect();
        assert_eq!(
            ids,
            ["billing", "bye", "menu", "queue:support", "queue:billing"]
        );
    }

    #[test]
    fn choices_are_labelled_with_key_and_first_words() {
        let g = graph();
        let to_billing = g
            .edges
            .iter()
            .find(|e| e.kind == "choice" && e.to == "billing")
            .unwrap();
        assert_eq!(to_billing.label, "1 · billing, invoice, bill, …");
        assert!(g
            .edges
            .iter()
            .any(|e| e.kind == "transfer" && e.from == "billing" && e.to == "queue:billing"));
    }

    #[test]
    fn every_node_has_the_zero_out_and_questions_the_escalation() {
        let g = graph();
        for n in ["menu", "billing", "bye"] {
            assert!(
                g.edges
                    .iter()
                    .any(|e| e.from == n && e.kind == "zero_out" && e.to == "queue:support"),
                "{n} has no zero-out edge"
            );
        }
        let esc: Vec<&str> = g
            .edges
            .iter()
            .filter(|e| e.kind == "escalation")
            .map(|e| e.from.as_str())
            .collect();
        assert_eq!(esc, ["menu"]);
    }

    #[test]
    fn a_collect_node_shows_its_variable_its_failure_and_its_star_zero() {
        let src = PLAN.replace("go = \"billing\" }", "go = \"account\" }")
            + "\n[nodes.account]\ncollect = \"account_ask\"\nvar = \"account\"\nmin_digits = 8\nmax_digits = 8\nnext = \"billing\"\n";
        let opts = LoadOptions {
            prompts_dir: None,
            skip_prompt_files: true,
        };
        let g = flow_graph(&load_str(&src, Path::new("t.toml"), &opts).unwrap().plan);
        let node = g.nodes.iter().find(|n| n.id == "account").unwrap();
        assert_eq!(node.kind, "collect");
        let edge = |kind: &str| {
            g.edges
                .iter()
                .find(|e| e.from == "account" && e.kind == kind)
                .map(|e| (e.to.as_str(), e.label.as_str()))
        };
        assert_eq!(edge("collected"), Some(("billing", "account (8 digits)")));
        assert_eq!(edge("failure"), Some(("queue:support", "tries ran out")));
        assert_eq!(edge("zero_out"), Some(("queue:support", "*0 (zero-out)")));
        assert!(
            edge("escalation").is_some(),
            "a person can be asked for here too"
        );
    }

    #[test]
    fn a_lookup_shows_its_fields_and_failure_and_reaches_a_person_on_request() {
        let src = PLAN.replace("go = \"billing\" }", "go = \"find\" }")
            + "\n[nodes.find]\nlookup = \"http://127.0.0.1:8080/api/demo/accounts/{caller}\"\nfields = { tier = \"customer.tier\" }\nnext = \"billing\"\nfailure = \"billing\"\n";
        let opts = LoadOptions {
            prompts_dir: None,
            skip_prompt_files: true,
        };
        let g = flow_graph(&load_str(&src, Path::new("t.toml"), &opts).unwrap().plan);
        let kinds: Vec<(&str, &str, &str)> = g
            .edges
            .iter()
            .filter(|e| e.from == "find")
            .map(|e| (e.kind, e.to.as_str(), e.label.as_str()))
            .collect();
        assert!(kinds.contains(&("found", "billing", "tier")), "{kinds:?}");
        assert!(kinds.contains(&("failure", "billing", "error · timeout · refused")));
        assert!(kinds.contains(&("escalation", "queue:support", "asks for a person")));
        assert_eq!(
            g.nodes.iter().find(|n| n.id == "find").map(|n| n.kind),
            Some("lookup")
        );
    }
}
