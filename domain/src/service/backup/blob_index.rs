//! A storage's blob index as backups, exports and imports use it: which of the blobs about to be
//! written the storage has already (marked used now, so the collector keeps them), and the blobs
//! just written (added). Both are written in batches: one write transaction per blob made the
//! copies take turns at SQLite's single writer for every blob.

use std::collections::HashSet;

use chrono::Utc;

use super::run::RunError;
use crate::store::backup as q;
use crate::store::{Db, StoreError};

/// Blobs whose index entries one statement marks used (a short write: other writers wait for it).
const TOUCH_CHUNK: usize = 10_000;

/// Blobs added to a storage's index in one statement.
const INDEX_BATCH: usize = 64;

/// A blob's SHA-256 as a key (None when it is not one).
pub(super) fn blob_key(sha256: &str) -> Option<[u8; 32]> {
    let mut key = [0u8; 32];
    hex::decode_to_slice(sha256, &mut key).ok().map(|()| key)
}

/// The blobs to be written, given one by one (each once), and those of them the storage's index
/// lists: these are marked used now, a chunk per statement, and need no copy.
pub(super) struct ListedBlobs<'a> {
    db: &'a Db,
    storage_key: &'a str,
    chunk: Vec<String>,
    /// Blobs given so far.
    pub distinct: u64,
    /// Those the index lists (marked used when their chunk was written).
    pub listed: HashSet<[u8; 32]>,
}

impl<'a> ListedBlobs<'a> {
    pub fn new(db: &'a Db, storage_key: &'a str) -> Self {
        ListedBlobs { db, storage_key, chunk: Vec::new(), distinct: 0, listed: HashSet::new() }
    }

    pub async fn add(&mut self, sha256: String) -> Result<(), StoreError> {
        self.distinct += 1;
        self.chunk.push(sha256);
        if self.chunk.len() >= TOUCH_CHUNK {
            self.touch().await?;
        }
        Ok(())
    }

    /// Touches the last chunk; the sets are complete from here.
    pub async fn finish(mut self) -> Result<Self, StoreError> {
        self.touch().await?;
        Ok(self)
    }

    async fn touch(&mut self) -> Result<(), StoreError> {
        if self.chunk.is_empty() {
            return Ok(());
        }
        let listed = q::touch_blobs(self.db, self.storage_key, &self.chunk, Utc::now()).await?;
        self.listed.extend(listed.iter().filter_map(|h| blob_key(h)));
        self.chunk.clear();
        Ok(())
    }
}

/// Blobs written to a storage and not yet in its index: added a batch at a time, and whatever is
/// left at the end — also when the copying failed, so that no blob in the storage goes unlisted.
pub(super) struct NewBlobs<'a> {
    db: &'a Db,
    storage_key: &'a str,
    pending: Vec<(String, u64)>,
}

impl<'a> NewBlobs<'a> {
    pub fn new(db: &'a Db, storage_key: &'a str) -> Self {
        NewBlobs { db, storage_key, pending: Vec::new() }
    }

    pub async fn add(&mut self, sha256: String, size: u64) -> Result<(), StoreError> {
        self.pending.push((sha256, size));
        if self.pending.len() >= INDEX_BATCH {
            self.write().await?;
        }
        Ok(())
    }

    /// Adds a blob to the last batch only (for copies that end after a failure: no write until
    /// `finish`).
    pub fn add_later(&mut self, sha256: String, size: u64) {
        self.pending.push((sha256, size));
    }

    /// Writes what is left, then answers the copying's own outcome: its error when it failed (an
    /// index error then only logged), else the index write's.
    pub async fn finish(mut self, copying: Result<(), RunError>) -> Result<(), RunError> {
        let recorded = self.write().await;
        match (copying, recorded) {
            (Err(e), Err(index_error)) => {
                tracing::warn!(error = %index_error, "the blobs copied before the failure are not in the storage's index");
                Err(e)
            }
            (Err(e), Ok(())) => Err(e),
            (Ok(()), recorded) => Ok(recorded?),
        }
    }

    /// Emptied only once written: after a failed write, `finish` tries the same blobs again.
    async fn write(&mut self) -> Result<(), StoreError> {
        q::record_blobs(self.db, self.storage_key, &self.pending, Utc::now()).await?;
        self.pending.clear();
        Ok(())
    }
}
