//! Diagnostics: what is wrong in a dialplan, where, and what to do about it.

use std::fmt;
use std::path::PathBuf;

/// How bad a problem is: errors stop a plan from going live, warnings do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The plan cannot be used.
    Error,
    /// The plan works but probably not as its author meant.
    Warning,
}

/// The kind of problem, for callers (tests, the operator page) that react to kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// Not valid TOML.
    Syntax,
    /// A key the language does not have.
    UnknownKey,
    /// A value of the wrong type.
    WrongType,
    /// A required key is absent.
    MissingKey,
    /// A value out of its allowed range or form.
    BadValue,
    /// `start` names no node.
    MissingStart,
    /// A `next`/`go`/`default`/case names no node.
    MissingNode,
    /// No path from `start` leads to the node.
    Unreachable,
    /// A prompt has no WAV file.
    MissingPrompt,
    /// A prompt file is not 8 kHz mono 16-bit WAV.
    BadPrompt,
    /// Two choices of one node share a DTMF key.
    DuplicateDigit,
    /// A choice uses the zero-out key.
    ZeroOutReused,
    /// The plan tries to switch the zero-out off.
    ZeroOutDisabled,
    /// A choice uses the repeat key, or the repeat key is the zero-out key.
    RepeatKeyReused,
    /// From the start the call can end without ever listening to the caller or offering a person.
    NoHuman,
    /// Nodes that loop without ever waiting for the caller.
    SilentLoop,
    /// A node mixes keys of different node kinds, or has none.
    NodeShape,
    /// A choice captures words that always mean "a human": the engine transfers first.
    ShadowedHumanRequest,
    /// A collect node's keys clash with the zero-out or the repeat key, or leave no way out.
    CollectKey,
    /// A collect prompt does not tell callers how to reach a person inside an entry (`*0`).
    ZeroOutNotAnnounced,
    /// A collect node's pattern is not a valid regular expression.
    BadPattern,
    /// A failure path (of a collect or a lookup) ends the call without a person.
    FailureWithoutHuman,
    /// A prompt's text has a placeholder no node sets, or one that is malformed.
    BadPlaceholder,
    /// A lookup node without a failure branch.
    LookupWithoutFailure,
    /// An hours node names a schedule that has no file.
    MissingSchedule,
    /// A schedule file has a problem (reported at its own file and line).
    BadSchedule,
}

/// One problem in a dialplan file.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Diagnostic {
    /// The file the plan came from (or a label such as `<editor>`).
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column (in characters).
    pub col: usize,
    /// Error or warning.
    pub severity: Severity,
    /// What kind of problem.
    pub kind: ProblemKind,
    /// What is wrong, in words.
    pub message: String,
    /// What to do about it.
    pub hint: String,
    /// The offending source line.
    pub source_line: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        writeln!(
            f,
            "{}:{}:{}: {sev}: {}",
            self.file.display(),
            self.line,
            self.col,
            self.message
        )?;
        if !self.source_line.is_empty() {
            writeln!(f, "{:>5} | {}", self.line, self.source_line)?;
            writeln!(f, "      | {}^", " ".repeat(self.col.saturating_sub(1)))?;
        }
        write!(f, "      = hint: {}", self.hint)
    }
}

/// A dialplan that cannot be used, with every problem found.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", render(.0))]
pub struct DialplanError(pub Vec<Diagnostic>);

fn render(d: &[Diagnostic]) -> String {
    d.iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Maps byte offsets of a source text to 1-based line and column.
#[derive(Debug)]
pub(crate) struct Locator<'a> {
    file: PathBuf,
    src: &'a str,
}

impl<'a> Locator<'a> {
    pub(crate) fn new(file: PathBuf, src: &'a str) -> Self {
        Locator { file, src }
    }

    /// Builds a diagnostic located at byte `offset`.
    pub(crate) fn at(
        &self,
        offset: usize,
        severity: Severity,
        kind: ProblemKind,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Diagnostic {
        let offset = offset.min(self.src.len());
        let before = &self.src[..floor_char_boundary(self.src, offset)];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
        // The CR of a CRLF line end is not a column: an error at the end of a line in a file
        // saved on Windows would put the caret one past the line (found by
        // fuzz_dialplan_mutated_demo_plans).
        let col = before[line_start..].trim_end_matches('\r').chars().count() + 1;
        let source_line = self.src[line_start..]
            .lines()
            .next()
            .unwrap_or("")
            .to_string();
        Diagnostic {
            file: self.file.clone(),
            line,
            col,
            severity,
            kind,
            message: message.into(),
            hint: hint.into(),
            source_line,
        }
    }

    /// Shorthand for an error at `offset`.
    pub(crate) fn error(
        &self,
        offset: usize,
        kind: ProblemKind,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Diagnostic {
        self.at(offset, Severity::Error, kind, message, hint)
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}
