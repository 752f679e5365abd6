//! Reads an archive back, verifying every byte: the manifest first, each part against its size
//! and SHA-256 before it is decompressed, each record's size, and each blob's size and SHA-256.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read};

use bytes::Bytes;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use super::records::{AttachmentRecord, ATTACHMENTS};
use super::{
    blob_path, manifest_path, part_path, ArchiveError, Manifest, PartEntry, MANIFEST_MAX, RECORD_MAX,
    ZSTD_WINDOW_LOG_MAX,
};
use crate::blobs::is_sha256_hex;
use crate::storage::{Hashed, Storage, StorageError};

/// Reads and checks `backups/<backup_id>/manifest.json`.
pub async fn read_manifest(storage: &Storage, backup_id: &str) -> Result<Manifest, ArchiveError> {
    if !super::is_backup_id(backup_id) {
        return Err(ArchiveError::BadName(backup_id.to_owned()));
    }
    let bytes = match storage.get_bounded(&manifest_path(backup_id), MANIFEST_MAX).await {
        Ok(b) => b,
        Err(StorageError::NotFound(_)) => return Err(ArchiveError::ManifestMissing(backup_id.to_owned())),
        Err(StorageError::TooLarge { size, limit, .. }) => {
            return Err(ArchiveError::TooLarge { what: "manifest".into(), size, limit })
        }
        Err(e) => return Err(e.into()),
    };
    Manifest::parse(&bytes, backup_id)
}

/// Fetches a part's stored bytes and checks them against the manifest (size, then SHA-256).
pub async fn fetch_part(storage: &Storage, backup_id: &str, entry: &PartEntry) -> Result<Bytes, ArchiveError> {
    let path = part_path(backup_id, &entry.name);
    let bytes = match storage.get_bounded(&path, entry.size).await {
        Ok(b) => b,
        Err(StorageError::NotFound(_)) => return Err(ArchiveError::PartMissing(entry.name.clone())),
        Err(StorageError::TooLarge { size, .. }) => {
            return Err(ArchiveError::PartSizeMismatch { part: entry.name.clone(), expected: entry.size, found: size })
        }
        Err(e) => return Err(e.into()),
    };
    let found = bytes.len() as u64;
    if found < entry.size {
        return Err(ArchiveError::PartTruncated { part: entry.name.clone(), expected: entry.size, found });
    }
    // Hashed on a blocking thread: a part may be up to `PART_MAX`, and a restore fetches the next
    // part on the async threads while it writes.
    let hashed = bytes.clone();
    let digest = tokio::task::spawn_blocking(move || hex::encode(Sha256::digest(&hashed)))
        .await
        .map_err(|e| ArchiveError::Storage(StorageError::Backend(format!("hashing part {}: {e}", entry.name))))?;
    if digest != entry.sha256 {
        return Err(ArchiveError::PartChecksum(entry.name.clone()));
    }
    Ok(bytes)
}

/// The records of one verified part, decompressed as they are read (one record in memory at a time).
pub struct PartReader {
    name: String,
    lines: BufReader<zstd::stream::read::Decoder<'static, BufReader<std::io::Cursor<Bytes>>>>,
    buf: Vec<u8>,
    expected_records: u64,
    expected_raw: u64,
    records: u64,
    raw: u64,
}

impl PartReader {
    pub fn new(entry: &PartEntry, verified: Bytes) -> Result<PartReader, ArchiveError> {
        let mut decoder = zstd::stream::read::Decoder::new(std::io::Cursor::new(verified))
            .map_err(|e| content(&entry.name, e.to_string()))?;
        decoder.window_log_max(ZSTD_WINDOW_LOG_MAX).map_err(|e| content(&entry.name, e.to_string()))?;
        Ok(PartReader {
            name: entry.name.clone(),
            lines: BufReader::new(decoder),
            buf: Vec::new(),
            expected_records: entry.records,
            expected_raw: entry.raw_size,
            records: 0,
            raw: 0,
        })
    }

    /// The next record's JSON bytes, `None` at the end (after checking the part's totals).
    pub fn next_line(&mut self) -> Result<Option<&[u8]>, ArchiveError> {
        self.buf.clear();
        let n = (&mut self.lines)
            .take(RECORD_MAX as u64 + 1)
            .read_until(b'\n', &mut self.buf)
            .map_err(|e| content(&self.name, format!("cannot decompress: {e}")))?;
        if n == 0 {
            if self.records != self.expected_records || self.raw != self.expected_raw {
                return Err(content(
                    &self.name,
                    format!(
                        "{} records / {} bytes instead of {} / {}",
                        self.records, self.raw, self.expected_records, self.expected_raw
                    ),
                ));
            }
            return Ok(None);
        }
        if self.buf.last() != Some(&b'\n') {
            let reason = if n > RECORD_MAX { "a record is over the size limit" } else { "the last record is cut off" };
            return Err(content(&self.name, reason.to_owned()));
        }
        self.records += 1;
        self.raw += n as u64;
        if self.records > self.expected_records || self.raw > self.expected_raw {
            return Err(content(&self.name, "more records than the manifest lists".to_owned()));
        }
        Ok(Some(&self.buf[..n - 1]))
    }

    /// The part's name (`<kind>-<seq>.ndjson.zst`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Bytes of the records read so far (uncompressed, newlines included).
    pub fn raw_bytes(&self) -> u64 {
        self.raw
    }

    /// The next record, decoded.
    pub fn next<T: DeserializeOwned>(&mut self) -> Result<Option<T>, ArchiveError> {
        let Some(line) = self.next_line()? else { return Ok(None) };
        serde_json::from_slice(line).map(Some).map_err(|e| content(&self.name, format!("bad record: {e}")))
    }
}

fn content(part: &str, reason: String) -> ArchiveError {
    ArchiveError::PartContent { part: part.to_owned(), reason }
}

/// Streams a blob and checks its size and SHA-256 against its name.
pub async fn verify_blob(storage: &Storage, sha256: &str, size: u64) -> Result<(), ArchiveError> {
    if !is_sha256_hex(sha256) {
        return Err(ArchiveError::BadName(sha256.to_owned()));
    }
    let (stored, mut stream) = match storage.get_stream(&blob_path(sha256)).await {
        Ok(s) => s,
        Err(StorageError::NotFound(_)) => return Err(ArchiveError::BlobMissing(sha256.to_owned())),
        Err(e) => return Err(e.into()),
    };
    if stored != size {
        return Err(ArchiveError::BlobCorrupt { sha256: sha256.to_owned(), reason: format!("{stored} bytes instead of {size}") });
    }
    let path = blob_path(sha256);
    let mut hashed = Hashed::new(&mut stream, size);
    while hashed.next_chunk().await?.is_some() {}
    hashed.check(&path, size, sha256).map_err(|e| match e {
        StorageError::Mismatch { reason, .. } => ArchiveError::BlobCorrupt { sha256: sha256.to_owned(), reason },
        other => other.into(),
    })
}

/// What a full verification saw.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VerifyReport {
    pub parts: u64,
    pub records: u64,
    pub part_bytes: u64,
    /// Every distinct blob the backup refers to, with its bytes, …
    pub blobs: u64,
    pub blob_bytes: u64,
    /// … of which these were found good earlier in the same run (`VerifiedBlobs`), not read again.
    pub blobs_verified_before: u64,
}

/// Blobs (SHA-256, size) one run of checks has read and found good in one storage. Backups of an
/// app share nearly all their blobs (a daily backup stores only new attachments), so checking a
/// whole storage reads each blob once rather than once per backup.
#[derive(Clone, Debug, Default)]
pub struct VerifiedBlobs(HashSet<([u8; 32], u64)>);

/// Blobs one check reads and hashes at once (each on its own task, so on all cores).
const BLOBS_VERIFIED_AT_ONCE: usize = 4;

/// Full check of one backup: the manifest, every part and record, and every blob the attachments
/// refer to (each distinct blob once). `on_progress(done, total)` counts parts and blobs.
pub async fn verify_backup(storage: &Storage, backup_id: &str, on_progress: impl FnMut(u64, u64)) -> Result<(Manifest, VerifyReport), ArchiveError> {
    verify_backup_among(storage, backup_id, &mut VerifiedBlobs::default(), on_progress).await
}

/// `verify_backup`, not reading again the blobs in `verified` (of the same storage), and adding
/// those it finds good.
pub async fn verify_backup_among(
    storage: &Storage,
    backup_id: &str,
    verified: &mut VerifiedBlobs,
    mut on_progress: impl FnMut(u64, u64),
) -> Result<(Manifest, VerifyReport), ArchiveError> {
    let manifest = read_manifest(storage, backup_id).await?;
    let mut report = VerifyReport::default();
    let mut blobs: Vec<([u8; 32], String, u64)> = Vec::new();
    let mut seen: HashSet<[u8; 32]> = HashSet::new();
    let total = manifest.parts.len() as u64 + manifest.blobs.count;
    for entry in &manifest.parts {
        let bytes = fetch_part(storage, backup_id, entry).await?;
        report.part_bytes += bytes.len() as u64;
        let mut reader = PartReader::new(entry, bytes)?;
        if entry.kind == ATTACHMENTS {
            while let Some(a) = reader.next::<AttachmentRecord>()? {
                report.records += 1;
                if !a.bytes_included {
                    continue;
                }
                let mut key = [0u8; 32];
                hex::decode_to_slice(&a.sha256, &mut key)
                    .map_err(|_| content(&entry.name, format!("attachment {} has no valid SHA-256", a.id)))?;
                if seen.insert(key) {
                    blobs.push((key, a.sha256, a.size));
                }
            }
        } else {
            while let Some(line) = reader.next_line()? {
                serde_json::from_slice::<serde::de::IgnoredAny>(line)
                    .map_err(|e| content(&entry.name, format!("bad record: {e}")))?;
                report.records += 1;
            }
        }
        report.parts += 1;
        on_progress(report.parts, total);
    }
    if blobs.len() as u64 != manifest.blobs.count {
        return Err(ArchiveError::ManifestInvalid(format!(
            "the attachments refer to {} blobs but the manifest lists {}",
            blobs.len(),
            manifest.blobs.count
        )));
    }
    // Each blob on a task of its own, a few at once; the first failure ends the check (the tasks
    // under way are aborted with the set).
    let mut pending = blobs.into_iter();
    let mut in_flight = tokio::task::JoinSet::new();
    loop {
        while in_flight.len() < BLOBS_VERIFIED_AT_ONCE {
            let Some((key, sha, size)) = pending.next() else { break };
            if verified.0.contains(&(key, size)) {
                report.blobs += 1;
                report.blob_bytes += size;
                report.blobs_verified_before += 1;
                on_progress(report.parts + report.blobs, total);
                continue;
            }
            let storage = storage.clone();
            in_flight.spawn(async move { verify_blob(&storage, &sha, size).await.map(|()| (key, size)) });
        }
        let Some(done) = in_flight.join_next().await else { break };
        let (key, size) = done.map_err(|e| ArchiveError::Storage(StorageError::Backend(format!("checking a blob: {e}"))))??;
        verified.0.insert((key, size));
        report.blobs += 1;
        report.blob_bytes += size;
        on_progress(report.parts + report.blobs, total);
    }
    Ok((manifest, report))
}
