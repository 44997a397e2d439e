//! Screenshots for the assistant: images attached to the issue or merge request (its
//! description, the request and its thread), downloaded by the entrypoint and lent read-only
//! to the CLI.
//!
//! GitLab serves attachments (`/uploads/<secret>/<filename>`) only to signed-in readers, and
//! the model holds no token, so the entrypoint downloads them through the API
//! (`GET /projects/:id/uploads/:secret/:filename`, which needs the Maintainer role:
//! <https://docs.gitlab.com/api/project_markdown_uploads/#download-an-uploaded-file-by-secret-and-filename>).
//! Only this project's uploads are fetched, by secret and filename on the GitLab host the job
//! talks to; no other link is ever followed. At most [`MAX_IMAGES`] images of at most
//! [`MAX_IMAGE_BYTES`] each, PNG, JPEG, GIF or WebP by their first bytes (the name's extension
//! is not trusted); other attachments are listed in the prompt, not fetched. Files are saved
//! under fixed names (`image-1.png`), so a crafted filename cannot choose where they land.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use regex::Regex;

use super::gather::Context;
use crate::gitlab::GitLab;
use crate::gitlab::ids::ProjectRef;

/// Images downloaded at most per run.
pub(crate) const MAX_IMAGES: usize = 5;

/// Largest image downloaded (Anthropic's API takes images up to 5 MB).
pub(crate) const MAX_IMAGE_BYTES: usize = 5 * 1024 * 1024;

/// An image type known by its first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ImageKind {
    Png,
    Jpeg,
    Gif,
    Webp,
}

impl ImageKind {
    /// The type `bytes` start with, if an image.
    pub(crate) fn sniff(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(Self::Png)
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Self::Jpeg)
        } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
            Some(Self::Gif)
        } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Some(Self::Webp)
        } else {
            None
        }
    }

    fn extension(self) -> &'static str {
        match self {
            Self::Png => "png",
            Self::Jpeg => "jpg",
            Self::Gif => "gif",
            Self::Webp => "webp",
        }
    }
}

/// One attachment a text links.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attachment {
    /// The 32-hex-digit secret.
    pub secret: String,
    /// The file name as linked (percent-decoded).
    pub filename: String,
}

impl Attachment {
    /// Whether the name says image; only those are fetched (and then checked by content).
    fn named_like_an_image(&self) -> bool {
        let lower = self.filename.to_ascii_lowercase();
        [".png", ".jpg", ".jpeg", ".gif", ".webp"]
            .iter()
            .any(|ext| lower.ends_with(ext))
    }
}

/// What became of each attachment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fetched {
    /// Saved at this path.
    Saved(PathBuf),
    /// Not fetched or not kept, and why.
    Skipped(String),
}

/// The attachments of a request and their files.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Images {
    /// Each attachment and what became of it, in the order linked.
    pub attachments: Vec<(Attachment, Fetched)>,
}

impl Images {
    /// The saved images.
    pub fn paths(&self) -> Vec<&Path> {
        self.attachments
            .iter()
            .filter_map(|(_, f)| match f {
                Fetched::Saved(path) => Some(path.as_path()),
                Fetched::Skipped(_) => None,
            })
            .collect()
    }

    /// The prompt section: the saved images' paths and the attachments not fetched. Filenames
    /// come from users, so they are shown in code spans with backticks removed.
    pub(crate) fn prompt_section(&self) -> String {
        if self.attachments.is_empty() {
            return String::new();
        }
        let mut out = String::from(
            "\n## Attachments\n\nThe request links these files. Images were saved for you to look at (read-only):\n\n",
        );
        for (attachment, fetched) in &self.attachments {
            let name = attachment.filename.replace(['`', '\n'], "");
            match fetched {
                Fetched::Saved(path) => {
                    out.push_str(&format!("- `{name}`: {}\n", path.display()));
                }
                Fetched::Skipped(reason) => {
                    out.push_str(&format!("- `{name}`: not downloaded ({reason})\n"));
                }
            }
        }
        out
    }
}

/// `/uploads/<secret>/<filename>` as GitLab writes it in Markdown, relative or after the
/// project's URL, and the `/-/project/<id>/uploads/…` form of newer releases.
#[allow(clippy::expect_used)] // a constant pattern, compiled by the unit tests
static UPLOAD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"/uploads/([0-9a-f]{32})/([^\s)"'<>?#]+)"#)
        .expect("the upload pattern is a valid expression")
});

/// The uploads linked in `texts`, in order, without repeats. A link counts when it is relative
/// (`/uploads/…`, how GitLab writes attachments) or starts with this project's URL or the
/// server's `/-/project/<id>/` form; links to other hosts or projects are ignored.
pub fn attachments(
    project_web_url: &str,
    project_id: Option<u64>,
    texts: &[&str],
) -> Vec<Attachment> {
    let project = project_web_url.trim_end_matches('/');
    let server = project
        .find("://")
        .and_then(|scheme| {
            project[scheme + 3..]
                .find('/')
                .map(|p| &project[..scheme + 3 + p])
        })
        .unwrap_or(project);
    let mut found: Vec<Attachment> = Vec::new();
    for text in texts {
        for capture in UPLOAD.captures_iter(text) {
            let Some(whole) = capture.get(0) else {
                continue;
            };
            let before = &text[..whole.start()];
            let ours = before.ends_with(project)
                || relative_start(before, "")
                || project_id.is_some_and(|id| {
                    let form = format!("/-/project/{id}");
                    before.ends_with(&format!("{server}{form}")) || relative_start(before, &form)
                });
            if !ours {
                continue;
            }
            let filename = percent_encoding::percent_decode_str(&capture[2])
                .decode_utf8_lossy()
                .into_owned();
            let attachment = Attachment {
                secret: capture[1].to_owned(),
                filename,
            };
            if !found.contains(&attachment) {
                found.push(attachment);
            }
        }
    }
    found
}

/// True when `before` ends with `suffix` and what precedes that is not part of a URL (start of
/// text, whitespace, `(`, `"`, `'`, `<`, `[`): a relative link, not the tail of another host's.
fn relative_start(before: &str, suffix: &str) -> bool {
    let Some(head) = before.strip_suffix(suffix) else {
        return false;
    };
    head.chars()
        .next_back()
        .is_none_or(|c| c.is_whitespace() || matches!(c, '(' | '"' | '\'' | '<' | '[' | '='))
}

/// Downloads the image attachments of `context` into `dir` (created, owned by root, mode
/// 0755, files 0644: the sandbox uid reads them and cannot change them).
pub async fn fetch(
    gitlab: &GitLab,
    project: &ProjectRef,
    project_id: Option<u64>,
    context: &Context,
    dir: &Path,
) -> std::io::Result<Images> {
    let texts = context.request_texts();
    let mut images = Images::default();
    let mut saved = 0usize;
    for attachment in attachments(context.project_web_url(), project_id, &texts) {
        let fetched = if !attachment.named_like_an_image() {
            Fetched::Skipped("not an image".to_owned())
        } else if saved >= MAX_IMAGES {
            Fetched::Skipped(format!("only the first {MAX_IMAGES} images are downloaded"))
        } else {
            let path = format!(
                "/projects/{}/uploads/{}/{}",
                project.segment(),
                attachment.secret,
                utf8_percent_encode(&attachment.filename, NON_ALPHANUMERIC)
            );
            match gitlab.get_bytes_capped(&path, MAX_IMAGE_BYTES).await {
                Err(error) => Fetched::Skipped(match error.status() {
                    Some(status) if status.as_u16() == 403 => {
                        "GitLab answered 403 Forbidden: downloading uploads needs the Maintainer role".to_owned()
                    }
                    Some(status) => format!("GitLab answered {status}"),
                    None => "GitLab could not be reached".to_owned(),
                }),
                Ok(None) => Fetched::Skipped(format!(
                    "larger than {} MiB",
                    MAX_IMAGE_BYTES / (1024 * 1024)
                )),
                Ok(Some(bytes)) => match ImageKind::sniff(&bytes) {
                    None => Fetched::Skipped("its content is not a PNG, JPEG, GIF or WebP image".to_owned()),
                    Some(kind) => {
                        if saved == 0 {
                            create_dir(dir)?;
                        }
                        saved += 1;
                        let file = dir.join(format!("image-{saved}.{}", kind.extension()));
                        std::fs::write(&file, &bytes)?;
                        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644))?;
                        Fetched::Saved(file)
                    }
                },
            }
        };
        images.attachments.push((attachment, fetched));
    }
    Ok(images)
}

/// A fresh `dir`, readable and not writable by others.
fn create_dir(dir: &Path) -> std::io::Result<()> {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => return Err(error),
    }
    std::fs::create_dir_all(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn uploads_of_this_project_only() {
        let texts = [
            format!(
                "![shot](/uploads/{SECRET}/shot%201.png) and [log](/uploads/{SECRET}/build.log)"
            ),
            format!("abs https://gl.example.com/acme/app/uploads/{SECRET}/abs.png"),
            format!("new https://gl.example.com/-/project/7/uploads/{SECRET}/new.png"),
            format!("other project https://gl.example.com/acme/other/uploads/{SECRET}/x.png"),
            format!("other host https://evil.example/uploads/{SECRET}/y.png"),
            format!("other id https://gl.example.com/-/project/8/uploads/{SECRET}/z.png"),
        ];
        let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
        let found: Vec<String> = attachments("https://gl.example.com/acme/app", Some(7), &texts)
            .into_iter()
            .map(|a| a.filename)
            .collect();
        assert_eq!(found, ["shot 1.png", "build.log", "abs.png", "new.png"]);
    }

    #[test]
    fn images_are_known_by_their_bytes() {
        assert_eq!(
            ImageKind::sniff(b"\x89PNG\r\n\x1a\n...."),
            Some(ImageKind::Png)
        );
        assert_eq!(
            ImageKind::sniff(&[0xFF, 0xD8, 0xFF, 0xE0]),
            Some(ImageKind::Jpeg)
        );
        assert_eq!(ImageKind::sniff(b"GIF89a.."), Some(ImageKind::Gif));
        assert_eq!(
            ImageKind::sniff(b"RIFF\0\0\0\0WEBPVP8 "),
            Some(ImageKind::Webp)
        );
        assert_eq!(ImageKind::sniff(b"<svg onload=...>"), None);
        assert_eq!(ImageKind::sniff(b"#!/bin/sh"), None);
    }
}
