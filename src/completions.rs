//! `shenzi completions SHELL` and `shenzi man`: shell completion scripts and manual pages, both
//! generated from the clap definitions, so they cannot drift from the parser.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{anyhow, Context, Result};
use clap::Command;
use roff::{bold, roman, Roff};

use crate::examples;

#[derive(clap::Args, Debug)]
pub struct CompletionsArgs {
    /// The shell to write a completion script for.
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

#[derive(clap::Args, Debug)]
pub struct ManArgs {
    /// Print the page of this subcommand (e.g. `patch`) instead of shenzi's own.
    #[arg(value_name = "COMMAND", conflicts_with = "dir")]
    pub command: Option<String>,
    /// Write every page (shenzi.1, shenzi-patch.1, …) into this directory, creating it.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

pub fn completions(args: CompletionsArgs, mut cmd: Command) -> Result<ExitCode> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "shenzi", &mut script);
    std::io::stdout()
        .write_all(&script)
        .context("cannot write the completion script")?;
    Ok(ExitCode::SUCCESS)
}

pub fn man(args: ManArgs, cmd: Command) -> Result<ExitCode> {
    // `shenzi help` has no page of its own.
    let mut cmd = cmd.disable_help_subcommand(true);
    cmd.build();
    if let Some(dir) = &args.dir {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("{}: cannot create the directory", dir.display()))?;
        for (file, page) in pages(&cmd)? {
            let path = dir.join(&file);
            crate::fileio::write_new(&path, Some(0o644), &mut |f| Ok(f.write_all(&page)?))?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let page = match args.command.as_deref() {
        None => page(&cmd, None)?,
        Some(name) => {
            let sub = subcommand(&cmd, name).ok_or_else(|| {
                anyhow!(
                    "no command named {name:?}; commands: {}",
                    names(&cmd).join(", ")
                )
            })?;
            page(sub, Some(&cmd))?
        }
    };
    std::io::stdout()
        .write_all(&page)
        .context("cannot write the manual page")?;
    Ok(ExitCode::SUCCESS)
}

/// Every page as (file name, roff): shenzi.1, then one per subcommand.
pub fn pages(cmd: &Command) -> Result<Vec<(String, Vec<u8>)>> {
    let mut out = vec![("shenzi.1".to_string(), page(cmd, None)?)];
    for sub in documented(cmd) {
        out.push((
            format!("shenzi-{}.1", sub.get_name()),
            page(sub, Some(cmd))?,
        ));
    }
    Ok(out)
}

fn documented(cmd: &Command) -> impl Iterator<Item = &Command> {
    cmd.get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
}

fn names(cmd: &Command) -> Vec<&str> {
    documented(cmd).map(|s| s.get_name()).collect()
}

fn subcommand<'a>(cmd: &'a Command, name: &str) -> Option<&'a Command> {
    documented(cmd).find(|s| s.get_name() == name)
}

/// The page of `cmd`, a subcommand of `parent` (or shenzi itself when `parent` is `None`).
fn page(cmd: &Command, parent: Option<&Command>) -> Result<Vec<u8>> {
    let name = match parent {
        Some(_) => format!("shenzi-{}", cmd.get_name()),
        None => "shenzi".to_string(),
    };
    // The after-help text goes into NOTES and the version into the page footer, not into
    // clap_mangen's EXTRA and VERSION sections.
    let notes = cmd.get_after_help().map(|s| s.to_string());
    let bare = cmd
        .clone()
        .display_name(name.clone())
        .after_help(None::<&str>)
        .version(None::<&str>);
    let man = clap_mangen::Man::new(bare)
        .title(name.to_uppercase())
        // An empty date must still be an argument of .TH, or source and manual move left.
        .date("\"\"")
        .source(format!("shenzi {}", env!("CARGO_PKG_VERSION")))
        .manual("shenzi manual");
    let mut out = Vec::new();
    man.render(&mut out)
        .context("cannot render the manual page")?;

    let mut roff = Roff::new();
    if parent.is_none() {
        roff.control("SH", ["DROP-IN MODES"]);
        roff.text([
            roman("Called through a symlink or copy named "),
            bold("patchelf"),
            roman(" or "),
            bold("install_name_tool"),
            roman(", shenzi speaks that tool's grammar, output and error texts; "),
            bold("shenzi patchelf"),
            roman(" and "),
            bold("shenzi install-name-tool"),
            roman(" do the same."),
        ]);
    }
    let key = if parent.is_some() { cmd.get_name() } else { "" };
    let list = examples::of(key);
    if !list.is_empty() {
        roff.control("SH", ["EXAMPLES"]);
        for e in list {
            roff.control("PP", []);
            roff.text([roman(e.what)]);
            roff.control("RS", ["4"]);
            roff.control("nf", []);
            roff.text([bold(e.line)]);
            roff.control("fi", []);
            roff.control("RE", []);
        }
    }
    if let Some(notes) = notes.filter(|n| !n.trim().is_empty()) {
        roff.control("SH", ["NOTES"]);
        roff.text([roman(notes.trim())]);
    }
    roff.control("SH", ["SEE ALSO"]);
    let mut refs: Vec<String> = match parent {
        Some(_) => vec!["shenzi(1)".into()],
        None => names(cmd)
            .iter()
            .map(|n| format!("shenzi-{n}(1)"))
            .collect(),
    };
    if parent.is_none() || key == "patchelf" {
        refs.push("patchelf(1)".into());
    }
    roff.text([roman(refs.join(", "))]);
    roff.to_writer(&mut out)
        .context("cannot render the manual page")?;
    Ok(out)
}
