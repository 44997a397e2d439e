# The apt family (Ubuntu, and Debian where it stands in for Ubuntu) of the gitlab-ai images.
#
# Built by `cargo xtask build-images` with the classic builder (no BuildKit-only syntax) from a
# context the xtask assembles: this file, `extra-ca-certificates.crt` (possibly empty) and a
# `rootfs/` tree with our entrypoint and the assistant CLI (plus Node for Codex), fetched from
# npm and verified against images/images.lock. Versions and packages come from images.toml
# through the build args; nothing here is pinned.
ARG BASE_IMAGE
FROM ${BASE_IMAGE}

ARG PACKAGES

# Documentation, man pages and translations are not installed (as in Ubuntu's minimized
# images): nobody reads them in a CI job.
# git is a client here: the packages' Perl library trees (git depends on `perl`, which only
# git's Perl commands such as send-email and svn use; the essential perl-base stays) and git's
# server side (daemon, http-backend, dumb-HTTP push, shell, imap-send, scalar, gitweb) are left
# out during this one install, which keeps about 20 MB (gzipped) out of every image. The rule
# file is removed afterwards, so later `apt-get install`s are complete;
# `apt-get install --reinstall perl-modules-<ver> libperl<ver>` brings the Perl trees back.
# Extra CA certificates are trusted before apt runs (HTTPS mirrors, intercepting proxies,
# self-managed GitLab with a private CA) and stay trusted in the image.
COPY extra-ca-certificates.crt /usr/local/share/ca-certificates/extra-ca-certificates.crt

RUN set -eux; \
    extra=/usr/local/share/ca-certificates/extra-ca-certificates.crt; \
    if [ -s "$extra" ]; then mkdir -p /etc/ssl/certs; cat "$extra" >> /etc/ssl/certs/ca-certificates.crt; else rm -f "$extra"; fi; \
    export DEBIAN_FRONTEND=noninteractive; \
    printf '%s\n' 'path-exclude=/usr/share/doc/*' 'path-include=/usr/share/doc/*/copyright' \
        'path-exclude=/usr/share/man/*' 'path-exclude=/usr/share/info/*' \
        'path-exclude=/usr/share/locale/*' 'path-include=/usr/share/locale/locale.alias' \
        > /etc/dpkg/dpkg.cfg.d/gitlab-ai-slim; \
    printf '%s\n' 'path-exclude=/usr/share/perl/*' 'path-exclude=/usr/lib/*/perl/*' \
        'path-exclude=/usr/lib/*/libperl.so*' \
        'path-exclude=/usr/lib/git-core/git-daemon' 'path-exclude=/usr/lib/git-core/git-http-backend' \
        'path-exclude=/usr/lib/git-core/git-http-push' 'path-exclude=/usr/lib/git-core/git-imap-send' \
        'path-exclude=/usr/lib/git-core/git-shell' 'path-exclude=/usr/bin/git-shell' \
        'path-exclude=/usr/lib/git-core/scalar' 'path-exclude=/usr/bin/scalar' \
        'path-exclude=/usr/share/gitweb/*' \
        > /etc/dpkg/dpkg.cfg.d/gitlab-ai-git-client-only; \
    apt-get update; \
    apt-get install -y --no-install-recommends $PACKAGES; \
    rm /etc/dpkg/dpkg.cfg.d/gitlab-ai-git-client-only; \
    update-ca-certificates; \
    apt-get clean; \
    rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/cache/debconf/*-old /var/log/apt /var/log/dpkg.log /var/log/alternatives.log; \
    git config --system --add safe.directory '*'; \
    useradd --create-home --uid 10001 --user-group --shell /bin/bash assistant

COPY rootfs/ /

# The image is updated by rebuilding it, never by the CLI itself.
ENV DISABLE_AUTOUPDATER=1

USER assistant
WORKDIR /home/assistant
ENTRYPOINT ["/usr/local/bin/entrypoint"]
