//! `jobs::give_back_free_memory` measured on the resident set: in a test binary of its own, so that
//! no other test allocates, frees or trims while it measures.
#![cfg(all(feature = "backend", target_os = "linux", target_env = "gnu"))]

fn resident_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: f64 = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap().split_whitespace().nth(1).unwrap().parse().unwrap();
    kb / 1024.0
}

#[tokio::test]
async fn freed_memory_goes_back_to_the_system() {
    // 100 MB in small blocks on a thread of its own (its own arena), all freed but the last: glibc
    // keeps the pages below a live block, as it does after a job.
    let last = std::thread::spawn(|| {
        let mut blocks: Vec<Box<[u8]>> = (0..200_000).map(|i| vec![i as u8; 512].into_boxed_slice()).collect();
        let last = blocks.pop();
        drop(blocks);
        last
    })
    .join()
    .unwrap();
    let before = resident_mb();
    lifeboat_domain::jobs::give_back_free_memory().await;
    let after = resident_mb();
    assert!(after < before - 50.0, "resident {before:.0} MB before, {after:.0} MB after");
    drop(last);
}
