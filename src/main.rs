//! The `perezvon` binary: parses the command line and hands over to [`perezvon::cli`].

use clap::Parser;

fn main() -> std::process::ExitCode {
    perezvon::cli::main(perezvon::cli::Cli::parse())
}
