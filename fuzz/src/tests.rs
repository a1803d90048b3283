//! Stable-toolchain run of every target over its seed corpus
//! (`seeds/NAME/`) and its saved crashes (`regressions/NAME/`): what CI runs
//! where no nightly toolchain is available, and a check that the seeds and
//! the targets still fit after the code changes.

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::sync::Once;

use crate::TARGETS;

thread_local! {
    /// Panics seen by the hook on this thread, including the ones the
    /// switch's per-call guard catches (they are findings too).
    static PANICS: Cell<usize> = const { Cell::new(0) };
}

fn count_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICS.with(|p| p.set(p.get() + 1));
            default(info);
        }));
    });
}

fn panics() -> usize {
    PANICS.with(Cell::get)
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file())
                .filter(|p| {
                    !p.file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Run `target` over every file of `dir`; returns (files run, failures).
fn run_dir(name: &str, target: crate::Target, dir: &Path) -> (usize, Vec<String>) {
    count_panics();
    let mut failures = Vec::new();
    let list = files(dir);
    for f in &list {
        let data = std::fs::read(f).expect("readable seed");
        let before = panics();
        let ok = std::panic::catch_unwind(|| target(&data)).is_ok();
        let caught = panics() - before;
        if !ok || caught > 0 {
            failures.push(format!("{name}: {} ({caught} panic(s))", f.display()));
        }
    }
    (list.len(), failures)
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn every_target_runs_its_seeds_without_a_panic() {
    let mut failures = Vec::new();
    for (name, target) in TARGETS {
        let (n, f) = run_dir(name, *target, &root().join("seeds").join(name));
        assert!(n > 0, "target {name} has no seed in seeds/{name}/");
        eprintln!("{name}: {n} seeds");
        failures.extend(f);
    }
    assert!(
        failures.is_empty(),
        "seeds that fail:\n{}",
        failures.join("\n")
    );
}

/// Saved crashes: each file under `regressions/NAME/` is an input that made
/// target NAME fail. They are reported, not asserted, until the code they
/// hit is fixed (the fix's author moves the assertion in by deleting
/// `KNOWN`'s entry); a regression file that passes is reported too.
#[test]
fn regressions_are_known() {
    let mut failing = Vec::new();
    for (name, target) in TARGETS {
        let (_, f) = run_dir(name, *target, &root().join("regressions").join(name));
        failing.extend(f);
    }
    for f in &failing {
        eprintln!("still failing: {f}");
    }
    let unknown: Vec<&String> = failing
        .iter()
        .filter(|f| !KNOWN.iter().any(|k| f.contains(k)))
        .collect();
    assert!(
        unknown.is_empty(),
        "regressions that fail and are not known: {unknown:?}"
    );
}

/// Regression files whose bug is reported and not fixed yet (none: the
/// jitter buffer overflow and the 400 built from malformed header lines
/// found by the first runs are fixed, and their inputs are checked above).
const KNOWN: &[&str] = &[];
