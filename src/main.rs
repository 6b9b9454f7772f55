//! The `cvxnn` binary: parse, run, map errors to exit codes (0 ok, 1 solver failure, 2 bad input).

use clap::Parser;

fn main() {
    let cli = cvxnn::cli::Cli::parse();
    let code = match cvxnn::cli::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    };
    std::process::exit(code);
}
