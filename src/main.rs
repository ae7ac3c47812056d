//! `shenzi`: a binary rewriter (ELF, Mach-O) and Python application bundler.
//!
//! One binary, several personalities chosen by the name it is called by (argv[0]): `patchelf`
//! and `install_name_tool` speak those tools' grammars; anything else is the `shenzi` CLI.

mod bundle;
mod cli;
mod codesign;
mod completions;
mod examples;
mod fileio;
mod floor;
mod install_name_tool;
mod mapped;
mod observe;
mod patch;
mod patchelf;
mod probe;

use std::ffi::OsString;
use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    // Like other command-line tools, end quietly when a reader closes the pipe (`| head`).
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    // Page hashing gives back the pages of mapped inputs it is done with.
    shenzi_macho::set_page_release(mapped::release);
    let args: Vec<OsString> = std::env::args_os().collect();
    let prog = args
        .first()
        .and_then(|a| Path::new(a).file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let rest = args.get(1..).unwrap_or(&[]).to_vec();
    match prog.as_str() {
        "patchelf" => patchelf::main(rest),
        "install_name_tool" => install_name_tool::main(rest),
        _ => cli::main(args),
    }
}
