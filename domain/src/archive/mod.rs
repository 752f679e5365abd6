//! The backup archive, format v1 (specified in `docs/archive-format.md`).
//!
//! Inside a storage:
//! ```text
//! backups/<backupId>/parts/<kind>-<seq>.ndjson.zst   entity records, NDJSON compressed with zstd
//! backups/<backupId>/manifest.json                   written last: no manifest, no backup
//! blobs/<aa>/<sha256>                                attachment bytes, shared by every backup
//! ```
//! Everything read back is checked against the manifest; nothing in an archive can name a path
//! outside this layout or make the reader allocate more than the fixed limits below.

pub mod manifest;
pub mod reader;
pub mod records;
pub mod writer;

#[cfg(test)]
mod tests;

pub use manifest::{Manifest, PartEntry};
pub use reader::{read_manifest, verify_backup, verify_backup_among, PartReader, VerifiedBlobs, VerifyReport};
pub use writer::ArchiveWriter;

use crate::storage::StorageError;

pub const FORMAT: &str = "lifeboat-backup";
pub const FORMAT_VERSION: u32 = 1;
/// A manifest larger than this is refused unread.
pub const MANIFEST_MAX: u64 = 16 * 1024 * 1024;
/// A part (compressed) larger than this is refused unread. Every writer so far closes a part at
/// `PART_TARGET_RAW` plus one batch of records (512 KiB and its last record, whose text fields the
/// content rules keep to a megabyte each): ~10 MiB, ~15 MiB if every byte of that record is
/// escaped in its JSON (`archive::tests` holds the limits to four times that). They bound what a
/// forged archive makes a restore hold (two parts at once) to 128 MiB.
pub const PART_MAX: u64 = 64 * 1024 * 1024;
/// A part listing more uncompressed bytes than this is refused unread (see `PART_MAX`).
pub const PART_RAW_MAX: u64 = 64 * 1024 * 1024;
/// One NDJSON record larger than this is refused.
pub const RECORD_MAX: usize = 32 * 1024 * 1024;
/// Writers start a new part once this many uncompressed bytes are in the current one.
pub const PART_TARGET_RAW: u64 = 8 * 1024 * 1024;
/// The decompressor's window is capped (2^24 = 16 MiB), whatever a frame header asks for.
pub const ZSTD_WINDOW_LOG_MAX: u32 = 24;

pub fn backup_dir(backup_id: &str) -> String {
    format!("backups/{backup_id}")
}

pub fn manifest_path(backup_id: &str) -> String {
    format!("backups/{backup_id}/manifest.json")
}

pub fn part_path(backup_id: &str, part: &str) -> String {
    format!("backups/{backup_id}/parts/{part}")
}

/// `blobs/<first two hex digits>/<sha256>`; callers check the hash first (`is_sha256_hex`), and
/// anything else still yields a harmless path rather than a panic.
pub fn blob_path(sha256: &str) -> String {
    format!("blobs/{}/{}", sha256.get(..2).unwrap_or("00"), sha256)
}

/// Backup ids are UUIDs: anything else (`..`, slashes) is refused before it reaches a path.
pub fn is_backup_id(s: &str) -> bool {
    uuid::Uuid::try_parse(s).is_ok() && s.len() == 36
}

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("backup {0}: no manifest (an archive without its manifest is not a backup)")]
    ManifestMissing(String),
    #[error("manifest is invalid: {0}")]
    ManifestInvalid(String),
    #[error("archive format version {0} is not supported (this build reads version {FORMAT_VERSION})")]
    UnsupportedVersion(u32),
    #[error("name {0:?} is not allowed in an archive")]
    BadName(String),
    #[error("part {0} is missing")]
    PartMissing(String),
    #[error("part {part} is truncated: {found} bytes instead of {expected}")]
    PartTruncated { part: String, expected: u64, found: u64 },
    #[error("part {part} has {found} bytes instead of {expected}")]
    PartSizeMismatch { part: String, expected: u64, found: u64 },
    #[error("part {0} does not match its SHA-256 checksum")]
    PartChecksum(String),
    #[error("part {part} is corrupt: {reason}")]
    PartContent { part: String, reason: String },
    #[error("attachment blob {0} is missing")]
    BlobMissing(String),
    #[error("attachment blob {sha256} is corrupt: {reason}")]
    BlobCorrupt { sha256: String, reason: String },
    #[error("{what} is {size} bytes, over the limit of {limit}")]
    TooLarge { what: String, size: u64, limit: u64 },
    #[error("{0}")]
    Storage(#[from] StorageError),
}

impl ArchiveError {
    /// A stable machine code for API and CLI messages.
    pub fn code(&self) -> &'static str {
        match self {
            ArchiveError::ManifestMissing(_) => "MANIFEST_MISSING",
            ArchiveError::ManifestInvalid(_) => "MANIFEST_INVALID",
            ArchiveError::UnsupportedVersion(_) => "UNSUPPORTED_FORMAT_VERSION",
            ArchiveError::BadName(_) => "BAD_NAME",
            ArchiveError::PartMissing(_) => "PART_MISSING",
            ArchiveError::PartTruncated { .. } => "PART_TRUNCATED",
            ArchiveError::PartSizeMismatch { .. } => "PART_SIZE_MISMATCH",
            ArchiveError::PartChecksum(_) => "PART_CHECKSUM_MISMATCH",
            ArchiveError::PartContent { .. } => "PART_CORRUPT",
            ArchiveError::BlobMissing(_) => "BLOB_MISSING",
            ArchiveError::BlobCorrupt { .. } => "BLOB_CORRUPT",
            ArchiveError::TooLarge { .. } => "ARCHIVE_TOO_LARGE",
            ArchiveError::Storage(_) => "STORAGE_ERROR",
        }
    }
}
