//! Alerts and their outbox. An alert is recorded (with the ticket whose next alert instant moved
//! on) before any delivery; each channel's outstanding delivery has an outbox entry, so each
//! channel's worker reads only its own; a delivery is marked, and flushed, once done.

use std::collections::HashMap;

use sled::transaction::{ConflictableTransactionError, TransactionError};
use sled::Transactional;

use super::{decode, encode, encode_ticket, transaction_result, AlertRecord, Store, StoreError, TicketRecord, TicketTx};
use crate::sla::alerting::Recorded;
use crate::sla::time::Timestamp;

fn outbox_key(channel: &str, alert_key: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(channel.len() + 1 + alert_key.len());
    key.extend_from_slice(channel.as_bytes());
    key.push(0);
    key.extend_from_slice(alert_key.as_bytes());
    key
}

fn outbox_prefix(channel: &str) -> Vec<u8> {
    outbox_key(channel, "")
}

impl Store {
    /// Records new (and re-decided) alerts with their outstanding deliveries, removes `voided`
    /// ones, and saves the ticket whose next alert instant moved on: one transaction. Not on
    /// disk when it returns: one flush covers a whole pass of the decider's tickets, and delivery
    /// flushes before it sends anything, so nothing goes out for an alert a power loss forgets.
    pub fn record_alerts(&self, alerts: &[AlertRecord], voided: &[String], ticket: Option<&TicketRecord>) -> Result<(), StoreError> {
        super::faults::before_write();
        let encoded = alerts
            .iter()
            .map(|a| Ok((a, encode(&a.key, a)?)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        let ticket = ticket.map(encode_ticket).transpose()?;
        let trees = (
            &self.alerts,
            &self.outbox,
            &self.tickets,
            &self.index,
            &self.due,
            &self.awaiting,
            &self.org_tickets,
            &self.kpi,
            &self.open,
        );
        let result: Result<(), TransactionError<StoreError>> =
            trees.transaction(|(alerts_tree, outbox, tickets, index, due, awaiting, org_tickets, kpi, open)| {
                for key in voided {
                    alerts_tree.remove(key.as_bytes())?;
                }
                for (alert, bytes) in &encoded {
                    alerts_tree.insert(alert.key.as_bytes(), bytes.as_slice())?;
                    for delivery in alert.deliveries.iter().filter(|d| d.is_owed()) {
                        outbox.insert(outbox_key(&delivery.channel, &alert.key), &[])?;
                    }
                }
                if let Some(ticket) = &ticket {
                    TicketTx {
                        tickets,
                        index,
                        due,
                        awaiting,
                        org_tickets,
                        kpi,
                        open,
                    }
                    .put(ticket)?;
                }
                Ok(())
            });
        transaction_result(result)
    }

    /// Changes a stored alert (read afresh inside the transaction, so two channels' workers
    /// never overwrite each other's marks) and keeps its outbox entries in step. None when the
    /// alert is gone. On disk before it returns: a delivery marked done must stay marked through
    /// a power loss, or it goes out again.
    pub fn update_alert(&self, key: &str, change: impl Fn(&mut AlertRecord)) -> Result<Option<AlertRecord>, StoreError> {
        super::faults::before_write();
        let result: Result<Option<AlertRecord>, TransactionError<StoreError>> =
            (&self.alerts, &self.outbox).transaction(|(alerts, outbox)| {
                let Some(bytes) = alerts.get(key.as_bytes())? else {
                    return Ok(None);
                };
                let mut alert: AlertRecord = decode(key, &bytes).map_err(ConflictableTransactionError::Abort)?;
                change(&mut alert);
                alerts.insert(key.as_bytes(), encode(key, &alert).map_err(ConflictableTransactionError::Abort)?)?;
                for delivery in &alert.deliveries {
                    let entry = outbox_key(&delivery.channel, key);
                    if delivery.is_owed() {
                        outbox.insert(entry, &[])?;
                    } else {
                        outbox.remove(entry)?;
                    }
                }
                Ok(Some(alert))
            });
        let updated = result.map_err(|e| match e {
            TransactionError::Abort(e) => e,
            TransactionError::Storage(e) => StoreError::Sled(e),
        })?;
        self.flush()?;
        Ok(updated)
    }

    /// Removes an alert nothing of which went out (its decision was contradicted by later
    /// facts), so its point is decided afresh.
    pub fn remove_alert(&self, alert: &AlertRecord) -> Result<(), StoreError> {
        let result: Result<(), TransactionError<StoreError>> = (&self.alerts, &self.outbox).transaction(|(alerts, outbox)| {
            alerts.remove(alert.key.as_bytes())?;
            for delivery in &alert.deliveries {
                outbox.remove(outbox_key(&delivery.channel, &alert.key))?;
            }
            Ok(())
        });
        transaction_result(result)?;
        self.flush()?;
        Ok(())
    }

    pub fn alert(&self, key: &str) -> Result<Option<AlertRecord>, StoreError> {
        match self.alerts.get(key.as_bytes())? {
            None => Ok(None),
            Some(bytes) => decode(key, &bytes).map(Some),
        }
    }

    /// Every readable alert of a ticket, in key order (unreadable ones counted and skipped).
    pub fn alerts_of(&self, ticket_id: u64) -> Result<Vec<AlertRecord>, StoreError> {
        let prefix = format!("{ticket_id:020}/");
        let mut out = Vec::new();
        for entry in self.alerts.scan_prefix(prefix.as_bytes()) {
            let (key, bytes) = entry?;
            match decode(&String::from_utf8_lossy(&key), &bytes) {
                Ok(alert) => out.push(alert),
                Err(error) => self.skip_unreadable(&error),
            }
        }
        Ok(out)
    }

    /// What is recorded of a ticket's alerts, by key, for deciding. A record that cannot be read
    /// counts as decided and binding: an unreadable decision is never taken as none, which would
    /// send it twice.
    pub fn recorded_alerts(&self, ticket_id: u64) -> Result<HashMap<String, Recorded>, StoreError> {
        let prefix = format!("{ticket_id:020}/");
        let mut out = HashMap::new();
        for entry in self.alerts.scan_prefix(prefix.as_bytes()) {
            let (key, bytes) = entry?;
            let key = String::from_utf8_lossy(&key).into_owned();
            let recorded = match decode::<AlertRecord>(&key, &bytes) {
                Ok(alert) => Recorded {
                    at: alert.at,
                    binding: alert.status.is_binding(),
                },
                Err(error) => {
                    self.skip_unreadable(&error);
                    Recorded {
                        at: i64::MIN,
                        binding: true,
                    }
                }
            };
            out.insert(key, recorded);
        }
        Ok(out)
    }

    /// The alerts with an outstanding delivery to `channel`. An alert that cannot be read is
    /// counted and taken out of the outbox (logged), so it cannot wedge the channel.
    pub fn outbox(&self, channel: &str) -> Result<Vec<AlertRecord>, StoreError> {
        let prefix = outbox_prefix(channel);
        let mut out = Vec::new();
        for entry in self.outbox.scan_prefix(&prefix).keys() {
            let entry = entry?;
            let key = String::from_utf8_lossy(&entry[prefix.len()..]).into_owned();
            match self.alert(&key) {
                Ok(Some(alert)) => out.push(alert),
                Ok(None) => {
                    self.outbox.remove(&entry)?;
                }
                Err(error @ StoreError::Corrupt { .. }) => {
                    self.skip_unreadable(&error);
                    self.outbox.remove(&entry)?;
                }
                Err(other) => return Err(other),
            }
        }
        Ok(out)
    }

    /// The channels with an outstanding delivery.
    pub fn outbox_channels(&self) -> Result<Vec<String>, StoreError> {
        let mut channels: Vec<String> = Vec::new();
        for entry in self.outbox.iter().keys() {
            let entry = entry?;
            let channel = entry.split(|&b| b == 0).next().unwrap_or_default();
            let channel = String::from_utf8_lossy(channel).into_owned();
            if channels.last() != Some(&channel) {
                channels.push(channel);
            }
        }
        Ok(channels)
    }

    /// When the oldest alert (or digest) still owed to a channel was decided; None when nothing
    /// is owed. An alert that cannot be read is skipped here (the channel's worker deals with it).
    pub fn oldest_undelivered(&self) -> Result<Option<Timestamp>, StoreError> {
        let mut oldest: Option<Timestamp> = None;
        for entry in self.outbox.iter().keys() {
            let entry = entry?;
            let Some(split) = entry.iter().position(|&b| b == 0) else {
                continue;
            };
            let key = String::from_utf8_lossy(&entry[split + 1..]).into_owned();
            if let Ok(Some(alert)) = self.alert(&key) {
                oldest = Some(oldest.map_or(alert.decided_at, |o| o.min(alert.decided_at)));
            }
        }
        for digest in self.outstanding_digests()? {
            oldest = Some(oldest.map_or(digest.decided_at, |o| o.min(digest.decided_at)));
        }
        Ok(oldest)
    }

    /// How many deliveries are outstanding, over all channels.
    pub fn outbox_len(&self) -> usize {
        self.outbox.len()
    }
}
