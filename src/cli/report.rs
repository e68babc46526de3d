//! `slawatch report`: which periods the flags name, their reports (from the store or the
//! running daemon), and the view printed.

use crate::config::Config;
use crate::kpi::format::Format;
use crate::kpi::range::{self, Period, RangeError};
use crate::kpi::views::{self, Labeled, View};

/// The flags, as given.
pub struct Request<'a> {
    pub month: Option<&'a str>,
    pub quarter: Option<&'a str>,
    pub from: Option<&'a str>,
    pub to: Option<&'a str>,
    pub compare_to: Option<&'a str>,
    pub by_customer: bool,
    pub rejudge: bool,
    pub format: Format,
}

/// The periods asked for: the whole (a quarter, month or range), a quarter's months, the
/// baseline.
pub fn periods(config: &Config, r: &Request) -> Result<(Period, Vec<Period>, Option<Period>), RangeError> {
    let (zone, fiscal) = (config.report.time_zone, config.report.fiscal_year_start);
    let (whole, months) = match r.quarter {
        Some(q) => range::quarter(q, fiscal, zone)?,
        None => {
            let (from, to) = range::parse(r.month, r.from, r.to, zone)?;
            let label = match (r.month, r.from, r.to) {
                (Some(month), _, _) => month.to_string(),
                (_, Some(from), Some(to)) => format!("{from}..{to}"),
                _ => String::new(),
            };
            (Period { label, from, to }, Vec::new())
        }
    };
    let baseline = r.compare_to.map(|p| range::period(p, fiscal, zone)).transpose()?;
    Ok((whole, months, baseline))
}

/// The report's text: fetched, then rendered.
pub async fn run(config: &Config, r: &Request<'_>, periods: (Period, Vec<Period>, Option<Period>)) -> anyhow::Result<String> {
    let (whole, months, baseline) = periods;
    let mut asked: Vec<&Period> = vec![&whole];
    asked.extend(&months);
    asked.extend(&baseline);
    let ranges: Vec<(i64, i64)> = asked.iter().map(|p| (p.from, p.to)).collect();
    let mut reports = super::daemon::reports(config, &ranges, r.rejudge).await?.into_iter();
    let mut next = |period: &Period| -> anyhow::Result<Labeled> {
        let report = reports
            .next()
            .ok_or_else(|| anyhow::anyhow!("fewer reports than periods asked for"))?;
        Ok(Labeled {
            label: period.label.clone(),
            report,
        })
    };
    let view = View {
        whole: next(&whole)?,
        months: months.iter().map(&mut next).collect::<anyhow::Result<_>>()?,
        compare_to: baseline.as_ref().map(&mut next).transpose()?,
        by_customer: r.by_customer,
    };
    Ok(views::render(&view, r.format))
}
