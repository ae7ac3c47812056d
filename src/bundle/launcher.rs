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

/// `bin/NAME` running a distribution's plain Python script, kept unchanged at bundle path
/// `script` (its shebang is only a comment to Python; coding cookies and `__future__` imports
/// stay where they must be).
pub fn script_runner(python: &str, script: &str) -> String {
    format!(
        "#!/bin/sh\n# Runs a script of a bundled distribution with the bundled Python (written by shenzi).\n\
         {FIND_SELF}exec \"$here\"/{} -s \"$here\"/{} \"$@\"\n",
        sh_quote(&relative("bin", python)),
        sh_quote(&relative("bin", script))
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

    /// Runs the launchers with dash and busybox sh, with PATH holding only busybox's applets
    /// (no GNU tools, as on macOS's BSD userland), through a chain of relative and absolute
    /// symlinks in directories whose names need quoting.
    #[test]
    fn launchers_find_themselves_with_posix_shells() {
        let shells: Vec<Vec<String>> = [vec!["dash"], vec!["busybox", "sh"]]
            .into_iter()
            .filter(|s| which(s[0]).is_some())
            .map(|s| s.into_iter().map(String::from).collect())
            .collect();
        if shells.len() < 2 || which("busybox").is_none() {
            let required = std::env::var("SHENZI_REQUIRE_ORACLES").is_ok_and(|v| v == "1");
            assert!(!required, "dash and busybox are required");
            eprintln!("skipped: dash or busybox missing");
            return;
        }
        let tmp = std::env::temp_dir().join(format!("shenzi-launcher-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        let bundle = tmp.join("my app's bundle");
        let bin = tmp.join("bb");
        std::fs::create_dir_all(bundle.join("python/bin")).unwrap();
        std::fs::create_dir_all(bundle.join("bin")).unwrap();
        std::fs::create_dir_all(tmp.join("links dir/deeper")).unwrap();
        std::fs::create_dir_all(&bin).unwrap();
        let busybox = which("busybox").unwrap();
        for applet in ["readlink", "dirname", "cat", "echo"] {
            std::os::unix::fs::symlink(&busybox, bin.join(applet)).unwrap();
        }
        // A stand-in interpreter: prints where it was started from, its arguments and the
        // variables the launcher must clear.
        let fake = "#!/bin/sh\necho \"exe=$0\"\nfor a in \"$@\"; do echo \"arg=$a\"; done\n\
                    echo \"home=${PYTHONHOME-unset} nousersite=$PYTHONNOUSERSITE\"\n";
        write_exec(&bundle.join("python/bin/python3.11"), fake);
        write_exec(
            &bundle.join("run.sh"),
            &run_sh("python/bin/python3.11", Some("app/main.py"), None),
        );
        write_exec(
            &bundle.join("bin/tool"),
            &console_script("python/bin/python3.11", "pkg.cli", "main"),
        );
        let links = tmp.join("links dir");
        std::os::unix::fs::symlink("../my app's bundle/run.sh", links.join("run")).unwrap();
        std::os::unix::fs::symlink("../run", links.join("deeper/app")).unwrap();
        std::os::unix::fs::symlink(bundle.join("bin/tool"), links.join("deeper/tool")).unwrap();
        let real = std::fs::canonicalize(&bundle).unwrap();
        for shell in &shells {
            for (link, expect_args) in [
                (
                    "deeper/app",
                    vec![format!("{}/app/main.py", real.display())],
                ),
                ("deeper/tool", vec![format!("{}/bin/tool", real.display())]),
            ] {
                let out = std::process::Command::new(which(&shell[0]).unwrap())
                    .args(&shell[1..])
                    .arg(links.join(link))
                    .args(["one", "two words"])
                    .env_clear()
                    .env("PATH", &bin)
                    .env("PYTHONHOME", "/elsewhere")
                    .current_dir("/")
                    .output()
                    .unwrap();
                let text = String::from_utf8_lossy(&out.stdout);
                assert!(
                    out.status.success(),
                    "{shell:?} {link}: {text}{}",
                    String::from_utf8_lossy(&out.stderr)
                );
                let mut want = vec![
                    format!("exe={}/python/bin/python3.11", real.display()),
                    "arg=-s".to_string(),
                ];
                want.extend(expect_args.iter().map(|a| format!("arg={a}")));
                want.push("arg=one".into());
                want.push("arg=two words".into());
                want.push("home=unset nousersite=1".into());
                // The interpreter's path may hold `..`; it must lead to the bundled one.
                let got: Vec<String> = text
                    .lines()
                    .map(|l| match l.strip_prefix("exe=") {
                        Some(p) => format!("exe={}", std::fs::canonicalize(p).unwrap().display()),
                        None => l.to_string(),
                    })
                    .collect();
                assert_eq!(got, want, "{shell:?} {link}");
            }
        }
        let _ = std::fs::remove_dir_all(&tmp);
    }

    fn which(name: &str) -> Option<std::path::PathBuf> {
        std::env::var_os("PATH").and_then(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join(name))
                .find(|c| c.is_file())
        })
    }

    fn write_exec(path: &std::path::Path, text: &str) {
        use std::os::unix::fs::PermissionsExt;
        std::fs::write(path, text).unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}
