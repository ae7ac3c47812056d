//! The `shenzi` command line: subcommands and their dispatch.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

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
    /// Behave exactly like `patchelf` (0.19 grammar and output).
    #[command(disable_help_flag = true)]
    Patchelf {
        /// patchelf's options and files.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<OsString>,
    },
    /// Behave exactly like cctools' `install_name_tool`.
    #[command(name = "install-name-tool", disable_help_flag = true)]
    InstallNameTool {
        /// install_name_tool's options and the file.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<OsString>,
    },
    /// Verify or create ad-hoc code signatures of Mach-O files.
    Codesign(crate::codesign::Args),
    /// Run a Python application once and record what it loaded.
    Observe(crate::observe::Args),
    /// Turn a Python application into a relocatable folder that runs without Python installed.
    Bundle(Box<crate::bundle::Args>),
    /// Report the newest glibc (ELF) or macOS (Mach-O) version each binary needs.
    Floor(crate::floor::Args),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(crate::completions::CompletionsArgs),
    /// Print a manual page (roff), or write all of them into a directory.
    Man(crate::completions::ManArgs),
}

/// The command line as clap sees it, without the examples.
fn base() -> clap::Command {
    Cli::command()
}

/// The command line with the examples of `crate::examples` in every `--help`.
pub fn command() -> clap::Command {
    crate::examples::add(base())
}

pub fn main(args: Vec<OsString>) -> ExitCode {
    let matches = command().get_matches_from(args);
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let result = match cli.command {
        Command::Patch(a) => crate::patch::run(*a),
        Command::Patchelf { args } => return crate::patchelf::main(args),
        Command::InstallNameTool { args } => return crate::install_name_tool::main(args),
        Command::Codesign(a) => crate::codesign::run(a),
        Command::Observe(a) => crate::observe::run(a),
        Command::Bundle(a) => crate::bundle::run(*a),
        Command::Floor(a) => crate::floor::run(a),
        Command::Completions(a) => crate::completions::completions(a, command()),
        Command::Man(a) => crate::completions::man(a, base()),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("shenzi: {e:#}");
            ExitCode::FAILURE
        }
    }
}
