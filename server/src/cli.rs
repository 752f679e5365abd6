//! The `lifeboat` command line (SPEC §6).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(name = "lifeboat", version, about = "Self-hosted backup and restore for Jira and Confluence sites")]
pub struct Cli {
    /// Configuration file (TOML); `LIFEBOAT_CONFIG` also names it.
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the dashboard and the REST API (the default when no command is given).
    Serve(ServeArgs),
    /// Apply the database migrations and exit.
    Migrate,
    /// Manage admin accounts.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Generate realistic, deterministic content in a site (created when missing): demo, test and
    /// benchmark data, from a few entities to millions of rows.
    Seed(SeedArgs),
    /// Check a backup archive offline: every part and blob against the manifest. LOCATION is a
    /// backup (`DIR/backups/<id>`, `s3://bucket/prefix/backups/<id>`) or a whole storage (every
    /// backup in it). S3 credentials come from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
    /// AWS_REGION and AWS_ENDPOINT_URL.
    Verify(VerifyArgs),
    /// Measure backup and restore against restic, tar | zstd, cp and sqlite3 .dump on the same data
    /// (a fresh data set in its own directory; the configuration's data directory is not touched).
    Bench(BenchArgs),
    /// Print the OpenAPI document of the REST API (the same as GET /api/v1/openapi.json).
    Openapi,
}

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// tiny (tests), small (~10k entities, ~50 MB), medium (~100k, ~1 GB), large (~500k, ~5 GB).
    #[arg(long, value_enum, default_value = "small")]
    pub size: crate::benchmark::Size,
    /// Also write the figures as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Work in this (empty or new) directory instead of a temporary one.
    #[arg(long)]
    pub work_dir: Option<PathBuf>,
    /// Keep the temporary work directory (data set, databases) afterwards, and with --repeat
    /// every run's directory (otherwise each is removed once its figures are taken).
    #[arg(long)]
    pub keep: bool,
    /// Whole runs, each on a fresh data set; every figure and ratio reported is its median over
    /// the runs, and the JSON also has each run's figures (`each_run`).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub repeat: u32,
}

#[derive(Args, Debug)]
pub struct VerifyArgs {
    pub location: String,
}

#[derive(Args, Debug)]
pub struct SeedArgs {
    /// Organization (created when missing).
    #[arg(long)]
    pub org: String,
    /// Site name (created with both apps when missing).
    #[arg(long)]
    pub site: String,
    #[arg(long, default_value_t = 3)]
    pub jira_projects: u32,
    /// Issues in all, spread over the projects.
    #[arg(long, default_value_t = 300)]
    pub issues: u64,
    /// Comments on issues, and as many on pages.
    #[arg(long, default_value_t = 600)]
    pub comments: u64,
    #[arg(long, default_value_t = 2)]
    pub spaces: u32,
    /// Pages in all, spread over the spaces as trees.
    #[arg(long, default_value_t = 100)]
    pub pages: u64,
    /// Attachments on issues, and as many on pages (some share the same bytes).
    #[arg(long, default_value_t = 20)]
    pub attachments: u64,
    /// Mean attachment size in bytes.
    #[arg(long, default_value_t = 64 * 1024)]
    pub attachment_size: u64,
    #[arg(long, default_value_t = 20)]
    pub users: u32,
    #[arg(long, default_value_t = 4)]
    pub groups: u32,
    /// The generator's seed: the same seed and counts give the same content.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

#[derive(Args, Debug, Default)]
pub struct ServeArgs {
    /// Address to listen on, e.g. 127.0.0.1:3000 (port 0 picks a free one).
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// Data directory (database, managed storage).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Create a demo organization and admin if none exist, and print the credentials.
    #[arg(long)]
    pub demo: bool,
}

#[derive(Subcommand, Debug)]
pub enum AdminCommand {
    /// Create an admin (and the organization if missing) and make them its organization admin.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        org: String,
        /// Read the password from standard input (first line); otherwise a random one is printed.
        #[arg(long)]
        password_stdin: bool,
        /// Do not grant app-admin rights (organization admin only).
        #[arg(long)]
        no_app_admin: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Create an API token and print it once.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "api")]
        name: String,
    },
    /// List an admin's tokens (never their secrets).
    List {
        #[arg(long)]
        email: String,
    },
    /// Revoke a token by id.
    Revoke {
        #[arg(long)]
        email: String,
        #[arg(long)]
        id: String,
    },
}
