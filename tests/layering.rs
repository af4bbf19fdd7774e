//! The module layering of DESIGN.md, checked on the source (issue 19, point 7): the shared
//! world sits below `server` and `workflow`, so neither reaches into the other, and the
//! backend client knows nothing of execution or serving. A `use` or path that crosses a layer
//! fails this test with the file and line.

use std::path::Path;

/// (directory under src/, paths it must not name)
const RULES: &[(&str, &[&str])] = &[
    (
        "backend",
        &[
            "crate::exec",
            "crate::server",
            "crate::workflow",
            "crate::world",
            "crate::planner",
        ],
    ),
    (
        "world",
        &[
            "crate::server",
            "crate::workflow",
            "crate::exec",
            "crate::admin",
            "crate::planner",
        ],
    ),
    ("workflow", &["crate::server"]),
    (
        "metrics",
        &[
            "crate::server",
            "crate::workflow",
            "crate::world",
            "crate::exec",
            "crate::backend",
            "crate::planner",
        ],
    ),
    (
        "vschema",
        &[
            "crate::server",
            "crate::workflow",
            "crate::world",
            "crate::exec",
        ],
    ),
];

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("source dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn lower_layers_do_not_name_higher_ones() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut crossings = Vec::new();
    for (dir, banned) in RULES {
        let mut files = Vec::new();
        rust_files(&src.join(dir), &mut files);
        assert!(!files.is_empty(), "no sources under src/{dir}");
        for file in files {
            let text = std::fs::read_to_string(&file).expect("source");
            for (n, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or("");
                for b in *banned {
                    if code.contains(b) {
                        crossings.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
                    }
                }
            }
        }
    }
    assert!(
        crossings.is_empty(),
        "layer crossings:\n{}",
        crossings.join("\n")
    );
}
