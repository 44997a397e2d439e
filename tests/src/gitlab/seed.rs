//! The seed file of the `gitlab-double` binary (TOML), applied through the same handle methods
//! tests use. Users are referred to by username and projects by full path:
//!
//! ```toml
//! admin_token = "double-admin"
//! [[users]]
//! username = "alice"
//! token = "glpat-alice"
//! [[groups]]
//! path = "group"
//! members = [{ username = "alice", access_level = 40 }]
//! [[projects]]
//! path = "group/proj"
//! visibility = "private"
//! members = [{ username = "bot", access_level = 30 }]
//! files = [{ branch = "feature", path = "a.txt", content = "hello\n" }]
//! [[triggers]]
//! project = "group/proj"
//! owner = "alice"
//! token = "glptt-0123"
//! [[hooks]]
//! project = "group/proj"
//! url = "http://127.0.0.1:9/hook"
//! [[issues]]
//! project = "group/proj"
//! author = "alice"
//! title = "Bug"
//! [[merge_requests]]
//! project = "group/proj"
//! author = "alice"
//! source_branch = "feature"
//! target_branch = "main"
//! title = "Feature"
//! ```

use std::collections::HashMap;

use anyhow::{Context, anyhow};
use serde::Deserialize;

use super::access::Visibility;
use super::double::{GitLabDouble, HookSpec, IssueSpec, MrSpec, ProjectSpec, SeededUser, UserSpec};
use super::repo::{FileChange, Signature};

/// Every section is optional (`#[serde(default)]` on the struct).
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Seed {
    pub admin_token: Option<String>,
    pub users: Vec<SeedUser>,
    pub groups: Vec<SeedGroup>,
    pub projects: Vec<SeedProject>,
    pub triggers: Vec<SeedTrigger>,
    pub hooks: Vec<SeedHook>,
    pub issues: Vec<SeedIssue>,
    pub merge_requests: Vec<SeedMergeRequest>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedUser {
    pub username: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub token: Option<String>,
    #[serde(default)]
    pub bot: bool,
    #[serde(default)]
    pub admin: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedMember {
    pub username: String,
    pub access_level: u8,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedGroup {
    pub path: String,
    #[serde(default)]
    pub members: Vec<SeedMember>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedFile {
    pub branch: Option<String>,
    pub path: String,
    pub content: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedProject {
    pub path: String,
    pub default_branch: Option<String>,
    #[serde(default)]
    pub visibility: Visibility,
    pub description: Option<String>,
    pub protected_branches: Option<Vec<String>>,
    #[serde(default)]
    pub members: Vec<SeedMember>,
    #[serde(default)]
    pub files: Vec<SeedFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedTrigger {
    pub project: String,
    pub owner: String,
    pub token: Option<String>,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedHook {
    pub project: String,
    pub url: String,
    pub token: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedIssue {
    pub project: String,
    pub author: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub confidential: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedMergeRequest {
    pub project: String,
    pub author: String,
    pub source_branch: String,
    pub target_branch: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
}

impl Seed {
    pub fn parse(text: &str) -> anyhow::Result<Seed> {
        toml::from_str(text).context("parsing the seed file")
    }

    /// Creates everything in `self` on `double`; returns the users with their tokens.
    pub fn apply(&self, double: &GitLabDouble) -> anyhow::Result<Vec<SeededUser>> {
        let mut users: HashMap<String, SeededUser> = HashMap::new();
        let mut seeded = Vec::new();
        for u in &self.users {
            let mut spec = UserSpec::human(&u.username);
            spec.bot = u.bot;
            spec.admin = u.admin;
            spec.name = u.name.clone().unwrap_or_else(|| u.username.clone());
            spec.email = u.email.clone();
            spec.token = u.token.clone();
            let user = double.add_user(spec)?;
            users.insert(u.username.clone(), user.clone());
            seeded.push(user);
        }
        let user_id = |name: &str| {
            users
                .get(name)
                .map(|u| u.id)
                .ok_or_else(|| anyhow!("seed refers to unknown user {name}"))
        };
        for g in &self.groups {
            double.add_group(&g.path)?;
            for m in &g.members {
                double.add_group_member(&g.path, user_id(&m.username)?, m.access_level)?;
            }
        }
        let mut projects = HashMap::new();
        for p in &self.projects {
            let mut spec = ProjectSpec::new(&p.path).visibility(p.visibility);
            if let Some(branch) = &p.default_branch {
                spec = spec.default_branch(branch);
            }
            if let Some(description) = &p.description {
                spec = spec.description(description);
            }
            spec.protected_branches = p.protected_branches.clone();
            let default_branch = spec.default_branch.clone();
            let project = double.add_project(spec)?;
            for m in &p.members {
                double.add_member(project.id, user_id(&m.username)?, m.access_level)?;
            }
            let repo = double.repo(project.id)?;
            for f in &p.files {
                repo.commit(
                    f.branch.as_deref().unwrap_or(&default_branch),
                    &[FileChange::write(f.path.clone(), f.content.clone())],
                    &format!("Add {}", f.path),
                    &Signature::new("Administrator", "admin@example.com"),
                )?;
            }
            projects.insert(p.path.clone(), project.id);
        }
        let project_id = |path: &str| {
            projects
                .get(path)
                .copied()
                .ok_or_else(|| anyhow!("seed refers to unknown project {path}"))
        };
        for t in &self.triggers {
            let owner = user_id(&t.owner)?;
            match &t.token {
                Some(token) => double.add_trigger_with_token(
                    project_id(&t.project)?,
                    owner,
                    &t.description,
                    token,
                )?,
                None => double.add_trigger(project_id(&t.project)?, owner, &t.description)?,
            };
        }
        for h in &self.hooks {
            let mut spec = HookSpec::notes(&h.url);
            spec.token = h.token.clone();
            double.add_hook(project_id(&h.project)?, spec)?;
        }
        for i in &self.issues {
            let mut spec =
                IssueSpec::new(user_id(&i.author)?, &i.title).description(&i.description);
            spec.confidential = i.confidential;
            double.create_issue(project_id(&i.project)?, spec)?;
        }
        for m in &self.merge_requests {
            double.create_merge_request(
                project_id(&m.project)?,
                MrSpec::new(
                    user_id(&m.author)?,
                    &m.source_branch,
                    &m.target_branch,
                    &m.title,
                )
                .description(&m.description),
            )?;
        }
        Ok(seeded)
    }
}
