//! The engine as the `volume` crate's own tests start it: the same entry
//! point as `cryptainer volume-engine` ([`volume::engine::main`]), without a
//! log (this crate has no log subscriber; the engine's report line still
//! carries any error to the control process). Not installed anywhere: nodes
//! run `cryptainer volume-engine`.

fn main() -> std::process::ExitCode {
    // The control API starts every engine as `PROGRAM volume-engine ARGS`.
    let mut arguments = std::env::args_os().skip(1).peekable();
    if arguments
        .next_if(|first| first == volume::engine::SUBCOMMAND)
        .is_none()
    {
        eprintln!(
            "error: run as `{} {} ARGS`, as the volume control API does",
            volume::volume::ENGINE_PROGRAM,
            volume::engine::SUBCOMMAND
        );
        return std::process::ExitCode::FAILURE;
    }
    volume::engine::main(arguments, || {})
}
