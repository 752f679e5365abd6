//! The peers, run as the external programs an admin would use, on the same input: the attachment
//! blobs (hard links to the data directory's) and `sqlite3 .dump` of the rows. A missing program is
//! an error for that peer only; the report shows it as absent.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{bail, Context};

use super::report::{ResticFigures, TarFigures};

/// Runs a shell pipeline once the disk has settled, returns its wall time in seconds; fails with its stderr.
fn timed(what: &str, script: &str, env: &[(&str, &str)]) -> anyhow::Result<f64> {
    super::settle_disk();
    let started = Instant::now();
    let mut cmd = Command::new("sh");
    cmd.arg("-c").arg(script).stdout(Stdio::null()).stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().with_context(|| format!("{what}: cannot start sh"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        eprintln!("{what} failed: {}", err.trim());
        bail!("{what} failed: {}", err.trim());
    }
    Ok(started.elapsed().as_secs_f64())
}

fn q(p: &Path) -> String {
    // Paths are ours (a temp or given work dir); single quotes keep spaces intact.
    format!("'{}'", p.display().to_string().replace('\'', "'\\''"))
}

/// `sqlite3 DB .dump > peer-input/rows.sql`: the rows as a text dump, timed.
pub fn sqlite_dump(database_url: &str, peer_input: &Path) -> anyhow::Result<f64> {
    std::fs::create_dir_all(peer_input)?;
    let db = database_url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
    timed("sqlite3 .dump", &format!("sqlite3 {} .dump > {}", q(Path::new(db)), q(&peer_input.join("rows.sql"))), &[])
}

/// The blob directory as hard links (no copy: the peers read the very same files).
pub fn link_tree(from: &Path, to: &Path) -> anyhow::Result<()> {
    let status = Command::new("cp").arg("-al").arg(from).arg(to).status().context("cp -al")?;
    if !status.success() {
        bail!("cp -al {} {} failed", from.display(), to.display());
    }
    Ok(())
}

pub fn tree_bytes(dir: &Path) -> anyhow::Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        total += if meta.is_dir() { tree_bytes(&entry.path())? } else { meta.len() };
    }
    Ok(total)
}

pub fn remove(dir: &Path) {
    let _ = std::fs::remove_dir_all(dir);
}

/// restic: init, first backup, second backup of the same data, restore of the latest snapshot.
pub fn restic(work: &Path, input: &Path) -> anyhow::Result<ResticFigures> {
    let repo = work.join("restic-repo");
    let out = work.join("restic-restore");
    let cache = work.join("restic-cache");
    let (repo_s, cache_s) = (repo.display().to_string(), cache.display().to_string());
    let env = [("RESTIC_PASSWORD", "lifeboat-bench"), ("RESTIC_REPOSITORY", repo_s.as_str()), ("RESTIC_CACHE_DIR", cache_s.as_str())];
    timed("restic init", "restic init --quiet", &env)?;
    let backup_s = timed("restic backup", &format!("restic backup --quiet {}", q(input)), &env)?;
    let second_backup_s = timed("restic backup (again)", &format!("restic backup --quiet {}", q(input)), &env)?;
    let restore_s = timed("restic restore", &format!("restic restore latest --quiet --target {}", q(&out)), &env)?;
    remove(&out);
    remove(&repo);
    remove(&cache);
    Ok(ResticFigures { backup_s, second_backup_s, restore_s })
}

/// `tar -c | zstd -1 -T2` into one file, then extraction.
pub fn tar_zstd(work: &Path, input: &Path) -> anyhow::Result<TarFigures> {
    let archive = work.join("peer.tar.zst");
    let out = work.join("tar-restore");
    std::fs::create_dir_all(&out)?;
    let parent = input.parent().unwrap_or(work);
    let name = input.file_name().context("input has a name")?.to_string_lossy().to_string();
    let backup_s = timed(
        "tar | zstd",
        &format!("tar -C {} -cf - {} | zstd -1 -T2 -q -o {}", q(parent), name, q(&archive)),
        &[],
    )?;
    let archive_bytes = std::fs::metadata(&archive)?.len();
    let restore_s = timed("zstd -d | tar -x", &format!("zstd -d -q -c {} | tar -C {} -xf -", q(&archive), q(&out)), &[])?;
    remove(&out);
    let _ = std::fs::remove_file(&archive);
    Ok(TarFigures { backup_s, restore_s, archive_bytes })
}

/// `cp -r` of the input: the floor of any copy on this disk.
pub fn cp(work: &Path, input: &Path) -> anyhow::Result<f64> {
    let out = work.join("cp-copy");
    let s = timed("cp -r", &format!("cp -r {} {}", q(input), q(&out)), &[])?;
    remove(&out);
    Ok(s)
}
