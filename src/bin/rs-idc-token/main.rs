//! `rs-idc-token`: gets an Amazon Redshift IAM Identity Center auth token
//! from the command line, or checks a setup and says what to fix.
//!
//! Exit status: 0 on success, the absolute value of the `RS_IDC_*` status
//! on failure (1 for `RS_IDC_EINVAL`, 2 for `RS_IDC_ENOCREDS`, ...), and
//! 64 for a bad command line.
//!
//! Modules: `args` reads the command line, `fetch` gets the token,
//! `output` prints it, `check`, `setup` and `web_token` make the `--check`
//! report, and `sign_in` runs the sign-in for people and reports on it.

mod args;
mod call;
mod check;
mod claims;
mod output;
mod setup;
mod sign_in;

use args::{Args, Command, Mode, USAGE};
use rs_idc::Status;

/// The exit status for a bad command line (`EX_USAGE` of `sysexits.h`).
const EXIT_USAGE: i32 = 64;

/// Reads the command line, runs what it asks for, and exits with its status.
fn main() {
    let args = match args::parse_args(std::env::args_os().skip(1)) {
        Ok(Command::Run(args)) => args,
        Ok(Command::Help) => {
            print!("{USAGE}");
            return;
        }
        Ok(Command::Version) => {
            println!("rs-idc-token {}", env!("CARGO_PKG_VERSION"));
            return;
        }
        Err(err) => {
            eprintln!("rs-idc-token: {err}\n\n{USAGE}");
            std::process::exit(EXIT_USAGE);
        }
    };
    let code = match args.mode {
        Mode::Check => check::check(&args),
        Mode::PrintToken | Mode::PrintJson => print_token(&args),
    };
    std::process::exit(code);
}

/// Gets the token and prints it, as text or JSON; returns the exit status.
fn print_token(args: &Args) -> i32 {
    let Some(target) = &args.target else {
        // The parser gives a target to every mode but the check.
        eprintln!("rs-idc-token: give --cluster-id, --workgroup, --host, --browser or --device-code\n\n{USAGE}");
        return EXIT_USAGE;
    };
    let token = match call::client(args).and_then(|client| call::get_token(&client, target)) {
        Ok(token) => token,
        Err(err) => {
            output::print_error(&err);
            return output::exit_status(err.status());
        }
    };
    let json = args.mode == Mode::PrintJson;
    match output::write_token(&mut std::io::stdout().lock(), &token, json) {
        Ok(()) => 0,
        Err(err) => {
            eprintln!("rs-idc-token: cannot write the token: {err}");
            output::exit_status(Status::Internal)
        }
    }
}
