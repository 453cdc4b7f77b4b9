//! The claim reader parses lines a batch at a time, in parallel: what it yields must not
//! depend on the threads or on where batches end. A file of several batches mixing generated
//! claims with the edge cases of `tests/data/claims/` (escapes, repeated keys, non-ASCII,
//! huge decimals, CRLF, blank lines, a BOM, bad lines, repeated `setl_id`s across batches) is
//! read on pools of 1, 2 and 3 threads (given to the reader, or around it) and compared line
//! by line with `read_claim`, which reads one line alone.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

use vigil_bench::gen::{generate, GenConfig, Tables as GenTables};
use vigil_runtime::claims::{read_claim, ClaimLayout, ClaimReader};

fn national_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../rulebooks/cn-national")
}

/// Generated claims with every case file's lines mixed in, repeated, so that the file spans
/// several batches and some `setl_id`s repeat across them.
fn mixed_input() -> String {
    let mut generated = Vec::new();
    let cfg = GenConfig {
        claims: 2500,
        seed: 3,
        rate: 0.05,
    };
    generate(
        &GenTables::load(&national_dir()).expect("generator tables"),
        &cfg,
        &mut generated,
        None,
    )
    .expect("generated claims");
    let generated = String::from_utf8(generated).expect("generated claims are UTF-8");
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/claims");
    let mut cases = String::new();
    for name in ["valid.jsonl", "rejected.jsonl", "edge.jsonl"] {
        let text = std::fs::read_to_string(data.join(name)).expect("case file");
        cases.push_str(text.trim_start_matches('\u{feff}'));
    }
    let mut input = String::from("\u{feff}");
    for (i, line) in generated.lines().enumerate() {
        input.push_str(line);
        input.push_str(if i % 7 == 0 { "\r\n" } else { "\n" });
        if i % 900 == 0 {
            input.push_str(&cases);
            input.push('\n');
        }
    }
    // A last line with no newline.
    input.push_str(generated.lines().next().expect("a generated claim"));
    input
}

/// Everything a reader yields, as text: each result, the line text it gives, and the counts.
/// Parsed on a pool of `threads`, given to the reader (`on_pool`, what `vigil run --threads`
/// does) or, with `install`, the pool the reader runs in.
fn read_on(threads: usize, install: bool, input: &str, layout: &ClaimLayout) -> String {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a thread pool");
    let read = |reader: ClaimReader<'_, &[u8]>| {
        let mut reader = reader;
        let mut out = String::new();
        while let Some(item) = reader.next() {
            let text = String::from_utf8_lossy(reader.line_text()).into_owned();
            writeln!(out, "{item:?}\n  {text}").expect("writing to a string");
        }
        writeln!(out, "{:?}", reader.finish().expect("in-memory input")).expect("writing");
        out
    };
    if install {
        pool.install(|| read(ClaimReader::new(layout, input.as_bytes())))
    } else {
        read(ClaimReader::new(layout, input.as_bytes()).on_pool(&pool))
    }
}

#[test]
fn threads_and_batches_do_not_change_what_is_read() {
    let loaded = vigil_compiler::load_rulebook(&national_dir()).expect("national rulebook");
    let layout = ClaimLayout::new(&loaded.rulebook).expect("national layout");
    let input = mixed_input();
    let one = read_on(1, false, &input, &layout);
    assert_eq!(one, read_on(2, false, &input, &layout), "2 threads");
    assert_eq!(one, read_on(3, false, &input, &layout), "3 threads");
    assert_eq!(one, read_on(2, true, &input, &layout), "inside a pool of 2");

    // Line by line, the batched reader says what `read_claim` says of the line alone, except
    // that a `setl_id` accepted on an earlier line is a duplicate.
    let mut reader = ClaimReader::new(&layout, input.as_bytes());
    let mut first_line: HashMap<String, u64> = HashMap::new();
    let mut lines = input.split('\n');
    let mut number = 0;
    let mut duplicates = 0;
    while let Some(item) = reader.next() {
        let line = item.as_ref().map_or_else(|r| r.line, |c| c.line);
        let text = loop {
            number += 1;
            let text = lines.next().expect("a line for every result");
            let text = text.strip_prefix('\u{feff}').unwrap_or(text);
            if number == line {
                break text;
            }
        };
        assert_eq!(reader.line_text(), text.as_bytes(), "line {line}");
        let alone = read_claim(&layout, text).map_err(|mut r| {
            r.line = line;
            r
        });
        if let Ok(record) = &alone {
            let id = record.get(layout.setl_id()).to_string();
            if let Some(first) = first_line.get(&id) {
                duplicates += 1;
                let reason = item
                    .as_ref()
                    .expect_err("a repeated setl_id")
                    .reason
                    .clone();
                assert!(
                    reason.ends_with(&format!("(first on line {first})")),
                    "line {line}: {reason}"
                );
                continue;
            }
            first_line.insert(id, line);
        }
        assert_eq!(item.map(|c| c.record), alone, "line {line}");
    }
    assert!(duplicates > 10, "the cases repeat setl_ids across batches");
    assert!(
        number > 2048 && input.len() > 4 << 20,
        "the input spans batches"
    );
}
