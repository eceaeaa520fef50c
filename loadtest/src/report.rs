//! The run's table: one row per scenario, the targets met or missed, as text and JSON.

use serde::Serialize;

use crate::capture::Ceiling;
use crate::drive::Outcome;

#[derive(Debug, Serialize)]
pub struct Row {
    /// `province` (1,000,000 applications) or `county` (10,000).
    pub data: &'static str,
    pub scenario: String,
    #[serde(flatten)]
    pub outcome: Outcome,
    /// Statements one request sends (session check included), from PostgreSQL's log.
    pub statements: Option<usize>,
    /// pgbench on those statements at the same concurrency.
    pub pgbench: Option<Ceiling>,
}

impl Row {
    pub fn share_of_ceiling(&self) -> Option<f64> {
        self.pgbench
            .as_ref()
            .map(|c| self.outcome.throughput / c.tps * 100.0)
    }
}

#[derive(Debug, Serialize)]
pub struct Target {
    pub name: String,
    pub target: String,
    pub measured: String,
    pub met: bool,
}

#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub date: String,
    pub machine: String,
    pub seeding: Vec<(String, String, f64)>,
    pub rows: Vec<Row>,
    pub memory_mib: Vec<(String, f64)>,
    pub targets: Vec<Target>,
}

impl Report {
    pub fn target(&mut self, name: &str, target: &str, measured: String, met: bool) {
        self.targets.push(Target {
            name: name.to_owned(),
            target: target.to_owned(),
            measured,
            met,
        });
    }

    pub fn row(&self, data: &str, scenario: &str) -> Option<&Row> {
        self.rows
            .iter()
            .find(|r| r.data == data && r.scenario == scenario)
    }

    pub fn print(&self) -> String {
        let mut out = format!("load test {} on {}\n\n", self.date, self.machine);
        out.push_str("| data | scenario | conc. | requests | errors | req/s | p50 ms | p99 ms | statements | pgbench tps | % of pgbench |\n");
        out.push_str("|---|---|---|---|---|---|---|---|---|---|---|\n");
        for r in &self.rows {
            let o = &r.outcome;
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} | {:.0} | {:.2} | {:.2} | {} | {} | {} |\n",
                r.data,
                r.scenario,
                o.concurrency,
                o.requests,
                o.errors,
                o.throughput,
                o.p50_ms,
                o.p99_ms,
                r.statements.map_or("–".into(), |s| s.to_string()),
                r.pgbench
                    .as_ref()
                    .map_or("–".into(), |c| format!("{:.0}", c.tps)),
                r.share_of_ceiling()
                    .map_or("–".into(), |s| format!("{s:.0} %")),
            ));
        }
        out.push_str("\n| memory | MiB |\n|---|---|\n");
        for (when, mib) in &self.memory_mib {
            out.push_str(&format!("| {when} | {mib:.1} |\n"));
        }
        out.push_str("\n| target | wanted | measured | |\n|---|---|---|---|\n");
        for t in &self.targets {
            out.push_str(&format!(
                "| {} | {} | {} | {} |\n",
                t.name,
                t.target,
                t.measured,
                if t.met { "met" } else { "**missed**" }
            ));
        }
        for r in self.rows.iter().filter(|r| r.outcome.first_error.is_some()) {
            out.push_str(&format!(
                "\nfirst error of {} / {}: {}\n",
                r.data,
                r.scenario,
                r.outcome.first_error.as_deref().unwrap_or_default()
            ));
        }
        out
    }
}
