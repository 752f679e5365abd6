//! `lifeboat verify LOCATION`: a full offline check of backup archives, without the server or its
//! database. Exit status non-zero, naming the first bad part, when anything is wrong.

use std::io::IsTerminal;
use std::path::Path;

use anyhow::{anyhow, bail, Context};
use lifeboat_domain::archive::{is_backup_id, verify_backup_among, VerifiedBlobs, VerifyReport};
use lifeboat_domain::storage::{S3Location, Storage};

/// A storage root and, when the location names one, a backup in it.
fn parse_location(location: &str) -> anyhow::Result<(Storage, Option<String>)> {
    let trimmed = location.trim_end_matches('/');
    let (root, backup) = match trimmed.rsplit_once('/') {
        Some((head, id)) if is_backup_id(id) && head.ends_with("backups") => {
            (head.strip_suffix("backups").unwrap_or(head).trim_end_matches('/'), Some(id.to_owned()))
        }
        _ => (trimmed, None),
    };
    let storage = if let Some(rest) = root.strip_prefix("s3://") {
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            bail!("{location}: no bucket in the S3 location");
        }
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        Storage::s3(
            "",
            &S3Location {
                bucket: bucket.to_owned(),
                region: env("AWS_REGION").unwrap_or_else(|| "us-east-1".into()),
                endpoint: env("AWS_ENDPOINT_URL"),
                prefix: prefix.to_owned(),
                access_key_id: env("AWS_ACCESS_KEY_ID"),
                secret_access_key: env("AWS_SECRET_ACCESS_KEY"),
            },
        )?
    } else {
        let dir = Path::new(if root.is_empty() { "/" } else { root });
        if !dir.is_dir() {
            bail!("{location}: no such directory");
        }
        Storage::local("", dir)?
    };
    Ok((storage, backup))
}

pub async fn verify(location: &str) -> anyhow::Result<()> {
    let (storage, backup) = parse_location(location)?;
    let ids = match backup {
        Some(id) => vec![id],
        None => {
            let ids = storage.list_dirs("backups").await.with_context(|| format!("cannot list {location}"))?;
            if ids.is_empty() {
                bail!("{location}: no backups found (expected backups/<id>/manifest.json)");
            }
            ids
        }
    };
    let terminal = std::io::stderr().is_terminal();
    let mut totals = VerifyReport::default();
    // A blob shared by several backups (as a storage's backups mostly are) is read once.
    let mut verified = VerifiedBlobs::default();
    for id in &ids {
        let bar = terminal.then(|| {
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} parts and blobs")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar.set_message(format!("verifying {id}"));
            bar
        });
        let result = verify_backup_among(&storage, id, &mut verified, |done, total| {
            if let Some(bar) = &bar {
                bar.set_length(total);
                bar.set_position(done);
            }
        })
        .await;
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        let (manifest, report) = result.map_err(|e| anyhow!("backup {id}: {} ({})", e, e.code()))?;
        let before = match report.blobs_verified_before {
            0 => String::new(),
            n => format!(", {n} of them checked with an earlier backup"),
        };
        println!(
            "backup {id}: OK — {} {} of site {}, {} parts, {} records, {} blobs ({} bytes{before}), status {}",
            manifest.product, manifest.created_at, manifest.site_name, report.parts, report.records, report.blobs,
            report.blob_bytes, manifest.status
        );
        totals.parts += report.parts;
        totals.records += report.records;
        totals.blobs += report.blobs;
    }
    if ids.len() > 1 {
        println!("{} backups verified: {} parts, {} records, {} blobs", ids.len(), totals.parts, totals.records, totals.blobs);
    }
    Ok(())
}
