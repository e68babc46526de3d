//! Whether a comment links to the documentation: a URL under one of `[report]
//! docs_url_prefixes` (lower case, no trailing slash) anywhere in its text or rich text. Only
//! the answer is kept, never the body.

/// Whether `text` holds a URL under one of `prefixes`. A prefix matches only whole: the
/// character after it must end the address's host or path segment, so
/// `https://docs.example.com` does not match `https://docs.example.com.evil.test` or
/// `https://docs.example.community`.
pub fn links_to_docs(prefixes: &[String], text: &str) -> bool {
    if prefixes.is_empty() || text.is_empty() {
        return false;
    }
    let text = text.to_ascii_lowercase();
    prefixes.iter().any(|prefix| {
        text.match_indices(prefix.as_str()).any(|(at, _)| {
            let rest = &text[at + prefix.len()..];
            let mut chars = rest.chars();
            match chars.next() {
                None => true,
                Some('.') => !chars.next().is_some_and(|c| c.is_ascii_alphanumeric() || c == '-'),
                Some(c) => !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '@' | ':' | '%')),
            }
        })
    })
}

#[cfg(test)]
mod tests {
    use super::links_to_docs;

    fn prefixes() -> Vec<String> {
        vec!["https://docs.sourcegraph.com".into(), "https://sourcegraph.com/docs".into()]
    }

    #[test]
    fn a_link_under_a_prefix_counts_in_text_markdown_and_html() {
        for text in [
            "See https://docs.sourcegraph.com/admin/config for the settings.",
            "See [the docs](https://docs.sourcegraph.com/admin).",
            "<p>See <a href=\"https://sourcegraph.com/docs/admin\">the docs</a></p>",
            "HTTPS://DOCS.SOURCEGRAPH.COM",
            "It is at https://docs.sourcegraph.com.",
            "https://sourcegraph.com/docs?q=ssl",
            "(https://sourcegraph.com/docs)",
        ] {
            assert!(links_to_docs(&prefixes(), text), "{text}");
        }
    }

    #[test]
    fn look_alikes_and_plain_mentions_do_not() {
        for text in [
            "Our docs say so.",
            "https://docs.sourcegraph.com.evil.test/phish",
            "https://docs.sourcegraph.community/",
            "https://sourcegraph.com/docsearch",
            "https://sourcegraph.com/doc",
            "docs.sourcegraph.com/admin",
            "",
        ] {
            assert!(!links_to_docs(&prefixes(), text), "{text}");
        }
        assert!(!links_to_docs(&[], "https://docs.sourcegraph.com"));
    }
}
