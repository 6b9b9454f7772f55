//! The folders of src/ are the pipeline's stages, and every import points to an earlier one:
//! numeric → input → model → geometry → certify → convex → commands. (A scan of the sources;
//! doc comments are skipped.)
use std::path::Path;

const ORDER: [&str; 7] = [
    "numeric", "input", "model", "geometry", "certify", "convex", "commands",
];

#[test]
fn no_stage_imports_a_later_one() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut violations = Vec::new();
    let mut files = 0;
    for (rank, stage) in ORDER.iter().enumerate() {
        for entry in std::fs::read_dir(src.join(stage)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            files += 1;
            let text = std::fs::read_to_string(&path).unwrap();
            for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
                for name in &ORDER[rank + 1..] {
                    if line.contains(&format!("crate::{name}::")) {
                        violations.push(format!("{}: {}", path.display(), line.trim()));
                    }
                }
            }
        }
    }
    assert!(files >= 40, "only {files} source files found");
    assert!(
        violations.is_empty(),
        "imports of a later stage:\n{}",
        violations.join("\n")
    );
}

#[test]
fn the_certificate_never_imports_the_solver() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/certify");
    for entry in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        assert!(!text.contains("clarabel"), "certify/ uses the conic solver");
    }
}
