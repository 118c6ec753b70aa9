//! The README's code tour and each crate's `# Layout` doc say where things
//! are; these checks keep them true as the tree moves: every path the tour
//! names exists, every module a crate declares is named in its Layout, and
//! dependencies between a crate's modules point one way.

use std::path::Path;

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The backticked words of `text` that name places in the repository:
/// relative paths such as `domain/src/tasks/` or `scripts/fuzz-api`.
fn paths_in(text: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .filter(|word| {
            word.contains('/')
                && !word.contains(' ')
                && word.starts_with(|c: char| c.is_ascii_lowercase())
        })
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_path_the_code_tour_names_exists() {
    let readme = read("README.md");
    let start = readme
        .find("## Code tour")
        .expect("the README has a code tour");
    let tour = &readme[start..];
    let tour = &tour[..tour[3..].find("\n## ").map_or(tour.len(), |end| end + 3)];
    let paths = paths_in(tour);
    assert!(paths.len() > 20, "the tour names its paths in backticks");
    let missing: Vec<&String> = paths.iter().filter(|p| !root().join(p).exists()).collect();
    assert!(
        missing.is_empty(),
        "the code tour names paths that do not exist: {missing:?}"
    );
}

#[test]
fn each_crates_layout_doc_names_its_modules() {
    for crate_dir in CRATES {
        let lib = read(&format!("{crate_dir}/src/lib.rs"));
        let layout_start = lib
            .find("//! # Layout")
            .unwrap_or_else(|| panic!("{crate_dir}/src/lib.rs has no # Layout section"));
        let layout: String = lib[layout_start..]
            .lines()
            .take_while(|l| l.starts_with("//!"))
            .collect::<Vec<_>>()
            .join("\n");
        let modules: Vec<&str> = lib
            .lines()
            .filter_map(|l| {
                let l = l.trim();
                l.strip_prefix("pub mod ")
                    .or_else(|| l.strip_prefix("pub(crate) mod "))
                    .or_else(|| l.strip_prefix("mod "))
                    .and_then(|rest| rest.strip_suffix(';'))
            })
            .collect();
        assert!(!modules.is_empty(), "{crate_dir} declares modules");
        let unnamed: Vec<&&str> = modules
            .iter()
            .filter(|m| !layout.contains(&format!("`{m}`")) && !layout.contains(&format!("`{m}/`")))
            .collect();
        assert!(
            unnamed.is_empty(),
            "{crate_dir}/src/lib.rs declares modules its Layout does not name: {unnamed:?}"
        );
    }
}

const CRATES: [&str; 6] = ["app", "domain", "engine", "flow", "model", "server"];

/// Every `.rs` file under `dir`, as (the crate's top-level module it
/// belongs to, its text).
fn sources(dir: &Path, top: Option<&str>, out: &mut Vec<(String, String)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path
            .file_stem()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        let module = top.map_or(name.clone(), str::to_owned);
        if path.is_dir() {
            sources(&path, Some(&module), out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            out.push((module, text));
        }
    }
}

/// The top-level modules `text` names as `crate::NAME`, outside comments
/// and test modules.
fn uses_of(text: &str) -> Vec<String> {
    let code = text.split("#[cfg(test)]").next().unwrap_or_default();
    let mut found = Vec::new();
    for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
        for (i, _) in line.match_indices("crate::") {
            let name: String = line[i + "crate::".len()..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_' || c.is_ascii_digit())
                .collect();
            if !name.is_empty() {
                found.push(name);
            }
        }
    }
    found
}

#[test]
fn no_two_modules_of_a_crate_import_each_other() {
    let mut seen = 0;
    for crate_dir in CRATES {
        let mut files = Vec::new();
        sources(&root().join(crate_dir).join("src"), None, &mut files);
        let mut edges = std::collections::BTreeSet::new();
        for (module, text) in &files {
            if module == "lib" || module == "main" {
                continue;
            }
            for used in uses_of(text) {
                if &used != module {
                    edges.insert((module.clone(), used));
                }
            }
        }
        let both_ways: Vec<_> = edges
            .iter()
            .filter(|(a, b)| a < b && edges.contains(&(b.clone(), a.clone())))
            .collect();
        assert!(
            both_ways.is_empty(),
            "{crate_dir}: these modules import each other: {both_ways:?}"
        );
        seen += edges.len();
    }
    assert!(seen > 50, "the check sees the crates' imports ({seen})");
}
