//! The organization fields and tags that give a customer's tier and contract.

use std::collections::BTreeMap;

use super::suggest::{list, nearest};
use super::{Findings, Step};
use crate::engine::apply::field_text;
use crate::zendesk::account::OrganizationField;

pub(super) fn check(out: &mut Findings) {
    let customers = &out.config.customers;
    if let Some(key) = customers.tier_field.as_deref() {
        let wanted: Vec<&str> = customers.tier_values.keys().map(String::as_str).collect();
        if let Some(field) = field(out, "tier_field", key, &wanted) {
            values(out, field, "tier_values", &wanted);
        }
    }
    if let Some(key) = customers.contract_field.as_deref() {
        if let Some(field) = field(out, "contract_field", key, &[]) {
            contracts(out, field);
        }
    }
    for (key, tags) in [("tier_tags", &customers.tier_tags), ("contract_tags", &customers.contract_tags)] {
        for tag in tags.keys() {
            if !out.account.organizations.iter().any(|o| o.tags.contains(tag)) {
                out.warning(
                    &[Step::Key("customers"), Step::Key(key), Step::Key(tag)],
                    format!("no organization in {} has the tag {tag:?}", out.account.url),
                );
            }
        }
    }
}

/// The organization field with `key` when the account has it active; else a mismatch naming
/// the likeliest one meant (a key a typo away, or a dropdown whose options include `wanted`).
fn field<'a>(out: &mut Findings<'a>, config_key: &str, key: &str, wanted: &[&str]) -> Option<&'a OrganizationField> {
    let account = out.account;
    let path = [Step::Key("customers"), Step::Key(config_key)];
    let fields = &account.organization_fields;
    match fields.iter().find(|f| f.key == key) {
        Some(field) if field.active => return Some(field),
        Some(field) => {
            out.mismatch(
                &path,
                format!("organization field {key:?} ({:?}) is inactive in {}", field.title, account.url),
            );
            return None;
        }
        None => {}
    }
    let active = || fields.iter().filter(|f| f.active);
    let by_options = active().find(|f| wanted.iter().any(|w| f.options.iter().any(|o| o.value == *w)));
    let hint = match nearest(key, active().map(|f| (f.key.as_str(), f))).or(by_options) {
        Some(f) => format!("; did you mean {:?} ({:?})?", f.key, f.title),
        None => format!(
            "; its organization fields: {}",
            list(active().map(|f| format!("{:?} ({:?})", f.key, f.title)), 8)
        ),
    };
    let message = format!("{key:?} is not an organization field in {}{hint}", account.url);
    if out.config.source.sets(&path) {
        out.mismatch(&path, message);
    } else {
        // slawatch's default, not the admin's: tiers then come from tags (or the default tier).
        out.warning(
            &path,
            format!("{message}; this is slawatch's default: write [customers] for your account (or run `slawatch init`)"),
        );
    }
    None
}

/// The values organizations hold in `field`, with how many hold each.
fn in_use(out: &Findings, field: &OrganizationField) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for org in &out.account.organizations {
        if let Some(value) = field_text(&org.fields, &field.key).filter(|v| !v.is_empty()) {
            *counts.entry(value).or_insert(0) += 1;
        }
    }
    counts
}

/// A dropdown's keys must be its options; a text field's are compared with the values in use.
/// Values in use that are not mapped are warnings: those customers get the default tier.
fn values(out: &mut Findings, field: &OrganizationField, config_key: &str, wanted: &[&str]) {
    let used = in_use(out, field);
    let dropdown = !field.options.is_empty();
    let known: Vec<&str> = if dropdown {
        field.options.iter().map(|o| o.value.as_str()).collect()
    } else {
        used.keys().map(String::as_str).collect()
    };
    for value in wanted {
        if known.contains(value) {
            continue;
        }
        let path = [Step::Key("customers"), Step::Key(config_key), Step::Key(value)];
        let near = nearest(value, known.iter().map(|k| (*k, *k)))
            .map(|k| format!("did you mean {k:?}? "))
            .unwrap_or_default();
        if dropdown {
            out.mismatch(
                &path,
                format!(
                    "{value:?} is not an option of organization field {:?}: {near}its options are {}",
                    field.key,
                    list(known.iter().map(|k| format!("{k:?}")), 12)
                ),
            );
        } else {
            out.warning(
                &path,
                format!(
                    "no organization has {} = {value:?}: {near}the values in use are {}",
                    field.key,
                    list(used.iter().map(|(v, n)| format!("{v:?} ({n})")), 12)
                ),
            );
        }
    }
    let default = &out.config.policy.default_tier;
    for (value, count) in &used {
        if !wanted.contains(&value.as_str()) {
            out.warning(
                &[Step::Key("customers"), Step::Key(config_key)],
                format!(
                    "{count} organization(s) have {} = {value:?}, which is not mapped: they get the default tier, {default}",
                    field.key
                ),
            );
        }
    }
}

/// The contract field's values in use each name a `[contracts.NAME]`.
fn contracts(out: &mut Findings, field: &OrganizationField) {
    let used = in_use(out, field);
    let contracts = &out.config.policy.contracts;
    for (value, count) in used {
        if !contracts.contains_key(&value) {
            out.warning(
                &[Step::Key("customers"), Step::Key("contract_field")],
                format!(
                    "{count} organization(s) have {} = {value:?}, which names no [contracts.{value}]: they get their tier's targets",
                    field.key
                ),
            );
        }
    }
}
