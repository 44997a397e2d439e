//! Image sizes as users meet them: uncompressed (what the engine reports, what the image takes
//! on disk) and compressed (the sum of the gzipped layers, what a registry stores and a runner
//! pulls).
//!
//! The compressed size is measured by exporting the image (`GET /images/{name}/get`, the
//! `docker save` format, whose `manifest.json` lists the layer files) and gzipping each layer at
//! the default level, as the assistant binary is gzipped for the budget, so both sides of the
//! comparison use one compressor. `docker push` compresses with Go's gzip, which makes layers
//! about 2–3% larger than zlib at the same level (claude-ubuntu: 234.6 MB here, 239.4 MB in
//! the registry's manifest, see `registry.rs`).

use std::collections::HashSet;
use std::io::{self, Read, Write};
use std::path::Path;

use anyhow::Context;
use bollard::Docker;
use futures::StreamExt;
use serde::Deserialize;

use crate::engine;

/// An image's sizes in bytes.
#[derive(Clone, Copy, Debug)]
pub struct ImageSize {
    /// Uncompressed, as the engine reports it.
    pub uncompressed: u64,
    /// Sum of the gzipped layers.
    pub compressed: u64,
}

/// The engine's uncompressed size of an image.
pub async fn uncompressed(docker: &Docker, reference: &str) -> anyhow::Result<u64> {
    let image = engine::inspect_image(docker, reference)
        .await?
        .with_context(|| format!("{reference} does not exist"))?;
    Ok(image.size.unwrap_or(0).max(0) as u64)
}

/// Both sizes of an image; the export goes through a temporary file in the workspace's
/// `target/images`, beside the builds' context tarballs.
pub async fn measure(docker: &Docker, reference: &str) -> anyhow::Result<ImageSize> {
    let uncompressed = uncompressed(docker, reference).await?;
    let scratch = crate::util::cmd::workspace_root()?
        .join("target")
        .join("images");
    std::fs::create_dir_all(&scratch)?;
    let export = tempfile::NamedTempFile::new_in(&scratch)?;
    {
        let mut out = io::BufWriter::new(export.as_file());
        let mut stream = docker.export_image(reference);
        while let Some(chunk) = stream.next().await {
            out.write_all(&chunk.with_context(|| format!("exporting {reference}"))?)?;
        }
        out.flush()?;
    }
    let path = export.path().to_owned();
    let compressed = tokio::task::spawn_blocking(move || gzipped_layers(&path))
        .await
        .context("the layer compression task failed")??;
    Ok(ImageSize {
        uncompressed,
        compressed,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SavedImage {
    layers: Vec<String>,
}

/// Sum of the gzipped sizes of the layers listed in a `docker save` archive's `manifest.json`.
pub fn gzipped_layers(archive: &Path) -> anyhow::Result<u64> {
    let open = || -> anyhow::Result<tar::Archive<io::BufReader<std::fs::File>>> {
        Ok(tar::Archive::new(io::BufReader::new(std::fs::File::open(
            archive,
        )?)))
    };
    let mut layers = HashSet::new();
    for entry in open()?.entries()? {
        let mut entry = entry?;
        if entry.path()?.as_os_str() == "manifest.json" {
            let mut text = String::new();
            entry.read_to_string(&mut text)?;
            let saved: Vec<SavedImage> = serde_json::from_str(&text)
                .context("unexpected manifest.json in the image export")?;
            layers.extend(saved.into_iter().flat_map(|s| s.layers));
        }
    }
    anyhow::ensure!(!layers.is_empty(), "the image export lists no layers");
    let mut total = 0;
    for entry in open()?.entries()? {
        let mut entry = entry?;
        let path = entry.path()?.to_string_lossy().into_owned();
        if entry.header().entry_type().is_file() && layers.remove(&path) {
            total += gzipped_size(&mut entry)?;
        }
    }
    Ok(total)
}

/// The size of `reader`'s bytes gzipped at the default level.
pub fn gzipped_size(reader: &mut impl Read) -> io::Result<u64> {
    let mut encoder =
        flate2::write::GzEncoder::new(CountingSink(0), flate2::Compression::default());
    io::copy(reader, &mut encoder)?;
    Ok(encoder.finish()?.0)
}

struct CountingSink(u64);

impl Write for CountingSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_listed_layers_are_counted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("save.tar");
        let layer: Vec<u8> = (0..200_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        let mut builder = tar::Builder::new(std::fs::File::create(&path).unwrap());
        let mut add = |name: &str, data: &[u8]| {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            builder.append_data(&mut h, name, data).unwrap();
        };
        add("abc/layer.tar", &layer);
        add("abc/json", b"{}");
        add("unlisted/layer.tar", &layer);
        add(
            "manifest.json",
            br#"[{"Config":"c.json","RepoTags":[],"Layers":["abc/layer.tar"]}]"#,
        );
        builder.finish().unwrap();
        drop(builder);

        let expected = gzipped_size(&mut layer.as_slice()).unwrap();
        assert!(expected > 0 && expected < layer.len() as u64);
        assert_eq!(gzipped_layers(&path).unwrap(), expected);
    }
}
