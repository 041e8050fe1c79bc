//! Whole-plan checks on the node graph: reachability, loops that never wait, and calls that end
//! before the caller was ever listened to.

use super::plan::{Node, NodeId, NodeKind};

/// A problem found on the graph, located at a node.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum GraphProblem {
    /// No path from the start reaches this node.
    Unreachable(NodeId),
    /// These nodes form a loop with no node that waits for the caller; the first closes it.
    SilentLoop(Vec<NodeId>),
    /// From the start the call reaches this hang-up along this path without ever listening or
    /// transferring: the caller has no way to a person.
    NoHuman(Vec<NodeId>),
    /// The failure path of this node (a collect or a lookup) reaches a hang-up along this path
    /// without ever listening or transferring.
    FailureWithoutHuman {
        /// The node whose failure path it is.
        node: NodeId,
        /// From the failure target to the hang-up.
        path: Vec<NodeId>,
    },
}

/// Runs every graph check.
pub(crate) fn check(nodes: &[Node], start: NodeId) -> Vec<GraphProblem> {
    let mut out = Vec::new();
    let reached = reachable(nodes, start);
    out.extend(
        (0..nodes.len())
            .filter(|&i| !reached[i])
            .map(|i| GraphProblem::Unreachable(NodeId(i))),
    );
    out.extend(
        silent_loops(nodes)
            .into_iter()
            .map(GraphProblem::SilentLoop),
    );
    if let Some(path) = silent_path_to_hangup(nodes, start) {
        out.push(GraphProblem::NoHuman(path));
    }
    for (i, n) in nodes.iter().enumerate() {
        let failure = match &n.kind {
            NodeKind::Collect(c) => c.failure,
            NodeKind::Lookup(l) => Some(l.failure),
            _ => None,
        };
        if let Some(path) = failure.and_then(|f| silent_path_to_hangup(nodes, f)) {
            out.push(GraphProblem::FailureWithoutHuman {
                node: NodeId(i),
                path,
            });
        }
    }
    out
}

fn reachable(nodes: &[Node], start: NodeId) -> Vec<bool> {
    let mut seen = vec![false; nodes.len()];
    let mut stack = vec![start];
    while let Some(id) = stack.pop() {
        if std::mem::replace(&mut seen[id.0], true) {
            continue;
        }
        stack.extend(nodes[id.0].kind.successors());
    }
    seen
}

/// Edges that the call follows without waiting for the caller.
fn passive_successors(node: &Node) -> Vec<NodeId> {
    match node.kind {
        NodeKind::Say { .. }
        | NodeKind::Branch { .. }
        | NodeKind::Hours { .. }
        | NodeKind::Language { .. } => node.kind.successors(),
        _ => Vec::new(),
    }
}

/// Cycles in the graph of passive edges (depth-first search, colouring nodes).
fn silent_loops(nodes: &[Node]) -> Vec<Vec<NodeId>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Colour {
        White,
        Grey,
        Black,
    }
    let mut colour = vec![Colour::White; nodes.len()];
    let mut loops = Vec::new();
    for root in 0..nodes.len() {
        if colour[root] != Colour::White {
            continue;
        }
        // Iterative DFS: (node, index of the next successor to visit); `path` mirrors the stack.
        let mut stack = vec![(NodeId(root), 0usize)];
        colour[root] = Colour::Grey;
        while let Some((id, next)) = stack.last().copied() {
            let succ = passive_successors(&nodes[id.0]);
            if next < succ.len() {
                if let Some(top) = stack.last_mut() {
                    top.1 += 1;
                }
                let s = succ[next];
                match colour[s.0] {
                    Colour::White => {
                        colour[s.0] = Colour::Grey;
                        stack.push((s, 0));
                    }
                    Colour::Grey => {
                        let from = stack.iter().position(|(n, _)| *n == s).unwrap_or(0);
                        let mut cycle: Vec<NodeId> =
                            stack[from..].iter().map(|(n, _)| *n).collect();
                        // Report at the node whose edge closes the loop.
                        cycle.rotate_right(1);
                        loops.push(cycle);
                    }
                    Colour::Black => {}
                }
            } else {
                colour[id.0] = Colour::Black;
                stack.pop();
            }
        }
    }
    loops
}

/// A path of passive nodes from the start to a hang-up, if there is one (breadth-first, so the
/// shortest such path is shown).
fn silent_path_to_hangup(nodes: &[Node], start: NodeId) -> Option<Vec<NodeId>> {
    let mut parent: Vec<Option<NodeId>> = vec![None; nodes.len()];
    let mut seen = vec![false; nodes.len()];
    let mut queue = std::collections::VecDeque::from([start]);
    seen[start.0] = true;
    while let Some(id) = queue.pop_front() {
        if matches!(nodes[id.0].kind, NodeKind::Hangup { .. }) {
            let mut path = vec![id];
            let mut cur = id;
            while let Some(p) = parent[cur.0] {
                path.push(p);
                cur = p;
            }
            path.reverse();
            return Some(path);
        }
        for s in passive_successors(&nodes[id.0]) {
            if !std::mem::replace(&mut seen[s.0], true) {
                parent[s.0] = Some(id);
                queue.push_back(s);
            }
        }
    }
    None
}
