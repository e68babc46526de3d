//! `slawatch init`'s config: what a live account holds (a `Snapshot`), turned into a commented
//! starter config. Pure: `Plan::new` guesses (the severity dropdown, the deployment field, the
//! schedules, the bots), `Choices` say which guesses were taken, and `render` writes the TOML.
//! What is not taken is written commented out, with the candidates, so nothing wrong is live
//! and nothing found is lost.

mod guess;
mod schedule;

pub use guess::{Bot, SeverityCandidate, SeverityOption, TierCandidate, TierValue, MANAGED, SELF_HOSTED};
pub use schedule::{clock_time, holiday_dates, split_week, Converted, WEEKDAYS};

use chrono::{Datelike, NaiveDate};

use super::suggest::list;
use crate::store::OrganizationRecord;
use crate::zendesk::account::{BusinessSchedule, Group, Me, OrganizationField, TicketField};
use crate::zendesk::models::User;

/// What the account holds, as `init` reads it.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// The account's URL, as the config will name it.
    pub url: String,
    pub me: Option<Me>,
    pub ticket_fields: Vec<TicketField>,
    pub organization_fields: Vec<OrganizationField>,
    pub organizations: Vec<OrganizationRecord>,
    pub groups: Vec<Group>,
    pub agents: Vec<User>,
    /// None: the account's plan has no business hours (Zendesk answered 403).
    pub schedules: Option<Vec<BusinessSchedule>>,
}

/// How the config signs in: the names of the environment variables, never their values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    ApiToken { email: String, token_env: String },
    OAuth { token_env: String },
}

/// What the account suggests, before anyone confirms it.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Likeliest first; only the first can be `sure`.
    pub severity: Vec<SeverityCandidate>,
    pub tier: Vec<TierCandidate>,
    /// Organization tags naming a tier outright, with how many organizations carry each.
    pub tier_tags: Vec<(String, &'static str, usize)>,
    /// None: the plan has no business hours.
    pub schedules: Option<Vec<Converted>>,
    pub bots: Vec<Bot>,
}

impl Plan {
    pub fn new(snapshot: &Snapshot) -> Plan {
        Plan {
            severity: guess::severity_candidates(&snapshot.ticket_fields),
            tier: guess::tier_candidates(&snapshot.organization_fields, &snapshot.organizations),
            tier_tags: guess::tier_tags(&snapshot.organizations),
            schedules: snapshot.schedules.as_deref().map(schedule::convert_all),
            bots: guess::bots(&snapshot.agents),
        }
    }

    /// The schedules that can be written live, in Zendesk's order (its default first).
    pub fn usable_schedules(&self) -> Vec<&Converted> {
        self.schedules.iter().flatten().filter(|s| s.unusable().is_none()).collect()
    }
}

/// Which guesses are taken: indexes into the plan's candidates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Choices {
    pub severity: Option<usize>,
    pub tier: Option<usize>,
    /// The self-hosted tier's business clock, an index into `Plan::usable_schedules`; None
    /// keeps slawatch's default schedule.
    pub schedule: Option<usize>,
    /// Whether a person confirmed them (on a terminal), for the comments.
    pub confirmed: bool,
}

impl Choices {
    /// The sure guesses, and Zendesk's first schedule: what `init --yes` takes.
    pub fn guessed(plan: &Plan) -> Choices {
        Choices {
            severity: plan.severity.first().filter(|c| c.sure).map(|_| 0),
            tier: plan.tier.first().filter(|c| c.sure).map(|_| 0),
            schedule: (!plan.usable_schedules().is_empty()).then_some(0),
            confirmed: false,
        }
    }
}

/// The support policy's targets (SPEC §2), as slawatch's defaults have them.
const SELF_HOSTED_TARGETS: &str =
    "targets.sev1 = { first_response = \"24h\", resolution = \"72h\" }\ntargets.sev2 = { first_response = \"40h\" }\n";
const MANAGED_TARGETS: &str =
    "targets.sev1 = { first_response = \"24h\", resolution = \"72h\" }\ntargets.sev2 = { first_response = \"7d\" }\n";
/// The default tier: a customer whose organization names none.
const DEFAULT_TIER: &str = SELF_HOSTED;
const DEFAULT_SEVERITY: &str = "sev2";
const RULE: &str = "# ---------------------------------------------------------------------------\n";

/// The starter config's text. `today` dates it and sets where a fresh store starts reading.
pub fn render(snapshot: &Snapshot, plan: &Plan, choices: &Choices, credentials: &Credentials, today: NaiveDate) -> String {
    let mut out = String::new();
    header(&mut out, snapshot, credentials, today);
    zendesk(&mut out, snapshot, credentials, today);
    out +=
        "\n[store]\n# The sled database of every ticket's clocks, relative to the directory slawatch runs in.\npath = \"slawatch.sled\"\n";
    let schedule = schedules(&mut out, plan, choices);
    let severity = choices.severity.and_then(|i| plan.severity.get(i));
    policy(&mut out, severity, schedule);
    severity_section(&mut out, plan, severity, choices.confirmed);
    customers(&mut out, plan, choices.tier.and_then(|i| plan.tier.get(i)), choices.confirmed);
    first_response(&mut out, plan);
    notify(&mut out, snapshot, schedule);
    out += "\n# Engineering escalation (GitHub issues from tickets) is off: see [escalation] in\n# config.example.toml to turn it on.\n";
    out
}

fn header(out: &mut String, snapshot: &Snapshot, credentials: &Credentials, today: NaiveDate) {
    *out += &format!(
        "# slawatch configuration for {},\n# written by `slawatch init` on {today} from what the account held then",
        comment(&snapshot.url)
    );
    match &snapshot.me {
        Some(me) => {
            *out += &format!(
                "\n# (read as {} <{}>, {}).\n",
                comment(&me.name),
                comment(&me.email),
                comment(&me.role)
            )
        }
        None => *out += ".\n",
    }
    let secret = match credentials {
        Credentials::ApiToken { token_env, .. } => format!("the API token is read from ${token_env}"),
        Credentials::OAuth { token_env } => format!("the OAuth token is read from ${token_env}"),
    };
    *out += &format!(
        "# No secret is written here: {secret} when slawatch starts.\n\
         # Keys left out take slawatch's defaults; config.example.toml documents every key.\n\
         # \"guessed\" marks what init inferred from names: check those lines. Then:\n\
         #   slawatch check-config --online --config FILE   (this file against the account)\n\
         #   slawatch test-alert --config FILE --channel NAME   (once [notify] has a channel)\n\
         #   slawatch run --config FILE\n"
    );
}

fn zendesk(out: &mut String, snapshot: &Snapshot, credentials: &Credentials, today: NaiveDate) {
    *out += &format!("\n[zendesk]\nurl = {}\n", quote(&snapshot.url));
    match credentials {
        Credentials::ApiToken { email, token_env } => {
            *out += &format!(
                "# API token auth: the user the token belongs to (an admin: the exports need one).\nemail = {}\ntoken_env = {}\n",
                quote(email),
                quote(token_env)
            );
        }
        Credentials::OAuth { token_env } => {
            *out += &format!(
                "# OAuth: an admin's access token (the exports need one).\noauth_token_env = {}\n",
                quote(token_env)
            );
        }
    }
    if let Some(me) = snapshot.me.as_ref().filter(|me| me.role != "admin") {
        *out += &format!(
            "# The token signs in as {}, whose role is {:?}: `run` needs an admin's token.\n",
            comment(&me.email),
            comment(&me.role)
        );
    }
    let start = last_month(today);
    *out += &format!(
        "# Where a fresh store starts reading the exports: the start of last month, so that\n\
         # `slawatch report --month {}` is whole. An open ticket last changed before this is\n\
         # not seen until it changes again; set it earlier for more history (the first run\n\
         # then reads longer: 10 pages of 1000 tickets a minute).\n\
         start_time = \"{}T00:00:00Z\"\n",
        start.format("%Y-%m"),
        start.format("%Y-%m-%d")
    );
}

/// The first day of the month before `today`'s.
fn last_month(today: NaiveDate) -> NaiveDate {
    let (year, month) = if today.month() == 1 {
        (today.year() - 1, 12)
    } else {
        (today.year(), today.month() - 1)
    };
    NaiveDate::from_ymd_opt(year, month, 1).unwrap_or(today)
}

/// Writes the account's schedules; returns the one the self-hosted tier runs on, if any.
fn schedules<'a>(out: &mut String, plan: &'a Plan, choices: &Choices) -> Option<&'a Converted> {
    *out += &format!("\n{RULE}# Schedules: when a business clock counts. \"24x7\" (the calendar) always exists.\n");
    let Some(all) = &plan.schedules else {
        *out += &format!(
            "# The account's plan has no business hours (Zendesk's schedules API answered 403), so\n\
             # slawatch's default schedule is kept for the self-hosted tier: Monday to Friday\n\
             # 09:00-17:00 in Los Angeles, closed Dec 24, Dec 25 and Jan 1. Edit it to your team's hours.\n{RULE}\
             [schedules.business-hours]\n\
             time_zone = \"America/Los_Angeles\"\n\
             hours.mon = [\"09:00-17:00\"]\nhours.tue = [\"09:00-17:00\"]\nhours.wed = [\"09:00-17:00\"]\n\
             hours.thu = [\"09:00-17:00\"]\nhours.fri = [\"09:00-17:00\"]\n\
             holidays = [\"12-24\", \"12-25\", \"01-01\"]\n"
        );
        return None;
    };
    if all.is_empty() {
        *out += &format!(
            "# The account has no business-hours schedule, so slawatch's default one (\"business-hours\":\n\
             # Monday to Friday 09:00-17:00 in Los Angeles) is the self-hosted tier's clock.\n{RULE}"
        );
        return None;
    }
    *out += "# The account's business-hours schedules (Zendesk: Admin Center > Objects and rules >\n\
             # Schedules), converted. slawatch does not read them again: when they change (next\n\
             # year's holidays), edit them here or run `slawatch init` again.\n";
    *out += RULE;
    let usable = plan.usable_schedules();
    let chosen = choices.schedule.and_then(|i| usable.get(i).copied());
    for converted in all {
        write_schedule(out, converted);
    }
    chosen
}

fn write_schedule(out: &mut String, s: &Converted) {
    *out += &format!("# Zendesk schedule {} {}.\n", s.zendesk_id, quote_comment(&s.zendesk_name));
    let prefix = match s.unusable() {
        Some(why) => {
            *out += &format!("# Not usable as written: {}; fix it to use it.\n", comment(&why));
            "# "
        }
        None => "",
    };
    *out += &format!("{prefix}[schedules.{}]\n", key(&s.name));
    match &s.zone {
        Some(zone) if zone != &s.zendesk_zone => {
            *out += &format!(
                "{prefix}time_zone = {}   # Zendesk: {}\n",
                quote(zone),
                quote_comment(&s.zendesk_zone)
            );
        }
        Some(zone) => *out += &format!("{prefix}time_zone = {}\n", quote(zone)),
        None => *out += &format!("{prefix}time_zone = {}\n", quote(&s.zendesk_zone)),
    }
    for (day, intervals) in WEEKDAYS.iter().zip(&s.days) {
        if intervals.is_empty() {
            continue;
        }
        let hours: Vec<String> = intervals
            .iter()
            .map(|(start, end)| format!("\"{}-{}\"", clock_time(*start), clock_time(*end)))
            .collect();
        *out += &format!("{prefix}hours.{day} = [{}]\n", hours.join(", "));
    }
    if s.holidays.is_empty() {
        *out += &format!("{prefix}holidays = []   # none in Zendesk\n");
    } else {
        *out += &format!("{prefix}holidays = [\n");
        for holiday in &s.holidays {
            let dates: Vec<String> = holiday.dates.iter().map(|d| format!("\"{d}\"")).collect();
            *out += &format!("{prefix}  {},   # {}\n", dates.join(", "), quote_comment(&holiday.name));
        }
        *out += &format!("{prefix}]\n");
    }
    for (name, why) in &s.skipped_holidays {
        *out += &format!("# Zendesk holiday {} left out: {}.\n", quote_comment(name), comment(why));
    }
    *out += "\n";
}

fn policy(out: &mut String, severity: Option<&SeverityCandidate>, schedule: Option<&Converted>) {
    let mut severities = vec!["sev1".to_string(), "sev2".to_string()];
    let extra: Vec<String> = severity
        .map(|c| c.severities().into_iter().filter(|s| !severities.contains(s)).collect())
        .unwrap_or_default();
    *out += &format!("{RULE}# Policy\n{RULE}[policy]\n");
    if let Some(c) = severity.filter(|_| !extra.is_empty()) {
        let options: Vec<String> = c
            .options
            .iter()
            .filter(|o| o.severity.as_ref().is_some_and(|s| extra.contains(s)))
            .map(|o| quote_comment(&o.name))
            .collect();
        *out += &format!(
            "# {}: what the severity field's {} option(s) stand for. The support\n\
             # policy sets no target for them: their tickets are tracked and reported as such, never\n\
             # alerted on. Give them targets under [tiers.*] (targets.{} = {{ first_response = \"3d\" }})\n\
             # if your contracts do.\n",
            extra.join(", "),
            list(options, 6),
            extra[0]
        );
    }
    severities.extend(extra);
    let quoted: Vec<String> = severities.iter().map(|s| quote(s)).collect();
    *out += &format!(
        "severities = [{}]\n\
         # A ticket with no severity gets this one's targets, and is reported as unclassified.\n\
         default_severity = \"{DEFAULT_SEVERITY}\"\n\
         # A customer whose organization names no tier.\n\
         default_tier = \"{DEFAULT_TIER}\"\n",
        quoted.join(", ")
    );
    *out += &format!(
        "\n{RULE}# Tiers: the support policy's two (slawatch's defaults); edit the targets to your\n\
         # contracts. On a business schedule a target is business time; a metric left out has no\n\
         # contractual target.\n{RULE}[tiers.self-hosted]\n"
    );
    match schedule {
        Some(s) => {
            *out += &format!("schedule = {}   # Zendesk's {}\n", quote(&s.name), quote_comment(&s.zendesk_name));
            *out += SELF_HOSTED_TARGETS;
            let minutes = s.weekly_minutes();
            if minutes != 40 * 60 {
                let open = match minutes % 60 {
                    0 => format!("{}h", minutes / 60),
                    m => format!("{}h{m:02}m", minutes / 60),
                };
                *out += &format!(
                    "# sev2's 40h is a business week of 8-hour days; {} is open {open} a week.\n",
                    s.name
                );
            }
        }
        None => {
            *out += "schedule = \"business-hours\"   # slawatch's default: Mon-Fri 09:00-17:00, Los Angeles\n";
            *out += SELF_HOSTED_TARGETS;
        }
    }
    *out += "\n[tiers.managed]\nschedule = \"24x7\"   # around the clock\n";
    *out += MANAGED_TARGETS;
}

fn severity_section(out: &mut String, plan: &Plan, chosen: Option<&SeverityCandidate>, confirmed: bool) {
    *out += &format!("\n{RULE}# Severity: from a dropdown ticket field (its option tags), else from the ticket's tags,\n# else from Zendesk's priority.\n{RULE}[severity]\n");
    match chosen {
        Some(c) => {
            let how = if confirmed { "confirmed" } else { "guessed" };
            *out += &format!(
                "# Ticket field {} {} ({how} from its name and options).\nfield_id = {}\n\
                 # Each option's tag and the severity it stands for; an option left out gives its\n\
                 # tickets default_severity, reported as unclassified.\n",
                c.field_id,
                quote_comment(&c.title),
                c.field_id
            );
            severity_values(out, c, "");
        }
        None if plan.severity.is_empty() => {
            *out += "# No dropdown ticket field looked like a severity (by its name or options): tickets\n\
                     # get theirs from the tags and priorities below. To read a field, set field_id and\n\
                     # field_values = { <option tag> = \"sev1\", ... }.\n";
        }
        None => {
            let first = &plan.severity[0];
            *out += &format!(
                "# No ticket field is read for the severity: {} Uncomment to use it:\n",
                if first.sure {
                    "the guess below was declined."
                } else {
                    "the guess below is uncertain (another field competes, or its name says little)."
                }
            );
            *out += &format!("# field_id = {}   # {}\n", first.field_id, quote_comment(&first.title));
            severity_values(out, first, "# ");
            let beyond: Vec<String> = first.severities().into_iter().filter(|s| s != "sev1" && s != "sev2").collect();
            if !beyond.is_empty() {
                *out += &format!("# ({} must then be added to [policy] severities.)\n", beyond.join(", "));
            }
        }
    }
    // The one written above (taken, or the first candidate commented out) is not repeated.
    let shown = chosen.or(plan.severity.first()).map(|c| c.field_id);
    let rest: Vec<String> = plan
        .severity
        .iter()
        .filter(|c| Some(c.field_id) != shown)
        .map(|c| format!("{} {}", c.field_id, quote_comment(&c.title)))
        .collect();
    if !rest.is_empty() {
        *out += &format!("# Other dropdowns that could be the severity: {}.\n", list(rest, 8));
    }
    *out += "# When the field is empty: a tag on the ticket, then Zendesk's priority. Remove these\n\
             # to leave such tickets unclassified (on default_severity).\n\
             tags = { sev1 = \"sev1\", sev2 = \"sev2\" }\n\
             priorities = { urgent = \"sev1\", high = \"sev1\", normal = \"sev2\", low = \"sev2\" }\n";
}

fn severity_values(out: &mut String, c: &SeverityCandidate, prefix: &str) {
    for option in &c.options {
        match &option.severity {
            Some(sev) => {
                *out += &format!(
                    "{prefix}field_values.{} = {}   # {}\n",
                    key(&option.value),
                    quote(sev),
                    quote_comment(&option.name)
                );
            }
            None => {
                *out += &format!(
                    "# field_values.{} = \"{DEFAULT_SEVERITY}\"   # {}: names no severity, left out\n",
                    key(&option.value),
                    quote_comment(&option.name)
                );
            }
        }
    }
}

fn customers(out: &mut String, plan: &Plan, chosen: Option<&TierCandidate>, confirmed: bool) {
    *out += &format!("\n{RULE}# Customers: the tier comes from the ticket's organization, by an organization field\n# (its key) or a tag.\n{RULE}[customers]\n");
    match chosen {
        Some(c) => {
            let how = if confirmed { "confirmed" } else { "guessed" };
            *out += &format!(
                "# Organization field {} ({}, {}; {how} from its name and values).\ntier_field = {}\n\
                 # Each value and the tier it stands for; a value left out gives its organizations\n\
                 # default_tier ({DEFAULT_TIER}).\n",
                quote_comment(&c.key),
                quote_comment(&c.title),
                if c.dropdown {
                    "a dropdown"
                } else {
                    "a text field: its values in use"
                },
                quote(&c.key)
            );
            tier_values(out, c, "");
        }
        None if plan.tier.is_empty() => {
            *out += &format!(
                "# No organization field looked like a deployment or plan: every customer gets\n\
                 # default_tier ({DEFAULT_TIER}) unless a tag below names its tier. To read a field, set\n\
                 # tier_field = \"<key>\" and tier_values = {{ <value> = \"managed\", ... }}.\n"
            );
        }
        None => {
            let first = &plan.tier[0];
            *out += &format!(
                "# No organization field is read for the tier (every customer gets default_tier,\n\
                 # {DEFAULT_TIER}, unless a tag names its tier): {} Uncomment to use it:\n",
                if first.sure {
                    "the guess below was declined."
                } else {
                    "the guess below is uncertain (another field competes, or its values name no deployment)."
                }
            );
            *out += &format!("# tier_field = {}   # {}\n", quote(&first.key), quote_comment(&first.title));
            tier_values(out, first, "# ");
        }
    }
    let shown = chosen.or(plan.tier.first()).map(|c| c.key.as_str());
    let rest: Vec<String> = plan
        .tier
        .iter()
        .filter(|c| Some(c.key.as_str()) != shown)
        .map(|c| format!("{} ({})", quote_comment(&c.key), quote_comment(&c.title)))
        .collect();
    if !rest.is_empty() {
        *out += &format!("# Other organization fields that could give the tier: {}.\n", list(rest, 8));
    }
    if plan.tier_tags.is_empty() {
        *out += "# No organization tag names a tier, so none is read (tier_tags).\n";
    } else {
        *out += "# Organization tags that name a tier (read when the field gives none):\n";
        for (tag, tier, count) in &plan.tier_tags {
            *out += &format!("tier_tags.{} = {}   # {count} organization(s)\n", key(tag), quote(tier));
        }
    }
}

fn tier_values(out: &mut String, c: &TierCandidate, prefix: &str) {
    if c.values.is_empty() {
        *out += "# (no organization holds a value in it yet)\n";
    }
    for value in &c.values {
        let label = if value.label == value.value {
            String::new()
        } else {
            format!("{}, ", quote_comment(&value.label))
        };
        match value.tier {
            Some(tier) => {
                *out += &format!(
                    "{prefix}tier_values.{} = {}   # {label}{} organization(s)\n",
                    key(&value.value),
                    quote(tier),
                    value.organizations
                );
            }
            None => {
                *out += &format!(
                    "# tier_values.{} = \"{DEFAULT_TIER}\"   # {label}{} organization(s): names no deployment slawatch knows; pick its tier\n",
                    key(&value.value),
                    value.organizations
                );
            }
        }
    }
}

fn first_response(out: &mut String, plan: &Plan) {
    *out += &format!(
        "\n{RULE}# First response: the first public comment by an agent that is substantive.\n{RULE}[first_response]\n\
         # Bots and integrations whose comments never count as a first response (Zendesk user ids).\n"
    );
    if plan.bots.is_empty() {
        *out += "# No agent's name or address says bot, integration, automation or no-reply.\n";
    } else {
        *out += "# These agents look like bots by name or address: check, then list the ones that are.\n";
        for bot in plan.bots.iter().take(30) {
            *out += &format!("#   {}   {} <{}>\n", bot.id, quote_comment(&bot.name), comment(&bot.email));
        }
        if plan.bots.len() > 30 {
            *out += &format!("#   and {} more\n", plan.bots.len() - 30);
        }
    }
    *out += "bot_user_ids = []\n";
}

fn notify(out: &mut String, snapshot: &Snapshot, schedule: Option<&Converted>) {
    let zone = schedule.and_then(|s| s.zone.as_deref()).unwrap_or("America/Los_Angeles");
    *out += &format!(
        "\n{RULE}# Notify: where alerts go. None yet: alerts are decided, recorded and shown in\n\
         # `slawatch status`, not sent. Add a channel (its webhook URL in an environment variable,\n\
         # never in this file), try it with `slawatch test-alert --channel support`, and route to it.\n\
         {RULE}[notify]\n\
         # Where deadlines of 24x7 clocks are shown (a business clock's in its own zone).\n\
         time_zone = {}\n\
         # [notify.channels.support]\n\
         # kind = \"slack\"\n\
         # url_env = \"SLACK_WEBHOOK_SUPPORT\"\n\
         # [[notify.routes]]\n\
         # groups = []   # Zendesk group ids (empty: every ticket)\n\
         # channels = [\"support\"]\n",
        quote(zone)
    );
    let groups: Vec<&Group> = snapshot.groups.iter().filter(|g| !g.deleted).collect();
    if !groups.is_empty() {
        *out += "# The account's groups, for routes:\n";
        for group in groups.iter().take(50) {
            *out += &format!("#   {}   {}\n", group.id, quote_comment(&group.name));
        }
        if groups.len() > 50 {
            *out += &format!("#   and {} more\n", groups.len() - 50);
        }
    }
}

/// A TOML basic string.
fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A TOML key: bare when it can be, else quoted.
fn key(text: &str) -> String {
    if !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        text.to_string()
    } else {
        quote(text)
    }
}

/// Text safe inside a comment: one line, no control characters.
fn comment(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// A name quoted in a comment: `"Severity 1"`.
fn quote_comment(text: &str) -> String {
    format!("\"{}\"", comment(text))
}

#[cfg(test)]
mod tests;
