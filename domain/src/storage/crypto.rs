//! The server key: seals external storages' credentials at rest (ChaCha20-Poly1305). The key lives
//! in a file readable by the server's user only, created at first start; losing it means re-entering
//! the storages' credentials, never exposing them.

use std::io::Write;
use std::path::Path;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::RngCore;

const NONCE_LEN: usize = 12;

#[derive(Clone)]
pub struct ServerKey(Key);

impl std::fmt::Debug for ServerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerKey(…)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("server key file {0}: {1}")]
    Io(String, std::io::Error),
    #[error("server key file {0} does not hold a 32-byte key in hex")]
    Malformed(String),
    #[error("sealed data cannot be opened with this server key")]
    Open,
}

impl ServerKey {
    /// Reads the key from `path` (64 hex digits), creating it (mode 0600) when missing.
    pub fn load_or_create(path: &Path) -> Result<ServerKey, KeyError> {
        let name = path.display().to_string();
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let bytes = hex::decode(text.trim()).map_err(|_| KeyError::Malformed(name.clone()))?;
                let key: [u8; 32] = bytes.try_into().map_err(|_| KeyError::Malformed(name))?;
                Ok(ServerKey(Key::from(key)))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut key = [0u8; 32];
                rand::rngs::OsRng.fill_bytes(&mut key);
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).map_err(|e| KeyError::Io(name.clone(), e))?;
                }
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                let mut file = options.open(path).map_err(|e| KeyError::Io(name.clone(), e))?;
                file.write_all(hex::encode(key).as_bytes()).map_err(|e| KeyError::Io(name.clone(), e))?;
                file.sync_all().map_err(|e| KeyError::Io(name, e))?;
                Ok(ServerKey(Key::from(key)))
            }
            Err(e) => Err(KeyError::Io(name, e)),
        }
    }

    /// `nonce || ciphertext`; `context` (e.g. the storage id) binds the sealed bytes to their owner.
    pub fn seal(&self, plaintext: &[u8], context: &str) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let cipher = ChaCha20Poly1305::new(&self.0);
        let ct = cipher
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: plaintext, aad: context.as_bytes() })
            .expect("ChaCha20-Poly1305 encryption does not fail for in-memory buffers");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        out
    }

    pub fn open(&self, sealed: &[u8], context: &str) -> Result<Vec<u8>, KeyError> {
        if sealed.len() < NONCE_LEN {
            return Err(KeyError::Open);
        }
        let (nonce, ct) = sealed.split_at(NONCE_LEN);
        ChaCha20Poly1305::new(&self.0)
            .decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad: context.as_bytes() })
            .map_err(|_| KeyError::Open)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_credentials_open_only_with_the_same_key_and_context() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.key");
        let key = ServerKey::load_or_create(&path).unwrap();
        let again = ServerKey::load_or_create(&path).unwrap();
        let sealed = key.seal(b"secret", "storage-1");
        assert!(!sealed.windows(6).any(|w| w == b"secret"));
        assert_eq!(again.open(&sealed, "storage-1").unwrap(), b"secret");
        assert!(key.open(&sealed, "storage-2").is_err(), "bound to its storage");
        let other = ServerKey::load_or_create(&dir.path().join("other.key")).unwrap();
        assert!(other.open(&sealed, "storage-1").is_err());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }
}
