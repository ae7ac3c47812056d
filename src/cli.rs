//! The `shenzi` command line: subcommands and their dispatch.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "shenzi",
    version,
    about = "Binary rewriter (ELF, Mach-O) and Python application bundler"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Edit rpaths, needed libraries, sonames/ids and interpreters of ELF and Mach-O files.
    Patch(Box<crate::patch::Args>),
    /// Behave exactly like `patchelf` (0.18 grammar and output).
    #[command(disable_help_flag = true)]
    Patchelf {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<OsString>,
    },
    /// Behave exactly like cctools' `install_name_tool`.
    #[command(name = "install-name-tool", disable_help_flag = true)]
    InstallNameTool {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<OsString>,
    },
    /// Verify or create ad-hoc code signatures of Mach-O files.
    Codesign(crate::codesign::Args),
    /// Run a Python application once and record what it loaded.
    Observe(crate::observe::Args),
    /// Turn a Python application into a relocatable folder that runs without Python installed.
    Bundle(Box<crate::bundle::Args>),
}

pub fn main(args: Vec<OsString>) -> ExitCode {
    let cli = Cli::parse_from(args);
    let result = match cli.command {
        Command::Patch(a) => crate::patch::run(*a),
        Command::Patchelf { args } => return crate::patchelf::main(args),
        Command::InstallNameTool { args } => return crate::install_name_tool::main(args),
        Command::Codesign(a) => crate::codesign::run(a),
        Command::Observe(a) => crate::observe::run(a),
        Command::Bundle(a) => crate::bundle::run(*a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("shenzi: {e:#}");
            ExitCode::FAILURE
        }
    }
}
