//! The README's code tour and each crate's `# Layout` doc say where things
//! are; these checks keep them true as the tree moves: every path the tour
//! names exists, and every module a crate declares is named in its Layout.

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
    for crate_dir in ["app", "domain", "engine", "model", "server"] {
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
