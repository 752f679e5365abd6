//! Archive round trip and every way an archive can be wrong, over a real directory storage.

use bytes::Bytes;
use sha2::{Digest, Sha256};

use super::manifest::{BlobTotals, ManifestOptions, ManifestSizes};
use super::records::{AttachmentRecord, IssueRecord, ProjectRecord, ATTACHMENTS, ISSUES, PROJECTS};
use super::*;
use crate::storage::Storage;

const ID: &str = "0190b6c8-7d1e-7000-8000-000000000001";

fn base_manifest() -> Manifest {
    Manifest {
        format: FORMAT.into(),
        format_version: FORMAT_VERSION,
        backup_id: ID.into(),
        imported_from: None,
        org_id: "org".into(),
        cloud_id: "site".into(),
        site_name: "Site".into(),
        product: "JIRA".into(),
        plan: "STANDARD".into(),
        shard: "eu-1".into(),
        options: ManifestOptions { include_attachments: true, include_users_and_groups: false, include_personal_spaces: false },
        created_at: "2026-11-22T00:00:00Z".into(),
        completed_at: "2026-11-22T00:00:01Z".into(),
        status: "COMPLETE".into(),
        counts: Default::default(),
        sizes: ManifestSizes::default(),
        parts: vec![],
        blobs: BlobTotals::default(),
        missing_attachments: vec![],
    }
}

/// The largest part a backup can write — batches of just under 512 KiB of records (the snapshot's
/// batch size) whose last record carries the largest description the content rules allow, every
/// byte of it escaped in the JSON — stays far within the limits a reader holds parts to.
#[tokio::test]
async fn the_largest_part_a_writer_makes_is_within_the_readers_limits() {
    let dir = tempfile::tempdir().unwrap();
    let s = Storage::local("t", dir.path()).unwrap();
    let line = |i: u64, description: String| {
        let rec = IssueRecord {
            id: format!("i{i}"),
            project_id: "p0".into(),
            number: i as i64,
            summary: "Issue".into(),
            description,
            status: "To Do".into(),
            reporter_email: None,
            created_at: "t".into(),
            updated_at: "t".into(),
        };
        let mut line = serde_json::to_vec(&rec).unwrap();
        line.push(b'\n');
        line
    };
    let mut batch = Vec::new();
    let mut records = 0;
    while batch.len() < 512 * 1024 - 200 {
        batch.extend(line(records, String::new()));
        records += 1;
    }
    batch.extend(line(records, "\u{1}".repeat(crate::rules::content::BODY_MAX)));
    records += 1;
    let mut w = ArchiveWriter::new(s.clone(), ID);
    for _ in 0..=PART_TARGET_RAW / batch.len() as u64 + 1 {
        w.write_encoded(ISSUES, &batch, records).await.unwrap();
    }
    let written = w.finish(base_manifest()).await.unwrap();
    let largest = written.parts.iter().map(|p| p.raw_size.max(p.size)).max().unwrap();
    assert!(largest > PART_TARGET_RAW && largest * 4 < PART_RAW_MAX.min(PART_MAX), "{largest}");
    read_manifest(&s, ID).await.unwrap();
}

/// A backup with 3 projects, 25,000 issues (several parts) and one attachment blob.
async fn write_sample(storage: &Storage) -> Manifest {
    let blob = Bytes::from_static(b"attachment bytes");
    let sha = hex::encode(Sha256::digest(&blob));
    let stream = futures_util::stream::iter([Ok::<_, std::io::Error>(blob.clone())]);
    storage.put_verified(&blob_path(&sha), stream, blob.len() as u64, &sha).await.unwrap();

    let mut w = ArchiveWriter::new(storage.clone(), ID);
    for p in 0..3 {
        let rec = ProjectRecord {
            id: format!("p{p}"),
            key: format!("P{p}"),
            name: "Project".into(),
            description: String::new(),
            next_issue_number: 1,
            created_at: "t".into(),
        };
        w.write(PROJECTS, &rec).await.unwrap();
    }
    for i in 0..25_000 {
        let rec = IssueRecord {
            id: format!("i{i}"),
            project_id: "p0".into(),
            number: i,
            summary: format!("Issue {i} with a summary long enough to fill parts {}", "x".repeat(300)),
            description: String::new(),
            status: "To Do".into(),
            reporter_email: None,
            created_at: "t".into(),
            updated_at: "t".into(),
        };
        w.write(ISSUES, &rec).await.unwrap();
    }
    let att = AttachmentRecord {
        id: "a1".into(),
        owner_id: "i1".into(),
        filename: "f.txt".into(),
        content_type: "text/plain".into(),
        size: blob.len() as u64,
        sha256: sha,
        author_email: None,
        created_at: "t".into(),
        bytes_included: true,
        missing_reason: None,
    };
    w.write(ATTACHMENTS, &att).await.unwrap();
    let mut m = base_manifest();
    m.blobs = BlobTotals { count: 1, bytes: blob.len() as u64 };
    w.finish(m).await.unwrap()
}

async fn storage() -> (tempfile::TempDir, Storage) {
    let dir = tempfile::tempdir().unwrap();
    let s = Storage::local("", dir.path()).unwrap();
    (dir, s)
}

fn file(dir: &tempfile::TempDir, rel: &str) -> std::path::PathBuf {
    dir.path().join(rel)
}

#[tokio::test]
async fn round_trip_reads_back_every_record() {
    let (_dir, s) = storage().await;
    let written = write_sample(&s).await;
    assert!(written.parts.iter().filter(|p| p.kind == ISSUES).count() >= 2, "issues span several bounded parts");
    assert_eq!(written.counts[ISSUES], 25_000);
    let (manifest, report) = verify_backup(&s, ID, |_, _| {}).await.unwrap();
    assert_eq!(manifest, written);
    assert_eq!(report.records, 25_004);
    assert_eq!(report.blobs, 1);

    let issues: Vec<_> = manifest.parts.iter().filter(|p| p.kind == ISSUES).collect();
    let mut n = 0;
    for entry in issues {
        let mut r = PartReader::new(entry, reader::fetch_part(&s, ID, entry).await.unwrap()).unwrap();
        while let Some(rec) = r.next::<IssueRecord>().unwrap() {
            assert_eq!(rec.number, n);
            n += 1;
        }
    }
    assert_eq!(n, 25_000);
}

/// Records handed over already encoded, a batch at a time (as a full backup's snapshot reader
/// hands them): a part closes after the batch that takes it past the target, the counts and the
/// parts' figures add up, and every record reads back in order.
#[tokio::test]
async fn encoded_batches_fill_parts_and_read_back_in_order() {
    let (_dir, s) = storage().await;
    let mut w = ArchiveWriter::new(s.clone(), ID);
    let issue = |n: i64| IssueRecord {
        id: format!("i{n}"),
        project_id: "p0".into(),
        number: n,
        summary: "x".repeat(900),
        description: String::new(),
        status: "To Do".into(),
        reporter_email: None,
        created_at: "t".into(),
        updated_at: "t".into(),
    };
    // 20 batches of 1,000 records of ~1 KB: about 1 MB a batch.
    let mut raw = 0u64;
    for b in 0..20 {
        let mut lines = Vec::new();
        for n in b * 1000..(b + 1) * 1000 {
            serde_json::to_writer(&mut lines, &issue(n)).unwrap();
            lines.push(b'\n');
        }
        raw += lines.len() as u64;
        w.write_encoded(ISSUES, &lines, 1000).await.unwrap();
    }
    let m = w.finish(base_manifest()).await.unwrap();
    assert_eq!(m.counts[ISSUES], 20_000);
    assert_eq!(m.parts.iter().map(|p| p.records).sum::<u64>(), 20_000);
    assert_eq!(m.parts.iter().map(|p| p.raw_size).sum::<u64>(), raw);
    let batch = raw / 20;
    assert_eq!(m.parts.len(), 3, "{:?}", m.parts);
    for p in &m.parts[..2] {
        assert!(p.raw_size >= PART_TARGET_RAW && p.raw_size < PART_TARGET_RAW + batch, "{p:?}");
        assert_eq!(p.records % 1000, 0, "a part ends at a batch's end");
    }
    let mut n = 0;
    for entry in &m.parts {
        let mut r = PartReader::new(entry, reader::fetch_part(&s, ID, entry).await.unwrap()).unwrap();
        while let Some(rec) = r.next::<IssueRecord>().unwrap() {
            assert_eq!(rec, issue(n));
            n += 1;
        }
    }
    assert_eq!(n, 20_000);
    verify_backup(&s, ID, |_, _| {}).await.unwrap();
}

#[tokio::test]
async fn a_flipped_byte_names_the_part() {
    let (dir, s) = storage().await;
    let m = write_sample(&s).await;
    let victim = &m.parts[1];
    let path = file(&dir, &part_path(ID, &victim.name));
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[10] ^= 0x01;
    std::fs::write(&path, bytes).unwrap();
    match verify_backup(&s, ID, |_, _| {}).await.unwrap_err() {
        ArchiveError::PartChecksum(name) => assert_eq!(name, victim.name),
        other => panic!("unexpected {other}"),
    }
}

#[tokio::test]
async fn a_truncated_part_is_reported_as_such() {
    let (dir, s) = storage().await;
    let m = write_sample(&s).await;
    let victim = &m.parts[0];
    let path = file(&dir, &part_path(ID, &victim.name));
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let err = verify_backup(&s, ID, |_, _| {}).await.unwrap_err();
    assert!(matches!(&err, ArchiveError::PartTruncated { part, .. } if *part == victim.name), "{err}");
    assert_eq!(err.code(), "PART_TRUNCATED");
}

#[tokio::test]
async fn a_missing_part_a_missing_manifest_and_a_missing_blob() {
    let (dir, s) = storage().await;
    let m = write_sample(&s).await;
    let blob = file(&dir, &blob_path(&m.blobs_sha_for_test()));
    std::fs::remove_file(&blob).unwrap();
    assert!(matches!(verify_backup(&s, ID, |_, _| {}).await.unwrap_err(), ArchiveError::BlobMissing(_)));

    let last = m.parts.last().unwrap();
    std::fs::remove_file(file(&dir, &part_path(ID, &last.name))).unwrap();
    assert!(matches!(verify_backup(&s, ID, |_, _| {}).await.unwrap_err(), ArchiveError::PartMissing(n) if n == last.name));

    std::fs::remove_file(file(&dir, &manifest_path(ID))).unwrap();
    assert!(matches!(read_manifest(&s, ID).await.unwrap_err(), ArchiveError::ManifestMissing(_)));
}

impl Manifest {
    fn blobs_sha_for_test(&self) -> String {
        hex::encode(Sha256::digest(b"attachment bytes"))
    }
}

async fn rewrite_manifest(dir: &tempfile::TempDir, edit: impl FnOnce(&mut serde_json::Value)) {
    let path = file(dir, &manifest_path(ID));
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    edit(&mut v);
    std::fs::write(&path, serde_json::to_vec(&v).unwrap()).unwrap();
}

#[tokio::test]
async fn wrong_versions_and_path_like_names_are_refused() {
    let (dir, s) = storage().await;
    write_sample(&s).await;
    rewrite_manifest(&dir, |v| v["formatVersion"] = 2.into()).await;
    assert!(matches!(read_manifest(&s, ID).await.unwrap_err(), ArchiveError::UnsupportedVersion(2)));

    rewrite_manifest(&dir, |v| {
        v["formatVersion"] = 1.into();
        v["parts"][0]["name"] = "../../../etc/passwd".into();
    })
    .await;
    assert!(matches!(read_manifest(&s, ID).await.unwrap_err(), ArchiveError::BadName(n) if n.contains("..")));

    rewrite_manifest(&dir, |v| {
        v["parts"][0]["name"] = "projects-000001.ndjson.zst".into();
        v["parts"][0]["kind"] = "../x".into();
    })
    .await;
    assert!(matches!(read_manifest(&s, ID).await.unwrap_err(), ArchiveError::BadName(_)));
    assert!(matches!(read_manifest(&s, "../../x").await.unwrap_err(), ArchiveError::BadName(_)));

    // A known kind of the other product: a Jira backup cannot hold pages.
    rewrite_manifest(&dir, |v| {
        v["parts"][0]["name"] = "pages-000001.ndjson.zst".into();
        v["parts"][0]["kind"] = "pages".into();
    })
    .await;
    let err = read_manifest(&s, ID).await.unwrap_err();
    assert!(matches!(&err, ArchiveError::ManifestInvalid(m) if m.contains("a JIRA backup cannot")), "{err}");
}

#[tokio::test]
async fn hostile_sizes_allocate_nothing_unbounded() {
    let (dir, s) = storage().await;
    write_sample(&s).await;
    // A part claiming to be enormous is refused before it is read.
    rewrite_manifest(&dir, |v| v["parts"][0]["size"] = (PART_MAX + 1).into()).await;
    assert!(matches!(read_manifest(&s, ID).await.unwrap_err(), ArchiveError::TooLarge { .. }));

    // Sizes and counts that cannot be true are refused: a part of more uncompressed bytes than any
    // writer makes, and more records than bytes (a record is at least its newline).
    rewrite_manifest(&dir, |v| {
        v["parts"][0]["size"] = 10.into();
        v["parts"][0]["rawSize"] = (PART_RAW_MAX + 1).into();
    })
    .await;
    let err = read_manifest(&s, ID).await.unwrap_err();
    assert!(matches!(&err, ArchiveError::TooLarge { limit, .. } if *limit == PART_RAW_MAX), "{err}");
    rewrite_manifest(&dir, |v| {
        v["parts"][0]["rawSize"] = 100.into();
        v["parts"][0]["records"] = 101.into();
    })
    .await;
    let err = read_manifest(&s, ID).await.unwrap_err();
    assert!(matches!(&err, ArchiveError::ManifestInvalid(m) if m.contains("records in")), "{err}");

    // A manifest over the limit is refused unread.
    let path = file(&dir, &manifest_path(ID));
    let f = std::fs::File::create(&path).unwrap();
    f.set_len(MANIFEST_MAX + 1).unwrap();
    assert!(matches!(read_manifest(&s, ID).await.unwrap_err(), ArchiveError::TooLarge { .. }));

    // A part holding one endless line (a decompression bomb of a single record) stops at the record limit.
    let line = vec![b'a'; RECORD_MAX + 10];
    let compressed = zstd::encode_all(&line[..], 19).unwrap();
    let entry = PartEntry {
        name: "issues-000001.ndjson.zst".into(),
        kind: ISSUES.into(),
        records: 1,
        raw_size: line.len() as u64,
        size: compressed.len() as u64,
        sha256: hex::encode(Sha256::digest(&compressed)),
    };
    let mut r = PartReader::new(&entry, Bytes::from(compressed)).unwrap();
    let err = r.next_line().unwrap_err();
    assert!(matches!(&err, ArchiveError::PartContent { reason, .. } if reason.contains("limit")), "{err}");
}

#[tokio::test]
async fn records_beyond_the_manifest_count_are_refused() {
    let (_dir, s) = storage().await;
    let body = b"{}\n{}\n".to_vec();
    let compressed = zstd::encode_all(&body[..], 3).unwrap();
    let entry = PartEntry {
        name: "issues-000001.ndjson.zst".into(),
        kind: ISSUES.into(),
        records: 1,
        raw_size: 3,
        size: compressed.len() as u64,
        sha256: hex::encode(Sha256::digest(&compressed)),
    };
    let mut r = PartReader::new(&entry, Bytes::from(compressed)).unwrap();
    assert!(r.next_line().unwrap().is_some());
    assert!(r.next_line().is_err());
    drop(s);
}

/// Validation's id views read the same ids from a whole record's line, escapes and all, skipping
/// its text; a record without an id the view needs does not decode.
#[test]
fn id_views_read_the_ids_of_whole_records() {
    use super::records::{CommentIds, CommentRecord, IssueIds, PageIds, PageRecord};
    let issue = IssueRecord {
        id: "i-1".into(),
        project_id: "p-1".into(),
        number: 7,
        summary: "A \"quoted\" summary".into(),
        description: "line one\nline two \u{1F600}".into(),
        status: "To Do".into(),
        reporter_email: Some("a@b.test".into()),
        created_at: "2026-01-01T00:00:00Z".into(),
        updated_at: "2026-01-02T00:00:00Z".into(),
    };
    let line = serde_json::to_string(&issue).unwrap();
    assert_eq!(serde_json::from_str::<IssueIds>(&line).unwrap(), IssueIds { id: "i-1".into(), project_id: "p-1".into() });
    let page = |parent: Option<&str>| PageRecord {
        id: "g-2".into(),
        space_id: "s-1".into(),
        parent_id: parent.map(Into::into),
        title: "Title".into(),
        body: "<p>body</p>\n".into(),
        version: 3,
        position: 0,
        author_email: None,
        created_at: "2026-01-01T00:00:00Z".into(),
        updated_at: "2026-01-01T00:00:00Z".into(),
    };
    for parent in [None, Some("g-1")] {
        let ids: PageIds = serde_json::from_str(&serde_json::to_string(&page(parent)).unwrap()).unwrap();
        assert_eq!(ids, PageIds { id: "g-2".into(), space_id: "s-1".into(), parent_id: parent.map(Into::into) });
    }
    let comment = CommentRecord {
        id: "c-1".into(),
        parent_id: "i-1".into(),
        author_email: None,
        body: "\\ and \t".into(),
        created_at: "2026-01-01T00:00:00Z".into(),
    };
    let ids: CommentIds = serde_json::from_str(&serde_json::to_string(&comment).unwrap()).unwrap();
    assert_eq!(ids.parent_id, "i-1");
    assert!(serde_json::from_str::<IssueIds>(r#"{"id":"i-1","summary":"no project"}"#).is_err());
}

/// A backup whose attachments refer to `n` blobs of distinct bytes, as `id`; the blobs' names.
async fn write_with_blobs(storage: &Storage, id: &str, n: usize) -> Vec<String> {
    let mut w = ArchiveWriter::new(storage.clone(), id);
    let mut names = Vec::new();
    let mut bytes = 0;
    for i in 0..n {
        let blob = Bytes::from(format!("attachment {i} ").repeat(1000));
        let sha = hex::encode(Sha256::digest(&blob));
        let stream = futures_util::stream::iter([Ok::<_, std::io::Error>(blob.clone())]);
        storage.put_verified(&blob_path(&sha), stream, blob.len() as u64, &sha).await.unwrap();
        let att = AttachmentRecord {
            id: format!("a{i}"),
            owner_id: "i1".into(),
            filename: "f.txt".into(),
            content_type: "text/plain".into(),
            size: blob.len() as u64,
            sha256: sha.clone(),
            author_email: None,
            created_at: "t".into(),
            bytes_included: true,
            missing_reason: None,
        };
        w.write(ATTACHMENTS, &att).await.unwrap();
        names.push(sha);
        bytes += blob.len() as u64;
    }
    let mut m = base_manifest();
    m.backup_id = id.into();
    m.blobs = BlobTotals { count: n as u64, bytes };
    w.finish(m).await.unwrap();
    names
}

/// Blobs are checked several at once: every one is read, and a bad one among many fails the check.
#[tokio::test]
async fn every_blob_is_checked_and_a_bad_one_among_many_fails_the_check() {
    let (dir, s) = storage().await;
    let names = write_with_blobs(&s, ID, 40).await;
    let (_, report) = verify_backup(&s, ID, |_, _| {}).await.unwrap();
    assert_eq!((report.blobs, report.blobs_verified_before), (40, 0));
    let victim = file(&dir, &blob_path(&names[23]));
    let mut bytes = std::fs::read(&victim).unwrap();
    bytes[5] ^= 0x01;
    std::fs::write(&victim, bytes).unwrap();
    match verify_backup(&s, ID, |_, _| {}).await.unwrap_err() {
        ArchiveError::BlobCorrupt { sha256, .. } => assert_eq!(sha256, names[23]),
        other => panic!("unexpected {other}"),
    }
}

/// Checking several backups of one storage reads each blob they share once: a later backup's
/// shared blobs are counted as checked before, and only its own are read.
#[tokio::test]
async fn backups_checked_together_read_a_shared_blob_once() {
    const LATER: &str = "0190b6c8-7d1e-7000-8000-000000000002";
    let (dir, s) = storage().await;
    let first = write_with_blobs(&s, ID, 5).await;
    let later = write_with_blobs(&s, LATER, 8).await;
    assert_eq!(later[..5], first[..], "the later backup has the first's blobs and three more");
    let mut verified = VerifiedBlobs::default();
    let (_, report) = verify_backup_among(&s, ID, &mut verified, |_, _| {}).await.unwrap();
    assert_eq!((report.blobs, report.blobs_verified_before), (5, 0));
    // A blob only the later backup has, damaged: still read and found bad (on a copy of the set:
    // the blobs found good before the failure are added to it).
    let victim = file(&dir, &blob_path(&later[6]));
    let good = std::fs::read(&victim).unwrap();
    std::fs::write(&victim, b"not the bytes").unwrap();
    let failed = verify_backup_among(&s, LATER, &mut verified.clone(), |_, _| {}).await.unwrap_err();
    assert!(matches!(&failed, ArchiveError::BlobCorrupt { sha256, .. } if *sha256 == later[6]), "{failed}");
    std::fs::write(&victim, good).unwrap();
    let (_, report) = verify_backup_among(&s, LATER, &mut verified, |_, _| {}).await.unwrap();
    assert_eq!((report.blobs, report.blobs_verified_before), (8, 5));
}
