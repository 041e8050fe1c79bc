//! Line diff between two plan versions (longest common subsequence), for the operator page.

use serde::Serialize;

/// One line of a unified diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiffLine {
    /// `" "` kept, `"-"` only in the old text, `"+"` only in the new.
    pub op: &'static str,
    /// The line.
    pub text: String,
    /// Its 1-based line number in the old text.
    pub old: Option<usize>,
    /// Its 1-based line number in the new text.
    pub new: Option<usize>,
}

/// Texts longer than this (in lines) are compared as wholes: the table below is quadratic.
const MAX_LINES: usize = 4000;

/// The lines of `new` compared with `old`: kept lines, removals before additions at each change.
pub fn diff_lines(old: &str, new: &str) -> Vec<DiffLine> {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    if a.len() > MAX_LINES || b.len() > MAX_LINES {
        return whole_replacement(&a, &b);
    }
    // lcs[i][j]: length of the common subsequence of a[i..] and b[j..].
    let w = b.len() + 1;
    let mut lcs = vec![0u32; (a.len() + 1) * w];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i * w + j] = if a[i] == b[j] {
                lcs[(i + 1) * w + j + 1] + 1
            } else {
                lcs[(i + 1) * w + j].max(lcs[i * w + j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::with_capacity(a.len().max(b.len()));
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            out.push(line(" ", a[i], Some(i), Some(j)));
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[(i + 1) * w + j] >= lcs[i * w + j + 1]) {
            out.push(line("-", a[i], Some(i), None));
            i += 1;
        } else {
            out.push(line("+", b[j], None, Some(j)));
            j += 1;
        }
    }
    out
}

fn line(op: &'static str, text: &str, old: Option<usize>, new: Option<usize>) -> DiffLine {
    DiffLine {
        op,
        text: text.to_string(),
        old: old.map(|i| i + 1),
        new: new.map(|j| j + 1),
    }
}

fn whole_replacement(a: &[&str], b: &[&str]) -> Vec<DiffLine> {
    let removed = a
        .iter()
        .enumerate()
        .map(|(i, t)| line("-", t, Some(i), None));
    let added = b
        .iter()
        .enumerate()
        .map(|(j, t)| line("+", t, None, Some(j)));
    removed.chain(added).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ops(d: &[DiffLine]) -> String {
        d.iter()
            .map(|l| format!("{}{}", l.op, l.text))
            .collect::<Vec<_>>()
            .join("|")
    }

    #[test]
    fn an_added_node_shows_as_added_lines_between_kept_ones() {
        let old = "a\nb\nc\n";
        let new = "a\nb\n[nodes.x]\nsay = \"x\"\nc\n";
        let d = diff_lines(old, new);
        assert_eq!(ops(&d), " a| b|+[nodes.x]|+say = \"x\"| c");
        assert_eq!(d[2].new, Some(3));
        assert_eq!(d[4].old, Some(3));
        assert_eq!(d[4].new, Some(5));
    }

    #[test]
    fn a_changed_line_is_a_removal_then_an_addition() {
        let d = diff_lines("x = 1\ny = 2\n", "x = 1\ny = 3\n");
        assert_eq!(ops(&d), " x = 1|-y = 2|+y = 3");
    }

    #[test]
    fn identical_texts_have_no_changes() {
        let d = diff_lines("a\nb", "a\nb");
        assert!(d.iter().all(|l| l.op == " "));
    }

    #[test]
    fn empty_sides() {
        assert_eq!(ops(&diff_lines("", "a\nb")), "+a|+b");
        assert_eq!(ops(&diff_lines("a", "")), "-a");
    }
}
