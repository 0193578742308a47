//! jobs-core's layers import only downward: each top-level module (a folder, or a file at the
//! root) may name, through `crate::`, only the modules listed before it here. A new import that
//! points up fails this test, naming the file.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

/// Bottom to top.
const LAYERS: &[&str] = &[
    "contract",
    "encoding",
    "support",
    "migrations",
    "runtime",
    "enqueue",
    "perform",
    "worker",
    "adapters",
    "builder",
];

#[test]
fn every_layer_imports_only_the_layers_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut upward = BTreeSet::new();
    for file in rust_files(&src) {
        let relative = file.strip_prefix(&src).unwrap();
        let layer =
            relative.components().next().unwrap().as_os_str().to_string_lossy().trim_end_matches(".rs").to_owned();
        if layer == "lib" {
            continue;
        }
        let position = LAYERS.iter().position(|l| *l == layer).unwrap_or_else(|| {
            panic!("{} is in no layer: add `{layer}` to LAYERS in tests/layers.rs", relative.display())
        });
        let code = fs::read_to_string(&file).unwrap();
        for target in crate_paths(&code) {
            let allowed = target == layer
                || target == "__private"
                || LAYERS[..position].contains(&target.as_str())
                || !LAYERS.contains(&target.as_str());
            if !allowed {
                upward.insert(format!("{} imports crate::{target}", relative.display()));
            }
        }
    }
    assert!(upward.is_empty(), "imports that point up a layer:\n{}", upward.into_iter().collect::<Vec<_>>().join("\n"));
}

/// The first segment of every `crate::` path in code (comments left out).
fn crate_paths(code: &str) -> BTreeSet<String> {
    let mut paths = BTreeSet::new();
    for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
        for (index, _) in line.match_indices("crate::") {
            let rest = &line[index + "crate::".len()..];
            if let Some(group) = rest.strip_prefix('{') {
                for part in group.split(',') {
                    if let Some((module, _)) = part.trim().split_once("::") {
                        paths.insert(module.to_owned());
                    }
                }
            } else {
                let module: String = rest.chars().take_while(|c| c.is_ascii_lowercase() || *c == '_').collect();
                if rest[module.len()..].starts_with("::") {
                    paths.insert(module);
                }
            }
        }
    }
    paths
}

fn rust_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

#[test]
fn finds_upward_paths() {
    let code = "use crate::runtime::Runtime;\nuse crate::{contract::Job, enqueue::X};\n// crate::worker::Y\n";
    let found: Vec<_> = crate_paths(code).into_iter().collect();
    assert_eq!(found, ["contract", "enqueue", "runtime"]);
}
