//! `lifeboat bench`: backup and restore throughput measured side by side with the tools an admin would
//! otherwise use, on the same data in the same run (issue 7; method in docs/PERFORMANCE.md).
//!
//! One run: seed a source site at the chosen size in a fresh data directory; then, through the real
//! services and the real job runner, back up both apps (first, then again with nothing changed, then
//! after one change),
//! restore both at once into an empty site (with consent to every warning) and `verify` the managed storage.
//! The peers — restic, `tar | zstd -1 -T2`, `cp -r` and `sqlite3 .dump` — work on the same bytes: the
//! attachment blobs plus a dump of the rows.

mod peers;
mod report;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use lifeboat_domain::blobs::BlobStore;
use lifeboat_domain::model::{
    Backup, BackupStatus, CheckResult, NewBackup, NewIssue, NewPolicy, NewRestore, NewSite, PageRequest, Plan, Product, Restore,
    RestoreStatus, Revalidate,
};
use lifeboat_domain::service::backup::run;
use lifeboat_domain::service::seed::{self, SeedOptions};
use lifeboat_domain::service::{content, identity, platform, restore, Backend};
use tokio_util::sync::CancellationToken;

pub use report::{summarize, Report, Summary};

use crate::config::Config;

/// Data set sizes (SPEC §6 `seed` counts): attachments are spread over issues and pages, half each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Size {
    /// A few hundred entities and ~1 MB: for the test suite.
    Tiny,
    /// ~10 k entities, ~50 MB of attachments.
    Small,
    /// ~100 k entities, ~1 GB.
    Medium,
    /// ~500 k entities, ~5 GB.
    Large,
}

impl Size {
    fn seed(self, org: &str) -> SeedOptions {
        // (issues, comments, pages, attachments per kind, attachment size)
        let (issues, comments, pages, attachments, size) = match self {
            Size::Tiny => (200, 200, 60, 8, 64 * 1024),
            Size::Small => (4_000, 4_000, 2_000, 100, 256 * 1024),
            Size::Medium => (40_000, 40_000, 20_000, 1_000, 512 * 1024),
            Size::Large => (200_000, 200_000, 100_000, 2_500, 1024 * 1024),
        };
        SeedOptions {
            org: org.to_owned(),
            site: "Source".to_owned(),
            jira_projects: 10,
            issues,
            comments,
            spaces: 10,
            pages,
            attachments,
            attachment_size: size,
            users: 200,
            groups: 10,
            seed: 7,
        }
    }
}

pub struct BenchOptions {
    pub size: Size,
    /// Where the data directory and the peers' repositories go (a temporary directory otherwise).
    pub work_dir: Option<PathBuf>,
    pub keep: bool,
    /// Whole runs, one after the other, each on a fresh data set (at least one).
    pub repeat: u32,
}

const ORG: &str = "Bench";
const EMAIL: &str = "bench@lifeboat.test";

/// Runs the bench `repeat` times and returns every run's report, in order. A single run works in
/// the work directory itself; repeated runs each in their own `run-N` inside it, removed once its
/// figures are taken (several medium or large data sets would not fit) unless `keep` is given.
pub async fn run(opts: BenchOptions) -> anyhow::Result<Vec<Report>> {
    if opts.repeat == 0 {
        bail!("--repeat must be at least 1");
    }
    let temp = match &opts.work_dir {
        Some(_) => None,
        None => Some(tempfile::Builder::new().prefix("lifeboat-bench-").tempdir()?),
    };
    let work = match (&opts.work_dir, &temp) {
        (Some(dir), _) => {
            std::fs::create_dir_all(dir)?;
            dir.clone()
        }
        (None, Some(t)) => t.path().to_path_buf(),
        (None, None) => unreachable!("a temporary directory is made when no --work-dir is given"),
    };
    let mut reports = Vec::new();
    let mut result = Ok(());
    for i in 1..=opts.repeat {
        let dir = if opts.repeat == 1 { work.clone() } else { work.join(format!("run-{i}")) };
        if opts.repeat > 1 {
            eprintln!("run {i} of {}", opts.repeat);
            // Made here, never reused: only what this bench made is removed below.
            if let Err(e) = std::fs::create_dir(&dir) {
                result = Err(anyhow::anyhow!("cannot make {}: {e} (give an empty --work-dir)", dir.display()));
                break;
            }
        }
        let report = if opts.repeat == 1 { run_in(&dir, opts.size).await } else { run_in_own_process(&dir, opts.size).await };
        match report {
            Ok(report) => {
                reports.push(report);
                if opts.repeat > 1 && !opts.keep {
                    peers::remove(&dir);
                }
            }
            Err(e) => {
                // A failed run's directory stays for a look at what went wrong (a temporary work
                // directory goes, unless --keep).
                let stays = opts.work_dir.is_some() || opts.keep;
                let files = if stays { format!(" (its files are in {})", dir.display()) } else { String::new() };
                result = Err(e.context(format!("run {i} of {}{files}", opts.repeat)));
                break;
            }
        }
    }
    if let (Err(_), false) = (&result, reports.is_empty()) {
        // The runs that did finish are not lost with the one that failed.
        if let Ok(summary) = summarize(&reports) {
            eprintln!("the {} run(s) before the failure:\n{}", reports.len(), summary.table);
        }
    }
    if let (Some(t), true) = (temp, opts.keep) {
        eprintln!("kept {}", t.keep().display());
    }
    result.map(|()| reports)
}

/// One run of a `--repeat` in a process of its own (this program again, `bench` with one run in
/// `dir`), so that each run's peak RSS starts from a fresh process. In one process, what glibc's
/// arenas kept after a run was counted again by every later run: a small data set's backup peaked
/// at ~80 MB in the first run and at 157, 182, 194, 206 and 230 MB in the next five.
async fn run_in_own_process(dir: &Path, size: Size) -> anyhow::Result<Report> {
    let json = dir.join("report.json");
    let exe = std::env::current_exe().context("cannot find this program to run the bench again")?;
    let name = serde_json::to_value(size)?.as_str().unwrap_or_default().to_owned();
    let mut child = std::process::Command::new(exe);
    child.args(["bench", "--size", &name, "--work-dir"]).arg(dir).arg("--json").arg(&json);
    // Its progress goes to stderr as the parent's does; its table (one run's) is not printed.
    child.stdout(std::process::Stdio::null());
    let status = tokio::task::spawn_blocking(move || child.status()).await?.context("cannot start the run's process")?;
    if !status.success() {
        bail!("the run's process ended with {status}");
    }
    let text = std::fs::read_to_string(&json).with_context(|| format!("cannot read {}", json.display()))?;
    Report::from_json(&text)
}

async fn run_in(work: &Path, size: Size) -> anyhow::Result<Report> {
    let data_dir = work.join("data");
    if data_dir.exists() {
        bail!("{} exists: give an empty --work-dir", data_dir.display());
    }
    let mut config = Config { data_dir: data_dir.clone(), ..Config::default() };
    config.backup.restore_min_interval = Duration::ZERO;
    config.backup.min_interval = Duration::ZERO;
    config.backup.jobs.poll = Duration::from_millis(20);
    let mut report = Report::new(size);

    // ---- the data set
    eprintln!("seeding a {size:?} data set in {}", data_dir.display());
    std::fs::create_dir_all(&data_dir)?;
    let db = identity::open_database(&config.database_url()).await.context("cannot open the database")?;
    let admin = identity::create_admin(&db, EMAIL, ORG, "bench-password-123", true).await?;
    let blobs = BlobStore::new(config.blobs_dir());
    let seeded = seed::seed(&db, &blobs, &size.seed(ORG), &|_| {}).await?;
    let (admin_id, org_id, source) = (admin.admin_id.clone(), admin.org.org_id.clone(), seeded.cloud_id.clone());
    report.seed_s = seeded.elapsed.as_secs_f64();

    let backend = Backend { db: db.clone(), blobs, backup: std::sync::Arc::new(crate::startup::backup_env(&config)?) };
    let stop = CancellationToken::new();
    let workers = lifeboat_domain::jobs::spawn_all(backend.clone(), stop.clone());

    // ---- the peers first, on the source as it is (the blob directory holds only its bytes)
    let peer_input = work.join("peer-input");
    report.sqlite_dump_s = peers::sqlite_dump(&config.database_url(), &peer_input).ok();
    peers::link_tree(&config.blobs_dir(), &peer_input.join("blobs"))?;
    report.peer_input_bytes = peers::tree_bytes(&peer_input)?;
    report.restic = peers::restic(work, &peer_input).ok();
    report.tar_zstd = peers::tar_zstd(work, &peer_input).ok();
    report.cp_s = peers::cp(work, &peer_input).ok();
    peers::remove(&peer_input);

    // ---- Lifeboat: first backup, second backup of unchanged data
    let policies = [Product::Jira, Product::Confluence].map(|product| NewPolicy {
        product,
        storage_id: None,
        include_attachments: true,
        include_users_and_groups: true,
        include_personal_spaces: (product == Product::Confluence).then_some(true),
        schedule: None,
    });
    let mut policy_ids = Vec::new();
    for p in policies {
        let policy = lifeboat_domain::service::backup::create_policy(&backend, &admin_id, &org_id, &source, p).await?;
        policy_ids.push(policy.policy_id);
    }
    let first = backup_all(&backend, &admin_id, &org_id, &policy_ids).await?;
    let second = backup_all(&backend, &admin_id, &org_id, &policy_ids).await?;
    // ---- and after one change, as a daily backup would find it: Jira's rows are all read again,
    // Confluence's parts are reused, and no attachment's bytes are copied (the storage has them)
    let projects = content::list_projects(&db, &admin_id, &org_id, &source, PageRequest::default()).await?;
    let project = projects.items.first().context("the seeded site has a Jira project")?;
    let issue = NewIssue { summary: "Changed since the last backup".into(), description: String::new(), status: None, comments: vec![] };
    content::create_issue(&db, &admin_id, &org_id, &source, &project.key, issue).await?;
    let changed = backup_all(&backend, &admin_id, &org_id, &policy_ids).await?;
    report.set_backups(&first, &second, &changed);

    // ---- restore both apps into an empty site
    let dest = platform::create_site(
        &db,
        &admin_id,
        &org_id,
        NewSite {
            name: "Destination".into(),
            products: vec![Product::Jira, Product::Confluence],
            plan: Plan::Enterprise,
            shard: seeded_shard(&backend, &admin_id, &org_id, &source).await?,
            free_trial: false,
        },
    )
    .await?;
    settle_disk();
    reset_peak_rss();
    let started = Instant::now();
    // Both apps at once, as the backups ran (their write phases take turns: SQLite has one writer),
    // each on its own task as two admins' requests would be: their validations (which run in the
    // create request) then use both cores, not one.
    let restores = futures_util::future::try_join_all(first.backups.iter().map(|b| {
        let (backend, admin, org, dest, b) = (backend.clone(), admin_id.clone(), org_id.clone(), dest.cloud_id.clone(), b.clone());
        tokio::spawn(async move { restore_one(&backend, &admin, &org, &dest, &b).await })
    }))
    .await?
    .into_iter()
    .collect::<anyhow::Result<Vec<_>>>()?;
    report.set_restore(started.elapsed(), &restores, peak_rss_mb());

    // ---- verify every archive in managed storage, offline, as `lifeboat verify` does
    settle_disk();
    let started = Instant::now();
    crate::verify::verify(&data_dir.join("managed-storage").to_string_lossy()).await?;
    report.verify_s = started.elapsed().as_secs_f64();

    stop.cancel();
    for w in workers {
        let _ = tokio::time::timeout(Duration::from_secs(5), w).await;
    }
    db.close().await;
    report.finish();
    Ok(report)
}

/// Backups of every policy started together (one per app; the apps run in parallel), timed until
/// the last one is COMPLETE.
pub(crate) struct BackupRun {
    pub wall: Duration,
    pub backups: Vec<Backup>,
    pub peak_rss_mb: Option<f64>,
}

async fn backup_all(backend: &Backend, admin: &str, org: &str, policies: &[String]) -> anyhow::Result<BackupRun> {
    settle_disk();
    reset_peak_rss();
    let started = Instant::now();
    let mut ids = Vec::new();
    for p in policies {
        let b = run::create_backup(backend, admin, org, NewBackup { policy_id: p.clone(), cloud_id: None }).await?;
        ids.push(b.backup_id);
    }
    let mut backups = Vec::new();
    for id in ids {
        let b = poll(|| run::get_backup(backend, admin, org, &id), |b: &Backup| b.status != BackupStatus::InProgress).await?;
        if b.status != BackupStatus::Complete {
            bail!("backup {} ended {}: {}", b.backup_id, b.status, b.status_message.unwrap_or_default());
        }
        backups.push(b);
    }
    Ok(BackupRun { wall: started.elapsed(), backups, peak_rss_mb: peak_rss_mb() })
}

async fn restore_one(backend: &Backend, admin: &str, org: &str, dest: &str, b: &Backup) -> anyhow::Result<Restore> {
    let req = NewRestore {
        backup_id: b.backup_id.clone(),
        product: b.product,
        include_attachments: Some(true),
        include_users_and_groups: Some(true),
        include_personal_spaces: (b.product == Product::Confluence).then_some(true),
    };
    let r = restore::create_restore(backend, admin, org, dest, req).await?;
    let waiting = poll(|| restore::get_restore(backend, admin, org, &r.restore_id), |r: &Restore| r.status != RestoreStatus::Validating).await?;
    if waiting.status == RestoreStatus::AwaitingConsent {
        // Consent to every warning; of "Accept_… or Deny_…" choices, accept.
        let consent = waiting
            .checks
            .iter()
            .filter(|c| c.result == CheckResult::Warning)
            .filter_map(|c| c.consent.as_deref().and_then(|s| s.split(" or ").next()).map(str::to_owned))
            .collect();
        restore::revalidate(backend, admin, org, dest, Revalidate { restore_id: r.restore_id.clone(), consent }).await?;
    }
    let done = poll(
        || restore::get_restore(backend, admin, org, &r.restore_id),
        |r: &Restore| !matches!(r.status, RestoreStatus::Validating | RestoreStatus::AwaitingConsent | RestoreStatus::InProgress),
    )
    .await?;
    if done.status != RestoreStatus::Complete {
        bail!("restore of {} ended {}: {}", b.product, done.status, done.status_message.unwrap_or_default());
    }
    Ok(done)
}

/// The source's shard (the destination must share it, or the restore would move it).
async fn seeded_shard(backend: &Backend, admin: &str, org: &str, cloud: &str) -> anyhow::Result<String> {
    let sites = platform::list_sites(&backend.db, admin, org).await?;
    Ok(sites.into_iter().find(|s| s.cloud_id == cloud).map(|s| s.shard).context("the seeded site is gone")?)
}

async fn poll<T, F, Fut>(get: F, done: impl Fn(&T) -> bool) -> anyhow::Result<T>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<T, lifeboat_domain::service::ServiceError>>,
{
    loop {
        let v = get().await?;
        if done(&v) {
            return Ok(v);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Writes every dirty page out (`sync`) before a timed phase starts, so that no phase, Lifeboat's
/// or a peer's, pays for the writeback of what an earlier one wrote (the seed alone writes over a
/// gigabyte at medium; without this, whatever ran last was slowed by everyone's writeback). Each
/// phase's own writes still count as far as the page cache takes them, for all alike.
pub(crate) fn settle_disk() {
    if let Err(e) = std::process::Command::new("sync").status() {
        eprintln!("sync could not run ({e}); timings may include earlier phases' writeback");
    }
}

/// Resets the process's peak resident set size (Linux: writing 5 to clear_refs resets VmHWM), so
/// each phase reports its own peak and not the seeding's.
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// The peak resident set size since the last reset, in MB (Linux), or None elsewhere.
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 = status.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}
