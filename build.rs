//! Unpacks the committed atlas snapshot (`geodata/atlas.snapshot`, LZ4 sections) into `OUT_DIR`, where
//! the library embeds it stored as is, so the binary reads it in place. A missing or unreadable snapshot
//! gives a binary without built-in data (it then needs `--geodata`), with a warning here: the binary is
//! what writes a new snapshot, so its build must not depend on one.

#[allow(dead_code)]
#[path = "src/snapshot/container.rs"]
mod container;

fn main() {
    const SOURCE: &str = "geodata/atlas.snapshot";
    println!("cargo::rerun-if-changed={SOURCE}");
    println!("cargo::rerun-if-changed=src/snapshot/container.rs");
    let out = std::path::Path::new(&std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"))
        .join("atlas.snapshot");
    let unpacked = match std::fs::read(SOURCE) {
        Ok(bytes) => container::unpack(&bytes).unwrap_or_else(|e| {
            println!(
                "cargo::warning={SOURCE}: {e}; this binary has no built-in data (run `territoires snapshot`)"
            );
            Vec::new()
        }),
        Err(e) => {
            println!(
                "cargo::warning={SOURCE}: {e}; this binary has no built-in data (run `territoires snapshot`)"
            );
            Vec::new()
        }
    };
    // Written only when changed, so an unchanged snapshot does not rebuild the library.
    if std::fs::read(&out).ok().as_deref() != Some(unpacked.as_slice()) {
        std::fs::write(&out, unpacked).expect("OUT_DIR is writable");
    }
}
