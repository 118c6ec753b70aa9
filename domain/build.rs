//! Lists the task kinds in the repository's `workflows/` for
//! `kinds::BUILT_IN`: each `NAME.kind.json` with its `NAME.asl.json`, so
//! that adding a kind there is adding files, not code.

use std::path::Path;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../workflows");
    println!("cargo::rerun-if-changed={}", dir.display());
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("the workflows directory")
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.strip_suffix(".kind.json").map(str::to_owned)
        })
        .collect();
    names.sort();
    let mut out = String::from("&[\n");
    for name in names {
        let descriptor = dir.join(format!("{name}.kind.json"));
        let definition = dir.join(format!("{name}.asl.json"));
        println!("cargo::rerun-if-changed={}", descriptor.display());
        println!("cargo::rerun-if-changed={}", definition.display());
        out.push_str(&format!(
            "    ({:?}, include_str!({:?}), {:?}, include_str!({:?})),\n",
            format!("{name}.kind.json"),
            descriptor.display().to_string(),
            format!("{name}.asl.json"),
            definition.display().to_string(),
        ));
    }
    out.push(']');
    let target = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("kinds.rs");
    std::fs::write(target, out).expect("writing the kinds list");
}
