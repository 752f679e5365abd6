//! The manifest: what a backup is and the checksum of every part. Parsed strictly and checked
//! (names, kinds, hashes, totals) before a single part is read.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};

use super::records::{is_kind_of, is_known_kind};
use super::{is_backup_id, ArchiveError, FORMAT, FORMAT_VERSION, PART_MAX, PART_RAW_MAX};
use crate::blobs::is_sha256_hex;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Manifest {
    pub format: String,
    pub format_version: u32,
    pub backup_id: String,
    /// Set on an imported copy: the id the backup had where it was exported from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imported_from: Option<String>,
    pub org_id: String,
    pub cloud_id: String,
    pub site_name: String,
    pub product: String,
    pub plan: String,
    pub shard: String,
    pub options: ManifestOptions,
    pub created_at: String,
    pub completed_at: String,
    /// `COMPLETE` or `INCOMPLETE`.
    pub status: String,
    /// Records per part kind.
    pub counts: BTreeMap<String, u64>,
    pub sizes: ManifestSizes,
    pub parts: Vec<PartEntry>,
    pub blobs: BlobTotals,
    /// Attachments whose bytes could not be read, by attachment id (why the backup is INCOMPLETE).
    #[serde(default)]
    pub missing_attachments: Vec<MissingAttachment>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ManifestOptions {
    pub include_attachments: bool,
    pub include_users_and_groups: bool,
    pub include_personal_spaces: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ManifestSizes {
    /// Uncompressed bytes of the app's entity records.
    pub data_size: u64,
    /// Uncompressed bytes of the directory's records.
    pub users_size: u64,
    /// Bytes of the attachments the backup refers to (logical, whether new or shared).
    pub attachments_size: u64,
    /// Bytes this backup added to its storage: compressed parts, the manifest's predecessor parts
    /// and the blobs that were not there yet.
    pub stored_size: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PartEntry {
    /// `<kind>-<6 digits>.ndjson.zst`
    pub name: String,
    pub kind: String,
    pub records: u64,
    /// Uncompressed bytes.
    pub raw_size: u64,
    /// Stored (compressed) bytes.
    pub size: u64,
    pub sha256: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BlobTotals {
    /// Distinct blobs referred to by attachments with `bytesIncluded`.
    pub count: u64,
    pub bytes: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MissingAttachment {
    pub attachment_id: String,
    pub sha256: String,
    pub reason: String,
}

/// `<kind>-<6 digits>.ndjson.zst` for a known kind.
pub fn part_name(kind: &str, seq: u32) -> String {
    format!("{kind}-{seq:06}.ndjson.zst")
}

fn check_part_name(entry: &PartEntry) -> Result<(), ArchiveError> {
    let expected_prefix = format!("{}-", entry.kind);
    let ok = is_known_kind(&entry.kind)
        && entry
            .name
            .strip_prefix(&expected_prefix)
            .and_then(|rest| rest.strip_suffix(".ndjson.zst"))
            .is_some_and(|seq| seq.len() == 6 && seq.bytes().all(|b| b.is_ascii_digit()));
    if ok {
        Ok(())
    } else {
        Err(ArchiveError::BadName(entry.name.clone()))
    }
}

impl Manifest {
    /// Parses and checks a manifest read from `backups/<expected_id>/manifest.json`.
    pub fn parse(bytes: &[u8], expected_id: &str) -> Result<Manifest, ArchiveError> {
        // The version is read first, so a newer format gets its own error and not a parse error.
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Head {
            format: Option<String>,
            format_version: Option<u32>,
        }
        let head: Head = serde_json::from_slice(bytes).map_err(|e| ArchiveError::ManifestInvalid(e.to_string()))?;
        if head.format.as_deref() != Some(FORMAT) {
            return Err(ArchiveError::ManifestInvalid(format!("format is not {FORMAT:?}")));
        }
        match head.format_version {
            Some(FORMAT_VERSION) => {}
            Some(other) => return Err(ArchiveError::UnsupportedVersion(other)),
            None => return Err(ArchiveError::ManifestInvalid("formatVersion is missing".into())),
        }
        let m: Manifest = serde_json::from_slice(bytes).map_err(|e| ArchiveError::ManifestInvalid(e.to_string()))?;
        m.check(expected_id)?;
        Ok(m)
    }

    fn check(&self, expected_id: &str) -> Result<(), ArchiveError> {
        let invalid = |m: String| Err(ArchiveError::ManifestInvalid(m));
        if !is_backup_id(&self.backup_id) {
            return Err(ArchiveError::BadName(self.backup_id.clone()));
        }
        if self.backup_id != expected_id {
            return invalid(format!("it describes backup {} but sits in {expected_id}", self.backup_id));
        }
        if !matches!(self.product.as_str(), "JIRA" | "CONFLUENCE") {
            return invalid(format!("unknown product {:?}", self.product));
        }
        if !matches!(self.status.as_str(), "COMPLETE" | "INCOMPLETE") {
            return invalid(format!("status {:?} is not COMPLETE or INCOMPLETE", self.status));
        }
        let mut names = HashSet::new();
        let mut per_kind: BTreeMap<&str, u64> = BTreeMap::new();
        for part in &self.parts {
            check_part_name(part)?;
            if !is_kind_of(&self.product, &part.kind) {
                return invalid(format!("part {} holds {}, which a {} backup cannot", part.name, part.kind, self.product));
            }
            if !names.insert(part.name.as_str()) {
                return invalid(format!("part {} is listed twice", part.name));
            }
            if !is_sha256_hex(&part.sha256) {
                return invalid(format!("part {} has no valid SHA-256", part.name));
            }
            if part.size > PART_MAX {
                return Err(ArchiveError::TooLarge { what: format!("part {}", part.name), size: part.size, limit: PART_MAX });
            }
            if part.raw_size > PART_RAW_MAX {
                return Err(ArchiveError::TooLarge { what: format!("part {} uncompressed", part.name), size: part.raw_size, limit: PART_RAW_MAX });
            }
            // Each record ends with a newline: a count over the bytes is a lie (and validation's plan
            // may take a part's count from here).
            if part.records > part.raw_size {
                return invalid(format!("part {} lists {} records in {} bytes", part.name, part.records, part.raw_size));
            }
            let n = per_kind.entry(part.kind.as_str()).or_default();
            *n = n.checked_add(part.records).ok_or_else(|| ArchiveError::ManifestInvalid(format!("the {} parts list too many records", part.kind)))?;
        }
        for (kind, n) in &self.counts {
            if per_kind.get(kind.as_str()).copied().unwrap_or(0) != *n {
                return invalid(format!("counts say {n} {kind} but the parts hold {}", per_kind.get(kind.as_str()).unwrap_or(&0)));
            }
        }
        for m in &self.missing_attachments {
            if !is_sha256_hex(&m.sha256) {
                return invalid("a missing attachment has no valid SHA-256".into());
            }
        }
        Ok(())
    }
}
