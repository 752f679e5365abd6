//! Storages through `object_store`: the managed storage (a local directory by default, or an S3
//! bucket) and external storages (S3-compatible buckets, or directories on the server).
//!
//! A `Storage` is a root under which the archive layout lives (`backups/<id>/…`, `blobs/<aa>/<sha>`).
//! Reads are bounded (a declared size is checked before anything is allocated) and blob writes are
//! create-only: content-addressed objects are never overwritten.

pub mod crypto;

use std::path::{Component, Path as FsPath, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt, TryStreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::prefix::PrefixStore;
use object_store::{ClientOptions, ObjectStore, PutMode, PutOptions, PutPayload, RetryConfig, WriteMultipart};
use sha2::{Digest, Sha256};

/// Objects up to this size are written in one request; larger ones as a multipart upload.
pub(crate) const SINGLE_PUT_MAX: u64 = 8 * 1024 * 1024;

/// A stream of bytes, hashed and counted as its chunks pass: how content-addressed bytes are checked
/// on their way (`Storage::put_verified`, `archive::verify_blob`). It ends at the first chunk that
/// takes it past `limit` bytes (uncounted in the hash), so a stream too long shows as too many bytes
/// and is never read to its end. The stream's own errors pass through unchanged.
pub(crate) struct Hashed<S> {
    stream: S,
    hasher: Sha256,
    seen: u64,
    limit: u64,
}

impl<S, E> Hashed<S>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
{
    pub(crate) fn new(stream: S, limit: u64) -> Self {
        Hashed { stream, hasher: Sha256::new(), seen: 0, limit }
    }

    /// The next chunk, hashed; `None` at the end or once past the limit.
    pub(crate) async fn next_chunk(&mut self) -> Result<Option<Bytes>, E> {
        if self.seen > self.limit {
            return Ok(None);
        }
        let Some(chunk) = self.stream.next().await.transpose()? else { return Ok(None) };
        self.seen += chunk.len() as u64;
        if self.seen > self.limit {
            return Ok(None);
        }
        self.hasher.update(&chunk);
        Ok(Some(chunk))
    }

    /// `Mismatch` unless the bytes seen are `expected_size` bytes hashing to `expected_sha256`.
    pub(crate) fn check(self, path: &str, expected_size: u64, expected_sha256: &str) -> Result<(), StorageError> {
        check_content(path, self.seen, &hex::encode(self.hasher.finalize()), expected_size, expected_sha256)
    }
}

/// `Mismatch` unless the bytes seen have the expected size and SHA-256 (hex): what a
/// content-addressed object must satisfy before it is stored.
pub(crate) fn check_content(path: &str, seen: u64, sha256: &str, expected_size: u64, expected_sha256: &str) -> Result<(), StorageError> {
    if seen != expected_size {
        return Err(StorageError::Mismatch { path: path.to_owned(), reason: format!("{seen} bytes instead of {expected_size}") });
    }
    if sha256 != expected_sha256 {
        return Err(StorageError::Mismatch { path: path.to_owned(), reason: format!("SHA-256 is {sha256}") });
    }
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("{0} does not exist in the storage")]
    NotFound(String),
    #[error("{path} is {size} bytes, over the limit of {limit}")]
    TooLarge { path: String, size: u64, limit: u64 },
    #[error("{0}")]
    Invalid(String),
    /// The bytes copied did not hash to the expected SHA-256 (or had another size).
    #[error("{path}: content does not match its checksum ({reason})")]
    Mismatch { path: String, reason: String },
    #[error("storage error: {0}")]
    Backend(String),
    /// Reading the bytes to store failed (the source, not this storage).
    #[error("reading the bytes to store failed: {0}")]
    Source(String),
}

impl From<object_store::Error> for StorageError {
    fn from(e: object_store::Error) -> Self {
        match e {
            object_store::Error::NotFound { path, .. } => StorageError::NotFound(path),
            other => StorageError::Backend(describe(&other)),
        }
    }
}

/// A storage error as callers, logs and the audit log may see it: S3 error bodies can echo request
/// details (the access key id, the string that was signed), so only the text before any XML body
/// is kept, bounded.
fn describe(e: &object_store::Error) -> String {
    let text = e.to_string();
    let head = text.split('<').next().unwrap_or_default().trim_end();
    let mut out: String = head.chars().take(300).collect();
    if out.len() < text.len() {
        out.push_str(" …");
    }
    out
}

/// How to reach an S3-compatible bucket. `Debug` never shows the secret.
#[derive(Clone)]
pub struct S3Location {
    pub bucket: String,
    pub region: String,
    pub endpoint: Option<String>,
    pub prefix: String,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
}

impl std::fmt::Debug for S3Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Location")
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .field("prefix", &self.prefix)
            .field("access_key_id", &self.access_key_id.as_ref().map(|_| "…"))
            .finish_non_exhaustive()
    }
}

#[derive(Clone)]
pub struct Storage {
    store: Arc<dyn ObjectStore>,
    /// Names this storage in the blob index: `""` for managed storage, the storage id otherwise.
    key: String,
    /// Where it is, for messages (never credentials).
    description: String,
    /// A directory on this server: asking for an object's size is a `stat`, not a request.
    local: bool,
}

impl std::fmt::Debug for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Storage({})", self.description)
    }
}

/// A prefix inside a bucket: `/`-separated segments of letters, digits, `.`, `_` and `-`, no `..`.
pub fn check_prefix(prefix: &str) -> Result<String, StorageError> {
    let trimmed = prefix.trim().trim_matches('/');
    if trimmed.len() > 200 {
        return Err(StorageError::Invalid("the storage prefix is longer than 200 characters".into()));
    }
    for seg in trimmed.split('/').filter(|s| !s.is_empty()) {
        let ok = seg != "." && seg != ".." && seg.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
        if !ok {
            return Err(StorageError::Invalid(format!(
                "the storage prefix segment {seg:?} may only contain letters, digits, '.', '_' and '-'"
            )));
        }
    }
    Ok(trimmed.split('/').filter(|s| !s.is_empty()).collect::<Vec<_>>().join("/"))
}

/// A directory for a filesystem storage: absolute, no `..`, inside one of `roots` (the operator's
/// allow-list), so an organization admin cannot make the server write elsewhere.
pub fn check_directory(path: &str, roots: &[PathBuf]) -> Result<PathBuf, StorageError> {
    let p = FsPath::new(path.trim());
    if !p.is_absolute() || p.components().any(|c| matches!(c, Component::ParentDir)) {
        return Err(StorageError::Invalid("path must be an absolute directory path without '..'".into()));
    }
    let real = resolved(p);
    let inside = roots.iter().any(|root| real.starts_with(std::fs::canonicalize(root).unwrap_or_else(|_| root.clone())));
    if inside {
        Ok(p.to_path_buf())
    } else {
        Err(StorageError::Invalid(
            "path is outside the directories this server allows for filesystem storages (backup.filesystem_roots)".into(),
        ))
    }
}

/// An `aws` storage's endpoint: an http(s) URL, and — when the operator lists the endpoints this
/// server may reach (`allowed`, `backup.s3_endpoints`) — one of them, or a path under one. The
/// server sends requests wherever an endpoint points, so on a server shared by organizations that
/// do not trust each other the list keeps them from aiming it at internal services (cloud
/// metadata, admin interfaces).
pub fn check_endpoint(endpoint: &str, allowed: &[String]) -> Result<(), StorageError> {
    if !(endpoint.starts_with("https://") || endpoint.starts_with("http://")) || endpoint.len() > 500 {
        return Err(StorageError::Invalid("endpoint must be an http(s) URL".into()));
    }
    let endpoint = endpoint.to_ascii_lowercase();
    let listed = |a: &String| {
        let a = a.trim_end_matches('/').to_ascii_lowercase();
        endpoint.trim_end_matches('/') == a || endpoint.starts_with(&format!("{a}/"))
    };
    if allowed.is_empty() || allowed.iter().any(listed) {
        Ok(())
    } else {
        Err(StorageError::Invalid("endpoint is not one this server allows for S3 storages (backup.s3_endpoints)".into()))
    }
}

/// `p` with its deepest existing ancestor resolved (symlinks followed): the name to compare
/// directories by, a link being another name for the same directory.
pub fn resolved(p: &FsPath) -> PathBuf {
    let mut probe = p.to_path_buf();
    loop {
        if let Ok(real) = std::fs::canonicalize(&probe) {
            return real.join(p.strip_prefix(&probe).unwrap_or(FsPath::new("")));
        }
        if !probe.pop() {
            return p.to_path_buf();
        }
    }
}

/// Where a storage keeps its objects: what two storages must not share (blobs are shared by name
/// within one place, so one storage's retention would delete blobs the other's backups use).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Place {
    /// A filesystem storage's directory (its path joined with its prefix).
    Directory(PathBuf),
    /// An S3 bucket's key prefix; `endpoint` `None` is AWS.
    Bucket { endpoint: Option<String>, bucket: String, prefix: String },
}

impl Place {
    /// The same place, or one inside the other: directories compared with symlinks resolved and by
    /// components; buckets by endpoint (as written, lower-cased, without trailing `/`: another name
    /// for the same server is not recognised), name, and prefix segments.
    pub fn overlaps(&self, other: &Place) -> bool {
        match (self, other) {
            (Place::Directory(a), Place::Directory(b)) => {
                let (a, b) = (resolved(a), resolved(b));
                a.starts_with(&b) || b.starts_with(&a)
            }
            (Place::Bucket { endpoint: e1, bucket: b1, prefix: p1 }, Place::Bucket { endpoint: e2, bucket: b2, prefix: p2 }) => {
                let endpoint = |e: &Option<String>| e.as_deref().map(|e| e.trim_end_matches('/').to_ascii_lowercase());
                let (p1, p2) = (FsPath::new(p1.trim_matches('/')), FsPath::new(p2.trim_matches('/')));
                endpoint(e1) == endpoint(e2) && b1 == b2 && (p1.starts_with(p2) || p2.starts_with(p1))
            }
            _ => false,
        }
    }
}

impl Storage {
    /// A directory on this server (created when missing).
    pub fn local(key: impl Into<String>, dir: &FsPath) -> Result<Storage, StorageError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| StorageError::Backend(format!("cannot create {}: {e}", dir.display())))?;
        let fs = LocalFileSystem::new_with_prefix(dir)?.with_automatic_cleanup(true);
        Ok(Storage { store: Arc::new(fs), key: key.into(), description: dir.display().to_string(), local: true })
    }

    /// An S3-compatible bucket. Requests time out and retry briefly, so an unreachable endpoint
    /// fails a probe in seconds rather than minutes.
    pub fn s3(key: impl Into<String>, loc: &S3Location) -> Result<Storage, StorageError> {
        let mut b = AmazonS3Builder::new()
            .with_bucket_name(&loc.bucket)
            .with_region(&loc.region)
            .with_retry(RetryConfig { max_retries: 2, retry_timeout: Duration::from_secs(15), ..Default::default() })
            .with_client_options(
                ClientOptions::new().with_timeout(Duration::from_secs(60)).with_connect_timeout(Duration::from_secs(5)),
            );
        if let Some(endpoint) = &loc.endpoint {
            b = b.with_endpoint(endpoint).with_allow_http(endpoint.starts_with("http://"));
        }
        if let (Some(id), Some(secret)) = (&loc.access_key_id, &loc.secret_access_key) {
            b = b.with_access_key_id(id).with_secret_access_key(secret);
        } else {
            b = b.with_skip_signature(true);
        }
        let s3 = b.build()?;
        let prefix = check_prefix(&loc.prefix)?;
        let description = match &loc.endpoint {
            Some(e) => format!("s3://{}/{} at {e}", loc.bucket, prefix),
            None => format!("s3://{}/{}", loc.bucket, prefix),
        };
        let store: Arc<dyn ObjectStore> =
            if prefix.is_empty() { Arc::new(s3) } else { Arc::new(PrefixStore::new(s3, Path::from(prefix.as_str()))) };
        Ok(Storage { store, key: key.into(), description, local: false })
    }

    pub fn key(&self) -> &str {
        &self.key
    }

    /// A directory on this server (an object's size is a `stat` away), not a bucket.
    pub fn is_local(&self) -> bool {
        self.local
    }

    pub fn description(&self) -> &str {
        &self.description
    }

    /// Size of an object, `None` when it does not exist.
    pub async fn size_of(&self, path: &str) -> Result<Option<u64>, StorageError> {
        match self.store.head(&Path::from(path)).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The whole object, refused before reading when larger than `limit`.
    pub async fn get_bounded(&self, path: &str, limit: u64) -> Result<Bytes, StorageError> {
        let result = self.store.get(&Path::from(path)).await?;
        if result.meta.size > limit {
            return Err(StorageError::TooLarge { path: path.to_owned(), size: result.meta.size, limit });
        }
        let bytes = result.bytes().await?;
        if bytes.len() as u64 > limit {
            return Err(StorageError::TooLarge { path: path.to_owned(), size: bytes.len() as u64, limit });
        }
        Ok(bytes)
    }

    /// The object as a stream of chunks (blobs: never held whole in memory).
    pub async fn get_stream(
        &self,
        path: &str,
    ) -> Result<(u64, impl Stream<Item = Result<Bytes, StorageError>> + Send + 'static), StorageError> {
        let result = self.store.get(&Path::from(path)).await?;
        let size = result.meta.size;
        Ok((size, result.into_stream().map_err(StorageError::from)))
    }

    /// Copies an object within this storage: a hard link on a filesystem, a server-side copy on S3
    /// (the bytes never pass through this process).
    pub async fn copy(&self, from: &str, to: &str) -> Result<(), StorageError> {
        self.store.copy(&Path::from(from), &Path::from(to)).await?;
        Ok(())
    }

    /// Writes an object that must not exist yet. `Ok(false)` when it already did (nothing written).
    pub async fn put_create(&self, path: &str, bytes: Bytes) -> Result<bool, StorageError> {
        let opts = PutOptions { mode: PutMode::Create, ..Default::default() };
        match self.store.put_opts(&Path::from(path), PutPayload::from(bytes), opts).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::AlreadyExists { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Writes a content-addressed object from a stream, hashing as it goes: the object appears only
    /// when its bytes have `expected_size` and hash to `expected_sha256`. Memory stays bounded by
    /// one upload chunk. `Ok(false)` when the object already existed — the stream's bytes are
    /// checked all the same, so that a caller copying from storage it does not trust has proof
    /// that its source holds them.
    pub async fn put_verified<S, E>(
        &self,
        path: &str,
        mut stream: S,
        expected_size: u64,
        expected_sha256: &str,
    ) -> Result<bool, StorageError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let source = |e: E| StorageError::Source(e.to_string());
        let mut hashed = Hashed::new(&mut stream, expected_size);
        let small = expected_size <= SINGLE_PUT_MAX;
        if small || self.size_of(path).await?.is_some() {
            // In memory and put in one request; or, the object being there already, only checked.
            let mut buf = Vec::with_capacity(if small { expected_size as usize } else { 0 });
            while let Some(chunk) = hashed.next_chunk().await.map_err(source)? {
                if small {
                    buf.extend_from_slice(&chunk);
                }
            }
            hashed.check(path, expected_size, expected_sha256)?;
            return if small { self.put_create(path, Bytes::from(buf)).await } else { Ok(false) };
        }
        let upload = self.store.put_multipart(&Path::from(path)).await?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, 8 * 1024 * 1024);
        let outcome: Result<(), StorageError> = async {
            while let Some(chunk) = hashed.next_chunk().await.map_err(source)? {
                writer.wait_for_capacity(2).await?;
                writer.write(&chunk);
            }
            Ok(())
        }
        .await;
        match outcome.and_then(|()| hashed.check(path, expected_size, expected_sha256)) {
            Ok(()) => {
                writer.finish().await?;
                Ok(true)
            }
            Err(e) => {
                let _ = writer.abort().await;
                Err(e)
            }
        }
    }

    pub async fn delete(&self, path: &str) -> Result<(), StorageError> {
        match self.store.delete(&Path::from(path)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Deletes every object under `prefix`.
    pub async fn delete_prefix(&self, prefix: &str) -> Result<u64, StorageError> {
        let prefix = Path::from(prefix);
        let locations = self.store.list(Some(&prefix)).map_ok(|m| m.location).boxed();
        let mut deleted = 0;
        let mut results = self.store.delete_stream(locations);
        while let Some(r) = results.next().await {
            match r {
                Ok(_) => deleted += 1,
                Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(deleted)
    }

    /// The names directly under `prefix` that are "directories" (e.g. the backup ids under `backups`).
    pub async fn list_dirs(&self, prefix: &str) -> Result<Vec<String>, StorageError> {
        let listing = self.store.list_with_delimiter(Some(&Path::from(prefix))).await?;
        Ok(listing.common_prefixes.iter().filter_map(|p| p.filename().map(str::to_owned)).collect())
    }

    /// Checks that the storage can be written, read back and deleted from (a new external storage is
    /// refused otherwise). The error names the step that failed.
    pub async fn probe(&self) -> Result<(), StorageError> {
        let path = format!(".lifeboat-probe-{}", uuid::Uuid::new_v4());
        let payload = Bytes::from_static(b"lifeboat storage probe");
        self.store
            .put(&Path::from(path.as_str()), PutPayload::from(payload.clone()))
            .await
            .map_err(|e| StorageError::Backend(format!("cannot write: {}", describe(&e))))?;
        let back = self
            .get_bounded(&path, 1024)
            .await
            .map_err(|e| StorageError::Backend(format!("cannot read back what was written: {e}")))?;
        if back != payload {
            return Err(StorageError::Backend("read back different bytes than were written".into()));
        }
        self.store
            .delete(&Path::from(path.as_str()))
            .await
            .map_err(|e| StorageError::Backend(format!("cannot delete: {}", describe(&e))))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_plain_segments() {
        assert_eq!(check_prefix("/team/backups/").unwrap(), "team/backups");
        assert_eq!(check_prefix("").unwrap(), "");
        assert!(check_prefix("a/../b").is_err());
        assert!(check_prefix("a b").is_err());
        assert!(check_prefix("é").is_err());
    }

    /// What `put_verified` and `verify_blob` check bytes with: exact bytes pass; a chunk past the
    /// limit ends the stream (nothing after it is pulled) and shows as too many bytes; a stream's
    /// own error passes through as it is.
    #[tokio::test]
    async fn hashed_streams_check_size_and_hash_and_stop_past_the_limit() {
        let hello = "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"; // "hello world"
        let pulled = std::sync::atomic::AtomicUsize::new(0);
        let chunks = |parts: &'static [&'static [u8]]| {
            futures_util::stream::iter(parts.iter().map(|p| {
                pulled.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                Ok::<_, std::io::Error>(Bytes::from_static(p))
            }))
        };
        let mut exact = Hashed::new(chunks(&[b"hello ", b"world"]), 11);
        while exact.next_chunk().await.unwrap().is_some() {}
        exact.check("blob", 11, hello).unwrap();

        pulled.store(0, std::sync::atomic::Ordering::SeqCst);
        let mut long = Hashed::new(chunks(&[b"hello world", b"!", b"never pulled"]), 11);
        let mut passed = 0;
        while let Some(c) = long.next_chunk().await.unwrap() {
            passed += c.len();
        }
        assert_eq!((passed, pulled.load(std::sync::atomic::Ordering::SeqCst)), (11, 2));
        assert!(matches!(long.check("blob", 11, hello), Err(StorageError::Mismatch { reason, .. }) if reason == "12 bytes instead of 11"));

        let mut other = Hashed::new(chunks(&[b"hello there"]), 11);
        while other.next_chunk().await.unwrap().is_some() {}
        assert!(matches!(other.check("blob", 11, hello), Err(StorageError::Mismatch { reason, .. }) if reason.starts_with("SHA-256 is ")));

        let mut broken = Hashed::new(futures_util::stream::iter([Err::<Bytes, _>(std::io::Error::other("disk read error"))]), 11);
        assert_eq!(broken.next_chunk().await.unwrap_err().to_string(), "disk read error");
    }

    #[test]
    fn directories_must_be_inside_a_root() {
        let root = tempfile::tempdir().unwrap();
        let roots = vec![root.path().to_path_buf()];
        let inside = root.path().join("team-a/backups");
        assert_eq!(check_directory(inside.to_str().unwrap(), &roots).unwrap(), inside);
        assert!(check_directory("/etc", &roots).is_err());
        assert!(check_directory("relative/dir", &roots).is_err());
        let sneaky = format!("{}/../../etc", root.path().display());
        assert!(check_directory(&sneaky, &roots).is_err());
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("/etc", root.path().join("link")).unwrap();
            let through_link = root.path().join("link/x");
            assert!(check_directory(through_link.to_str().unwrap(), &roots).is_err(), "symlinks are resolved");
        }
    }

    #[test]
    fn endpoints_must_be_listed_when_the_operator_lists_them() {
        let any: Vec<String> = Vec::new();
        assert!(check_endpoint("http://169.254.169.254", &any).is_ok(), "no list: any endpoint");
        assert!(check_endpoint("ftp://minio", &any).is_err());
        let listed = vec!["https://MinIO.internal:9000/".to_owned()];
        assert!(check_endpoint("https://minio.internal:9000", &listed).is_ok());
        assert!(check_endpoint("https://minio.internal:9000/", &listed).is_ok());
        assert!(check_endpoint("https://minio.internal:9000/tenant", &listed).is_ok());
        assert!(check_endpoint("https://minio.internal:90001", &listed).is_err(), "another port");
        assert!(check_endpoint("https://minio.internal:9000.evil.test", &listed).is_err(), "another host");
        assert!(check_endpoint("http://minio.internal:9000", &listed).is_err(), "another scheme");
        assert!(check_endpoint("http://169.254.169.254/latest/meta-data", &listed).is_err());
    }

    #[test]
    fn directories_overlap_when_one_is_or_holds_the_other_whatever_their_names() {
        let root = tempfile::tempdir().unwrap();
        let a = root.path().join("team-a");
        std::fs::create_dir_all(a.join("backups")).unwrap();
        let overlap = |x: &FsPath, y: &FsPath| Place::Directory(x.into()).overlaps(&Place::Directory(y.into()));
        assert!(overlap(&a, &a));
        assert!(overlap(&a, &a.join("backups/not-yet")));
        assert!(overlap(&a.join("backups"), &a));
        assert!(!overlap(&a, &root.path().join("team-ab")), "by components, not by characters");
        assert!(!overlap(&a.join("backups"), &a.join("other")));
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(&a, root.path().join("alias")).unwrap();
            assert!(overlap(&root.path().join("alias/backups"), &a.join("backups")), "a link is another name");
        }
    }

    #[test]
    fn bucket_prefixes_overlap_when_one_is_or_holds_the_other_on_the_same_endpoint_and_bucket() {
        let at = |endpoint: Option<&str>, bucket: &str, prefix: &str| Place::Bucket {
            endpoint: endpoint.map(str::to_owned),
            bucket: bucket.into(),
            prefix: prefix.into(),
        };
        let moto = Some("http://127.0.0.1:5000");
        assert!(at(moto, "b", "acme").overlaps(&at(moto, "b", "acme")));
        assert!(at(moto, "b", "").overlaps(&at(moto, "b", "acme/jira")), "the whole bucket holds every prefix");
        assert!(at(moto, "b", "acme/jira").overlaps(&at(moto, "b", "acme")));
        assert!(at(moto, "b", "acme").overlaps(&at(Some("HTTP://127.0.0.1:5000/"), "b", "acme")), "the same endpoint written otherwise");
        assert!(at(None, "b", "acme").overlaps(&at(None, "b", "acme")));
        assert!(!at(moto, "b", "acme").overlaps(&at(moto, "b", "acme-2")), "by segments, not by characters");
        assert!(!at(moto, "b", "acme/jira").overlaps(&at(moto, "b", "acme/confluence")));
        assert!(!at(moto, "b", "acme").overlaps(&at(moto, "c", "acme")));
        assert!(!at(moto, "b", "acme").overlaps(&at(None, "b", "acme")), "another server's bucket");
        assert!(!at(moto, "b", "").overlaps(&Place::Directory("/b".into())));
    }

    #[test]
    fn storage_errors_do_not_echo_s3_error_bodies() {
        let body = "Client error with status 403 Forbidden: <?xml version=\"1.0\"?><Error><Code>SignatureDoesNotMatch</Code>\
                    <AWSAccessKeyId>AKIAEXAMPLE</AWSAccessKeyId><StringToSign>AWS4-HMAC-SHA256 secret-ish</StringToSign></Error>";
        let e = object_store::Error::Generic { store: "S3", source: Box::new(std::io::Error::other(body)) };
        let StorageError::Backend(text) = StorageError::from(e) else { panic!("not a backend error") };
        assert!(text.contains("403 Forbidden"), "{text}");
        assert!(!text.contains("AKIAEXAMPLE") && !text.contains("StringToSign"), "{text}");
    }

    #[tokio::test]
    async fn verified_puts_refuse_wrong_bytes_and_never_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let s = Storage::local("", dir.path()).unwrap();
        let data = Bytes::from_static(b"hello");
        let sha = hex::encode(Sha256::digest(&data));
        let one = |b: Bytes| futures_util::stream::iter([Ok::<_, std::io::Error>(b)]);
        assert!(s.put_verified("blobs/x", one(data.clone()), 5, &sha).await.unwrap());
        assert!(!s.put_verified("blobs/x", one(data.clone()), 5, &sha).await.unwrap(), "exists: not rewritten");
        // Existing or not, small or large, the source's bytes are checked: a copy that finds the
        // object there already is proof that its source holds it, or it fails.
        let err = s.put_verified("blobs/x", one(Bytes::from_static(b"hellO")), 5, &sha).await.unwrap_err();
        assert!(matches!(err, StorageError::Mismatch { .. }), "{err}");
        let large = Bytes::from(vec![7u8; SINGLE_PUT_MAX as usize + 1]);
        let large_sha = hex::encode(Sha256::digest(&large));
        assert!(s.put_verified("blobs/l", one(large.clone()), large.len() as u64, &large_sha).await.unwrap());
        let mut other = large.to_vec();
        other[0] = 8;
        let err = s.put_verified("blobs/l", one(Bytes::from(other)), large.len() as u64, &large_sha).await.unwrap_err();
        assert!(matches!(err, StorageError::Mismatch { .. }), "{err}");
        assert!(!s.put_verified("blobs/l", one(large.clone()), large.len() as u64, &large_sha).await.unwrap());
        let err = s.put_verified("blobs/y", one(Bytes::from_static(b"hellO")), 5, &sha).await.unwrap_err();
        assert!(matches!(err, StorageError::Mismatch { .. }));
        assert_eq!(s.size_of("blobs/y").await.unwrap(), None, "nothing written on a mismatch");
        // A failing source is told apart from a failing storage (a backup records the attachment
        // without its bytes rather than failing).
        let broken = futures_util::stream::iter([Err::<Bytes, _>(std::io::Error::other("disk read error"))]);
        let err = s.put_verified("blobs/z", broken, 5, &sha).await.unwrap_err();
        assert!(matches!(&err, StorageError::Source(m) if m.contains("disk read error")), "{err}");
        assert!(matches!(s.get_bounded("blobs/x", 4).await.unwrap_err(), StorageError::TooLarge { .. }));
        s.probe().await.unwrap();
    }
}
