//! Worked examples for `--help` and the manual pages: two or more per command, each a comment
//! and a command line that runs as written (tests/cli_docs.rs runs every one against test
//! files named like the ones here).

use clap::builder::StyledStr;
use clap::Command;

/// One example: what it does, and the shell command line.
pub struct Example {
    pub what: &'static str,
    pub line: &'static str,
}

const fn ex(what: &'static str, line: &'static str) -> Example {
    Example { what, line }
}

/// Examples by command: `""` is `shenzi` itself.
const EXAMPLES: &[(&str, &[Example])] = &[
    ("", &[
        ex(
            "Make a program find its libraries in ../lib, relative to itself",
            "shenzi patch --rpath '$ORIGIN/../lib' bin/app",
        ),
        ex(
            "Bundle a Python script into dist/ and run the bundle",
            "shenzi bundle app.py -o dist && dist/run.sh",
        ),
    ]),
    ("patch", &[
        ex(
            "Make a program find its libraries in ../lib, relative to itself",
            "shenzi patch --rpath '$ORIGIN/../lib' bin/app",
        ),
        ex(
            "Rename a needed library and print the result",
            "shenzi patch --replace-needed libfoo.so.1 libfoo.so.2 --print bin/app",
        ),
        ex(
            "Show how a Mach-O edit would be laid out, changing nothing",
            "shenzi patch --add-rpath @loader_path/../Frameworks --dry-run libfoo.dylib",
        ),
    ]),
    ("patchelf", &[
        ex(
            "List the libraries a program needs",
            "shenzi patchelf --print-needed bin/app",
        ),
        ex(
            "Write a copy whose run path is ../lib, relative to itself",
            "shenzi patchelf --set-rpath '$ORIGIN/../lib' --output bin/app.patched bin/app",
        ),
    ]),
    ("install-name-tool", &[
        ex(
            "Give a dylib an @rpath install name and a run path beside it",
            "shenzi install-name-tool -id @rpath/libbar.dylib -add_rpath @loader_path libbar.dylib",
        ),
        ex(
            "Load a dependency from the program's own directory",
            "shenzi install-name-tool -change @rpath/libfoo.dylib @loader_path/libfoo.dylib main",
        ),
    ]),
    ("codesign", &[
        ex(
            "Check the signatures of every slice",
            "shenzi codesign --verify libfoo.dylib main",
        ),
        ex(
            "Sign ad hoc, then print the verification as JSON",
            "shenzi codesign --sign main && shenzi codesign --verify --json main",
        ),
    ]),
    ("observe", &[
        ex(
            "Record what app.py loads when run with the argument 'world'",
            "shenzi observe app.py --out manifest.json -- world",
        ),
        ex(
            "Record a module run by a venv's interpreter",
            "shenzi observe --python .venv/bin/python -m json.tool --out manifest.json -- data.json",
        ),
    ]),
    ("bundle", &[
        ex(
            "Bundle app.py (running it once with 'world'), then run the bundle",
            "shenzi bundle app.py -o dist -- world && dist/run.sh world",
        ),
        ex(
            "Bundle a recorded run again, replacing dist/ and writing an archive too",
            "shenzi bundle --manifest manifest.json -o dist --force --archive dist.tar.zst",
        ),
    ]),
    ("floor", &[
        ex(
            "Report the glibc and macOS versions files need",
            "shenzi floor bin/app libfoo.dylib",
        ),
        ex(
            "Fail unless every slice runs on macOS 11, with JSON output",
            "shenzi floor --min-macos 11.0 --json main",
        ),
    ]),
    ("completions", &[
        ex(
            "bash: install for your user (bash-completion 2)",
            "shenzi completions bash > ~/.local/share/bash-completion/completions/shenzi",
        ),
        ex(
            "zsh: write into a directory on $fpath",
            "shenzi completions zsh > ~/.zfunc/_shenzi",
        ),
        ex(
            "fish: install for your user",
            "shenzi completions fish > ~/.config/fish/completions/shenzi.fish",
        ),
    ]),
    ("man", &[
        ex("Read the page of `shenzi patch`", "shenzi man patch | man -l -"),
        ex(
            "Install every page for your user",
            "shenzi man --dir ~/.local/share/man/man1",
        ),
    ]),
];

/// The examples of `shenzi` itself (`""`) or of one subcommand.
pub fn of(command: &str) -> &'static [Example] {
    EXAMPLES
        .iter()
        .find(|(name, _)| *name == command)
        .map_or(&[], |(_, list)| list)
}

/// The examples as plain text: `# what` and the command line, indented, a blank line between.
pub fn text(command: &str) -> String {
    of(command)
        .iter()
        .map(|e| format!("  # {}\n  {}\n", e.what, e.line))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `cmd` with an "Examples:" section appended to the after-help of itself and of every
/// subcommand that has examples.
pub fn add(cmd: Command) -> Command {
    let mut cmd = with_examples(cmd, "");
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    for name in names {
        cmd = cmd.mut_subcommand(&name, |sub| with_examples(sub, &name));
    }
    cmd
}

fn with_examples(cmd: Command, name: &str) -> Command {
    if of(name).is_empty() {
        return cmd;
    }
    let header = *cmd.get_styles().get_header();
    let mut help = String::new();
    if let Some(before) = cmd.get_after_help() {
        help.push_str(&before.ansi().to_string());
        help.push_str("\n\n");
    }
    help.push_str(&format!("{header}Examples:{header:#}\n"));
    help.push_str(text(name).trim_end());
    cmd.after_help(StyledStr::from(help))
}
