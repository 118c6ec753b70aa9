//! `countersign bench dashboard` runs end to end and prints every figure it
//! promises. Small numbers, and nothing asserted about their size: speed
//! belongs to the benchmark's output, not to a test.

use std::process::Command;

#[test]
fn the_dashboard_benchmark_prints_every_figure() {
    let site = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/site");
    assert!(
        std::path::Path::new(site).join("pkg").is_dir(),
        "no built client at {site}: run scripts/build first"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_countersign"))
        .args(["bench", "dashboard", "--orders", "6", "--moto-orders", "0"])
        .args([
            "--inbox-tasks",
            "60",
            "--export-decisions",
            "300",
            "--concurrency",
            "2",
            "--site-dir",
            site,
        ])
        .output()
        .expect("bench runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "bench failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for figure in [
        "ready   fresh data dir",
        "decide  embedded, REST over HTTP   decisions=6 ",
        "weight  interactive inbox",
        "inbox   60 pending tasks",
        "inbox   full Scan of the table",
        "memory  RSS idle",
        "export  loaded 300 decisions",
        "export  JSON Lines      30 decisions",
        "export  JSON Lines     300 decisions",
        "export  CSV            300 decisions",
    ] {
        assert!(
            stdout.contains(figure),
            "{figure:?} missing from:\n{stdout}"
        );
    }
    // Every decision went through; none failed.
    assert!(stdout.contains("failed=0"), "{stdout}");
}
