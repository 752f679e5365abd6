//! A content-addressed blob store for attachments' bytes: each blob is written once, at
//! `<dir>/<first two hex digits>/<sha256>`, so identical bytes are stored once however many
//! attachments (or backups) refer to them.
//!
//! Writes stream through a fixed buffer into a temporary file under `<dir>/tmp` (same file system,
//! so the final rename is atomic), hashing as they go; the blob becomes visible only once complete
//! and (by default) flushed to disk. Memory use does not depend on the size of the blob.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

/// Read buffer for `put_reader` (streams bring their own chunks).
const BUF_SIZE: usize = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// The content went over the limit; nothing was stored. The HTTP edge answers 413.
    #[error("the content is larger than the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    /// The producer of the bytes failed (a client disconnect, a read error upstream).
    #[error("reading the content failed: {0}")]
    Source(Box<dyn std::error::Error + Send + Sync>),
    #[error("no blob {0}")]
    NotFound(String),
    #[error("{0:?} is not a SHA-256 in hex")]
    InvalidHash(String),
    /// The content is not what it was said to be (`put_stream_expecting`); nothing was stored.
    #[error("the content ({size} bytes, SHA-256 {sha256}) is not the expected one")]
    Mismatch { sha256: String, size: u64 },
    #[error("blob store I/O error: {0}")]
    Io(#[from] std::io::Error),
}

/// A blob that is not there is `NotFound`; any other failure to open it, an I/O error.
fn open_error(e: std::io::Error, sha256: &str) -> BlobError {
    match e.kind() {
        std::io::ErrorKind::NotFound => BlobError::NotFound(sha256.to_owned()),
        _ => BlobError::Io(e),
    }
}

/// Where a stored blob ended up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlobInfo {
    /// Lower-case hex SHA-256 of the bytes.
    pub sha256: String,
    pub size: u64,
    /// False when identical bytes were already stored (the new copy was discarded).
    pub created: bool,
}

#[derive(Clone, Debug)]
pub struct BlobStore {
    dir: PathBuf,
    sync: bool,
}

/// Removes a temporary file unless it was renamed into place.
struct TempGuard(Option<PathBuf>);

impl Drop for TempGuard {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl BlobStore {
    /// A store rooted at `dir` (the server uses `<data_dir>/blobs`); directories are created on demand.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        BlobStore { dir: dir.into(), sync: true }
    }

    /// Whether to fsync each new blob (and its directory) before it becomes visible. On by default;
    /// bulk seeding turns it off and trades durability on power loss for speed.
    pub fn with_sync(mut self, sync: bool) -> Self {
        self.sync = sync;
        self
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the blob with this hash lives (whether or not it exists).
    pub fn path(&self, sha256: &str) -> Result<PathBuf, BlobError> {
        if !is_sha256_hex(sha256) {
            return Err(BlobError::InvalidHash(sha256.to_owned()));
        }
        Ok(self.dir.join(&sha256[..2]).join(sha256))
    }

    pub async fn exists(&self, sha256: &str) -> Result<bool, BlobError> {
        Ok(tokio::fs::try_exists(self.path(sha256)?).await?)
    }

    /// Opens a blob for a streaming read.
    pub async fn open(&self, sha256: &str) -> Result<tokio::fs::File, BlobError> {
        tokio::fs::File::open(self.path(sha256)?).await.map_err(|e| open_error(e, sha256))
    }

    /// A whole blob read into memory and hashed in one blocking task — for a copy small enough to
    /// upload in one request, one thread hop instead of one per chunk. Reads at most `max + 1` bytes
    /// (one more than expected shows a blob too long). Returns the bytes and their SHA-256 in hex.
    pub async fn read_hashed(&self, sha256: &str, max: u64) -> Result<(Bytes, String), BlobError> {
        let path = self.path(sha256)?;
        let name = sha256.to_owned();
        // Allocated here, not in the blocking thread: glibc gives each thread that allocates its own
        // arena, and buffers of a megabyte spread over the blocking pool's many threads stay
        // resident (a large backup's peak RSS grew from 120 to 155 MB).
        let mut bytes = Vec::with_capacity(usize::try_from(max).unwrap_or(0).saturating_add(1));
        let read = tokio::task::spawn_blocking(move || -> Result<(Bytes, String), BlobError> {
            use std::io::Read;
            let file = std::fs::File::open(&path).map_err(|e| open_error(e, &name))?;
            file.take(max.saturating_add(1)).read_to_end(&mut bytes)?;
            let digest = hex::encode(Sha256::digest(&bytes));
            Ok((Bytes::from(bytes), digest))
        });
        read.await.map_err(|e| BlobError::Io(std::io::Error::other(e)))?
    }

    /// Stores the bytes of a stream (e.g. an HTTP request body), refusing more than `max_size` bytes.
    pub async fn put_stream<S, E>(&self, stream: S, max_size: u64) -> Result<BlobInfo, BlobError>
    where
        S: Stream<Item = Result<Bytes, E>>,
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let w = self.write_stream(stream, max_size).await?;
        self.finish(w, None).await
    }

    /// Stores the bytes of a stream that must be exactly `size` bytes hashing to `sha256` (what an
    /// archive says a blob is). Anything else is `Mismatch` and stores nothing: the bytes are never
    /// kept under the hash they do have.
    pub async fn put_stream_expecting<S, E>(&self, stream: S, size: u64, sha256: &str) -> Result<BlobInfo, BlobError>
    where
        S: Stream<Item = Result<Bytes, E>>,
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let w = self.write_stream(stream, size).await?;
        self.finish(w, Some((sha256, size))).await
    }

    async fn write_stream<S, E>(&self, stream: S, max_size: u64) -> Result<Writer, BlobError>
    where
        S: Stream<Item = Result<Bytes, E>>,
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let mut stream = std::pin::pin!(stream);
        let mut w = self.begin().await?;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| BlobError::Source(e.into()))?;
            w.write(&chunk, max_size).await?;
        }
        Ok(w)
    }

    /// Stores the bytes of a reader through a fixed buffer, refusing more than `max_size` bytes.
    pub async fn put_reader<R: AsyncRead>(&self, reader: R, max_size: u64) -> Result<BlobInfo, BlobError> {
        let mut reader = std::pin::pin!(reader);
        let mut buf = vec![0u8; BUF_SIZE];
        let mut w = self.begin().await?;
        loop {
            let n = reader.read(&mut buf).await.map_err(|e| BlobError::Source(Box::new(e)))?;
            if n == 0 {
                break;
            }
            w.write(&buf[..n], max_size).await?;
        }
        self.finish(w, None).await
    }

    /// Stores bytes already in memory (small blobs, tests).
    pub async fn put_bytes(&self, bytes: &[u8]) -> Result<BlobInfo, BlobError> {
        let mut w = self.begin().await?;
        w.write(bytes, u64::MAX).await?;
        self.finish(w, None).await
    }

    async fn begin(&self) -> Result<Writer, BlobError> {
        let tmp_dir = self.dir.join("tmp");
        tokio::fs::create_dir_all(&tmp_dir).await?;
        let path = tmp_dir.join(format!("{}.part", uuid::Uuid::new_v4()));
        let file = tokio::fs::OpenOptions::new().write(true).create_new(true).open(&path).await?;
        Ok(Writer {
            file: tokio::io::BufWriter::with_capacity(BUF_SIZE, file),
            guard: TempGuard(Some(path)),
            hasher: Sha256::new(),
            size: 0,
        })
    }

    /// Puts the written bytes in place under their hash; with `expected` (hash, size), only if they
    /// are those (otherwise the temporary file goes with its guard).
    async fn finish(&self, mut w: Writer, expected: Option<(&str, u64)>) -> Result<BlobInfo, BlobError> {
        w.file.flush().await?;
        let sha256 = hex::encode(w.hasher.finalize());
        let size = w.size;
        if expected.is_some_and(|(hash, len)| hash != sha256 || len != size) {
            return Err(BlobError::Mismatch { sha256, size });
        }
        let target = self.path(&sha256)?;
        let tmp = w.guard.0.clone().expect("the temp path is set until renamed");
        if tokio::fs::try_exists(&target).await? {
            drop(w.file);
            drop(w.guard); // deletes the duplicate
            return Ok(BlobInfo { sha256, size, created: false });
        }
        if self.sync {
            w.file.get_ref().sync_all().await?;
        }
        drop(w.file);
        let parent = target.parent().expect("a blob path has a parent");
        tokio::fs::create_dir_all(parent).await?;
        // Create-only: a hard link fails if the name exists (a rename would replace it), so two
        // concurrent uploads of the same bytes never overwrite each other; the guard then removes
        // the temp file either way.
        let created = match tokio::fs::hard_link(&tmp, &target).await {
            Ok(()) => true,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => false,
            Err(e) => return Err(e.into()),
        };
        drop(w.guard);
        if created && self.sync {
            sync_dir(parent).await?;
        }
        Ok(BlobInfo { sha256, size, created })
    }
}

struct Writer {
    file: tokio::io::BufWriter<tokio::fs::File>,
    guard: TempGuard,
    hasher: Sha256,
    size: u64,
}

impl Writer {
    async fn write(&mut self, chunk: &[u8], max_size: u64) -> Result<(), BlobError> {
        self.size += chunk.len() as u64;
        if self.size > max_size {
            return Err(BlobError::TooLarge { limit: max_size });
        }
        self.hasher.update(chunk);
        self.file.write_all(chunk).await?;
        Ok(())
    }
}

/// Makes a rename durable (the directory entry itself must reach the disk).
async fn sync_dir(dir: &Path) -> Result<(), BlobError> {
    #[cfg(unix)]
    {
        let dir = dir.to_owned();
        tokio::task::spawn_blocking(move || std::fs::File::open(dir)?.sync_all())
            .await
            .map_err(|e| BlobError::Io(std::io::Error::other(e)))??;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(parts: &[&'static [u8]]) -> impl Stream<Item = Result<Bytes, std::io::Error>> {
        futures_util::stream::iter(parts.iter().map(|p| Ok(Bytes::from_static(p))).collect::<Vec<_>>())
    }

    #[tokio::test]
    async fn stores_once_by_content_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::new(dir.path().join("blobs"));
        let a = store.put_stream(chunks(&[b"hello ", b"world"]), 100).await.unwrap();
        assert_eq!(a.sha256, "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9");
        assert_eq!((a.size, a.created), (11, true));
        let b = store.put_bytes(b"hello world").await.unwrap();
        assert_eq!((b.sha256.as_str(), b.created), (a.sha256.as_str(), false));
        let mut back = Vec::new();
        store.open(&a.sha256).await.unwrap().read_to_end(&mut back).await.unwrap();
        assert_eq!(back, b"hello world");
        assert!(store.path(&a.sha256).unwrap().starts_with(dir.path().join("blobs").join("b9")));
        let c = store.put_reader(&b"hello world"[..], 11).await.unwrap();
        assert!(!c.created);
        assert_eq!(std::fs::read_dir(dir.path().join("blobs/tmp")).unwrap().count(), 0, "no temp left");
    }

    #[tokio::test]
    async fn reads_a_whole_blob_with_its_hash_up_to_one_byte_past_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::new(dir.path().join("blobs"));
        let a = store.put_bytes(b"hello world").await.unwrap();
        let (bytes, digest) = store.read_hashed(&a.sha256, 11).await.unwrap();
        assert_eq!((&bytes[..], digest.as_str()), (&b"hello world"[..], a.sha256.as_str()));
        // A blob longer than expected shows as one byte too many, not as the whole file.
        let (bytes, digest) = store.read_hashed(&a.sha256, 4).await.unwrap();
        assert_eq!(&bytes[..], b"hello");
        assert_ne!(digest, a.sha256);
        let missing = "0".repeat(64);
        assert!(matches!(store.read_hashed(&missing, 10).await, Err(BlobError::NotFound(_))));
    }

    /// An archive's blob is kept only if its bytes are the ones the archive names: other bytes are
    /// not stored under the hash they do have (a restore would otherwise leave them behind).
    #[tokio::test]
    async fn stores_expected_content_only() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::new(dir.path());
        let hello = "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9";
        let other = store.path(&hex::encode(Sha256::digest(b"hello there"))).unwrap();
        let err = store.put_stream_expecting(chunks(&[b"hello ", b"there"]), 11, hello).await.unwrap_err();
        assert!(matches!(err, BlobError::Mismatch { size: 11, .. }), "{err}");
        assert!(!other.exists(), "the other bytes were kept under their own hash");
        assert!(matches!(store.put_stream_expecting(chunks(&[b"hello"]), 11, hello).await.unwrap_err(), BlobError::Mismatch { size: 5, .. }));
        assert!(matches!(store.put_stream_expecting(chunks(&[b"hello world!"]), 11, hello).await.unwrap_err(), BlobError::TooLarge { limit: 11 }));
        assert!(!store.exists(hello).await.unwrap());
        let stored = store.put_stream_expecting(chunks(&[b"hello ", b"world"]), 11, hello).await.unwrap();
        assert_eq!((stored.sha256.as_str(), stored.size, stored.created), (hello, 11, true));
        assert_eq!(std::fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0, "no temp left");
    }

    #[tokio::test]
    async fn refuses_oversized_content_and_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::new(dir.path());
        let err = store.put_stream(chunks(&[b"12345", b"67890"]), 9).await.unwrap_err();
        assert!(matches!(err, BlobError::TooLarge { limit: 9 }));
        let failing = futures_util::stream::iter(vec![
            Ok(Bytes::from_static(b"abc")),
            Err(std::io::Error::other("client went away")),
        ]);
        assert!(matches!(store.put_stream(failing, 100).await.unwrap_err(), BlobError::Source(_)));
        assert_eq!(std::fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
        assert!(matches!(store.open(&"0".repeat(64)).await.unwrap_err(), BlobError::NotFound(_)));
        assert!(matches!(store.open("../../etc/passwd").await.unwrap_err(), BlobError::InvalidHash(_)));
    }

    #[tokio::test]
    async fn concurrent_writes_of_the_same_bytes_create_one_blob() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::new(dir.path());
        let bytes = vec![42u8; 300_000];
        let (a, b) = tokio::join!(store.put_bytes(&bytes), store.put_bytes(&bytes));
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a.sha256, b.sha256);
        assert_eq!(u8::from(a.created) + u8::from(b.created), 1, "exactly one writer creates it");
        let mut f = store.open(&a.sha256).await.unwrap();
        let mut back = Vec::new();
        tokio::io::AsyncReadExt::read_to_end(&mut f, &mut back).await.unwrap();
        assert_eq!(back, bytes);
    }
}