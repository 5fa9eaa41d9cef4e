//! How fast can the bytes be had? Newline count over one file through a
//! memory map (with and without MAP_POPULATE) and through read() into a
//! reused buffer:
//! `cargo run --release --example read_speed -- FILE`
use std::io::Read;
use std::time::Instant;
fn main() {
    let path = std::env::args().nth(1).expect("FILE");
    for mode in ["mmap", "mmap-populate", "read-1MiB", "read-8MiB"] {
        let t = Instant::now();
        let f = std::fs::File::open(&path).unwrap();
        let n = match mode {
            "mmap" | "mmap-populate" => {
                let mut o = memmap2::MmapOptions::new();
                if mode == "mmap-populate" {
                    o.populate();
                }
                let m = unsafe { o.map(&f).unwrap() };
                memchr::memchr_iter(b'\n', &m).count()
            }
            _ => {
                let size = if mode == "read-1MiB" {
                    1 << 20
                } else {
                    8 << 20
                };
                let mut buf = vec![0u8; size];
                let mut f = f;
                let mut n = 0;
                loop {
                    let k = f.read(&mut buf).unwrap();
                    if k == 0 {
                        break;
                    }
                    n += memchr::memchr_iter(b'\n', &buf[..k]).count();
                }
                n
            }
        };
        println!("{mode}: {:?} ({n} lines)", t.elapsed());
    }
}
