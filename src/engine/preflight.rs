//! The preflight while running: after each directory refresh the config is checked against
//! the account again (a field deleted, an option added), for the log, `/readyz` and `/metrics`.

use super::engine::Engine;
use crate::metrics::FindingLabels;
use crate::preflight::{Finding, Level};
use crate::store::OrganizationRecord;
use crate::sync::lock;
use crate::zendesk::client::ZendeskError;

impl Engine {
    /// Checks the config against the account (`organizations`: the directory's, just listed),
    /// keeps what it found, and logs it when it differs from the last check.
    pub async fn check_account(&self, organizations: Vec<OrganizationRecord>) -> Result<Vec<Finding>, ZendeskError> {
        let mut account = crate::preflight::gather(&self.config, &self.client, organizations).await?;
        if let Some(github) = &self.github {
            account.github = crate::preflight::gather_github(&self.config, github).await;
        }
        let findings = crate::preflight::check(&self.config, &account);
        let previous = lock(&self.preflight).replace(findings.clone());
        if previous.as_ref() != Some(&findings) {
            for finding in &findings {
                match finding.level {
                    Level::Mismatch => tracing::error!("config does not match the account: {finding}"),
                    Level::Warning => tracing::warn!("config and account: {finding}"),
                }
            }
            if findings.is_empty() {
                tracing::info!("the config matches the account");
            }
        }
        for (level, name) in [(Level::Mismatch, "mismatch"), (Level::Warning, "warning")] {
            let n = findings.iter().filter(|f| f.level == level).count();
            self.metrics
                .config_findings
                .get_or_create(&FindingLabels { level: name.to_string() })
                .set(n as i64);
        }
        Ok(findings)
    }

    /// What the last check found; None before one has been made.
    pub fn preflight_findings(&self) -> Option<Vec<Finding>> {
        lock(&self.preflight).clone()
    }
}
