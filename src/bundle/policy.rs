//! Which libraries stay on the host. The manylinux policy (PEP 599 / auditwheel's list, plus the
//! later additions libz, libexpat, libanl) names libraries every glibc system provides, and GPU
//! driver libraries must match the host's kernel driver: those are not bundled. Everything else
//! is. `--include` and `--exclude` globs override, matched against the library's file name.

/// File names of the manylinux system libraries.
const SYSTEM: &[&str] = &[
    "libc.so.6",
    "libm.so.6",
    "libdl.so.2",
    "librt.so.1",
    "libpthread.so.0",
    "libutil.so.1",
    "libresolv.so.2",
    "libnsl.so.1",
    "libanl.so.1",
    "libgcc_s.so.1",
    "libstdc++.so.6",
    "libz.so.1",
    "libexpat.so.1",
    "libX11.so.6",
    "libXext.so.6",
    "libXrender.so.1",
    "libICE.so.6",
    "libSM.so.6",
    "libGL.so.1",
    "libgobject-2.0.so.0",
    "libgthread-2.0.so.0",
    "libglib-2.0.so.0",
];

/// Prefixes of GPU driver libraries (vendor GL/EGL/Vulkan dispatch included).
const GPU: &[&str] = &[
    "libcuda.so",
    "libnvidia-",
    "libnvcuvid.so",
    "libGLX.so",
    "libGLX_",
    "libEGL.so",
    "libEGL_",
    "libGLESv1_CM.so",
    "libGLESv2.so",
    "libOpenGL.so",
    "libGLdispatch.so",
    "libvulkan.so",
    "libdrm.so",
    "libamdhip64.so",
];

pub struct Policy {
    pub include: Vec<String>,
    pub exclude: Vec<String>,
}

/// Why a library is left to the host, if it is.
pub fn host_reason(name: &str) -> Option<&'static str> {
    let base = name.rsplit('/').next().unwrap_or(name);
    if base.starts_with("ld-linux") || base.starts_with("ld64.so") || base == "ld.so.1" {
        return Some("dynamic loader");
    }
    if SYSTEM.contains(&base) {
        return Some("manylinux system library");
    }
    if GPU.iter().any(|p| base.starts_with(p)) {
        return Some("GPU driver library");
    }
    None
}

impl Policy {
    /// Whether a library with this needed name / file name stays on the host.
    pub fn is_host(&self, name: &str) -> bool {
        let base = name.rsplit('/').next().unwrap_or(name);
        if self.include.iter().any(|g| glob_match(g, base)) {
            return false;
        }
        host_reason(base).is_some() || self.excluded(base)
    }

    /// Whether a file (by file name or bundle-relative path) is excluded by `--exclude`.
    pub fn excluded(&self, name_or_path: &str) -> bool {
        let base = name_or_path.rsplit('/').next().unwrap_or(name_or_path);
        self.exclude
            .iter()
            .any(|g| glob_match(g, base) || glob_match(g, name_or_path))
    }
}

/// Shell-style glob: `*` (any run, also across `/`), `?` (one character), `[abc]` classes.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    fn go(p: &[char], t: &[char]) -> bool {
        match p.first() {
            None => t.is_empty(),
            Some('*') => (0..=t.len()).any(|i| go(&p[1..], &t[i..])),
            Some('?') => !t.is_empty() && go(&p[1..], &t[1..]),
            Some('[') => {
                let Some(end) = p.iter().position(|&c| c == ']') else {
                    return t.first() == Some(&'[') && go(&p[1..], &t[1..]);
                };
                let set = &p[1..end];
                !t.is_empty() && set.contains(&t[0]) && go(&p[end + 1..], &t[1..])
            }
            Some(c) => t.first() == Some(c) && go(&p[1..], &t[1..]),
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    go(&p, &t)
}

/// Parses `2.28` into (2, 28).
pub fn parse_glibc(s: &str) -> Option<(u32, u32)> {
    let (a, b) = s.trim().split_once('.')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_and_gpu_libraries_stay_on_the_host() {
        let p = Policy {
            include: vec![],
            exclude: vec![],
        };
        for n in [
            "libc.so.6",
            "libstdc++.so.6",
            "ld-linux-x86-64.so.2",
            "libcuda.so.1",
            "libnvidia-ml.so.1",
            "libz.so.1",
        ] {
            assert!(p.is_host(n), "{n}");
        }
        for n in [
            "libssl.so.3",
            "libffi.so.8",
            "libpython3.11.so.1.0",
            "libopenblas.so.0",
        ] {
            assert!(!p.is_host(n), "{n}");
        }
    }

    #[test]
    fn include_and_exclude_override() {
        let p = Policy {
            include: vec!["libz.so*".into()],
            exclude: vec!["libssl*".into()],
        };
        assert!(!p.is_host("libz.so.1"));
        assert!(p.is_host("libssl.so.3"));
    }

    #[test]
    fn globs() {
        assert!(glob_match("*.so.?", "libx.so.1"));
        assert!(glob_match("lib[xy].so", "liby.so"));
        assert!(!glob_match("lib[xy].so", "libz.so"));
        assert!(glob_match("python/*/test/*", "python/lib/test/a.py"));
        assert_eq!(parse_glibc("2.28"), Some((2, 28)));
    }
}
