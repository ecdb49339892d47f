//! The layering of `src/` (README, "How the code is laid out"): a module may use the modules of its own
//! layer or of the layers below it, never one above; and no domain module names an HTTP crate. Read from
//! the source text, so a new upward `use` fails here before review.

use std::path::{Path, PathBuf};

/// The layers, bottom first; `memory` (one allocator call) may be used from anywhere.
const LAYERS: &[&[&str]] = &[
    &["model", "text", "figures", "memory"],
    &["geometry", "index"],
    &["source", "tabular", "codes"],
    &["atlas"],
    &["batch"],
    &["web_assets", "render"],
    &["snapshot"],
    &["http"],
];

/// Crates only the http layer (and the binary) may name.
const HTTP_CRATES: &[&str] = &["axum", "hyper", "hyper_util", "tower", "tower_http", "utoipa_axum", "tokio"];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file of `src/` belongs to (`src/atlas/build.rs` → `atlas`).
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).expect("under src");
    let first = rel.components().next().expect("component").as_os_str().to_string_lossy().into_owned();
    first.trim_end_matches(".rs").to_owned()
}

#[test]
fn modules_only_use_their_layer_or_the_layers_below_and_the_domain_names_no_http_crate() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut problems = Vec::new();
    let mut checked = 0;
    for file in &files {
        let module = module_of(&src, file);
        let Some(own) = layer_of(&module) else { continue };
        checked += 1;
        let text = std::fs::read_to_string(file).expect("read");
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            for (i, _) in code.match_indices("crate::") {
                // `territoires::x` in doc tests does not count; only this crate's paths.
                if code[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_') {
                    continue;
                }
                let used: String =
                    code[i + 7..].chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                if layer_of(&used).is_some_and(|l| l > own) {
                    problems.push(format!(
                        "{}:{}: {module} uses {used}, a layer above",
                        file.display(),
                        n + 1
                    ));
                }
            }
            if own < layer_of("http").expect("http layer") {
                for krate in HTTP_CRATES {
                    let named =
                        code.contains(&format!("{krate}::")) || code.contains(&format!("use {krate}"));
                    if named && !code.contains(&format!("_{krate}::")) {
                        problems.push(format!("{}:{}: {module} names {krate}", file.display(), n + 1));
                    }
                }
            }
        }
    }
    assert!(checked > 40, "only {checked} files checked");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
