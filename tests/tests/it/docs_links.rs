//! Every relative link in the documentation leads somewhere: the file exists and, when the link
//! names a heading (`page.md#anchor`), the page has that heading. Anchors follow GitLab's
//! rule for heading ids: lower case, punctuation other than `-` and `_` dropped, spaces to `-`
//! (<https://docs.gitlab.com/user/markdown/#heading-ids-and-links>).

use crate::repo_files;

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

use pulldown_cmark::{Event, Parser, Tag, TagEnd};
use repo_files::{assert_none_found, heading_id, markdown_pages, repo};

/// Pages other branches add (the relay, the scan, Duo flows, doctor); linked from here before
/// they exist.
const WRITTEN_ELSEWHERE: &[&str] = &[
    "docs/relay.md",
    "docs/scan.md",
    "docs/duo-flow.md",
    "docs/doctor.md",
];

/// The link destinations and heading ids of one page.
fn read(page: &Path) -> (Vec<String>, BTreeSet<String>) {
    let text = std::fs::read_to_string(page).expect("page readable");
    let mut links = Vec::new();
    let mut anchors = BTreeSet::new();
    let mut heading: Option<String> = None;
    for event in Parser::new(&text) {
        match event {
            Event::Start(Tag::Link { dest_url, .. }) => links.push(dest_url.to_string()),
            Event::Start(Tag::Heading { .. }) => {
                heading = Some(String::new());
            }
            Event::Text(t) | Event::Code(t) => {
                if let Some(h) = heading.as_mut() {
                    h.push_str(&t);
                }
            }
            Event::End(TagEnd::Heading(_)) => {
                if let Some(h) = heading.take() {
                    anchors.insert(heading_id(&h));
                }
            }
            _ => {}
        }
    }
    (links, anchors)
}

/// `a/../b` → `b`, without touching the file system.
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[test]
fn relative_links_lead_to_files_and_headings_that_exist() {
    let root = normalise(&repo());
    let mut broken = Vec::new();
    let mut checked = 0;
    for page in markdown_pages() {
        let (links, own_anchors) = read(&page);
        let dir = page.parent().expect("page has a directory");
        for link in links {
            if link.contains("://") || link.starts_with("mailto:") {
                continue;
            }
            checked += 1;
            let (file, anchor) = link.split_once('#').unwrap_or((&link, ""));
            let target = if file.is_empty() {
                page.clone()
            } else {
                normalise(&dir.join(file))
            };
            let relative = target.strip_prefix(&root).unwrap_or(&target).to_path_buf();
            let pending = WRITTEN_ELSEWHERE.iter().any(|p| Path::new(p) == relative);
            if !target.exists() {
                if !pending {
                    broken.push(format!("{}: {link} (no such file)", page.display()));
                }
                continue;
            }
            if anchor.is_empty() || target.is_dir() {
                continue;
            }
            let anchors = if target == page {
                own_anchors.clone()
            } else {
                read(&target).1
            };
            if !anchors.contains(anchor) {
                broken.push(format!("{}: {link} (no such heading)", page.display()));
            }
        }
    }
    assert!(
        checked > 50,
        "only {checked} links found: the reader is broken"
    );
    assert_none_found(&broken, "broken links");
}

#[test]
fn heading_ids_follow_gitlab() {
    assert_eq!(
        heading_id("Runner: `NET_ADMIN` for Codex"),
        "runner-net_admin-for-codex"
    );
    assert_eq!(heading_id("GitLab.com Free"), "gitlabcom-free");
    assert_eq!(
        heading_id("Can `rules:if` read the webhook payload?"),
        "can-rulesif-read-the-webhook-payload"
    );
}
