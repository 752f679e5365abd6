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
