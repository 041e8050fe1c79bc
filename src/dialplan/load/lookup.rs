//! A `lookup` node: the URL template, method, headers, JSON body, the fields mapped into
//! variables, the timeout, and the failure branch every lookup must have.

use super::{Builder, K};
use crate::dialplan::plan::{Lookup, NodeKind};
use crate::dialplan::raw::RawNode;
use std::time::Duration;
use toml::Spanned;

/// The timeout when a node names none.
const DEFAULT_TIMEOUT: f64 = 3.0;

impl Builder<'_> {
    pub(super) fn lookup_node(&mut self, name: &Spanned<String>, n: &RawNode) -> Option<NodeKind> {
        let at = name.span().start;
        let node = name.get_ref();
        let url = n.lookup.as_ref()?;
        let Some(failure) = &n.failure else {
            self.error(
                at,
                K::LookupWithoutFailure,
                format!("lookup node \"{node}\" has no failure branch"),
                "add failure = \"NODE\": where the caller goes when the endpoint fails, is slow or refuses (a transfer or a question; never a dead end)",
            );
            return None;
        };
        let Some(next) = &n.next else {
            self.error(
                at,
                K::NodeShape,
                format!("lookup node \"{node}\" does not say where to go"),
                "add next = \"NODE\": where the call goes with the fields set",
            );
            return None;
        };
        let u = url.get_ref().trim();
        if !(u.starts_with("http://") || u.starts_with("https://")) {
            self.error(
                url.span().start,
                K::BadValue,
                format!("lookup \"{u}\" is not an http:// or https:// URL"),
                "write the endpoint's URL, e.g. lookup = \"http://127.0.0.1:8080/api/demo/accounts/{account}\"; its prefix must be on [lookups] allow in humanline.toml",
            );
            return None;
        }
        self.var_refs_in(u, url.span().start);
        let method = match n.method.as_ref().map(|m| m.get_ref().to_ascii_uppercase()) {
            None => "GET".to_string(),
            Some(m) if m == "GET" || m == "POST" => m,
            Some(m) => {
                let at = n.method.as_ref().map_or(at, |m| m.span().start);
                self.error(
                    at,
                    K::BadValue,
                    format!("method \"{m}\" is not GET or POST"),
                    "use method = \"GET\" (the default) or \"POST\" (with a body)",
                );
                return None;
            }
        };
        let pairs = |table: &Option<std::collections::BTreeMap<String, Spanned<String>>>| {
            table
                .iter()
                .flatten()
                .map(|(k, v)| (k.clone(), v.get_ref().clone(), v.span().start))
                .collect::<Vec<_>>()
        };
        let headers = pairs(&n.headers);
        let body = pairs(&n.body);
        let fields = pairs(&n.fields);
        for (k, v, at) in headers.iter().chain(&body) {
            if k.contains(['\r', '\n', ':', ' ']) || v.contains(['\r', '\n']) {
                self.error(
                    *at,
                    K::BadValue,
                    format!("\"{k}\" = \"{v}\" cannot be sent"),
                    "names without spaces or colons, values on one line",
                );
                return None;
            }
            if !v.starts_with("secret:") {
                self.var_refs_in(v, *at);
            }
        }
        if fields.is_empty() {
            self.error(
                at,
                K::NodeShape,
                format!("lookup node \"{node}\" maps no fields"),
                "add fields = { balance = \"balance\", tier = \"customer.tier\" }: variable = path in the JSON answer",
            );
            return None;
        }
        self.vars_set
            .extend(fields.iter().map(|(var, _, _)| var.clone()));
        if !body.is_empty() && method != "POST" {
            self.error(
                at,
                K::NodeShape,
                format!("lookup node \"{node}\" has a body but method {method}"),
                "write method = \"POST\" to send a body",
            );
            return None;
        }
        let timeout = match &n.timeout_seconds {
            Some(t) if !(0.5..=30.0).contains(t.get_ref()) => {
                self.error(
                    t.span().start,
                    K::BadValue,
                    format!("timeout_seconds = {} is out of range", t.get_ref()),
                    "use 0.5 to 30 seconds (3 is the default): the caller waits in silence meanwhile",
                );
                return None;
            }
            Some(t) => *t.get_ref(),
            None => DEFAULT_TIMEOUT,
        };
        let next = self.node_ref(next, "next", K::MissingNode);
        let failure = self.node_ref(failure, "failure", K::MissingNode);
        let strip =
            |v: Vec<(String, String, usize)>| v.into_iter().map(|(k, v, _)| (k, v)).collect();
        Some(NodeKind::Lookup(Box::new(Lookup {
            url: u.to_string(),
            method,
            headers: strip(headers),
            body: strip(body),
            fields: strip(fields),
            timeout: Duration::from_secs_f64(timeout),
            next: next?,
            failure: failure?,
        })))
    }

    /// Notes every `{var}` of `template` to check once all nodes are read.
    fn var_refs_in(&mut self, template: &str, at: usize) {
        match crate::text::spoken::placeholders(template) {
            Ok(list) => self.var_refs.extend(list.into_iter().map(|p| (p.var, at))),
            Err(why) => self.error(at, K::BadPlaceholder, why, "write variables as {name}"),
        }
    }
}
