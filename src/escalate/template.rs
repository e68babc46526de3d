//! Title and label templates: `{subject} ({org}, {severity})`, `customer/{org}`, `team/{team}`.
//! Parsed once when the configuration is read, so a template naming an unknown placeholder is a
//! configuration error with its line, never a surprise when an issue is filed.

use std::fmt;

/// What a template can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placeholder {
    Subject,
    Org,
    Tier,
    Severity,
    /// The priority label mapped from the severity (`p1`).
    Priority,
    /// The engineering team, from the configured ticket field.
    Team,
    /// The product version, from the configured ticket field.
    Version,
    /// The request type, from the configured ticket field.
    RequestType,
    /// The ticket's id.
    Ticket,
}

impl Placeholder {
    pub const ALL: [Placeholder; 9] = [
        Placeholder::Subject,
        Placeholder::Org,
        Placeholder::Tier,
        Placeholder::Severity,
        Placeholder::Priority,
        Placeholder::Team,
        Placeholder::Version,
        Placeholder::RequestType,
        Placeholder::Ticket,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Placeholder::Subject => "subject",
            Placeholder::Org => "org",
            Placeholder::Tier => "tier",
            Placeholder::Severity => "severity",
            Placeholder::Priority => "priority",
            Placeholder::Team => "team",
            Placeholder::Version => "version",
            Placeholder::RequestType => "request_type",
            Placeholder::Ticket => "ticket",
        }
    }

    fn named(name: &str) -> Option<Placeholder> {
        Placeholder::ALL.into_iter().find(|p| p.name() == name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Value(Placeholder),
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    source: String,
    parts: Vec<Part>,
}

impl Template {
    /// Parses `{name}` placeholders; `{{` and `}}` are literal braces.
    pub fn parse(source: &str) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut chars = source.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    text.push('{');
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    text.push('}');
                }
                '{' => {
                    let name: String = chars.by_ref().take_while(|&c| c != '}').collect();
                    let placeholder = Placeholder::named(name.trim()).ok_or_else(|| {
                        let known: Vec<String> = Placeholder::ALL.iter().map(|p| format!("{{{}}}", p.name())).collect();
                        format!("{{{name}}} is not a placeholder; known: {}", known.join(", "))
                    })?;
                    if !text.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut text)));
                    }
                    parts.push(Part::Value(placeholder));
                }
                '}' => return Err("a lone '}': write '}}' for a brace".to_string()),
                c => text.push(c),
            }
        }
        if !text.is_empty() {
            parts.push(Part::Text(text));
        }
        Ok(Template {
            source: source.to_string(),
            parts,
        })
    }

    /// The placeholders it names.
    pub fn placeholders(&self) -> impl Iterator<Item = Placeholder> + '_ {
        self.parts.iter().filter_map(|p| match p {
            Part::Value(v) => Some(*v),
            Part::Text(_) => None,
        })
    }

    /// Fills the template; None when a placeholder it names has no value for this ticket.
    pub fn render(&self, value: impl Fn(Placeholder) -> Option<String>) -> Option<String> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Value(placeholder) => out.push_str(&value(*placeholder)?),
            }
        }
        Some(out)
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_parse_render_and_name_unknown_placeholders() {
        let t = Template::parse("{subject} ({org}, {severity}) {{x}}").unwrap();
        let value = |p: Placeholder| match p {
            Placeholder::Subject => Some("Crash".to_string()),
            Placeholder::Org => Some("Acme".to_string()),
            Placeholder::Severity => Some("sev1".to_string()),
            _ => None,
        };
        assert_eq!(t.render(value).as_deref(), Some("Crash (Acme, sev1) {x}"));
        assert_eq!(Template::parse("team/{team}").unwrap().render(value), None);
        let error = Template::parse("{customer}").unwrap_err();
        assert!(error.starts_with("{customer} is not a placeholder; known: {subject}"), "{error}");
        assert!(Template::parse("a } b").is_err());
    }
}
