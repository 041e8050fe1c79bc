//! HTML embedded in the binary, and the small helpers to fill it in safely.

/// The sign-in form (`{{error}}`, `{{next}}` and `{{name}}` are filled in by [`login_page`]).
const LOGIN: &str = include_str!("pages/login.html");
/// Shown when a signed-in user opens a page of another role.
pub const FORBIDDEN: &str = include_str!("pages/forbidden.html");

/// Escapes text for HTML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// The login form, with an optional error line, the page to go to after, and the name typed.
pub fn login_page(error: Option<&str>, next: &str, name: &str) -> String {
    let error = error
        .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e)))
        .unwrap_or_default();
    LOGIN
        .replace("{{error}}", &error)
        .replace("{{next}}", &escape(next))
        .replace("{{name}}", &escape(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped_into_the_form() {
        let p = login_page(Some("<b>"), "/a\"><script>", "x&y");
        assert!(p.contains("&lt;b&gt;") && p.contains("/a&quot;&gt;&lt;script&gt;"));
        assert!(p.contains("value=\"x&amp;y\""));
        assert!(!p.contains("{{"));
    }
}
