//! Drop-in `install_name_tool` (not built yet).

use std::ffi::OsString;
use std::process::ExitCode;

pub fn main(_args: Vec<OsString>) -> ExitCode {
    eprintln!("install_name_tool: Mach-O support is not available in this build yet");
    ExitCode::FAILURE
}
