//! The figures of one bench run: JSON (`--json FILE`) and a table for people. Throughput is over
//! the same bytes for everyone — the data set as the peers see it (unique attachment blobs plus the
//! rows' SQL dump) — so the ratios compare times on equal work.

use std::time::Duration;

use lifeboat_domain::model::Restore;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{BackupRun, Size};

const MB: f64 = 1_000_000.0;

#[derive(Debug, Serialize, Deserialize)]
pub struct Report {
    pub size: Size,
    pub machine: Machine,
    pub data: DataSet,
    pub lifeboat: LifeboatFigures,
    pub restic: Option<ResticFigures>,
    pub tar_zstd: Option<TarFigures>,
    pub cp_s: Option<f64>,
    pub sqlite_dump_s: Option<f64>,
    pub ratios: Ratios,
    #[serde(skip)]
    pub seed_s: f64,
    #[serde(skip)]
    pub verify_s: f64,
    #[serde(skip)]
    pub peer_input_bytes: u64,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Machine {
    pub cpus: usize,
    pub memory_gib: Option<f64>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct DataSet {
    /// Entities in the backups (issues, comments, pages, users... as counted in the manifests).
    pub entities: u64,
    /// Logical size of the backups: rows, directory and attachments (duplicates counted).
    pub logical_bytes: u64,
    /// The bytes the peers read: unique attachment blobs plus the SQL dump.
    pub peer_input_bytes: u64,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct LifeboatFigures {
    pub seed_s: f64,
    pub backup_s: f64,
    pub backup_mb_s: f64,
    pub second_backup_s: f64,
    /// Both apps backed up again after one new Jira issue.
    pub changed_backup_s: f64,
    /// Bytes written to managed storage by the first, the second and the changed backup.
    pub stored_bytes: u64,
    pub second_stored_bytes: u64,
    pub changed_stored_bytes: u64,
    pub restore_s: f64,
    pub restore_mb_s: f64,
    /// Entities restored per second (rows written in the restore's transaction, validation included).
    pub entities_per_s: f64,
    pub verify_s: f64,
    /// Peak resident set size of the server process over backup and restore (seeding excluded).
    pub peak_rss_mb: Option<f64>,
    pub backup_peak_rss_mb: Option<f64>,
    pub restore_peak_rss_mb: Option<f64>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct ResticFigures {
    pub backup_s: f64,
    pub second_backup_s: f64,
    pub restore_s: f64,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct TarFigures {
    pub backup_s: f64,
    pub restore_s: f64,
    pub archive_bytes: u64,
}

/// Lifeboat / peer: above 1 is better for throughput ratios, below 1 for time ratios.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Ratios {
    pub backup_vs_restic: Option<f64>,
    pub restore_vs_restic: Option<f64>,
    pub backup_time_vs_tar_zstd: Option<f64>,
    pub second_vs_first_time: f64,
    pub changed_vs_first_time: f64,
    pub restore_time_vs_backup_time: f64,
}

impl Report {
    pub fn new(size: Size) -> Report {
        Report {
            size,
            machine: Machine { cpus: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1), memory_gib: memory_gib() },
            data: DataSet::default(),
            lifeboat: LifeboatFigures::default(),
            restic: None,
            tar_zstd: None,
            cp_s: None,
            sqlite_dump_s: None,
            ratios: Ratios::default(),
            seed_s: 0.0,
            verify_s: 0.0,
            peer_input_bytes: 0,
        }
    }

    pub(crate) fn set_backups(&mut self, first: &BackupRun, second: &BackupRun, changed: &BackupRun) {
        let stored = |run: &BackupRun| run.backups.iter().map(|b| b.backup_size.stored_size).sum();
        let l = &mut self.lifeboat;
        l.backup_s = first.wall.as_secs_f64();
        l.second_backup_s = second.wall.as_secs_f64();
        l.changed_backup_s = changed.wall.as_secs_f64();
        l.stored_bytes = stored(first);
        l.second_stored_bytes = stored(second);
        l.changed_stored_bytes = stored(changed);
        l.backup_peak_rss_mb = max_opt(max_opt(first.peak_rss_mb, second.peak_rss_mb), changed.peak_rss_mb);
        self.data.entities = first.backups.iter().flat_map(|b| b.counts.values()).sum();
        self.data.logical_bytes = first
            .backups
            .iter()
            .map(|b| b.backup_size.data_size + b.backup_size.users_size + b.backup_size.attachments_size)
            .sum();
    }

    pub(crate) fn set_restore(&mut self, wall: Duration, restores: &[Restore], peak_rss_mb: Option<f64>) {
        let l = &mut self.lifeboat;
        l.restore_s = wall.as_secs_f64();
        let restored: u64 = restores.iter().flat_map(|r| r.plan.values()).map(|p| p.create + p.merge).sum();
        l.entities_per_s = restored as f64 / l.restore_s.max(1e-9);
        l.restore_peak_rss_mb = peak_rss_mb;
    }

    /// Throughputs and ratios, once every figure is in.
    pub fn finish(&mut self) {
        self.data.peer_input_bytes = self.peer_input_bytes;
        let mb = self.peer_input_bytes as f64 / MB;
        let l = &mut self.lifeboat;
        l.seed_s = self.seed_s;
        l.verify_s = self.verify_s;
        l.backup_mb_s = mb / l.backup_s.max(1e-9);
        l.restore_mb_s = mb / l.restore_s.max(1e-9);
        l.peak_rss_mb = max_opt(l.backup_peak_rss_mb, l.restore_peak_rss_mb);
        let r = &mut self.ratios;
        r.second_vs_first_time = l.second_backup_s / l.backup_s.max(1e-9);
        r.changed_vs_first_time = l.changed_backup_s / l.backup_s.max(1e-9);
        r.restore_time_vs_backup_time = l.restore_s / l.backup_s.max(1e-9);
        if let Some(restic) = &self.restic {
            r.backup_vs_restic = Some(restic.backup_s / l.backup_s.max(1e-9));
            r.restore_vs_restic = Some(restic.restore_s / l.restore_s.max(1e-9));
        }
        if let Some(tar) = &self.tar_zstd {
            r.backup_time_vs_tar_zstd = Some(l.backup_s / tar.backup_s.max(1e-9));
        }
    }

    /// A report as `to_json` wrote it (a run in a process of its own), with the copies that JSON
    /// skips taken back from the figures that carry them.
    pub fn from_json(text: &str) -> anyhow::Result<Report> {
        let mut r: Report = serde_json::from_str(text)?;
        r.peer_input_bytes = r.data.peer_input_bytes;
        r.seed_s = r.lifeboat.seed_s;
        r.verify_s = r.lifeboat.verify_s;
        Ok(r)
    }

    /// The JSON of the issue's contract: every figure, with `*_mb_s` added to the peers.
    pub fn to_json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        let mb = self.peer_input_bytes as f64 / MB;
        if let Some(restic) = &self.restic {
            v["restic"]["backup_mb_s"] = (mb / restic.backup_s.max(1e-9)).into();
            v["restic"]["restore_mb_s"] = (mb / restic.restore_s.max(1e-9)).into();
        }
        if let Some(tar) = &self.tar_zstd {
            v["tar_zstd"]["backup_mb_s"] = (mb / tar.backup_s.max(1e-9)).into();
        }
        v
    }

    pub fn table(&self) -> String {
        let l = &self.lifeboat;
        let secs = |v: f64| format!("{v:.2} s");
        let opt = |v: Option<f64>, f: &dyn Fn(f64) -> String| v.map(f).unwrap_or_else(|| "absent".into());
        let ratio = |v: Option<f64>| v.map(|r| format!("{r:.2}×")).unwrap_or_else(|| "–".into());
        let restic = self.restic.as_ref();
        let tar = self.tar_zstd.as_ref();
        let mut out = String::new();
        out += &format!(
            "data set {:?}: {} entities, {:.1} MB logical, {:.1} MB as the peers see it; {} CPUs\n\n",
            self.size,
            self.data.entities,
            self.data.logical_bytes as f64 / MB,
            self.data.peer_input_bytes as f64 / MB,
            self.machine.cpus
        );
        out += &format!("{:<34} {:>14} {:>14} {:>9}\n", "figure", "Lifeboat", "peer", "ratio");
        let mut row = |name: &str, ours: String, peer: String, r: String| {
            out += &format!("{name:<34} {ours:>14} {peer:>14} {r:>9}\n");
        };
        row("backup (vs restic)", secs(l.backup_s), opt(restic.map(|r| r.backup_s), &secs), ratio(self.ratios.backup_vs_restic));
        row("backup (vs tar | zstd -1 -T2)", secs(l.backup_s), opt(tar.map(|t| t.backup_s), &secs), ratio(self.ratios.backup_time_vs_tar_zstd));
        row("second backup, nothing changed", secs(l.second_backup_s), opt(restic.map(|r| r.second_backup_s), &secs), format!("{:.2}×", self.ratios.second_vs_first_time));
        row("backup after one change", secs(l.changed_backup_s), "".into(), format!("{:.2}×", self.ratios.changed_vs_first_time));
        row("restore (vs restic)", secs(l.restore_s), opt(restic.map(|r| r.restore_s), &secs), ratio(self.ratios.restore_vs_restic));
        row("restore (vs zstd -d | tar -x)", secs(l.restore_s), opt(tar.map(|t| t.restore_s), &secs), "".into());
        row("cp -r of the same bytes", "".into(), opt(self.cp_s, &secs), "".into());
        row("sqlite3 .dump of the rows", "".into(), opt(self.sqlite_dump_s, &secs), "".into());
        row("backup throughput", format!("{:.1} MB/s", l.backup_mb_s), "".into(), "".into());
        row("restore throughput", format!("{:.1} MB/s", l.restore_mb_s), "".into(), "".into());
        row("entities restored per second", format!("{:.0}", l.entities_per_s), "".into(), "".into());
        row("stored: first / second backup", format!("{:.1} MB", l.stored_bytes as f64 / MB), format!("{:.2} MB", l.second_stored_bytes as f64 / MB), "".into());
        row("stored: backup after one change", format!("{:.1} MB", l.changed_stored_bytes as f64 / MB), "".into(), "".into());
        row("verify (every archive)", secs(l.verify_s), "".into(), "".into());
        row("peak RSS (backup, restore)", opt(l.peak_rss_mb, &|v| format!("{v:.0} MB")), "".into(), "".into());
        out
    }
}

/// What `lifeboat bench` prints and writes after all its runs.
pub struct Summary {
    pub json: Value,
    pub table: String,
}

/// The figures of one or more runs. Every figure and every ratio is its own median over the runs
/// (this machine's disk varies run to run, and so do the peers: one run's ratio can mislead); with
/// several runs, the JSON also carries each run's figures (`each_run`) and the table each run's
/// headline times.
pub fn summarize(runs: &[Report]) -> anyhow::Result<Summary> {
    let each: Vec<Value> = runs.iter().map(Report::to_json).collect();
    let mut json = median_json(&each.iter().collect::<Vec<_>>());
    // The table reads only serialized fields (`data`, not the skipped copies `finish` fills them from).
    let median: Report = serde_json::from_value(json.clone())?;
    json["repeat"] = runs.len().into();
    if runs.len() == 1 {
        return Ok(Summary { json, table: median.table() });
    }
    let mut table = format!("median of {} runs (each figure and each ratio its own median)\n\n{}\n", runs.len(), median.table());
    let secs = |v: Option<f64>| v.map(|v| format!("{v:.2} s")).unwrap_or_else(|| "absent".into());
    for (i, r) in runs.iter().enumerate() {
        table += &format!(
            "run {}: backup {}, restore {}; restic backup {}, restore {}; tar | zstd {}\n",
            i + 1,
            secs(Some(r.lifeboat.backup_s)),
            secs(Some(r.lifeboat.restore_s)),
            secs(r.restic.as_ref().map(|p| p.backup_s)),
            secs(r.restic.as_ref().map(|p| p.restore_s)),
            secs(r.tar_zstd.as_ref().map(|p| p.backup_s)),
        );
    }
    json["each_run"] = Value::Array(each);
    Ok(Summary { json, table })
}

/// The runs' JSON merged: each number the median of that number over the runs that have it (the
/// mean of the middle two for an even count), each object merged key by key, anything else (the
/// size's name) as in the first run that has it. A peer absent from every run stays null.
fn median_json(runs: &[&Value]) -> Value {
    let Some(shape) = runs.iter().find(|v| !v.is_null()) else { return Value::Null };
    match shape {
        Value::Object(fields) => Value::Object(
            fields.keys().map(|k| (k.clone(), median_json(&runs.iter().map(|v| v.get(k).unwrap_or(&Value::Null)).collect::<Vec<_>>()))).collect(),
        ),
        Value::Number(_) => {
            let mut numbers: Vec<f64> = runs.iter().filter_map(|v| v.as_f64()).collect();
            numbers.sort_by(f64::total_cmp);
            let n = numbers.len();
            let median = if n % 2 == 1 { numbers[n / 2] } else { (numbers[n / 2 - 1] + numbers[n / 2]) / 2.0 };
            if runs.iter().all(|v| v.is_null() || v.is_u64()) {
                Value::from(median.round() as u64)
            } else {
                Value::from(median)
            }
        }
        other => (*other).clone(),
    }
}

fn max_opt(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

fn memory_gib() -> Option<f64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kb: f64 = info.lines().find(|l| l.starts_with("MemTotal:"))?.split_whitespace().nth(1)?.parse().ok()?;
    Some((kb / 1024.0 / 1024.0 * 10.0).round() / 10.0)
}

#[cfg(test)]
mod tests {
    use super::median_json;
    use serde_json::json;

    #[test]
    fn every_number_is_its_own_median() {
        let runs = [
            json!({"size": "tiny", "a": {"t": 3.0, "n": 10}, "peer": null, "r": 1.0}),
            json!({"size": "tiny", "a": {"t": 1.0, "n": 10}, "peer": {"s": 4.0}, "r": 9.0}),
            json!({"size": "tiny", "a": {"t": 2.0, "n": 12}, "peer": {"s": 2.0}, "r": 5.0}),
        ];
        let m = median_json(&runs.iter().collect::<Vec<_>>());
        assert_eq!(m, json!({"size": "tiny", "a": {"t": 2.0, "n": 10}, "peer": {"s": 3.0}, "r": 5.0}));
        // Counts stay integers; an even count takes the middle two's mean; absent everywhere stays null.
        let two = [json!({"n": 4, "t": 1.0, "p": null}), json!({"n": 6, "t": 2.0, "p": null})];
        assert_eq!(median_json(&two.iter().collect::<Vec<_>>()), json!({"n": 5, "t": 1.5, "p": null}));
    }
}
