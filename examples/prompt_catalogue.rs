//! Prints every voice-prompt clip as TSV, `path<TAB>text`, one per line: the input of
//! `audio/prompts/make-prompts.sh`, which synthesizes each text into
//! `audio/prompts/<path>`. Run from the repository root:
//! `cargo run --quiet --example prompt_catalogue`.

use std::io::{self, BufWriter, Write};

fn main() -> io::Result<()> {
    let mut out = BufWriter::new(io::stdout().lock());
    for (path, text) in perezvon::speech::catalogue() {
        // Texts are single-line; keep the TSV well-formed whatever they become.
        let text = text.replace(['\t', '\n', '\r'], " ");
        writeln!(out, "{path}\t{text}")?;
    }
    out.flush()
}
