//! Where a key is written in the config file, so that a message about it (a preflight
//! mismatch found long after parsing) can name its line.

/// One step of a key's path: a table key, or a position in an array (of tables).
#[derive(Debug, Clone, Copy)]
pub enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

/// The line (1-based) where `path` is written in `text`, or None when the file leaves it to
/// the defaults (or is not TOML, which parsing would already have refused).
pub fn line(text: &str, path: &[Step]) -> Option<usize> {
    let document = toml_edit::ImDocument::parse(text).ok()?;
    let mut item = document.as_item();
    let mut span = None;
    for step in path {
        item = match *step {
            Step::Key(key) => item.get(key)?,
            Step::Index(index) => item.get(index)?,
        };
        // A table opened by a dotted key or a parent's header has no span of its own: the
        // nearest written ancestor is the best line to name.
        span = item.span().or(span);
    }
    let offset = span?.start;
    Some(text.as_bytes()[..offset.min(text.len())].iter().filter(|&&b| b == b'\n').count() + 1)
}

#[cfg(test)]
mod tests {
    use super::{line, Step};

    const TEXT: &str = r#"[severity]
field_id = 360001
field_values = { severity_1 = "sev1", severity_2 = "sev2" }

[customers]
tier_field = "deployment"

[[notify.routes]]
channels = ["a"]
[[notify.routes]]
groups = [7]
channels = ["b"]
"#;

    #[test]
    fn keys_in_tables_inline_tables_and_arrays_of_tables_are_found() {
        use Step::{Index, Key};
        assert_eq!(line(TEXT, &[Key("severity"), Key("field_id")]), Some(2));
        assert_eq!(line(TEXT, &[Key("severity"), Key("field_values"), Key("severity_2")]), Some(3));
        assert_eq!(line(TEXT, &[Key("customers"), Key("tier_field")]), Some(6));
        assert_eq!(line(TEXT, &[Key("notify"), Key("routes"), Index(1), Key("groups")]), Some(11));
        assert_eq!(line(TEXT, &[Key("report"), Key("type_field")]), None);
        assert_eq!(line("not toml [", &[Key("a")]), None);
    }
}
