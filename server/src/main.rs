use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use clap::Parser;
use lifeboat_domain::service::identity;
use lifeboat_server::cli::{AdminCommand, Cli, Command, SeedArgs, ServeArgs, TokenCommand};
use lifeboat_server::config::Config;
use lifeboat_server::demo::random_password;
use lifeboat_server::startup::Application;
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return fail(anyhow::anyhow!("cannot start the runtime: {e}")),
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}

/// Non-zero exit with a one-line reason on stderr.
fn fail(e: anyhow::Error) -> ExitCode {
    let chain: Vec<String> = e.chain().map(|c| c.to_string()).collect();
    eprintln!("lifeboat: {}", chain.join(": "));
    ExitCode::FAILURE
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let mut config = Config::load(cli.config.as_deref())?;
    if matches!(cli.command, Some(Command::Bench(_))) {
        // The bench's table is the output; the jobs' progress lines would only bury it.
        config.log = "warn".into();
    }
    init_tracing(&config);
    match cli.command.unwrap_or(Command::Serve(ServeArgs::default())) {
        Command::Serve(args) => {
            if let Some(listen) = args.listen {
                config.listen = listen;
            }
            if let Some(dir) = args.data_dir {
                config.data_dir = dir;
            }
            config.demo |= args.demo;
            let app = Application::build(config).await?;
            let url = format!("http://{}", app.addr());
            println!("Lifeboat is serving the dashboard at {url}/");
            if let Some(demo) = &app.demo {
                match &demo.password {
                    Some(p) => println!("Demo sign-in: {} / {p}", demo.email),
                    None => println!(
                        "Demo sign-in: {} (password as first printed; set LIFEBOAT_DEMO_PASSWORD to choose one)",
                        demo.email
                    ),
                }
            }
            app.run_until_stopped().await?;
        }
        Command::Migrate => {
            std::fs::create_dir_all(&config.data_dir)?;
            identity::open_database(&config.database_url()).await?;
            println!("Migrations applied to {}", config.database_url());
        }
        Command::Admin(AdminCommand::Create { email, org, password_stdin, no_app_admin }) => {
            let (password, generated) = if password_stdin {
                let mut line = String::new();
                std::io::stdin().lock().read_line(&mut line)?;
                (line.trim_end_matches(['\r', '\n']).to_owned(), false)
            } else {
                (random_password(), true)
            };
            let db = open(&config).await?;
            let created = identity::create_admin(&db, &email, &org, &password, !no_app_admin).await?;
            println!(
                "{} admin {} in organization {} ({})",
                if created.created_account { "Created" } else { "Updated" },
                created.email,
                created.org.name,
                created.org.org_id
            );
            if generated {
                println!("Password: {password}");
            }
        }
        Command::Token(TokenCommand::Create { email, name }) => {
            let db = open(&config).await?;
            let (info, secret) = identity::create_token(&db, &email, &name).await?;
            if std::io::stdout().is_terminal() {
                eprintln!("Token {} ({}) created; it is shown only once:", info.token_id, info.name);
            }
            println!("{secret}");
        }
        Command::Token(TokenCommand::List { email }) => {
            let db = open(&config).await?;
            for t in identity::list_tokens(&db, &email).await? {
                let state = if t.revoked_at.is_some() { "revoked" } else { "active" };
                println!("{}\t{}\t{}\t{}", t.token_id, t.name, t.created_at.to_rfc3339(), state);
            }
        }
        Command::Seed(args) => seed(&config, args).await?,
        Command::Verify(args) => lifeboat_server::verify::verify(&args.location).await?,
        Command::Bench(args) => {
            use lifeboat_server::benchmark::{self, BenchOptions};
            let runs = benchmark::run(BenchOptions { size: args.size, work_dir: args.work_dir, keep: args.keep, repeat: args.repeat }).await?;
            let summary = benchmark::summarize(&runs)?;
            println!("{}", summary.table);
            if let Some(path) = args.json {
                std::fs::write(&path, serde_json::to_string_pretty(&summary.json)?)
                    .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
            }
        }
        Command::Openapi => println!("{}", serde_json::to_string_pretty(&lifeboat_server::api::openapi())?),
        Command::Token(TokenCommand::Revoke { email, id }) => {
            let db = open(&config).await?;
            identity::revoke_token(&db, &email, &id).await?;
            println!("Token {id} revoked");
        }
    }
    Ok(())
}

async fn open(config: &Config) -> anyhow::Result<lifeboat_domain::store::Db> {
    std::fs::create_dir_all(&config.data_dir)?;
    Ok(identity::open_database(&config.database_url()).await?)
}

fn init_tracing(config: &Config) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&config.log));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}

/// `lifeboat seed`: a progress bar on a terminal, then the figures (rows/s, MB/s) on stdout.
async fn seed(config: &Config, args: SeedArgs) -> anyhow::Result<()> {
    use lifeboat_domain::service::seed::{seed, SeedOptions};
    let db = open(config).await?;
    let blobs = lifeboat_domain::blobs::BlobStore::new(config.blobs_dir());
    let opts = SeedOptions {
        org: args.org,
        site: args.site,
        jira_projects: args.jira_projects,
        issues: args.issues,
        comments: args.comments,
        spaces: args.spaces,
        pages: args.pages,
        attachments: args.attachments,
        attachment_size: args.attachment_size,
        users: args.users,
        groups: args.groups,
        seed: args.seed,
    };
    let bar = if std::io::stderr().is_terminal() {
        indicatif::ProgressBar::new(0)
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg:>20} [{bar:40}] {pos}/{len} ({per_sec}, {eta})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let summary = seed(&db, &blobs, &opts, &|p| {
        bar.set_message(p.phase.label());
        bar.set_length(p.total);
        bar.set_position(p.done);
    })
    .await?;
    bar.finish_and_clear();
    let secs = summary.elapsed.as_secs_f64().max(1e-9);
    println!(
        "Seeded site {} ({}) in organization {}: {} rows, {:.1} MB of attachments ({:.1} MB new blobs) in {:.2} s",
        opts.site,
        summary.cloud_id,
        opts.org,
        summary.rows,
        summary.attachment_bytes as f64 / 1e6,
        summary.blob_bytes_written as f64 / 1e6,
        secs
    );
    println!(
        "Throughput: {:.0} rows/s, {:.1} MB/s of attachments",
        summary.rows_per_second(),
        summary.attachment_bytes as f64 / 1e6 / secs
    );
    Ok(())
}
