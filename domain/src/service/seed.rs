//! `lifeboat seed`: deterministic bulk generation of demo and benchmark data.
//!
//! The same options and seed always produce the same content (so the same digest) on a fresh site:
//! the text, the trees and the bytes come from a ChaCha8 generator seeded with `seed` — a portable,
//! versioned algorithm — while internal ids come from a separate generator and never reach the
//! content. Rows go in through multi-row statements inside large transactions (`store::seed`).
//!
//! Counts are totals for the site: `issues` spread over the projects, `pages` over the seeded
//! global spaces; `comments` and `attachments` are given to each app (N on issues and N on pages).

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::platform::create_site_for;
use super::ServiceError;
use crate::blobs::{BlobError, BlobStore};
use crate::model::{AccessState, NewSite, Plan, Product, Role, DEFAULT_ISSUE_STATUS, DEFAULT_SHARD};
use crate::store::seed::{self as q, Batch, BulkWriter, Val};
use crate::store::{identity as iq, platform as pq, Db, StoreError};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeedOptions {
    pub org: String,
    pub site: String,
    pub jira_projects: u32,
    pub issues: u64,
    pub comments: u64,
    pub spaces: u32,
    pub pages: u64,
    pub attachments: u64,
    pub attachment_size: u64,
    pub users: u32,
    pub groups: u32,
    pub seed: u64,
}

impl Default for SeedOptions {
    fn default() -> Self {
        SeedOptions {
            org: "Demo".to_owned(),
            site: "demo".to_owned(),
            jira_projects: 3,
            issues: 300,
            comments: 600,
            spaces: 2,
            pages: 100,
            attachments: 20,
            attachment_size: 64 * 1024,
            users: 20,
            groups: 4,
            seed: 1,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeedPhase {
    Directory,
    Projects,
    Issues,
    Spaces,
    Pages,
    Attachments,
}

impl SeedPhase {
    pub fn label(self) -> &'static str {
        match self {
            SeedPhase::Directory => "users and groups",
            SeedPhase::Projects => "projects",
            SeedPhase::Issues => "issues and comments",
            SeedPhase::Spaces => "spaces",
            SeedPhase::Pages => "pages and comments",
            SeedPhase::Attachments => "attachments",
        }
    }
}

/// Reported after every statement: `done` of `total` items of the phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeedProgress {
    pub phase: SeedPhase,
    pub done: u64,
    pub total: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeedSummary {
    pub org_id: String,
    pub cloud_id: String,
    pub created_site: bool,
    /// Rows inserted (every table).
    pub rows: u64,
    /// Logical bytes of the attachments created.
    pub attachment_bytes: u64,
    /// Bytes of new blobs actually written (shared contents are stored once).
    pub blob_bytes_written: u64,
    pub elapsed: Duration,
}

impl SeedSummary {
    pub fn rows_per_second(&self) -> f64 {
        self.rows as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Where seeded users' emails live, so a re-seed finds them.
const USER_DOMAIN: &str = "@seed.example";
const GROUP_PREFIX: &str = "seed-group-";

const WORDS: &[&str] = &[
    "the",
    "backup",
    "restore",
    "server",
    "policy",
    "storage",
    "page",
    "issue",
    "release",
    "deploy",
    "team",
    "review",
    "customer",
    "ticket",
    "sprint",
    "board",
    "latency",
    "incident",
    "database",
    "migration",
    "index",
    "query",
    "cache",
    "cluster",
    "node",
    "network",
    "request",
    "response",
    "timeout",
    "retry",
    "queue",
    "worker",
    "schedule",
    "report",
    "dashboard",
    "metric",
    "alert",
    "owner",
    "draft",
    "final",
    "version",
    "change",
    "plan",
    "budget",
    "roadmap",
    "feature",
    "bug",
    "fix",
    "test",
    "build",
    "pipeline",
    "artifact",
    "archive",
    "export",
    "import",
    "consent",
    "license",
    "shard",
    "group",
    "user",
    "access",
    "admin",
    "token",
    "session",
    "audit",
    "and",
    "of",
    "to",
    "in",
    "for",
    "with",
    "on",
    "after",
    "before",
    "when",
    "is",
    "was",
    "will",
    "should",
    "must",
    "can",
    "not",
    "a",
    "an",
    "this",
    "that",
    "we",
    "they",
    "it",
    "our",
    "new",
    "old",
    "fast",
    "slow",
    "large",
    "small",
    "weekly",
    "daily",
    "quarterly",
    "security",
    "performance",
    "design",
    "meeting",
    "notes",
    "customer-facing",
    "internal",
    "onboarding",
    "runbook",
    "checklist",
    "decision",
    "question",
    "answer",
];

const FILE_KINDS: &[(&str, &str)] = &[
    ("pdf", "application/pdf"),
    ("png", "image/png"),
    ("txt", "text/plain"),
    ("csv", "text/csv"),
    ("zip", "application/zip"),
    ("json", "application/json"),
];

const STATUSES: &[&str] = &[DEFAULT_ISSUE_STATUS, "In Progress", "In Review", "Done"];

/// Text of `words` words in sentences of 4 to 16 words, paragraphs every few sentences.
fn text(rng: &mut ChaCha8Rng, words: usize) -> String {
    let mut s = String::with_capacity(words * 7);
    let mut in_sentence = 0;
    let mut sentences = 0;
    let mut sentence_len = rng.gen_range(4..=16);
    for i in 0..words {
        let w = WORDS[rng.gen_range(0..WORDS.len())];
        if in_sentence == 0 {
            if i > 0 {
                s.push_str(if sentences % 5 == 0 { "\n\n" } else { " " });
            }
            let mut c = w.chars();
            if let Some(first) = c.next() {
                s.extend(first.to_uppercase());
                s.push_str(c.as_str());
            }
        } else {
            s.push(' ');
            s.push_str(w);
        }
        in_sentence += 1;
        if in_sentence == sentence_len || i + 1 == words {
            s.push('.');
            in_sentence = 0;
            sentences += 1;
            sentence_len = rng.gen_range(4..=16);
        }
    }
    s
}

/// Word counts skewed like real content: mostly short, some medium, a few long.
fn length(rng: &mut ChaCha8Rng, short: (usize, usize), long: (usize, usize)) -> usize {
    match rng.gen_range(0..100) {
        0..=74 => rng.gen_range(short.0..=short.1),
        75..=95 => rng.gen_range(short.1..=long.0.max(short.1)),
        _ => rng.gen_range(long.0..=long.1),
    }
}

fn title(rng: &mut ChaCha8Rng, min: usize, max: usize) -> String {
    let n = rng.gen_range(min..=max);
    let t = text(rng, n);
    t.trim_end_matches('.').to_owned()
}

/// Shares `total` among `n` parents at random (each gets on average total/n; the sum is exact).
fn share(rng: &mut ChaCha8Rng, remaining_total: &mut u64, remaining_parents: u64) -> u64 {
    let k = if remaining_parents <= 1 {
        *remaining_total
    } else {
        let mean2 = 2 * *remaining_total / remaining_parents;
        rng.gen_range(0..=mean2).min(*remaining_total)
    };
    *remaining_total -= k;
    k
}

/// Internal ids: random, but from their own generator so they never disturb the content's.
struct Ids;

impl Ids {
    /// Time-ordered (UUIDv7), like `store::new_id`: inserts append to the primary-key index
    /// instead of landing on random pages of it, which is what bulk loading is bound by.
    fn next(&mut self) -> String {
        uuid::Uuid::now_v7().to_string()
    }
}

/// A clock ticking one millisecond per entity, so creation order is the generation order.
struct Clock(DateTime<Utc>);

impl Clock {
    fn tick(&mut self) -> DateTime<Utc> {
        self.0 += chrono::Duration::milliseconds(1);
        self.0
    }
}

fn fresh_key(prefix: &str, n: &mut u32, taken: &HashSet<String>) -> String {
    loop {
        *n += 1;
        let key = format!("{prefix}{n}");
        if !taken.contains(&key) {
            return key;
        }
    }
}

async fn flush(b: &mut Batch, w: &mut BulkWriter, rows: &mut u64) -> Result<(), StoreError> {
    *rows += b.flush(w).await?;
    Ok(())
}

/// Generates the data; see the module docs for what the counts mean.
pub async fn seed(
    db: &Db,
    blobs: &BlobStore,
    opts: &SeedOptions,
    progress: &(dyn Fn(SeedProgress) + Send + Sync),
) -> Result<SeedSummary, ServiceError> {
    let started = Instant::now();
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    let mut ids = Ids;
    let blobs = blobs.clone().with_sync(false);

    let org = match iq::find_org_by_name(db, opts.org.trim()).await? {
        Some(org) => org,
        None => iq::insert_org(db, opts.org.trim()).await?,
    };
    let creator = q::first_org_admin_email(db, &org.org_id).await?.unwrap_or_else(|| "seed-admin@seed.example".into());
    let (site, created_site) = match pq::find_site_by_name(db, &org.org_id, opts.site.trim()).await? {
        Some(site) => (site.cloud_id, false),
        None => {
            let req = NewSite {
                name: opts.site.clone(),
                products: Product::ALL.to_vec(),
                plan: Plan::Standard,
                shard: DEFAULT_SHARD.to_owned(),
                free_trial: false,
            };
            (create_site_for(db, &org.org_id, &creator, req).await?.cloud_id, true)
        }
    };
    let has_jira = pq::find_app(db, &site, Product::Jira).await?.is_some();
    let has_confluence = pq::find_app(db, &site, Product::Confluence).await?.is_some();
    if (opts.jira_projects > 0 && !has_jira) || (opts.spaces > 0 && !has_confluence) {
        return Err(ServiceError::validation("APP_NOT_FOUND", "the site does not run the app to seed"));
    }
    let taken: HashSet<String> = q::taken_keys(db, &site).await?.into_iter().collect();
    let mut clock = Clock(Utc::now() - chrono::Duration::days(30));
    let mut rows = 0u64;
    let mut w = BulkWriter::begin(db).await?;

    // ---- directory ----
    let emails: Vec<String> = (1..=opts.users).map(|i| format!("user{i}{USER_DOMAIN}")).collect();
    let mut users =
        Batch::new("users", &["account_id", "org_id", "email", "display_name", "active", "created_at"], true);
    let dir_total = u64::from(opts.users) + u64::from(opts.groups);
    for (i, email) in emails.iter().enumerate() {
        let name =
            format!("{} {}", cap(WORDS[rng.gen_range(0..WORDS.len())]), cap(WORDS[rng.gen_range(0..WORDS.len())]));
        users.push([
            Val::Text(ids.next()),
            Val::Text(org.org_id.clone()),
            Val::Text(email.clone()),
            Val::Text(name),
            Val::Int(1),
            Val::Time(clock.tick()),
        ]);
        if users.is_full() {
            flush(&mut users, &mut w, &mut rows).await?;
            progress(SeedProgress { phase: SeedPhase::Directory, done: i as u64 + 1, total: dir_total });
        }
    }
    flush(&mut users, &mut w, &mut rows).await?;
    // Reads and single writes go through the pool, after the loader committed what it wrote.
    w.pause()?;
    let mut conn = db.acquire().await.map_err(StoreError::from)?;
    let account_of: HashMap<String, String> =
        q::user_ids_by_email(&mut conn, &org.org_id, USER_DOMAIN).await?.into_iter().collect();
    let accounts: Vec<&String> = emails.iter().filter_map(|e| account_of.get(e)).collect();

    let mut groups = Batch::new("groups", &["group_id", "org_id", "name", "custom", "created_at"], true);
    for i in 1..=opts.groups {
        groups.push([
            Val::Text(ids.next()),
            Val::Text(org.org_id.clone()),
            Val::Text(format!("{GROUP_PREFIX}{i}")),
            Val::Int(1),
            Val::Time(clock.tick()),
        ]);
        if groups.is_full() {
            flush(&mut groups, &mut w, &mut rows).await?;
        }
    }
    flush(&mut groups, &mut w, &mut rows).await?;
    w.pause()?;
    let group_of: HashMap<String, String> =
        q::group_ids_by_name(&mut conn, &org.org_id, GROUP_PREFIX).await?.into_iter().collect();
    let mut members = Batch::new("group_members", &["group_id", "account_id"], true);
    for i in 1..=opts.groups {
        let Some(group_id) = group_of.get(&format!("{GROUP_PREFIX}{i}")) else { continue };
        if !accounts.is_empty() {
            let n = rng.gen_range(1..=accounts.len().min(50));
            for _ in 0..n {
                let who = accounts[rng.gen_range(0..accounts.len())];
                members.push([Val::Text(group_id.clone()), Val::Text(who.clone())]);
                if members.is_full() {
                    flush(&mut members, &mut w, &mut rows).await?;
                }
            }
        }
        // Every seeded group has a role on each app of the site, so each app's backup carries custom
        // groups and their access (what a restore brings back for review).
        let role = if rng.gen_bool(0.2) { Role::Admin } else { Role::User };
        for (present, product) in [(has_jira, Product::Jira), (has_confluence, Product::Confluence)] {
            if present {
                w.pause()?;
                pq::upsert_grant(&mut conn, group_id, &site, product, role, AccessState::Active).await?;
                rows += 1;
            }
        }
        progress(SeedProgress { phase: SeedPhase::Directory, done: u64::from(opts.users + i), total: dir_total });
    }
    drop(conn);
    flush(&mut members, &mut w, &mut rows).await?;
    let person = |rng: &mut ChaCha8Rng| -> Val {
        if emails.is_empty() {
            Val::Text(creator.clone())
        } else {
            Val::Text(emails[rng.gen_range(0..emails.len())].clone())
        }
    };

    // ---- Jira ----
    let mut issue_ids: Vec<String> = Vec::new();
    if has_jira && opts.jira_projects > 0 {
        let mut projects = Batch::new(
            "jira_projects",
            &["project_id", "cloud_id", "project_key", "name", "description", "next_issue_number", "created_at"],
            false,
        );
        let mut n = 0;
        let mut project_ids = Vec::new();
        let mut keys = Vec::new();
        let mut counts = vec![0u64; opts.jira_projects as usize];
        for _ in 0..opts.jira_projects {
            keys.push(fresh_key("PRJ", &mut n, &taken));
        }
        // Issues per project, skewed towards the first projects.
        for _ in 0..opts.issues {
            let x: f64 = rng.gen();
            counts[((x * x) * f64::from(opts.jira_projects)) as usize] += 1;
        }
        for (key, count) in keys.iter().zip(&counts) {
            let id = ids.next();
            let name = title(&mut rng, 1, 4);
            let words = length(&mut rng, (0, 40), (120, 400));
            projects.push([
                Val::Text(id.clone()),
                Val::Text(site.clone()),
                Val::Text(key.clone()),
                Val::Text(name),
                Val::Text(text(&mut rng, words)),
                Val::Int(*count as i64 + 1),
                Val::Time(clock.tick()),
            ]);
            project_ids.push(id);
        }
        flush(&mut projects, &mut w, &mut rows).await?;
        progress(SeedProgress { phase: SeedPhase::Projects, done: keys.len() as u64, total: keys.len() as u64 });

        let mut issues = Batch::new(
            "jira_issues",
            &[
                "issue_id",
                "project_id",
                "number",
                "summary",
                "description",
                "status",
                "reporter_email",
                "created_at",
                "updated_at",
            ],
            false,
        );
        let mut comments =
            Batch::new("jira_comments", &["comment_id", "issue_id", "author_email", "body", "created_at"], false);
        let (mut left_comments, mut left_issues, mut done) = (opts.comments, opts.issues, 0u64);
        issue_ids.reserve(opts.issues.min(10_000_000) as usize);
        for (p, count) in counts.iter().enumerate() {
            for number in 1..=*count {
                let id = ids.next();
                let at = clock.tick();
                let summary = title(&mut rng, 3, 12);
                let words = length(&mut rng, (0, 60), (300, 1500));
                issues.push([
                    Val::Text(id.clone()),
                    Val::Text(project_ids[p].clone()),
                    Val::Int(number as i64),
                    Val::Text(summary),
                    Val::Text(text(&mut rng, words)),
                    Val::Static(STATUSES[rng.gen_range(0..STATUSES.len())]),
                    person(&mut rng),
                    Val::Time(at),
                    Val::Time(at),
                ]);
                for _ in 0..share(&mut rng, &mut left_comments, left_issues) {
                    let words = length(&mut rng, (3, 80), (200, 600));
                    comments.push([
                        Val::Text(ids.next()),
                        Val::Text(id.clone()),
                        person(&mut rng),
                        Val::Text(text(&mut rng, words)),
                        Val::Time(clock.tick()),
                    ]);
                    if comments.is_full() {
                        flush(&mut issues, &mut w, &mut rows).await?;
                        flush(&mut comments, &mut w, &mut rows).await?;
                    }
                }
                left_issues -= 1;
                issue_ids.push(id);
                done += 1;
                if issues.is_full() {
                    flush(&mut issues, &mut w, &mut rows).await?;
                    progress(SeedProgress { phase: SeedPhase::Issues, done, total: opts.issues });
                }
            }
        }
        flush(&mut issues, &mut w, &mut rows).await?;
        flush(&mut comments, &mut w, &mut rows).await?;
        progress(SeedProgress { phase: SeedPhase::Issues, done, total: opts.issues });
    }

    // ---- Confluence ----
    let mut page_ids: Vec<String> = Vec::new();
    if has_confluence && opts.spaces > 0 {
        let mut spaces = Batch::new(
            "confluence_spaces",
            &[
                "space_id",
                "cloud_id",
                "space_key",
                "name",
                "space_type",
                "owner_account_id",
                "created_with_app",
                "created_at",
            ],
            false,
        );
        let mut n = 0;
        let mut space_ids = Vec::new();
        for _ in 0..opts.spaces {
            let id = ids.next();
            let name = title(&mut rng, 1, 4);
            spaces.push([
                Val::Text(id.clone()),
                Val::Text(site.clone()),
                Val::Text(fresh_key("SP", &mut n, &taken)),
                Val::Text(name),
                Val::Static("global"),
                Val::Null,
                Val::Int(0),
                Val::Time(clock.tick()),
            ]);
            space_ids.push(id);
        }
        flush(&mut spaces, &mut w, &mut rows).await?;
        progress(SeedProgress {
            phase: SeedPhase::Spaces,
            done: space_ids.len() as u64,
            total: space_ids.len() as u64,
        });

        let mut pages = Batch::new(
            "confluence_pages",
            &[
                "page_id",
                "space_id",
                "parent_id",
                "title",
                "body",
                "version",
                "position",
                "author_email",
                "created_at",
                "updated_at",
            ],
            false,
        );
        let mut comments =
            Batch::new("confluence_comments", &["comment_id", "page_id", "author_email", "body", "created_at"], false);
        // Per space: its pages' indexes into page_ids and their children counts; the top-level count.
        let mut tree: Vec<(Vec<usize>, Vec<u32>, u32)> = vec![(Vec::new(), Vec::new(), 0); space_ids.len()];
        let (mut left_comments, mut done) = (opts.comments, 0u64);
        page_ids.reserve(opts.pages.min(10_000_000) as usize);
        for _ in 0..opts.pages {
            let s = rng.gen_range(0..space_ids.len());
            let (members, children, roots) = &mut tree[s];
            let parent =
                if members.is_empty() || rng.gen_bool(0.2) { None } else { Some(rng.gen_range(0..members.len())) };
            let position = match parent {
                None => {
                    *roots += 1;
                    *roots - 1
                }
                Some(k) => {
                    children[k] += 1;
                    children[k] - 1
                }
            };
            let id = ids.next();
            let at = clock.tick();
            let page_title = title(&mut rng, 2, 8);
            let words = length(&mut rng, (30, 400), (1000, 3000));
            pages.push([
                Val::Text(id.clone()),
                Val::Text(space_ids[s].clone()),
                parent.map_or(Val::Null, |k| Val::Text(page_ids[members[k]].clone())),
                Val::Text(page_title),
                Val::Text(text(&mut rng, words)),
                Val::Int(rng.gen_range(1..=5)),
                Val::Int(i64::from(position)),
                person(&mut rng),
                Val::Time(at),
                Val::Time(at),
            ]);
            members.push(page_ids.len());
            children.push(0);
            for _ in 0..share(&mut rng, &mut left_comments, opts.pages - done) {
                let words = length(&mut rng, (3, 80), (200, 600));
                comments.push([
                    Val::Text(ids.next()),
                    Val::Text(id.clone()),
                    person(&mut rng),
                    Val::Text(text(&mut rng, words)),
                    Val::Time(clock.tick()),
                ]);
                if comments.is_full() {
                    flush(&mut pages, &mut w, &mut rows).await?;
                    flush(&mut comments, &mut w, &mut rows).await?;
                }
            }
            page_ids.push(id);
            done += 1;
            if pages.is_full() {
                flush(&mut pages, &mut w, &mut rows).await?;
                progress(SeedProgress { phase: SeedPhase::Pages, done, total: opts.pages });
            }
        }
        flush(&mut pages, &mut w, &mut rows).await?;
        flush(&mut comments, &mut w, &mut rows).await?;
        progress(SeedProgress { phase: SeedPhase::Pages, done, total: opts.pages });
    }

    // ---- attachments ----
    let owners: Vec<(Product, &Vec<String>)> = [(Product::Jira, &issue_ids), (Product::Confluence, &page_ids)]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .collect();
    let total = opts.attachments * owners.len() as u64;
    let (mut attachment_bytes, mut blob_bytes_written, mut done) = (0u64, 0u64, 0u64);
    // A quarter of the attachments reuse an earlier attachment's bytes.
    let distinct = opts.attachments.saturating_sub(opts.attachments / 4).max(1);
    let mut contents: HashMap<u64, String> = HashMap::new();
    let mut atts = Batch::new(
        "attachments",
        &[
            "attachment_id",
            "cloud_id",
            "product",
            "issue_id",
            "page_id",
            "filename",
            "content_type",
            "size",
            "sha256",
            "author_email",
            "created_at",
        ],
        false,
    );
    for (product, parent_ids) in &owners {
        for j in 0..opts.attachments {
            let content = if j < distinct { j } else { rng.gen_range(0..distinct) };
            let sha256 = match contents.get(&content) {
                Some(sha) => sha.clone(),
                None => {
                    let info = blobs
                        .put_stream(content_stream(opts.seed, content, opts.attachment_size), u64::MAX)
                        .await
                        .map_err(|e: BlobError| ServiceError::Unexpected(e.to_string()))?;
                    if info.created {
                        blob_bytes_written += info.size;
                    }
                    contents.insert(content, info.sha256.clone());
                    info.sha256
                }
            };
            let parent = parent_ids[rng.gen_range(0..parent_ids.len())].clone();
            let (ext, content_type) = FILE_KINDS[(content % FILE_KINDS.len() as u64) as usize];
            let filename = format!("{}-{content}.{ext}", WORDS[rng.gen_range(0..WORDS.len())]);
            let (issue, page) = match product {
                Product::Jira => (Val::Text(parent), Val::Null),
                Product::Confluence => (Val::Null, Val::Text(parent)),
            };
            atts.push([
                Val::Text(ids.next()),
                Val::Text(site.clone()),
                Val::Static(product.as_str()),
                issue,
                page,
                Val::Text(filename),
                Val::Static(content_type),
                Val::Int(opts.attachment_size as i64),
                Val::Text(sha256),
                person(&mut rng),
                Val::Time(clock.tick()),
            ]);
            attachment_bytes += opts.attachment_size;
            done += 1;
            if atts.is_full() {
                flush(&mut atts, &mut w, &mut rows).await?;
                progress(SeedProgress { phase: SeedPhase::Attachments, done, total });
            }
        }
    }
    flush(&mut atts, &mut w, &mut rows).await?;
    if total > 0 {
        progress(SeedProgress { phase: SeedPhase::Attachments, done, total });
    }
    // `rows` counted what was submitted; the loader knows what `INSERT OR IGNORE` really inserted.
    let (submitted, inserted) = w.commit().await?;
    let rows = rows - submitted + inserted;

    Ok(SeedSummary {
        org_id: org.org_id,
        cloud_id: site,
        created_site,
        rows,
        attachment_bytes,
        blob_bytes_written,
        elapsed: started.elapsed(),
    })
}

fn cap(w: &str) -> String {
    let mut c = w.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

/// The bytes of attachment content number `content`: `size` bytes from a generator of their own
/// (so generating them does not depend on anything else), in 64 KiB chunks.
fn content_stream(
    seed: u64,
    content: u64,
    size: u64,
) -> impl futures_util::Stream<Item = Result<Bytes, std::convert::Infallible>> {
    const CHUNK: u64 = 64 * 1024;
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x9E37_79B9_7F4A_7C15u64.wrapping_mul(content + 1));
    let mut left = size;
    futures_util::stream::iter(std::iter::from_fn(move || {
        if left == 0 {
            return None;
        }
        let n = left.min(CHUNK) as usize;
        left -= n as u64;
        let mut buf = vec![0u8; n];
        rng.fill_bytes(&mut buf);
        Some(Ok(Bytes::from(buf)))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::digest::compute_digest;
    use crate::service::identity::open_database;
    use crate::store;

    fn tiny(site: &str, seed: u64) -> SeedOptions {
        SeedOptions {
            org: "Bench".into(),
            site: site.into(),
            jira_projects: 3,
            issues: 40,
            comments: 70,
            spaces: 2,
            pages: 30,
            attachments: 8,
            attachment_size: 100_000,
            users: 12,
            groups: 3,
            seed,
        }
    }

    #[tokio::test]
    async fn same_seed_same_content() {
        let dir = tempfile::tempdir().unwrap();
        let db = open_database(&store::default_url(dir.path())).await.unwrap();
        let blobs = BlobStore::new(dir.path().join("blobs"));
        let calls = std::sync::atomic::AtomicU32::new(0);
        let report = |p: SeedProgress| {
            assert!(p.done <= p.total);
            calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        };
        let a = seed(&db, &blobs, &tiny("a", 7), &report).await.unwrap();
        let b = seed(&db, &blobs, &tiny("b", 7), &report).await.unwrap();
        let c = seed(&db, &blobs, &tiny("c", 8), &report).await.unwrap();
        assert!(a.created_site && calls.load(std::sync::atomic::Ordering::Relaxed) > 6);
        assert_eq!(a.attachment_bytes, 16 * 100_000);
        assert!(a.blob_bytes_written < a.attachment_bytes, "some attachments share their bytes");
        assert_eq!(b.blob_bytes_written, 0, "the same seed's bytes are already stored");
        for product in Product::ALL {
            let (da, db_, dc) = (
                compute_digest(&db, &a.cloud_id, product).await.unwrap(),
                compute_digest(&db, &b.cloud_id, product).await.unwrap(),
                compute_digest(&db, &c.cloud_id, product).await.unwrap(),
            );
            assert_eq!(da, db_, "{product}");
            assert_ne!(da.sha256, dc.sha256, "{product}");
        }
        let jira = compute_digest(&db, &a.cloud_id, Product::Jira).await.unwrap();
        assert_eq!((jira.counts["projects"], jira.counts["issues"], jira.counts["comments"]), (3, 40, 70));
        let conf = compute_digest(&db, &a.cloud_id, Product::Confluence).await.unwrap();
        assert_eq!((conf.counts["spaces"], conf.counts["pages"], conf.counts["comments"]), (3, 30, 70));
        assert_eq!(conf.counts["attachments"], 8);

        // Seeding the same site again adds fresh projects and spaces instead of clashing.
        let again = seed(&db, &blobs, &tiny("a", 7), &report).await.unwrap();
        assert!(!again.created_site);
        let jira = compute_digest(&db, &a.cloud_id, Product::Jira).await.unwrap();
        assert_eq!(jira.counts["projects"], 6);
    }

    /// Not a benchmark (debug build): guards against accidentally quadratic work.
    #[tokio::test]
    async fn a_larger_seed_is_quick() {
        let dir = tempfile::tempdir().unwrap();
        let db = open_database(&store::default_url(dir.path())).await.unwrap();
        let blobs = BlobStore::new(dir.path().join("blobs"));
        let opts = SeedOptions {
            issues: 20_000,
            comments: 20_000,
            pages: 5_000,
            attachments: 50,
            attachment_size: 1000,
            users: 500,
            groups: 20,
            ..SeedOptions::default()
        };
        let s = seed(&db, &blobs, &opts, &|_| {}).await.unwrap();
        eprintln!("seeded {} rows in {:?} ({:.0} rows/s, debug build)", s.rows, s.elapsed, s.rows_per_second());
        assert!(s.rows > 50_000);
    }
}
