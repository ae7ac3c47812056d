//! The launcher `run.sh` and console scripts `bin/NAME`.
//!
//! Both are POSIX sh that find their real location through any chain of symlinks, drop the
//! caller's PYTHONHOME / PYTHONPATH / user site, and exec the bundled interpreter by absolute
//! path, so `sys.executable` is the bundled one (multiprocessing and `subprocess` with
//! `sys.executable` stay inside the bundle). Console scripts are sh/Python polyglots: sh reads
//! the lines up to `exec`, Python sees them as a string literal.

use super::plan::relative;

/// Shell lines that set `here` to the real directory of the running script (`$0`).
const FIND_SELF: &str = r#"self=$0
while [ -L "$self" ]; do
    link=$(readlink "$self")
    case $link in
        /*) self=$link ;;
        *) self=$(dirname "$self")/$link ;;
    esac
done
here=$(cd "$(dirname "$self")" && pwd -P)
unset PYTHONHOME PYTHONPATH PYTHONSTARTUP PYTHONUSERBASE PYTHONEXECUTABLE
PYTHONNOUSERSITE=1
export PYTHONNOUSERSITE
"#;

fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// `run.sh` for a script (`app/…`) or module entry point.
pub fn run_sh(python: &str, script: Option<&str>, module: Option<&str>) -> String {
    let target = match (script, module) {
        (Some(s), _) => format!("\"$here\"/{}", sh_quote(s)),
        (None, Some(m)) => format!("-m {}", sh_quote(m)),
        (None, None) => String::new(),
    };
    format!(
        "#!/bin/sh\n# Runs the bundled application with the bundled Python (written by shenzi).\n\
         {FIND_SELF}exec \"$here\"/{} -s {target} \"$@\"\n",
        sh_quote(python)
    )
}

/// `bin/NAME` calling `module:attr` with the interpreter at bundle path `python`.
pub fn console_script(python: &str, module: &str, attr: &str) -> String {
    let py = relative("bin", python);
    let (obj, call) = match attr.split_once('.') {
        Some((head, rest)) => (head.to_string(), format!("{head}.{rest}")),
        None => (attr.to_string(), attr.to_string()),
    };
    format!(
        "#!/bin/sh\n''':'\n{FIND_SELF}exec \"$here\"/{} -s \"$self\" \"$@\"\n'''\n\
         # Console script of a bundled distribution (written by shenzi).\n\
         import sys\nfrom {module} import {obj}\n\n\
         if __name__ == \"__main__\":\n    sys.argv[0] = sys.argv[0].rsplit(\"/\", 1)[-1]\n    sys.exit({call}())\n",
        sh_quote(&py)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_parts_have_no_triple_quotes() {
        // The polyglot breaks if the sh part closes Python's string early.
        assert!(!FIND_SELF.contains("'''"));
        let s = console_script("python/bin/python3.11", "pkg.cli", "main");
        assert!(s.contains("exec \"$here\"/'../python/bin/python3.11' -s \"$self\""));
        assert!(s.contains("from pkg.cli import main"));
    }

    #[test]
    fn run_sh_quotes() {
        let s = run_sh("python/bin/python3.11", Some("app/it's.py"), None);
        assert!(s.contains(r#""$here"/'app/it'\''s.py' "$@""#));
    }
}
