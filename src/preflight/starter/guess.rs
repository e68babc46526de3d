//! The guesses `slawatch init` proposes: which ticket dropdown holds the severity (and which
//! of its options is which severity), which organization field holds the deployment (and
//! which of its values is which tier), and which agents are bots. A guess is `sure` only when
//! nothing else in the account competes with it; `init --yes` writes only sure ones.

use std::collections::BTreeMap;

use crate::engine::apply::field_text;
use crate::store::OrganizationRecord;
use crate::zendesk::account::{OrganizationField, TicketField};
use crate::zendesk::models::User;

/// The tiers the starter config defines (the support policy's two).
pub const MANAGED: &str = "managed";
pub const SELF_HOSTED: &str = "self-hosted";

/// A dropdown that may hold the severity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeverityCandidate {
    pub field_id: u64,
    pub title: String,
    pub options: Vec<SeverityOption>,
    /// Nothing competes with it: `--yes` may use it.
    pub sure: bool,
    /// 3: titled like a severity; 2: like a priority, urgency or impact; 0: by its options only.
    title_score: u8,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeverityOption {
    /// The option's tag: what `severity.field_values` maps.
    pub value: String,
    pub name: String,
    /// `sev1`, `sev2`...; None when the option names no severity.
    pub severity: Option<String>,
}

impl SeverityCandidate {
    /// The severities its options map to, most severe first.
    pub fn severities(&self) -> Vec<String> {
        let mut levels: Vec<u32> = self
            .options
            .iter()
            .filter_map(|o| o.severity.as_deref()?.strip_prefix("sev")?.parse().ok())
            .collect();
        levels.sort_unstable();
        levels.dedup();
        levels.into_iter().map(|n| format!("sev{n}")).collect()
    }

    fn mapped(&self) -> usize {
        self.options.iter().filter(|o| o.severity.is_some()).count()
    }
}

/// An organization field that may hold the customer's deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TierCandidate {
    pub key: String,
    pub title: String,
    /// A dropdown (its options are the values) or a text field (the values in use).
    pub dropdown: bool,
    pub values: Vec<TierValue>,
    pub sure: bool,
    title_score: u8,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TierValue {
    pub value: String,
    /// What agents see: the option's name (a text field's value itself).
    pub label: String,
    /// How many organizations hold it.
    pub organizations: usize,
    /// `managed` or `self-hosted`; None when its words name neither.
    pub tier: Option<&'static str>,
}

impl TierCandidate {
    fn mapped(&self) -> usize {
        self.values.iter().filter(|v| v.tier.is_some()).count()
    }
}

/// An agent whose name or e-mail says it is a bot or an integration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bot {
    pub id: u64,
    pub name: String,
    pub email: String,
}

/// Lower-case runs of letters and of digits: "Sev1-High" → sev, 1, high.
fn tokens(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut kind = 0u8;
    for c in text.chars().flat_map(char::to_lowercase) {
        let this = if c.is_alphabetic() {
            1
        } else if c.is_ascii_digit() {
            2
        } else {
            0
        };
        match out.last_mut() {
            Some(last) if this != 0 && this == kind => last.push(c),
            _ if this != 0 => out.push(c.to_string()),
            _ => {}
        }
        kind = this;
    }
    out
}

fn severity_title_score(title: &str) -> u8 {
    let words = tokens(title);
    let has = |w: &[&str]| words.iter().any(|t| w.contains(&t.as_str()));
    if has(&["severity", "sev", "severities"]) {
        3
    } else if has(&["priority", "urgency", "impact", "criticality", "prio"]) {
        2
    } else {
        0
    }
}

/// The number after a severity word: "Severity 2", "sev_2", "P1", "S3", "Level 1".
fn prefixed_number(text: &str) -> Option<u32> {
    const PREFIXES: [&str; 10] = ["severity", "sev", "priority", "prio", "p", "s", "level", "lvl", "urgency", "impact"];
    let words = tokens(text);
    words
        .windows(2)
        .find(|pair| PREFIXES.contains(&pair[0].as_str()) && pair[1].len() <= 2 && pair[1].bytes().all(|b| b.is_ascii_digit()))
        .and_then(|pair| pair[1].parse().ok())
}

/// The first number standing alone: "1 - Critical".
fn lone_number(text: &str) -> Option<u32> {
    tokens(text)
        .iter()
        .find(|t| t.bytes().all(|b| b.is_ascii_digit()))
        .filter(|t| t.len() <= 2)
        .and_then(|t| t.parse().ok())
}

/// How severe a word says an option is: 1 (critical) to 4 (low).
fn word_level(text: &str) -> Option<u32> {
    tokens(text)
        .iter()
        .filter_map(|t| match t.as_str() {
            "critical" | "urgent" | "emergency" | "blocker" | "blocking" | "outage" | "down" | "highest" | "fatal" => Some(1),
            "high" | "major" | "severe" | "serious" => Some(2),
            "normal" | "medium" | "moderate" | "standard" => Some(3),
            "low" | "minor" | "trivial" | "cosmetic" | "lowest" => Some(4),
            _ => None,
        })
        .min()
}

/// Each option's severity: by its number when the options are numbered (a list starting at 0,
/// P0..P3, shifted so that its first is sev1), else by rank of their words (Urgent, High,
/// Normal, Low → sev1..sev4; High, Low → sev1, sev2).
fn map_options(field: &TicketField, title_score: u8) -> (Vec<SeverityOption>, usize) {
    let numbered: Vec<Option<u32>> = field
        .options
        .iter()
        .map(|o| {
            prefixed_number(&o.name).or_else(|| prefixed_number(&o.value)).or_else(|| {
                (title_score > 0)
                    .then(|| lone_number(&o.name).or_else(|| lone_number(&o.value)))
                    .flatten()
            })
        })
        .collect();
    let prefixed = field
        .options
        .iter()
        .filter(|o| prefixed_number(&o.name).or_else(|| prefixed_number(&o.value)).is_some())
        .count();
    let severity: Vec<Option<u32>> = if numbered.iter().any(Option::is_some) {
        let shift = u32::from(numbered.iter().flatten().min() == Some(&0));
        numbered.iter().map(|n| n.map(|n| n + shift)).collect()
    } else {
        let words: Vec<Option<u32>> = field
            .options
            .iter()
            .map(|o| word_level(&o.name).or_else(|| word_level(&o.value)))
            .collect();
        let mut ranks: Vec<u32> = words.iter().flatten().copied().collect();
        ranks.sort_unstable();
        ranks.dedup();
        words
            .iter()
            .map(|w| w.and_then(|w| ranks.iter().position(|r| *r == w)).map(|rank| rank as u32 + 1))
            .collect()
    };
    let options = field
        .options
        .iter()
        .zip(severity)
        .map(|(o, n)| SeverityOption {
            value: o.value.clone(),
            name: o.name.clone(),
            severity: n.map(|n| format!("sev{n}")),
        })
        .collect();
    (options, prefixed)
}

/// The active custom dropdowns that look like a severity, likeliest first.
pub fn severity_candidates(fields: &[TicketField]) -> Vec<SeverityCandidate> {
    let mut out: Vec<SeverityCandidate> = fields
        .iter()
        .filter(|f| f.active && f.field_type == "tagger" && !f.options.is_empty())
        .filter_map(|field| {
            let title_score = severity_title_score(&field.title);
            let (options, prefixed) = map_options(field, title_score);
            let candidate = SeverityCandidate {
                field_id: field.id,
                title: field.title.clone(),
                options,
                sure: false,
                title_score,
            };
            let mapped = candidate.mapped();
            ((title_score > 0 && mapped > 0) || prefixed >= 2).then_some(candidate)
        })
        .collect();
    out.sort_by(|a, b| (b.title_score, b.mapped(), a.field_id).cmp(&(a.title_score, a.mapped(), b.field_id)));
    // Sure: titled like one, two severities told apart, and no other titled as well.
    let rival = out.get(1).map(|c| c.title_score);
    if let Some(first) = out.first_mut() {
        first.sure = first.title_score >= 2 && first.severities().len() >= 2 && rival.is_none_or(|r| r < first.title_score);
    }
    out
}

fn tier_title_score(key: &str, title: &str) -> u8 {
    let words = [tokens(key), tokens(title)].concat();
    let has = |w: &[&str]| words.iter().any(|t| w.contains(&t.as_str()));
    if has(&["deployment", "deploy", "hosting", "hosted", "installation", "instance", "deployed"]) {
        3
    } else if has(&[
        "plan",
        "tier",
        "edition",
        "subscription",
        "environment",
        "offering",
        "license",
        "licence",
    ]) {
        2
    } else {
        0
    }
}

/// The tier a deployment's words name: self-hosted words first ("self-managed" is not managed).
pub fn tier_of(value: &str, label: &str) -> Option<&'static str> {
    let words = [tokens(value), tokens(label)].concat();
    let joined = words.concat();
    let has = |w: &[&str]| words.iter().any(|t| w.contains(&t.as_str()));
    if joined.contains("selfhost")
        || joined.contains("selfmanag")
        || joined.contains("onprem")
        || joined.contains("airgap")
        || joined.contains("customerhost")
        || has(&["self", "premise", "premises", "prem", "server", "datacenter"])
    {
        Some(SELF_HOSTED)
    } else if has(&["managed", "cloud", "hosted", "saas", "dedicated"]) {
        Some(MANAGED)
    } else {
        None
    }
}

/// The active organization fields that look like a deployment, likeliest first.
pub fn tier_candidates(fields: &[OrganizationField], organizations: &[OrganizationRecord]) -> Vec<TierCandidate> {
    let mut out: Vec<TierCandidate> = fields
        .iter()
        .filter(|f| f.active && matches!(f.field_type.as_str(), "dropdown" | "text" | "regexp" | "tagger"))
        .filter_map(|field| {
            let mut in_use: BTreeMap<String, usize> = BTreeMap::new();
            for org in organizations {
                if let Some(value) = field_text(&org.fields, &field.key).filter(|v| !v.trim().is_empty()) {
                    *in_use.entry(value).or_insert(0) += 1;
                }
            }
            let dropdown = !field.options.is_empty();
            let values: Vec<TierValue> = if dropdown {
                field
                    .options
                    .iter()
                    .map(|o| TierValue {
                        value: o.value.clone(),
                        label: o.name.clone(),
                        organizations: in_use.get(&o.value).copied().unwrap_or(0),
                        tier: tier_of(&o.value, &o.name),
                    })
                    .collect()
            } else {
                in_use
                    .iter()
                    .map(|(value, count)| TierValue {
                        value: value.clone(),
                        label: value.clone(),
                        organizations: *count,
                        tier: tier_of(value, ""),
                    })
                    .collect()
            };
            let candidate = TierCandidate {
                key: field.key.clone(),
                title: field.title.clone(),
                dropdown,
                values,
                sure: false,
                title_score: tier_title_score(&field.key, &field.title),
            };
            (candidate.title_score > 0 || candidate.mapped() > 0).then_some(candidate)
        })
        .collect();
    out.sort_by(|a, b| (b.mapped() > 0, b.title_score, b.mapped(), &a.key).cmp(&(a.mapped() > 0, a.title_score, a.mapped(), &b.key)));
    let rival = out.get(1).filter(|c| c.mapped() > 0).map(|c| c.title_score);
    if let Some(first) = out.first_mut() {
        first.sure = first.title_score >= 2 && first.mapped() > 0 && rival.is_none_or(|r| r < first.title_score);
    }
    out
}

/// Organization tags that name a tier outright ("managed", "self_hosted", "on_prem"), with how
/// many organizations carry each.
pub fn tier_tags(organizations: &[OrganizationRecord]) -> Vec<(String, &'static str, usize)> {
    const TIER_WORDS: [&str; 12] = [
        "managed",
        "self",
        "hosted",
        "selfhosted",
        "cloud",
        "saas",
        "on",
        "prem",
        "onprem",
        "premise",
        "premises",
        "server",
    ];
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for org in organizations {
        for tag in &org.tags {
            *counts.entry(tag.as_str()).or_insert(0) += 1;
        }
    }
    counts
        .into_iter()
        .filter(|(tag, _)| {
            let words = tokens(tag);
            !words.is_empty() && words.iter().all(|w| TIER_WORDS.contains(&w.as_str()))
        })
        .filter_map(|(tag, count)| Some((tag.to_string(), tier_of(tag, "")?, count)))
        .collect()
}

/// Agents whose name or e-mail says bot, integration, automation or no-reply: their comments
/// may be what a customer sees first, and must not count as a first response.
pub fn bots(agents: &[User]) -> Vec<Bot> {
    agents
        .iter()
        .filter(|user| {
            let name = user.name.as_deref().unwrap_or_default();
            let email = user.email.as_deref().unwrap_or_default();
            let local = email.split('@').next().unwrap_or_default();
            let words = [tokens(name), tokens(local)].concat();
            let squashed = local.to_lowercase().replace(['-', '_', '.'], "");
            words
                .iter()
                .any(|w| w.ends_with("bot") || w.starts_with("integration") || w.starts_with("automat") || w == "noreply")
                || squashed.contains("noreply")
        })
        .map(|user| Bot {
            id: user.id,
            name: user.name.clone().unwrap_or_default(),
            email: user.email.clone().unwrap_or_default(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zendesk::account::FieldOption;
    use serde_json::{json, Map};

    fn dropdown(id: u64, title: &str, options: &[(&str, &str)]) -> TicketField {
        TicketField {
            id,
            title: title.into(),
            field_type: "tagger".into(),
            active: true,
            options: options
                .iter()
                .map(|(name, value)| FieldOption {
                    name: (*name).into(),
                    value: (*value).into(),
                })
                .collect(),
        }
    }

    fn mapping(c: &SeverityCandidate) -> Vec<(&str, Option<&str>)> {
        c.options.iter().map(|o| (o.value.as_str(), o.severity.as_deref())).collect()
    }

    #[test]
    fn the_severity_dropdown_is_found_among_unrelated_ones_and_mapped_by_number() {
        let fields = [
            dropdown(1, "Version", &[("5.1", "v5_1"), ("5.2", "v5_2")]),
            dropdown(2, "Product area", &[("Search", "search"), ("Batch changes", "batch")]),
            dropdown(
                3,
                "Severity",
                &[
                    ("Severity 1 - Critical", "sev_1"),
                    ("Severity 2", "sev_2"),
                    ("Severity 3", "sev_3"),
                    ("Question", "question"),
                ],
            ),
        ];
        let found = severity_candidates(&fields);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].sure);
        assert_eq!(
            mapping(&found[0]),
            [
                ("sev_1", Some("sev1")),
                ("sev_2", Some("sev2")),
                ("sev_3", Some("sev3")),
                ("question", None)
            ]
        );
        assert_eq!(found[0].severities(), ["sev1", "sev2", "sev3"]);
    }

    #[test]
    fn p0_lists_start_at_sev1_and_words_rank_when_there_are_no_numbers() {
        let p = severity_candidates(&[dropdown(1, "Customer priority", &[("P0", "p0"), ("P1", "p1"), ("P2", "p2")])]);
        assert_eq!(mapping(&p[0]), [("p0", Some("sev1")), ("p1", Some("sev2")), ("p2", Some("sev3"))]);
        let words = severity_candidates(&[dropdown(
            1,
            "Urgency",
            &[("Low", "low"), ("Normal", "normal"), ("High", "high"), ("Urgent", "urgent")],
        )]);
        assert_eq!(
            mapping(&words[0]),
            [
                ("low", Some("sev4")),
                ("normal", Some("sev3")),
                ("high", Some("sev2")),
                ("urgent", Some("sev1"))
            ]
        );
        let two = severity_candidates(&[dropdown(1, "Impact", &[("High", "hi"), ("Low", "lo")])]);
        assert_eq!(mapping(&two[0]), [("hi", Some("sev1")), ("lo", Some("sev2"))]);
    }

    #[test]
    fn a_guess_with_a_rival_or_only_options_to_go_by_is_not_sure() {
        let severity = dropdown(1, "Severity", &[("Sev 1", "s1"), ("Sev 2", "s2")]);
        let legacy = dropdown(2, "Sev (legacy)", &[("Sev 1", "old_1"), ("Sev 2", "old_2")]);
        let found = severity_candidates(&[severity.clone(), legacy]);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].field_id, 1, "more of its options map... or the lower id: {found:?}");
        assert!(!found[0].sure);
        // A priority-titled rival does not make a severity-titled field doubtful.
        let impact = dropdown(3, "Customer impact", &[("High", "high"), ("Low", "low")]);
        assert!(severity_candidates(&[impact, severity.clone()])[0].sure);
        // Untitled, but options such as "P1", "P2": a candidate, never sure.
        let untitled = severity_candidates(&[dropdown(4, "Triage", &[("P1", "p1"), ("P2", "p2")])]);
        assert_eq!(untitled.len(), 1);
        assert!(!untitled[0].sure);
        // Inactive fields and text fields are not candidates; nor a severity field with nothing to map.
        let mut inactive = severity.clone();
        inactive.active = false;
        let mut text = severity;
        text.field_type = "text".into();
        let nothing = dropdown(5, "Severity", &[("Yes", "yes"), ("No", "no")]);
        assert!(severity_candidates(&[inactive, text, nothing]).is_empty());
    }

    fn org(fields: serde_json::Value, tags: &[&str]) -> OrganizationRecord {
        OrganizationRecord {
            id: 1,
            name: "Org".into(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            fields: serde_json::from_value::<Map<String, serde_json::Value>>(fields).unwrap(),
        }
    }

    fn org_field(key: &str, title: &str, field_type: &str, options: &[(&str, &str)]) -> OrganizationField {
        OrganizationField {
            id: 1,
            key: key.into(),
            title: title.into(),
            field_type: field_type.into(),
            active: true,
            options: options
                .iter()
                .map(|(name, value)| FieldOption {
                    name: (*name).into(),
                    value: (*value).into(),
                })
                .collect(),
        }
    }

    #[test]
    fn deployment_words_name_tiers_self_hosted_first() {
        assert_eq!(tier_of("managed", "Managed instance"), Some(MANAGED));
        assert_eq!(tier_of("cloud", ""), Some(MANAGED));
        assert_eq!(tier_of("self_hosted", "Self-hosted"), Some(SELF_HOSTED));
        assert_eq!(tier_of("selfhosted", ""), Some(SELF_HOSTED));
        assert_eq!(tier_of("self_managed", "Self-managed"), Some(SELF_HOSTED));
        assert_eq!(tier_of("on_prem", "On-premises"), Some(SELF_HOSTED));
        assert_eq!(tier_of("server", "Server"), Some(SELF_HOSTED));
        assert_eq!(tier_of("trial", "Trial"), None);
        assert_eq!(tier_of("enterprise", ""), None);
    }

    #[test]
    fn the_deployment_field_wins_over_a_plan_whose_values_name_no_deployment() {
        let fields = [
            org_field("plan", "Plan", "text", &[]),
            org_field(
                "deployment",
                "Deployment",
                "dropdown",
                &[("Cloud", "cloud"), ("Self-hosted server", "server"), ("Trial", "trial")],
            ),
            org_field("region", "Region", "text", &[]),
        ];
        let orgs = [
            org(json!({"plan": "enterprise", "deployment": "cloud", "region": "emea"}), &["managed"]),
            org(json!({"plan": "starter", "deployment": "server"}), &["vip"]),
            org(json!({"plan": "enterprise", "deployment": "server"}), &["self_hosted"]),
        ];
        let found = tier_candidates(&fields, &orgs);
        let keys: Vec<&str> = found.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(keys, ["deployment", "plan"]);
        assert!(found[0].sure && found[0].dropdown);
        let values: Vec<(&str, usize, Option<&str>)> = found[0]
            .values
            .iter()
            .map(|v| (v.value.as_str(), v.organizations, v.tier))
            .collect();
        assert_eq!(
            values,
            [("cloud", 1, Some(MANAGED)), ("server", 2, Some(SELF_HOSTED)), ("trial", 0, None)]
        );
        // A text field's values are those in use.
        assert_eq!(found[1].values.len(), 2);
        assert_eq!(
            tier_tags(&orgs),
            [("managed".to_string(), MANAGED, 1), ("self_hosted".to_string(), SELF_HOSTED, 1)]
        );
    }

    #[test]
    fn two_deployment_fields_leave_the_guess_unsure() {
        let fields = [
            org_field("deployment", "Deployment", "dropdown", &[("Cloud", "cloud")]),
            org_field("hosting", "Hosting", "dropdown", &[("Managed", "managed")]),
        ];
        let found = tier_candidates(&fields, &[]);
        assert_eq!(found.len(), 2);
        assert!(!found[0].sure);
    }

    #[test]
    fn bots_by_name_or_address_but_not_abbott() {
        let user = |id: u64, name: &str, email: &str| User {
            id,
            name: Some(name.into()),
            email: Some(email.into()),
            role: Some("agent".into()),
            organization_id: None,
        };
        let found = bots(&[
            user(1, "Triage Bot", "triage@acme.example"),
            user(2, "Jane Abbott", "jane@acme.example"),
            user(3, "Jira", "jira-integration@acme.example"),
            user(4, "Support", "no-reply@acme.example"),
            user(5, "Flow", "automation@acme.example"),
            user(6, "Helper", "chatbot@acme.example"),
        ]);
        let ids: Vec<u64> = found.iter().map(|b| b.id).collect();
        assert_eq!(ids, [1, 3, 4, 5, 6]);
    }
}
