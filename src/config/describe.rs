//! `check-config`: the resolved schedules and policies, as a person reads them.

use std::fmt::Write;
use std::path::Path;

use crate::config::Config;
use crate::sla::calendar::{Schedule, WEEKDAYS};
use crate::sla::policy::{Metric, MetricTargets, Policy, ScheduleId, TargetSpec, Threshold};
use crate::sla::time::civil_from_days;

fn list<T: ToString>(items: &[T]) -> String {
    if items.is_empty() {
        "none".to_string()
    } else {
        items.iter().map(T::to_string).collect::<Vec<_>>().join(", ")
    }
}

fn schedule_line(name: &str, schedule: &Schedule) -> String {
    match schedule {
        Schedule::Calendar => format!("  {name}: calendar clock, every hour of every day\n"),
        Schedule::Business(b) => {
            let h = &b.hours;
            let mut out = format!(
                "  {name}: {} (business hours, {}h a week)\n",
                h.zone.name(),
                h.hours.seconds_per_week() as f64 / 3600.0
            );
            for (i, day) in WEEKDAYS.iter().enumerate() {
                let intervals = h.hours.day(i);
                if !intervals.is_empty() {
                    let _ = writeln!(out, "    {day} {}", list(intervals));
                }
            }
            let mut holidays: Vec<String> = h.holidays.yearly.iter().map(|(m, d)| format!("{m:02}-{d:02} every year")).collect();
            holidays.extend(h.holidays.once.iter().map(|&n| {
                let (y, m, d) = civil_from_days(n);
                format!("{y:04}-{m:02}-{d:02}")
            }));
            let _ = writeln!(out, "    holidays: {}", list(&holidays));
            out
        }
    }
}

fn target_text(policy: &Policy, spec: Option<&TargetSpec>) -> String {
    match spec {
        None => "no target".to_string(),
        Some(spec) => {
            let thresholds: &[Threshold] = spec.thresholds.as_deref().unwrap_or(&policy.thresholds);
            format!("{} (warn at {})", spec.duration, list(thresholds))
        }
    }
}

fn targets_lines(policy: &Policy, out: &mut String, targets: &std::collections::BTreeMap<String, MetricTargets>, schedule: ScheduleId) {
    let _ = writeln!(out, "    clock: {}", policy.schedule_name(schedule));
    for (severity, t) in targets {
        for metric in Metric::ALL {
            let _ = writeln!(out, "    {severity} {metric}: {}", target_text(policy, t.get(metric)));
        }
    }
}

/// The whole resolved configuration.
pub fn describe(config: &Config, path: Option<&Path>) -> String {
    let policy = &config.policy;
    let mut out = String::new();
    let source = path.map_or("built-in defaults".to_string(), |p| p.display().to_string());
    let _ = writeln!(out, "configuration: {source}: valid\n");
    let _ = writeln!(out, "schedules:");
    for s in &policy.schedules {
        out.push_str(&schedule_line(&s.name, &s.schedule));
    }
    let _ = writeln!(
        out,
        "\nseverities: {} (default for unclassified tickets: {})",
        list(&policy.severities),
        policy.default_severity
    );
    let _ = writeln!(out, "\ntiers (default: {}):", policy.default_tier);
    for (name, tier) in &policy.tiers {
        let _ = writeln!(out, "  {name}:");
        targets_lines(policy, &mut out, &tier.targets, tier.schedule);
    }
    if !policy.contracts.is_empty() {
        let _ = writeln!(out, "\ncontracts:");
        for (name, contract) in &policy.contracts {
            let _ = writeln!(out, "  {name} (on tier {}, overriding):", contract.tier);
            let schedule = contract
                .schedule
                .or_else(|| policy.tiers.get(&contract.tier).map(|t| t.schedule))
                .unwrap_or(ScheduleId(0));
            targets_lines(policy, &mut out, &contract.targets, schedule);
        }
    }
    let _ = writeln!(out, "\ngoals:");
    if policy.goals.is_empty() {
        let _ = writeln!(out, "  none");
    }
    for g in &policy.goals {
        let severities = if g.severities.is_empty() {
            "every severity".to_string()
        } else {
            list(&g.severities)
        };
        let tiers = if g.tiers.is_empty() {
            "every tier".to_string()
        } else {
            list(&g.tiers)
        };
        let _ = writeln!(
            out,
            "  {}: {} within {} on {}, {severities}, {tiers}; aim {}% of tickets; warn at {}",
            g.name,
            g.metric,
            g.duration,
            policy.schedule_name(g.schedule),
            g.attainment_percent,
            list(&g.thresholds)
        );
    }
    let fr = &policy.first_response;
    let _ = writeln!(
        out,
        "\nfirst response: a public agent comment of at least {} characters, not by a bot ({}), matching no acknowledgement pattern:",
        fr.min_length,
        list(&fr.bot_user_ids)
    );
    for p in fr.acknowledgements.patterns() {
        let _ = writeln!(out, "  {p}");
    }
    let _ = writeln!(
        out,
        "\npaused while: first response: {}; resolution: {}",
        list(&policy.pause_first_response),
        list(&policy.pause_resolution)
    );
    let reminders = policy
        .reminder_every
        .map_or("none".to_string(), |r| format!("every {r} after a breach"));
    let _ = writeln!(
        out,
        "alerts: warn at {} and at the breach; reminders: {reminders}",
        list(&policy.thresholds)
    );
    out
}

fn map_text(map: &std::collections::BTreeMap<String, String>) -> String {
    if map.is_empty() {
        return "none".to_string();
    }
    map.iter().map(|(k, v)| format!("{k} → {v}")).collect::<Vec<_>>().join(", ")
}

/// Where tickets come from and where they are kept (no secrets: only the variables' names).
pub fn describe_ingest(config: &Config) -> String {
    let mut out = String::new();
    match &config.zendesk {
        None => {
            let _ = writeln!(out, "\nzendesk: not configured (needed by `run`)");
        }
        Some(z) => {
            let auth = match (&z.token_env, &z.oauth_token_env) {
                (Some(var), _) => format!("API token from ${var} as {}", z.email.as_deref().unwrap_or("?")),
                (None, Some(var)) => format!("OAuth token from ${var}"),
                (None, None) => "no credentials".to_string(),
            };
            let _ = writeln!(
                out,
                "\nzendesk: {} ({auth}); poll every {}s, at most {} requests a minute ({} to the exports), pages of {}, first start {}",
                z.base_url,
                z.poll_interval.as_secs(),
                z.requests_per_minute,
                z.export_requests_per_minute,
                z.page_size,
                crate::sla::time::format_rfc3339(z.start_time)
            );
        }
    }
    let s = &config.severity;
    let field = s
        .field_id
        .map_or("no field".to_string(), |id| format!("field {id} ({})", map_text(&s.field_values)));
    let _ = writeln!(
        out,
        "severity from: {field}; tags ({}); priority ({})",
        map_text(&s.tags),
        map_text(&s.priorities)
    );
    let c = &config.customers;
    let tier_field = c.tier_field.as_deref().map_or("no field".to_string(), |f| {
        format!("organization field {f:?} ({})", map_text(&c.tier_values))
    });
    let contract_field = c
        .contract_field
        .as_deref()
        .map_or("no field".to_string(), |f| format!("organization field {f:?}"));
    let _ = writeln!(out, "tier from: {tier_field}; organization tags ({})", map_text(&c.tier_tags));
    let _ = writeln!(
        out,
        "contract from: {contract_field}; organization tags ({})",
        map_text(&c.contract_tags)
    );
    let _ = writeln!(
        out,
        "store: {} (cache {} MiB)",
        config.store.path.display(),
        config.store.cache_bytes >> 20
    );
    let _ = writeln!(out, "admin HTTP: {}", config.admin.listen);
    out.push_str(&describe_escalation(config));
    out.push_str(&describe_report(config));
    out
}

/// The KPI report's reading: zone, fields, regions, targets, and the digest's next firing.
fn describe_report(config: &Config) -> String {
    let r = &config.report;
    let field = |id: Option<u64>| id.map_or("no field".to_string(), |id| format!("field {id}"));
    let regions: Vec<String> = r
        .regions
        .iter()
        .map(|(name, schedule)| format!("{name} = {}", config.policy.schedule_name(*schedule)))
        .collect();
    let t = &r.targets;
    let pct = crate::kpi::format::target_percent;
    let mut out = format!(
        "\nreport: dates in {}; type from {}; product area from {}; regions: {}\n",
        r.time_zone.name(),
        field(r.type_field),
        field(r.product_area_field),
        if regions.is_empty() {
            "none".to_string()
        } else {
            regions.join(", ")
        }
    );
    out.push_str(&format!(
        "  targets: first response {}, resolution {}, {} resolved within a week {}, engineering help at most {}, CSAT {}\n",
        pct(t.first_response),
        pct(t.resolution),
        r.within_week_severity,
        pct(t.sev2_resolved_within_week),
        pct(t.engineering_help_max),
        pct(t.csat)
    ));
    match &r.digest {
        None => out.push_str("  digest: off (no [report.digest] route)\n"),
        Some(d) => {
            let next = crate::kpi::digest::next_firing(&d.cron, d.time_zone, chrono::Utc::now().timestamp())
                .map_or("never".to_string(), |at| crate::notify::wording::local(at, d.time_zone));
            out.push_str(&format!(
                "  digest: cron {:?} in {} to {}; next {next}\n",
                d.cron.source(),
                d.time_zone.name(),
                d.channels.join(", ")
            ));
        }
    }
    out
}

/// The engineering-help rules, resolved (no secrets: only the token variable's name).
fn describe_escalation(config: &Config) -> String {
    let mut out = String::new();
    let Some(e) = &config.escalation else {
        let _ = writeln!(out, "\nescalation: not configured (no GitHub issues are filed)");
        return out;
    };
    let field = |id: Option<u64>| id.map_or("none".to_string(), |id| format!("field {id}"));
    let _ = writeln!(
        out,
        "\nescalation: GitHub at {} (token from ${}); request type {}, team {}, version {}, link {}",
        e.api_url,
        e.token_env,
        field(e.request_type_field),
        field(e.team_field),
        field(e.version_field),
        field(e.link_field)
    );
    let _ = writeln!(
        out,
        "  summary: newest internal note starting {:?} (else the description); filed tag {:?}; told to {}; issues re-read every {}s{}",
        e.summary_marker,
        e.filed_tag,
        e.channel.as_deref().unwrap_or("no channel"),
        e.sync_interval.as_secs(),
        if e.comment_on_solve {
            "; comments once when the ticket is solved"
        } else {
            ""
        }
    );
    let _ = writeln!(out, "  priority labels: {}", map_text(&e.priority_labels));
    if e.rules.is_empty() {
        let _ = writeln!(out, "  no rules: no ticket requests engineering");
    }
    for rule in &e.rules {
        let when: Vec<String> = [
            rule.tag.as_ref().map(|t| format!("tag {t:?}")),
            rule.request_type.as_ref().map(|r| format!("request type {r:?}")),
        ]
        .into_iter()
        .flatten()
        .collect();
        let labels: Vec<String> = rule.labels.iter().map(|l| l.to_string()).collect();
        let _ = writeln!(
            out,
            "  rule {} ({}): when {} → {}: title {:?}, labels [{}]{}",
            rule.name,
            rule.kind.key(),
            when.join(" or "),
            rule.repository,
            rule.title.to_string(),
            labels.join(", "),
            if rule.assignees.is_empty() {
                String::new()
            } else {
                format!(", assignees {}", rule.assignees.join(", "))
            }
        );
    }
    out
}
