//! Writes entity records into parts of bounded size, then the manifest last.

use std::collections::BTreeMap;
use std::io::Write;

use bytes::Bytes;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::manifest::part_name;
use super::{manifest_path, part_path, ArchiveError, Manifest, PartEntry, PART_TARGET_RAW};
use crate::storage::{Storage, StorageError};

/// zstd level for entity parts: level 1 still compresses the records' JSON about 4–6×, at about
/// twice level 3's speed (compression was a fifth of a first backup's CPU at level 3). Readers take
/// any level.
const ZSTD_LEVEL: i32 = 1;

struct OpenPart {
    kind: &'static str,
    encoder: zstd::stream::Encoder<'static, Vec<u8>>,
    raw: u64,
    records: u64,
}

/// Streams records of one kind after another into `backups/<id>/parts/`. Memory holds one part
/// (about [`PART_TARGET_RAW`] uncompressed bytes, plus one batch, compressed) at a time.
pub struct ArchiveWriter {
    storage: Storage,
    backup_id: String,
    parts: Vec<PartEntry>,
    open: Option<OpenPart>,
    seq: BTreeMap<&'static str, u32>,
    counts: BTreeMap<String, u64>,
    line: Vec<u8>,
    /// Compressed bytes written so far.
    pub stored_bytes: u64,
}

impl ArchiveWriter {
    pub fn new(storage: Storage, backup_id: &str) -> ArchiveWriter {
        ArchiveWriter {
            storage,
            backup_id: backup_id.to_owned(),
            parts: Vec::new(),
            open: None,
            seq: BTreeMap::new(),
            counts: BTreeMap::new(),
            line: Vec::with_capacity(4096),
            stored_bytes: 0,
        }
    }

    /// Appends one record of `kind`; returns its uncompressed size (newline included).
    pub async fn write<T: Serialize>(&mut self, kind: &'static str, record: &T) -> Result<u64, ArchiveError> {
        let mut line = std::mem::take(&mut self.line);
        line.clear();
        serde_json::to_writer(&mut line, record)
            .map_err(|e| ArchiveError::ManifestInvalid(format!("cannot encode a {kind} record: {e}")))?;
        line.push(b'\n');
        let appended = self.write_encoded(kind, &line, 1).await;
        let size = line.len() as u64;
        self.line = line;
        appended.map(|()| size)
    }

    /// Appends `records` records of `kind` already encoded as NDJSON lines (each ending in `\n`).
    /// A part closes after the batch that takes it to [`PART_TARGET_RAW`], so it may hold one
    /// batch more than that.
    pub async fn write_encoded(&mut self, kind: &'static str, lines: &[u8], records: u64) -> Result<(), ArchiveError> {
        if self.open.as_ref().is_some_and(|p| p.kind != kind) {
            self.flush().await?;
        }
        if self.open.is_none() {
            let encoder = zstd::stream::Encoder::new(Vec::new(), ZSTD_LEVEL).map_err(io_error)?;
            self.open = Some(OpenPart { kind, encoder, raw: 0, records: 0 });
        }
        let part = self.open.as_mut().expect("opened above");
        part.encoder.write_all(lines).map_err(io_error)?;
        part.raw += lines.len() as u64;
        part.records += records;
        match self.counts.get_mut(kind) {
            Some(n) => *n += records,
            None => {
                self.counts.insert(kind.to_owned(), records);
            }
        }
        if part.raw >= PART_TARGET_RAW {
            self.flush().await?;
        }
        Ok(())
    }

    /// Takes every part of an earlier backup in the same storage as this one's (copied, so each
    /// backup stays whole on its own when the other expires), with its counts. Only for a writer
    /// that has written nothing yet; `previous` comes from `read_manifest`, which checked its names.
    pub async fn adopt(&mut self, previous: &Manifest) -> Result<(), ArchiveError> {
        debug_assert!(self.parts.is_empty() && self.open.is_none());
        for entry in &previous.parts {
            self.storage.copy(&part_path(&previous.backup_id, &entry.name), &part_path(&self.backup_id, &entry.name)).await?;
            self.stored_bytes += entry.size;
            self.parts.push(entry.clone());
        }
        self.counts = previous.counts.clone();
        Ok(())
    }

    /// Makes sure a kind appears in the counts even with no records (a reader sees an explicit 0).
    pub fn declare(&mut self, kind: &'static str) {
        self.counts.entry(kind.to_owned()).or_default();
    }

    /// Closes the open part and stores it (create-only).
    pub async fn flush(&mut self) -> Result<(), ArchiveError> {
        let Some(part) = self.open.take() else { return Ok(()) };
        let compressed = part.encoder.finish().map_err(io_error)?;
        let seq = self.seq.entry(part.kind).or_default();
        *seq += 1;
        let name = part_name(part.kind, *seq);
        let sha256 = hex::encode(Sha256::digest(&compressed));
        let size = compressed.len() as u64;
        let path = part_path(&self.backup_id, &name);
        if !self.storage.put_create(&path, Bytes::from(compressed)).await? {
            return Err(StorageError::Invalid(format!("{path} already exists; parts are never overwritten")).into());
        }
        self.stored_bytes += size;
        self.parts.push(PartEntry { name, kind: part.kind.to_owned(), records: part.records, raw_size: part.raw, size, sha256 });
        Ok(())
    }

    /// Writes the manifest — last, so that an interrupted backup never looks like one. The caller
    /// fills in everything but the parts and counts, which the writer knows; `sizes.storedSize`
    /// comes in as the blob bytes the caller stored and gains the parts' bytes here.
    pub async fn finish(mut self, mut manifest: Manifest) -> Result<Manifest, ArchiveError> {
        self.flush().await?;
        manifest.sizes.stored_size += self.stored_bytes;
        manifest.parts = std::mem::take(&mut self.parts);
        manifest.counts = std::mem::take(&mut self.counts);
        let bytes = serde_json::to_vec_pretty(&manifest)
            .map_err(|e| ArchiveError::ManifestInvalid(format!("cannot encode the manifest: {e}")))?;
        let path = manifest_path(&self.backup_id);
        if !self.storage.put_create(&path, Bytes::from(bytes)).await? {
            return Err(StorageError::Invalid(format!("{path} already exists")).into());
        }
        Ok(manifest)
    }

    pub fn counts(&self) -> &BTreeMap<String, u64> {
        &self.counts
    }
}

fn io_error(e: std::io::Error) -> ArchiveError {
    ArchiveError::Storage(StorageError::Backend(format!("compression failed: {e}")))
}
