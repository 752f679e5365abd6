//! `lifeboat bench` runs end to end at the tiny size, twice (`--repeat 2`), and writes every figure
//! of its JSON contract as the median of the runs, and each run's figures (the numbers themselves are
//! not asserted: they are measurements, see docs/PERFORMANCE.md).

use std::process::Command;

#[test]
fn the_bench_runs_and_writes_every_figure() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("bench.json");
    let out = Command::new(env!("CARGO_BIN_EXE_lifeboat"))
        .args(["bench", "--size", "tiny", "--repeat", "2", "--work-dir"])
        .arg(dir.path().join("work"))
        .arg("--json")
        .arg(&json)
        .env("LIFEBOAT_DATA_DIR", dir.path().join("untouched"))
        .output()
        .expect("the lifeboat binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("backup (vs restic)") && stdout.contains("entities restored per second"), "{stdout}");
    assert!(!dir.path().join("untouched").exists(), "the configured data directory is not touched");
    assert!(stdout.contains("median of 2 runs") && stdout.contains("run 2: backup"), "{stdout}");
    assert!(!dir.path().join("work/run-1").exists(), "a run's data set is removed once its figures are taken");
    // A run directory it did not make is neither used nor removed.
    std::fs::create_dir_all(dir.path().join("work/run-1")).unwrap();
    std::fs::write(dir.path().join("work/run-1/mine.txt"), "keep").unwrap();
    let again = Command::new(env!("CARGO_BIN_EXE_lifeboat"))
        .args(["bench", "--size", "tiny", "--repeat", "2", "--work-dir"])
        .arg(dir.path().join("work"))
        .env("LIFEBOAT_DATA_DIR", dir.path().join("untouched"))
        .output()
        .expect("the lifeboat binary runs");
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("give an empty --work-dir"), "{}", String::from_utf8_lossy(&again.stderr));
    assert!(dir.path().join("work/run-1/mine.txt").exists(), "the bench removed a directory it did not make");

    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v["size"], "tiny");
    assert_eq!(v["repeat"], 2);
    // Each figure is the median of the runs' own: here, with two runs, their mean.
    let runs = v["each_run"].as_array().expect("each run's figures");
    assert_eq!(runs.len(), 2);
    for f in ["backup_s", "restore_s", "entities_per_s"] {
        let (a, b, m) = (runs[0]["lifeboat"][f].as_f64().unwrap(), runs[1]["lifeboat"][f].as_f64().unwrap(), v["lifeboat"][f].as_f64().unwrap());
        assert!((m - (a + b) / 2.0).abs() <= 1e-9 * m.abs().max(1.0), "{f}: median {m} of {a} and {b}");
    }
    assert_eq!(v["data"]["entities"], runs[0]["data"]["entities"], "counts stay integers");
    let positive = |path: &str| {
        let n = v.pointer(path).unwrap_or_else(|| panic!("{path} missing: {v}"));
        assert!(n.as_f64().is_some_and(|n| n > 0.0), "{path} = {n}");
    };
    for f in ["backup_mb_s", "second_backup_s", "changed_backup_s", "backup_s", "restore_mb_s", "restore_s", "entities_per_s", "peak_rss_mb"] {
        positive(&format!("/lifeboat/{f}"));
    }
    positive("/data/entities");
    positive("/ratios/second_vs_first_time");
    positive("/ratios/changed_vs_first_time");
    // The changed backup stores its new parts, never the attachments again.
    let (first, changed) = (v["lifeboat"]["stored_bytes"].as_u64().unwrap(), v["lifeboat"]["changed_stored_bytes"].as_u64().unwrap());
    assert!(changed > 0 && changed < first, "changed backup stored {changed} bytes, the first {first}");
    // The peers are Debian packages the test command installs; when one is absent its figures are
    // null and so are the ratios against it — never a made-up number.
    for (peer, fields, ratios) in [
        ("restic", &["backup_mb_s", "restore_mb_s"][..], &["backup_vs_restic", "restore_vs_restic"][..]),
        ("tar_zstd", &["backup_s"][..], &["backup_time_vs_tar_zstd"][..]),
    ] {
        assert!(v.get(peer).is_some(), "{peer} missing: {v}");
        if v[peer].is_null() {
            for r in ratios {
                assert!(v["ratios"][r].is_null(), "{r} without {peer}");
            }
        } else {
            for f in fields {
                positive(&format!("/{peer}/{f}"));
            }
            for r in ratios {
                positive(&format!("/ratios/{r}"));
            }
        }
    }
}
