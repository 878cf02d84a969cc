//! Checks ARCHITECTURE.md's invariant that the `volume` library depends on
//! no command-line crate: whatever links it (the agent) gets no argument
//! parser, error-reporting or log-formatting crate through it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[test]
fn the_volume_library_depends_on_no_command_line_crate() {
    let output = std::process::Command::new(env!("CARGO"))
        .args([
            "tree", "--locked", "-p", "volume", "-e", "normal", "--prefix", "none",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run cargo tree");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let tree = String::from_utf8_lossy(&output.stdout);
    assert!(tree.contains("luks v"), "{tree}");
    for forbidden in ["clap ", "anyhow ", "tracing-subscriber "] {
        assert!(
            !tree.lines().any(|line| line.starts_with(forbidden)),
            "the volume library depends on {forbidden}:\n{tree}"
        );
    }
}
