use std::process::ExitCode;

use clap::Parser;

/// mimalloc instead of glibc's allocator: a sixth of the SQLite applier's samples were in
/// glibc's `malloc` and `free` (payloads parsed, rows built and dropped at every order). With it
/// the applier spent ~9 % less CPU on a 20,000-order burst and ~14 % less on PostgreSQL (applied
/// ×1.06 and ×1.045, docs/PERFORMANCE.md, twentieth session). Without transparent huge pages:
/// with them the peak resident memory of that burst and 20,000 widget reads was 327 MB against
/// glibc's 205 MB, without them 237 MB. Only the app's own allocations: the bundled SQLite keeps
/// the C allocator (overriding it measured the same).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = boomerang::cli::Cli::parse();
    // A missing .env is normal; a malformed one is worth saying.
    if let Err(e) = dotenvy::dotenv() {
        if !e.not_found() {
            eprintln!("error: cannot read .env: {e}");
            return ExitCode::FAILURE;
        }
    }
    boomerang::telemetry::init();
    let config = match boomerang::config::Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(boomerang::cli::run(cli, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
