//! Large attachments stream through the server: memory must not grow with the size of a file.
//! Its own test binary, so no other test's allocations blur the measurement.

#[path = "http/helpers.rs"]
#[allow(dead_code)]
mod helpers;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use futures_util::StreamExt;
use serde_json::json;
use sha2::{Digest, Sha256};

/// Resident memory of this process (the test and the server in it), in bytes.
fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<u64>().ok())
        .map(|kb| kb * 1024)
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_256_mib_upload_and_download_keep_memory_bounded() {
    const SIZE: u64 = 256 * 1024 * 1024;
    const CHUNK: usize = 256 * 1024;
    let app = helpers::spawn_app_with(|c| c.attachment_max_size = SIZE).await;
    let cloud = app.create_site("Big files").await;
    let site = app.site_path(&cloud);
    app.post_json(&format!("{site}/jira/projects"), json!({"key": "BIG", "name": "Big"})).await;
    app.post_json(&format!("{site}/jira/projects/BIG/issues"), json!({"summary": "big"})).await;

    // Sample RSS while the transfer runs.
    let peak = Arc::new(AtomicU64::new(0));
    let baseline = rss_bytes();
    let sampler = {
        let peak = peak.clone();
        tokio::spawn(async move {
            loop {
                peak.fetch_max(rss_bytes(), Ordering::Relaxed);
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        })
    };

    let chunks = (SIZE as usize) / CHUNK;
    let body = futures_util::stream::iter(0..chunks).map(|i| Ok::<_, std::io::Error>(vec![(i % 251) as u8; CHUNK]));
    let mut expected = Sha256::new();
    for i in 0..chunks {
        expected.update(vec![(i % 251) as u8; CHUNK]);
    }
    let res = app
        .api(reqwest::Method::POST, &format!("{site}/jira/issues/BIG-1/attachments?filename=big.bin"))
        .header("content-type", "application/octet-stream")
        .body(reqwest::Body::wrap_stream(body))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let att: serde_json::Value = res.json().await.unwrap();
    assert_eq!(att["size"], SIZE);
    assert_eq!(att["sha256"], hex::encode(expected.finalize()));

    let res = app.api(reqwest::Method::GET, &format!("{site}/attachments/{}", att["attachmentId"].as_str().unwrap())).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let mut stream = res.bytes_stream();
    let mut got = 0u64;
    let mut hasher = Sha256::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap();
        got += chunk.len() as u64;
        hasher.update(&chunk);
    }
    sampler.abort();
    assert_eq!(got, SIZE);
    assert_eq!(hex::encode(hasher.finalize()), att["sha256"].as_str().unwrap());

    let growth = peak.load(Ordering::Relaxed).saturating_sub(baseline);
    assert!(growth < 64 * 1024 * 1024, "memory grew by {} MiB for a 256 MiB transfer", growth / (1024 * 1024));
}
